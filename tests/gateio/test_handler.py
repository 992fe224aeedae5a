"""ws_stack.gateio.handler: delivery, error accounting, and robustness to any input."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ws_stack.exceptions import FrameError, FrameErrorReason, excerpt
from ws_stack.gateio import GateioHandler
from ws_stack.gateio import encoder as enc
from ws_stack.messages import (
    BookTicker,
    OrderBookUpdate,
    Pong,
    Side,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
    WebSocketMessageType,
)

from .cases import EXPECTED, bad_frames, good_frames

GOOD = good_frames()
BAD = bad_frames()
A_GOOD_FRAME = enc.encode_trade("BTC_USDT", "1.5", "2", Side.BUY, 1700000000000, 42)


class Recorder:
    """A GateioHandler with a callback on every message type and on errors."""

    def __init__(self) -> None:
        self.handler = GateioHandler()
        self.messages: list[object] = []
        self.errors: list[FrameError] = []
        for msg_type in WebSocketMessageType:
            self.handler.on(msg_type, self.messages.append)
        self.handler.on_error(self.errors.append)


def test_handler_basics():
    handler = GateioHandler()
    assert handler.venue is Venue.GATEIO
    assert handler.level_pool is None
    with pytest.raises(TypeError):
        GateioHandler(level_pool=object())  # type: ignore[call-arg]


@pytest.mark.parametrize("kind", [str, bytes])
def test_every_good_fixture_is_delivered(kind):
    recorder = Recorder()
    for case in GOOD:
        frame = case.frame.encode() if kind is bytes else case.frame
        assert recorder.handler.handle(frame) == 1, case.case
    assert recorder.messages == [EXPECTED[case.case] for case in GOOD]
    assert recorder.errors == []
    stats = recorder.handler.stats()
    assert stats.frames == len(GOOD)
    assert stats.errors == {}
    assert stats.failed_frames == 0
    kinds = [type(message) for message in recorder.messages]
    assert stats.messages == {
        "trade": kinds.count(Trade),
        "book_ticker": kinds.count(BookTicker),
        "order_book": kinds.count(OrderBookUpdate),
        "subscription": kinds.count(SubscriptionAck),
        "error": kinds.count(VenueError),
        "pong": kinds.count(Pong),
    }


def test_callbacks_get_only_their_type():
    handler = GateioHandler()
    books: list[OrderBookUpdate] = []
    handler.on(WebSocketMessageType.ORDER_BOOK, books.append)
    for case in GOOD:
        handler.handle(case.frame)
    assert books and all(type(book) is OrderBookUpdate for book in books)
    assert len(books) == sum(1 for case in GOOD if case.case.startswith(("order_book", "obu")))


@pytest.mark.parametrize("case", BAD, ids=[case.case for case in BAD])
def test_bad_fixture_is_counted_reported_and_skipped(case):
    recorder = Recorder()
    assert recorder.handler.handle(case.frame) == 0
    assert recorder.handler.stats().errors == {case.reason: 1}
    [error] = recorder.errors
    assert error.venue is Venue.GATEIO
    assert error.reason is FrameErrorReason(case.reason)
    assert error.frame == case.frame
    assert error.excerpt == excerpt(case.frame)
    assert "gateio" in str(error) and case.reason in str(error)
    # The next good frame is still delivered.
    assert recorder.handler.handle(A_GOOD_FRAME) == 1
    assert recorder.messages == [
        Trade(Venue.GATEIO, "BTC_USDT", 1.5, 2.0, Side.BUY, 1700000000000, 42)
    ]


def test_all_bad_fixtures_in_one_stream():
    recorder = Recorder()
    for case in BAD:
        recorder.handler.handle(case.frame)
        recorder.handler.handle(A_GOOD_FRAME)
    stats = recorder.handler.stats()
    expected: dict[str, int] = {}
    for case in BAD:
        assert case.reason is not None
        expected[case.reason] = expected.get(case.reason, 0) + 1
    assert stats.errors == expected
    assert stats.failed_frames == len(BAD)
    assert stats.frames == 2 * len(BAD)
    assert stats.messages == {"trade": len(BAD)}
    assert [error.reason.value for error in recorder.errors] == [case.reason for case in BAD]


def test_every_bad_reason_is_covered_by_a_fixture():
    reasons = {case.reason for case in BAD}
    assert reasons >= {
        "empty_frame",
        "malformed_json",
        "unknown_channel",
        "unknown_message",
        "invalid_field",
    }


def test_a_raising_callback_is_counted_and_does_not_stop_delivery():
    handler = GateioHandler()
    delivered: list[object] = []

    def boom(message: object) -> None:
        raise RuntimeError("boom")

    handler.on(WebSocketMessageType.TRADE, boom)
    handler.on(WebSocketMessageType.TRADE, delivered.append)
    assert handler.handle(A_GOOD_FRAME) == 1
    assert len(delivered) == 1
    assert handler.stats().errors == {"callback_error": 1}
    assert handler.stats().failed_frames == 0


def test_route_refuses_a_type_gate_never_sends():
    with pytest.raises(FrameError) as info:
        GateioHandler().route(WebSocketMessageType.ERROR, b"{}")
    assert info.value.reason is FrameErrorReason.UNKNOWN_MESSAGE


# -- robustness ----------------------------------------------------------------------------


def _check_handles(recorder: Recorder, frames: list[bytes | str]) -> None:
    """Every frame is either delivered (1 message) or counted as exactly one failure."""
    for frame in frames:
        before = recorder.handler.stats()
        delivered = recorder.handler.handle(frame)  # must not raise
        after = recorder.handler.stats()
        assert after.frames == before.frames + 1
        if delivered:
            assert delivered == 1
            assert sum(after.messages.values()) == sum(before.messages.values()) + 1
            assert after.failed_frames == before.failed_frames
        else:
            assert after.failed_frames == before.failed_frames + 1
            assert recorder.errors[-1].venue is Venue.GATEIO


_robust = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_robust
@given(st.lists(st.binary(max_size=300), max_size=5))
def test_arbitrary_bytes_never_raise(frames):
    _check_handles(Recorder(), [*frames, A_GOOD_FRAME.encode()])


@_robust
@given(st.lists(st.text(max_size=300), max_size=5))
def test_arbitrary_text_never_raises(frames):
    _check_handles(Recorder(), [*frames, A_GOOD_FRAME])


@_robust
@given(st.lists(st.integers(0xD800, 0xDFFF).map(chr), min_size=1).map("".join))
def test_lone_surrogates_never_raise(text):
    _check_handles(Recorder(), [text, '{"channel":"' + text + '"}', A_GOOD_FRAME])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@_robust
@given(st.lists(json_values, max_size=5))
def test_arbitrary_json_values_never_raise(values):
    frames: list[bytes | str] = [msgspec.json.encode(value) for value in values]
    _check_handles(Recorder(), [*frames, A_GOOD_FRAME])


_channels = st.sampled_from(
    [
        "spot.trades",
        "spot.book_ticker",
        "spot.order_book_update",
        "spot.order_book",
        "spot.pong",
        "spot.tickers",
    ]
)
_events = st.sampled_from(["update", "subscribe", "unsubscribe", "", "other"])
_result_keys = st.sampled_from(
    ["id", "create_time_ms", "side", "currency_pair", "amount", "price", "s", "b", "B", "a",
     "A", "t", "u", "U", "full", "l", "lastUpdateId", "bids", "asks", "status"]
)  # fmt: skip
_levels = st.lists(st.lists(st.text(max_size=6) | st.integers() | st.none(), max_size=3))
_gate_like = st.fixed_dictionaries(
    {"time": st.integers(0, 2**40), "channel": _channels, "event": _events},
    optional={
        "result": st.none() | st.dictionaries(_result_keys, json_values | _levels, max_size=10),
        "error": st.none() | st.fixed_dictionaries({"code": st.integers(), "message": st.text()}),
        "id": st.integers(0, 2**40) | st.text(max_size=3),
    },
)


@_robust
@given(st.lists(_gate_like, max_size=5), st.booleans())
def test_gate_shaped_envelopes_never_raise(envelopes, as_bytes):
    frames = [msgspec.json.encode(envelope) for envelope in envelopes]
    _check_handles(
        Recorder(), [frame if as_bytes else frame.decode() for frame in frames] + [A_GOOD_FRAME]
    )


@_robust
@given(st.sampled_from([case.frame for case in GOOD]), st.data())
def test_mutated_fixture_frames_never_raise(frame, data):
    raw = frame.encode()
    position = data.draw(st.integers(0, len(raw)))
    cut = data.draw(st.integers(0, 8))
    insert = data.draw(st.binary(max_size=8))
    mutated = raw[:position] + insert + raw[position + cut :]
    _check_handles(Recorder(), [mutated, mutated.decode("utf-8", "replace"), A_GOOD_FRAME])


def _outcome(parse, frame: bytes | str) -> object:
    """A parser's result, or the reason it refused the frame."""
    try:
        return parse(frame)
    except FrameError as error:
        return error.reason


