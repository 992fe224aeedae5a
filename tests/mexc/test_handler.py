"""ws_stack.mexc.handler.MexcHandler: delivery, error accounting, pooling, fuzzing."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import (
    BookTicker,
    Message,
    OrderBookUpdate,
    Trade,
    Venue,
    WebSocketMessageType,
)
from ws_stack.mexc import MexcHandler, decoder, encoder
from ws_stack.mexc.handler import NEW_POOL
from ws_stack.pool import LevelPool

from .cases import EXPECTED, SYMBOL, bad_frames, good_frames

T = WebSocketMessageType
GOOD = good_frames()
BAD = bad_frames()


class Recorder:
    """A handler with callbacks that keep (copies of) everything they are given."""

    def __init__(self, **kwargs: LevelPool | None) -> None:
        self.handler = MexcHandler(**kwargs)  # type: ignore[arg-type]
        self.messages: list[Message] = []
        self.errors: list[FrameError] = []
        for msg_type in T:
            self.handler.on(msg_type, self._keep)
        self.handler.on_error(self.errors.append)

    def _keep(self, message: Message) -> None:
        # Pooled levels are on loan until the callback returns: keep a copy.
        self.messages.append(message.copy() if isinstance(message, OrderBookUpdate) else message)


def test_pools_levels_only_when_asked_to() -> None:
    assert MexcHandler().level_pool is None
    assert MexcHandler(level_pool=None).level_pool is None
    assert isinstance(MexcHandler(level_pool=NEW_POOL).level_pool, LevelPool)
    assert (
        MexcHandler(level_pool=NEW_POOL).level_pool
        is not MexcHandler(level_pool=NEW_POOL).level_pool
    )
    shared = LevelPool()
    assert MexcHandler(level_pool=shared).level_pool is shared
    assert MexcHandler.venue is Venue.MEXC


@pytest.mark.parametrize("pool", [True, False], ids=["pool", "no-pool"])
def test_every_fixture_frame_is_delivered_with_expected_values(pool: bool) -> None:
    recorder = Recorder(level_pool=LevelPool()) if pool else Recorder()
    expected: list[Message] = []
    for fixture in GOOD:
        count = recorder.handler.handle(fixture.frame)
        assert count == len(EXPECTED[fixture.case]), fixture.case
        expected.extend(EXPECTED[fixture.case])
    assert recorder.messages == expected
    assert not recorder.errors
    stats = recorder.handler.stats()
    assert stats.frames == len(GOOD)
    assert stats.failed_frames == 0
    assert sum(stats.messages.values()) == len(expected)


def test_every_bad_frame_is_counted_with_its_reason() -> None:
    recorder = Recorder()
    expected_counts: dict[str, int] = {}
    for fixture in BAD:
        assert fixture.reason is not None
        assert recorder.handler.handle(fixture.frame) == 0, fixture.case
        error = recorder.errors[-1]
        assert error.reason.value == fixture.reason, fixture.case
        assert error.venue is Venue.MEXC
        assert error.frame == fixture.frame
        assert isinstance(error.excerpt, str)
        assert len(error.excerpt) <= 80 * 4 + 3  # escaped bytes take up to 4 chars each
        expected_counts[fixture.reason] = expected_counts.get(fixture.reason, 0) + 1
    stats = recorder.handler.stats()
    assert stats.errors == expected_counts
    assert stats.frames == stats.failed_frames == len(BAD)
    assert not recorder.messages


def test_a_good_frame_after_a_bad_one_is_delivered() -> None:
    recorder = Recorder()
    good = next(f for f in GOOD if f.case == "book_ticker")
    for bad in BAD:
        recorder.handler.handle(bad.frame)
        assert recorder.handler.handle(good.frame) == 1
    assert recorder.messages == EXPECTED["book_ticker"] * len(BAD)
    assert recorder.handler.stats().failed_frames == len(BAD)


def test_error_callback_gets_venue_reason_and_excerpt() -> None:
    recorder = Recorder()
    frame = (
        '{"c":"spot@public.deals.v3.api@BTCUSDT","d":{"deals":[{"S":1,"p":"abc","t":1,"v":"1"}]}}'
    )
    recorder.handler.handle(frame)
    (error,) = recorder.errors
    assert (error.venue, error.reason) == (Venue.MEXC, FrameErrorReason.INVALID_FIELD)
    assert error.excerpt == frame[:80] + "..."
    assert "$.d.deals[0].p" in error.detail
    assert "[mexc] invalid_field" in str(error)


def test_routes_are_built_once() -> None:
    handler = MexcHandler()
    push = encoder.encode_book_ticker(SYMBOL, 1, 1, 2, 1)
    legacy = encoder.encode_legacy_book_ticker(SYMBOL, 1, 1, 2, 1)
    assert handler.route(T.BOOK_TICKER, push) is handler.route(T.BOOK_TICKER, push)
    assert handler.route(T.BOOK_TICKER, legacy) is handler.route(T.BOOK_TICKER, legacy)
    assert handler.route(T.BOOK_TICKER, push) is not handler.route(T.BOOK_TICKER, legacy)
    assert handler.route(T.PONG, encoder.encode_pong()) is decoder.parse_control


def test_pooled_levels_are_returned_after_delivery() -> None:
    pool = LevelPool()
    handler = MexcHandler(level_pool=pool)
    seen: list[OrderBookUpdate] = []
    handler.on(T.ORDER_BOOK, seen.append)
    handler.handle(encoder.encode_depth(SYMBOL, [("1", "1")] * 3, [("2", "1")] * 2, 1, 1))
    assert pool.stats().returned == 5
    assert pool.stats().available == 5


def test_steady_depth_stream_reuses_pooled_levels() -> None:
    pool = LevelPool()
    handler = MexcHandler(level_pool=pool)
    bids = [(f"{50000 - i}.5", f"{i + 1}.25") for i in range(20)]
    asks = [(f"{50001 + i}.5", f"0.{i + 1:03d}") for i in range(20)]
    frames = [encoder.encode_depth(SYMBOL, bids, asks, n, n) for n in range(1, 1001)]
    best: list[float] = []
    handler.on(T.ORDER_BOOK, lambda update: best.append(update.bids[0].price))
    for frame in frames:
        assert handler.handle(frame) == 1
    stats = pool.stats()
    assert stats.acquired == 1000 * 40
    assert stats.reuse_ratio >= 0.99
    assert stats.created == 40
    assert best == [50000.5] * 1000


def test_callback_errors_do_not_stop_delivery() -> None:
    handler = MexcHandler()
    trades: list[Trade] = []
    errors: list[FrameError] = []
    handler.on(T.TRADE, lambda trade: 1 / 0)
    handler.on(T.TRADE, trades.append)
    handler.on_error(errors.append)
    frame = next(f for f in GOOD if f.case == "aggre_deals").frame
    assert handler.handle(frame) == 2
    assert len(trades) == 2
    assert [e.reason for e in errors] == [FrameErrorReason.CALLBACK_ERROR] * 2
    assert handler.stats().failed_frames == 0


# -- fuzzing: nothing escapes handle(), every failure is counted --------------------


def _check_accounting(frames: list[bytes | str]) -> None:
    recorder = Recorder()
    delivered = 0
    clean_frames = 0
    for frame in frames:
        errors_before = len(recorder.errors)
        delivered += recorder.handler.handle(frame)  # must never raise
        failed = len(recorder.errors) - errors_before
        assert failed in (0, 1)
        clean_frames += failed == 0
    stats = recorder.handler.stats()
    assert stats.frames == len(frames) == clean_frames + stats.failed_frames
    assert sum(stats.messages.values()) == delivered == len(recorder.messages)
    for message in recorder.messages:
        if isinstance(message, Trade | BookTicker | OrderBookUpdate):
            assert message.venue is Venue.MEXC


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "c",
                    "d",
                    "s",
                    "t",
                    "code",
                    "msg",
                    "id",
                    "deals",
                    "asks",
                    "bids",
                    "r",
                    "p",
                    "v",
                    "S",
                    "a",
                    "A",
                    "b",
                    "B",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)
channels = st.sampled_from(
    [
        "spot@public.deals.v3.api@BTCUSDT",
        "spot@public.increase.depth.v3.api@BTCUSDT",
        "spot@public.limit.depth.v3.api@BTCUSDT@5",
        "spot@public.bookTicker.v3.api@BTCUSDT",
        "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
        "spot@public.kline.v3.api@BTCUSDT@Min1",
    ]
)
legacy_like = st.builds(
    lambda channel, data: msgspec.json.encode({"c": channel, "d": data}).decode(),
    channels,
    json_values,
)
good_binary = [f.frame for f in GOOD if isinstance(f.frame, bytes)]


@st.composite
def mutated_pushes(draw: st.DrawFn) -> bytes:
    """A real push with some bytes overwritten, and maybe cut short."""
    frame = bytearray(draw(st.sampled_from(good_binary)))
    for _ in range(draw(st.integers(1, 4))):
        frame[draw(st.integers(0, len(frame) - 1))] = draw(st.integers(0, 255))
    return bytes(frame[: draw(st.integers(0, len(frame)))])


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200), max_size=10))
def test_arbitrary_bytes_never_raise(frames: list[bytes]) -> None:
    _check_accounting(frames)


@given(st.lists(st.text(max_size=200), max_size=10))
def test_arbitrary_text_never_raises(frames: list[str]) -> None:
    _check_accounting(frames)


@given(
    st.lists(json_values.map(lambda v: msgspec.json.encode(v).decode()) | legacy_like, max_size=10)
)
def test_arbitrary_json_never_raises(frames: list[str]) -> None:
    _check_accounting(frames)


@given(st.lists(mutated_pushes(), max_size=10))
def test_mutated_pushes_never_raise(frames: list[bytes]) -> None:
    _check_accounting(frames)


def test_hostile_frames_never_raise() -> None:
    _check_accounting(
        [
            "[" * 100_000,
            b"{" * 100_000,
            b"\x0b" * 10_000,  # deeply nested groups
            b"\xa3\x13" * 10_000,
            b"\x0a\xff\xff\xff\xff\x0f",
            '{"id":0,"code":' + "9" * 5000 + "}",
            encoder.encode_depth(SYMBOL, [("1" * 100_000, "1")], [], 1, 1),
            encoder.encode_increase_depth(SYMBOL, [], [], "9" * 100_000),
        ]
    )
