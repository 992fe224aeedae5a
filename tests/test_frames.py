import io

import pytest

from ws_stack.frames import FramesFileError, RecordedFrame, dump_frame, read_frames, write_frames


def test_round_trip_text_and_binary(tmp_path):
    path = tmp_path / "frames.jsonl"
    frames = [b"\x0a\x05hello\x00\xff", '{"channel":"spot.pong"}', RecordedFrame(b"", 7)]
    buffer = io.BytesIO()
    assert write_frames(buffer, frames) == 3
    path.write_bytes(buffer.getvalue() + b"\n")
    read = list(read_frames(path))
    assert [frame.data for frame in read] == [
        b"\x0a\x05hello\x00\xff",
        '{"channel":"spot.pong"}',
        b"",
    ]
    assert read[2].ts_ns == 7
    assert all(frame.ts_ns > 0 for frame in read)


def test_dump_frame_format():
    assert dump_frame("x", ts_ns=5) == b'{"ts_ns":5,"text":"x"}\n'
    assert dump_frame(b"\x01\x02", ts_ns=6) == b'{"ts_ns":6,"binary_b64":"AQI="}\n'


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", "not a frames-file line"),
        (b'{"ts_ns": 1}', "exactly one of"),
        (b'{"ts_ns": 1, "text": "a", "binary_b64": "AA=="}', "exactly one of"),
        (b'{"ts_ns": 1, "binary_b64": "@@@"}', "bad base64"),
        (b'{"ts_ns": 1, "text": "a", "extra": 1}', "not a frames-file line"),
    ],
)
def test_bad_lines_name_the_line(tmp_path, line, message):
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b'{"ts_ns": 1, "text": "ok"}\n' + line + b"\n")
    with pytest.raises(FramesFileError, match=rf"bad.jsonl:2: .*{message}"):
        list(read_frames(path))