def _through_the_hooks(handler: GateioHandler, frame: bytes | str) -> object:
    try:
        parser = handler.route(handler.detect_type(frame), frame)
    except FrameError as error:
        return error.reason
    return _outcome(parser, frame)


def _through_the_fused_step(handler: GateioHandler, frame: bytes | str) -> object:
    return _outcome(handler._parse, frame)


@pytest.mark.parametrize("kind", [str, bytes])
def test_the_fused_steps_answer_as_detect_type_route_and_parse(kind):
    handler = GateioHandler()
    for case in GOOD + BAD:
        frame = case.frame
        if isinstance(frame, str) and kind is bytes:
            frame = frame.encode()
        assert _through_the_fused_step(handler, frame) == _through_the_hooks(handler, frame)


@pytest.mark.parametrize("frame", [12, ["spot.trades"], bytearray(b"{}"), memoryview(b"[")])
def test_the_fused_steps_answer_as_the_hooks_for_what_is_no_frame(frame):
    handler = GateioHandler()
    assert _through_the_fused_step(handler, frame) == _through_the_hooks(handler, frame)


@_robust
@given(st.sampled_from([case.frame for case in GOOD + BAD]), st.data())
def test_the_fused_steps_agree_on_mutated_frames(frame, data):
    raw = frame if isinstance(frame, bytes) else frame.encode()
    position = data.draw(st.integers(0, len(raw)))
    markers = [b'"channel":"', b'","event":"', b"subscribe", b'update"']
    insert = data.draw(st.binary(max_size=8) | st.sampled_from(markers))
    mutated = raw[:position] + insert + raw[position + data.draw(st.integers(0, 8)) :]
    handler = GateioHandler()
    for candidate in (mutated, mutated.decode("utf-8", "replace")):
        assert _through_the_fused_step(handler, candidate) == _through_the_hooks(handler, candidate)
