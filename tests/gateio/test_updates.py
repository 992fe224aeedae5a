"""The compiled twin ws_stack.gateio._updates against its references, decoder.parse_update
and GateioHandler._parse, side by side in one process: on every frame, the same message
(equal structs, compared as MessagePack so that floats compare bit for bit) or the same
``None``, and through the handler the same messages and the same errors."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ws_stack import implementation
from ws_stack.exceptions import FrameError
from ws_stack.gateio import GateioHandler, decoder
from ws_stack.gateio import encoder as gate_encoder
from ws_stack.messages import Level, Side

from .cases import bad_frames, good_frames

_twin = implementation.compiled("ws_stack.gateio._updates")
pytestmark = pytest.mark.skipif(
    _twin is None,
    reason="ws_stack.gateio._updates is not built (no C compiler, or WS_STACK_NO_EXTENSIONS set)",
)

REFERENCE = decoder._reference_parse_update
_encode = msgspec.msgpack.encode


def _same(frame: bytes | str) -> None:
    """The twin's answer is the reference's: equal messages bit for bit, or both None."""
    assert _twin is not None
    expected, got = REFERENCE(frame), _twin.parse_update(frame)
    assert type(got) is type(expected)
    assert _encode(got) == _encode(expected)


def _fixture_frames() -> list[bytes | str]:
    return [fixture.frame for fixture in good_frames() + bad_frames()]


def _pushes() -> list[str]:
    """One push of every update channel, as ws_stack's encoder (and Gate) writes them."""
    bids, asks = [Level(50_000.5, 1.25)], [Level(50_001.0, 0.5), Level(50_002.0, 0.0)]
    time_ms = 1_700_000_000_123
    return [
        gate_encoder.encode_trade("BTC_USDT", 50_000.5, 0.001, Side.SELL, time_ms + 0.25, 7),
        gate_encoder.encode_book_ticker("BTC_USDT", 50_000.5, 1.0, 50_001.0, 2.0, 99, time_ms),
        gate_encoder.encode_order_book_update("BTC_USDT", bids, asks, 10, 12, time_ms),
        gate_encoder.encode_order_book("BTC_USDT", bids, asks, 12, time_ms),
        gate_encoder.encode_obu("BTC_USDT", 50, bids, asks, 12, time_ms, first_id=11),
        gate_encoder.encode_obu("BTC_USDT", 50, bids, asks, 12, time_ms, full=True),
    ]


def test_every_fixture_frame_gives_the_references_answer() -> None:
    frames = _fixture_frames()
    assert len(frames) > 20
    for frame in frames:
        _same(frame)
        if isinstance(frame, str):
            _same(frame.encode())


def test_every_update_channel_is_made_in_the_twin() -> None:
    # The five channels' pushes come out as messages, not None: the test above cannot pass
    # by the twin answering None where the reference does too.
    for frame in _pushes():
        assert REFERENCE(frame) is not None
        _same(frame)
        _same(frame.encode())


def test_optional_fields_absent_or_null() -> None:
    for frame in _pushes():
        envelope = json.loads(frame)
        for key in list(envelope["result"]):
            if key in ("b", "a", "bids", "asks", "t", "full", "U"):
                dropped = {**envelope, "result": dict(envelope["result"])}
                del dropped["result"][key]
                _same(json.dumps(dropped))
                nulled = {**envelope, "result": {**envelope["result"], key: None}}
                _same(json.dumps(nulled))


def test_frames_whose_marker_misleads() -> None:
    """The twin picks a push's decoder from the window after the first marker; where that
    is not the frame's own channel, or the frame is odd around it, the answer must still
    be the reference's (the union's)."""
    for frame in _pushes():
        envelope = json.loads(frame)
        channel = envelope["channel"]
        head, _, rest = frame.partition('"channel":"')
        other = "spot.trades" if channel != "spot.trades" else "spot.book_ticker"
        variants = [
            # a nested object with another channel's marker before the frame's own
            '{"x":{"channel":"' + other + '","event":"update","result":{}},' + frame[1:],
            '{"x":"\\"channel\\":\\"' + other + '",' + frame[1:],
            # the channel twice, and the event other than update
            frame[:-1] + ',"channel":"' + other + '"}',
            frame.replace('"event":"update"', '"event":"subscribe"'),
            frame.replace('"event":"update"', '"event":"update","event":"update"'),
            # whitespace, another key order, non-ASCII text, a cut window
            head + '"channel": "' + rest,
            json.dumps(dict(reversed(list(envelope.items())))),
            frame.replace('"result":{', '"result":{"note":"\u00e9t\u00e9",'),
            frame.replace('"result":{', '"result":{"note":"été",'),
            frame[: len(head) + 20],
        ]
        for variant in variants:
            _same(variant)
            _same(variant.encode())


def test_not_text_nor_bytes_is_none_in_both() -> None:
    for frame in (None, 3, 1.5, ["spot.trades"], bytearray(b"{}"), memoryview(b"{}")):
        _same(frame)  # type: ignore[arg-type]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frame_index=st.integers(0, 5),
    key=st.sampled_from(
        ["s", "U", "u", "b", "a", "t", "full", "lastUpdateId", "bids", "asks", "id", "side",
         "price", "amount", "currency_pair", "create_time_ms", "B", "A", "extra"]
    ),
    value=_JSON_VALUES | st.sampled_from(["1.5", "-1", "nan", "1e400", "ob.X", "ob.X.5", ""]),
)  # fmt: skip
def test_a_changed_field_gives_the_references_answer(
    frame_index: int, key: str, value: object
) -> None:
    envelope = json.loads(_pushes()[frame_index])
    envelope["result"][key] = value
    _same(json.dumps(envelope))


@settings(max_examples=400, deadline=None)
@given(frame_index=st.integers(0, 5), data=st.data())
def test_a_mutated_frame_gives_the_references_answer(frame_index: int, data: st.DataObject) -> None:
    frame = bytearray(_pushes()[frame_index].encode())
    for _ in range(data.draw(st.integers(1, 4))):
        position = data.draw(st.integers(0, len(frame) - 1))
        frame[position] = data.draw(st.integers(0, 255))
    _same(bytes(frame))
    _same(bytes(frame[: data.draw(st.integers(0, len(frame)))]))


def test_the_handler_parses_as_its_reference() -> None:
    """Through GateioHandler: the twin's _parse is in use, and answers as the reference."""
    assert _twin is not None
    assert GateioHandler._parse is _twin.handler_parse
    handler = GateioHandler()
    for frame in _fixture_frames() + _pushes():
        try:
            expected = GateioHandler._reference_parse(handler, frame)
        except FrameError as error:
            with pytest.raises(FrameError) as raised:
                handler._parse(frame)
            assert (raised.value.reason, str(raised.value)) == (error.reason, str(error))
        else:
            assert _encode(handler._parse(frame)) == _encode(expected)
