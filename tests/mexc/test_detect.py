"""ws_stack.mexc.detect: detect_type and is_json_frame."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import WebSocketMessageType
from ws_stack.mexc import detect, encoder
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

from .cases import SYMBOL, reason_of

T = WebSocketMessageType
R = FrameErrorReason


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("aggre.deals", T.TRADE),
        ("deals", T.TRADE),
        ("aggre.depth", T.ORDER_BOOK),
        ("increase.depth", T.ORDER_BOOK),
        ("limit.depth", T.ORDER_BOOK),
        ("aggre.bookTicker", T.BOOK_TICKER),
        ("bookTicker", T.BOOK_TICKER),
    ],
)
def test_detect_type_maps_every_channel_kind(kind, expected) -> None:
    name = encoder.channel(kind, SYMBOL)
    assert detect.detect_type(PushDataV3ApiWrapper(channel=name).SerializeToString()) is expected
    legacy = encoder.channel(kind, SYMBOL, protobuf=False)
    assert detect.detect_type(f'{{"c":"{legacy}","d":{{}}}}') is expected
    assert detect.detect_type(f'{{"c":"{legacy}","d":{{}}}}'.encode()) is expected


def test_detect_type_reads_the_channel_without_decoding(monkeypatch) -> None:
    def no_decoding(frame):
        raise AssertionError("detect_type decoded a frame it could classify from its head")

    monkeypatch.setattr(detect, "_parse_wrapper", no_decoding)
    monkeypatch.setattr(detect, "_decode_probe", no_decoding)
    frame = encoder.encode_depth(SYMBOL, [("1", "1")] * 20, [("2", "1")] * 20, 1, 2)
    assert detect.detect_type(frame) is T.ORDER_BOOK
    assert (
        detect.detect_type(encoder.encode_legacy_book_ticker(SYMBOL, 1, 1, 2, 1)) is T.BOOK_TICKER
    )


def test_detect_type_handles_a_two_byte_channel_length() -> None:
    name = encoder.channel("aggre.deals", "X" * 150)
    frame = PushDataV3ApiWrapper(channel=name).SerializeToString()
    assert frame[1] & 0x80  # the length varint takes two bytes
    assert detect.detect_type(frame) is T.TRADE


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ('{"id":0,"code":0,"msg":"PONG"}', T.PONG),
        (b'{"id":0,"code":0,"msg":"PONG"}', T.PONG),
        ('\n {"code": 0, "msg": "PONG"}', T.PONG),
        (b'\n {"code": 0, "msg": "PONG"}', T.PONG),
        (
            '{"id":0,"code":0,"msg":"spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"}',
            T.SUBSCRIPTION,
        ),
        ('{"id":0,"code":1,"msg":"PONG"}', T.ERROR),
        ('{"id":0,"code":0,"msg":"Not Subscribed successfully! [x]"}', T.ERROR),
        ('{"d":{},"c":"spot@public.limit.depth.v3.api@BTCUSDT@5"}', T.ORDER_BOOK),
    ],
)
def test_detect_type_json(frame, expected) -> None:
    assert detect.detect_type(frame) is expected


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"", R.EMPTY_FRAME),
        ("", R.EMPTY_FRAME),
        (b"\x0a\x05hello", R.UNKNOWN_CHANNEL),  # parses as a wrapper with channel "hello"
        (
            PushDataV3ApiWrapper(channel="spot@public.kline.v3.api.pb@X@Min1").SerializeToString(),
            R.UNKNOWN_CHANNEL,
        ),
        (b"\x0a\x30spot@public.deals", R.MALFORMED_PROTOBUF),  # length beyond the frame
        (b"\x08\x01", R.MALFORMED_PROTOBUF),  # a valid message, but no channel and no body
        (b"\xff\xff\xff", R.MALFORMED_PROTOBUF),
        ('{"c":"spot@public.kline.v3.api@BTCUSDT@Min1"}', R.UNKNOWN_CHANNEL),
        ('{"c":"spot@public.deals"}', R.UNKNOWN_CHANNEL),
        ('{"c":5}', R.INVALID_FIELD),
        ('"PONG"', R.UNKNOWN_MESSAGE),
        ("{}", R.UNKNOWN_MESSAGE),
        ("{", R.MALFORMED_JSON),
    ],
)
def test_detect_type_errors(frame, reason) -> None:
    assert reason_of(detect.detect_type, frame) is reason


def _outcome(classify, frame):
    try:
        return classify(frame)
    except FrameError as error:
        return error.reason


_KIND_MARKERS = [kind + ".v3.api" for kind in detect._KIND_TYPES]


@given(
    st.sampled_from(_KIND_MARKERS),
    st.integers(0, 24),
    st.text(alphabet='@.abcdepv3:"{},BTCUSDT', max_size=40),
    st.text(alphabet='@.abcdepv3:"{},BTCUSDT', max_size=40),
)
def test_a_remembered_legacy_channel_answers_as_reading_it(marker, cut, rest, tail) -> None:
    """detect_type's shortcut for text pushes it has seen agrees with reading the frame:
    for another frame that starts the same (the head) and ends otherwise."""
    frame = '{"c":"spot@public.' + marker[:cut] + rest
    other = frame[: detect._LEGACY_HEAD_SPAN] + tail
    detect._KNOWN_LEGACY_HEADS.clear()
    read = _outcome(detect.detect_type, other)
    detect._KNOWN_LEGACY_HEADS.clear()
    _outcome(detect.detect_type, frame)  # remembers the head if it names a known kind
    assert _outcome(detect.detect_type, other) == read


@given(
    st.sampled_from([*detect._KIND_TYPES, "kline", "aggre"]),
    st.text(alphabet="@.abpv3:BTCUSDT\n{", max_size=140),
    st.integers(0, 200),
)
def test_a_remembered_channel_answers_as_reading_it(kind, rest, cut) -> None:
    """detect_type's shortcut for the channels it has seen agrees with reading the channel:
    for a push, and for the same push cut anywhere (inside the channel, it is malformed)."""
    wrapper = PushDataV3ApiWrapper(channel="spot@public." + kind + ".v3.api" + rest)
    wrapper.publicAggreDeals.eventType = "x"
    whole = wrapper.SerializeToString()
    frame = whole[:cut]
    detect._KNOWN_HEADS.clear()
    read = _outcome(detect.detect_type, frame)
    _outcome(detect.detect_type, whole)  # remembers the channel if it is a known kind
    assert _outcome(detect.detect_type, frame) == read


def test_detect_type_remembers_a_bounded_number_of_channels(monkeypatch) -> None:
    monkeypatch.setattr(detect, "_KNOWN_HEADS", {})
    monkeypatch.setattr(detect, "_KNOWN_LEGACY_HEADS", {})
    monkeypatch.setattr(detect, "_KNOWN_HEADS_LIMIT", 2)
    symbols = ("A", "B", "C")
    frames = [encoder.encode_book_ticker(symbol, 1, 1, 2, 1) for symbol in symbols]
    assert [detect.detect_type(frame) for frame in frames * 2] == [T.BOOK_TICKER] * 6
    assert sorted(detect._KNOWN_HEADS) == sorted(frame[: 2 + frame[1]] for frame in frames[:2])
    texts = [encoder.encode_legacy_book_ticker(symbol, 1, 1, 2, 1) for symbol in symbols]
    assert [detect.detect_type(text) for text in texts * 2] == [T.BOOK_TICKER] * 6
    assert len(detect._KNOWN_LEGACY_HEADS) == 2


def test_detect_type_falls_back_when_the_body_comes_first() -> None:
    wrapper = PushDataV3ApiWrapper()
    wrapper.publicAggreDepths.toVersion = "2"
    assert detect.detect_type(wrapper.SerializeToString()) is T.ORDER_BOOK  # no channel at all


def test_is_json_frame() -> None:
    assert detect.is_json_frame("x")
    assert detect.is_json_frame(b'{"a":1}')
    assert detect.is_json_frame(b'\r\n {"a":1}')
    assert not detect.is_json_frame(encoder.encode_pong().encode()[1:])
    assert not detect.is_json_frame(encoder.encode_book_ticker(SYMBOL, 1, 1, 2, 1))
    # a push whose channel is exactly 123 bytes: its length byte is "{" after a "\n"
    long_channel = encoder.channel(
        "aggre.deals", "Y" * (123 - len(encoder.channel("aggre.deals", "")))
    )
    frame = PushDataV3ApiWrapper(channel=long_channel).SerializeToString()
    assert frame[:2] == b"\n{"
    assert not detect.is_json_frame(frame)
    assert detect.detect_type(frame) is T.TRADE
