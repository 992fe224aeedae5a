"""Hostile and malformed input against both venues' handlers (hypothesis + fixed cases).

The bar, checked by :func:`hostile.feed` for every frame: ``handle()`` never raises, a
frame is either delivered or counted once with a specific reason (never
``internal_error``), the statistics add up, errors carry bounded excerpts and details.
On top: unknown fields change nothing, numbers that do not fit are refused per frame and
never reach a book, and the memory a frame costs is bounded by its size and not retained.
"""

from __future__ import annotations

import logging
import tracemalloc

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ws_stack.book import LocalOrderBook
from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.gateio import encoder as gate
from ws_stack.gateio.protocol import GateioProtocol
from ws_stack.messages import Level, OrderBookUpdate, Side, Venue, WebSocketMessageType
from ws_stack.mexc import encoder as mexc
from ws_stack.mexc.protocol import MexcProtocol

from .hostile import (
    BAD_FRAMES,
    BODY_FIELDS,
    END_GROUP,
    FIXED32,
    FIXED64,
    FRAMES,
    LENGTH,
    MEXC_PUSHES,
    START_GROUP,
    VARINT,
    body_of,
    delivered_builtins,
    feed,
    field_of,
    fields,
    json_bombs,
    key,
    length_delimited,
    make_handler,
    nested,
    replace_body,
    varint,
)

R = FrameErrorReason
VENUES = list(Venue)
fuzz = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))


# -- arbitrary and mutated frames -----------------------------------------------------------


@fuzz
@given(
    st.sampled_from(VENUES),
    st.lists(st.binary(max_size=400) | st.text(max_size=400), min_size=1, max_size=8),
)
def test_arbitrary_frames(venue, frames):
    feed(make_handler(venue), frames)


@st.composite
def mutated(draw: st.DrawFn, venue: Venue) -> bytes | str:
    """A real frame (good or bad fixture) with a few byte-level edits."""
    frame = draw(st.sampled_from(FRAMES[venue] + BAD_FRAMES[venue]))
    data = bytearray(frame.encode() if isinstance(frame, str) else frame)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(["flip", "insert", "delete", "duplicate", "truncate"]))
        if edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        elif edit == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 64))]
        else:
            del data[at:]
    raw = bytes(data)
    return raw.decode("utf-8", "replace") if isinstance(frame, str) else raw


@fuzz
@given(st.data())
def test_mutated_real_frames(data):
    venue = data.draw(st.sampled_from(VENUES))
    feed(make_handler(venue), [data.draw(mutated(venue)) for _ in range(5)])


# -- protobuf: unknown fields, wrong wire types, giant length prefixes ---------------------

wire_types = st.sampled_from([VARINT, FIXED64, LENGTH, FIXED32])


@st.composite
def unknown_fields(draw: st.DrawFn, numbers: st.SearchStrategy[int]) -> bytes:
    count = draw(st.integers(1, 4))
    return b"".join(
        field_of(draw(numbers), draw(wire_types), draw(st.binary(max_size=40)))
        for _ in range(count)
    )


# Numbers no schema in play uses: wrapper 2 and 7..300; inside bodies and items 6..300.
wrapper_unknown = st.integers(7, 300) | st.just(2) | st.integers(316, 10_000)
nested_unknown = st.integers(6, 300) | st.integers(316, 10_000)


@fuzz
@given(st.sampled_from(MEXC_PUSHES), st.data())
def test_unknown_protobuf_fields_change_nothing(push, data):
    """MEXC adds fields its schema omits: wherever they appear, the decode is the same."""
    expected = delivered_builtins(feed(make_handler(Venue.MEXC), [push]))
    parts = [f.raw for f in fields(push)]
    # Anywhere in the wrapper (first: the slow detection path; else: the fast one).
    at = data.draw(st.integers(0, len(parts)))
    parts.insert(at, data.draw(unknown_fields(wrapper_unknown)))
    frame = b"".join(parts)
    # And inside the body and inside its first repeated item, if any.
    body = body_of(frame)
    inner = fields(body.content)
    # Depth and deal bodies repeat messages at fields 1 and 2 (the ticker's are strings).
    repeated = body.number in (301, 302, 303, 313, 314)
    items = [f for f in inner if repeated and f.wire_type == LENGTH and f.number in (1, 2)]
    if items and data.draw(st.booleans()):
        item = items[0]
        grown = item.content + data.draw(unknown_fields(nested_unknown))
        inner[inner.index(item)] = type(item)(
            item.number, LENGTH, length_delimited(item.number, grown), grown
        )
    content = b"".join(f.raw for f in inner) + data.draw(unknown_fields(nested_unknown))
    frame = replace_body(frame, content)
    assert delivered_builtins(feed(make_handler(Venue.MEXC), [frame])) == expected


@fuzz
@given(
    st.sampled_from(FRAMES[Venue.GATEIO]),
    st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda k: k not in _GATE_KEYS),
        st.none() | st.integers() | st.text(max_size=10) | st.lists(st.integers(), max_size=3),
        min_size=1,
        max_size=4,
    ),
)
def test_unknown_json_keys_change_nothing(frame, extra):
    """Gate adds keys (``conn_id``, ``l``, ``full``...): unknown ones are ignored."""
    envelope = msgspec.json.decode(frame)
    if not isinstance(envelope, dict):
        return
    expected = delivered_builtins(feed(make_handler(Venue.GATEIO), [frame]))
    widened = {**extra, **envelope}
    if isinstance(envelope.get("result"), dict):
        widened["result"] = {**extra, **envelope["result"]}
    got = delivered_builtins(feed(make_handler(Venue.GATEIO), [msgspec.json.encode(widened)]))
    assert got == expected


_GATE_KEYS = {
    "time",
    "time_ms",
    "channel",
    "event",
    "result",
    "error",
    "id",
    "s",
    "b",
    "B",
    "a",
    "A",
    "t",
    "u",
    "U",
    "full",
    "lastUpdateId",
    "bids",
    "asks",
    "side",
    "amount",
    "price",
    "currency_pair",
    "create_time_ms",
    "status",
    "code",
    "message",
}


def _wrong_wire_type_frames() -> list[bytes]:
    """Every known field of every push re-encoded with every other wire type."""
    frames = []
    for push in MEXC_PUSHES:
        parts = fields(push)
        for index, part in enumerate(parts):
            for wire_type in (VARINT, FIXED64, LENGTH, START_GROUP, END_GROUP, FIXED32):
                if wire_type == part.wire_type:
                    continue
                swapped = field_of(part.number, wire_type, part.content or b"\x05")
                frames.append(
                    b"".join(p.raw for p in parts[:index])
                    + swapped
                    + b"".join(p.raw for p in parts[index + 1 :])
                )
        body = body_of(push)
        for inner in fields(body.content):
            for wire_type in (VARINT, FIXED64, LENGTH, FIXED32):
                if wire_type != inner.wire_type:
                    content = body.content.replace(
                        inner.raw, field_of(inner.number, wire_type, inner.content), 1
                    )
                    frames.append(replace_body(push, content))
    return frames


def test_pushes_cut_after_any_field():
    """Every prefix of every push that ends on a field boundary (a channel and nothing
    else, say: atheris found that one crashing a work-in-progress fast path)."""
    frames, bodied = [], []
    for push in MEXC_PUSHES:
        parts = fields(push)
        for n in range(1, len(parts)):
            frames.append(b"".join(p.raw for p in parts[:n]))
            bodied.append(any(p.number in BODY_FIELDS for p in parts[:n]))
    outcome = feed(make_handler(Venue.MEXC), frames)
    # Without a body there is nothing to deliver; a body (and symbol) is a push.
    assert [not isinstance(o, FrameErrorReason) for o in outcome.per_frame] == bodied


def test_protobuf_with_wrong_wire_types():
    frames = _wrong_wire_type_frames()
    assert len(frames) > 200
    outcome = feed(make_handler(Venue.MEXC), frames)
    assert outcome.errors  # most are refused...
    assert {e.reason for e in outcome.errors} <= {
        R.MALFORMED_PROTOBUF,
        R.UNKNOWN_MESSAGE,
        R.UNKNOWN_CHANNEL,
        R.INVALID_FIELD,
    }


GIANT = [2**31, 2**32 - 1, 2**32, 2**53, 2**63 - 1, 2**63, 2**64 - 1, 2**70]


def _giant_length_frames() -> list[bytes]:
    frames = []
    for push in MEXC_PUSHES:
        parts = fields(push)
        for size in GIANT:
            for index, part in enumerate(parts):
                if part.wire_type != LENGTH:
                    continue
                head = b"".join(p.raw for p in parts[:index])
                frames.append(head + key(part.number, LENGTH) + varint(size) + part.content)
            # A level (or deal) inside the body claims to be enormous.
            body = body_of(push)
            inner = fields(body.content)[0]
            forged = key(inner.number, LENGTH) + varint(size) + inner.content
            frames.append(replace_body(push, forged))
        # An overlong varint (11 continuation bytes) as a length.
        frames.append(b"\x0a" + b"\xff" * 11 + b"\x01" + push)
    return frames


def test_protobuf_with_giant_length_prefixes_allocates_nothing_big():
    frames = _giant_length_frames()
    handler = make_handler(Venue.MEXC)
    tracemalloc.start()
    try:
        outcome = feed(handler, frames)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert {e.reason for e in outcome.errors} <= {R.MALFORMED_PROTOBUF, R.UNKNOWN_MESSAGE}
    assert len(outcome.errors) == len(frames)
    assert peak < 4 << 20  # nothing of the claimed sizes was ever allocated


# -- JSON: nesting bombs, huge frames ----------------------------------------------------------


@pytest.mark.parametrize("depth", [64, 2_000, 200_000])
def test_nesting_bombs(depth):
    """``[[[[...`` and ``{"a":{"a":...`` anywhere in a frame: refused, never a crash."""
    for venue in VENUES:
        frames = [frame for v, frame in json_bombs(depth) if v is venue]
        outcome = feed(make_handler(venue), frames)
        if depth > 1_000:  # deeper than any decoder recurses: refused as malformed
            assert all(isinstance(o, FrameErrorReason) for o in outcome.per_frame)


@pytest.mark.parametrize("protocol", [MexcProtocol, GateioProtocol])
def test_rest_snapshot_bombs_are_frame_errors(protocol):
    """A hostile REST snapshot body is a FrameError (the stream retries), not a crash."""
    for body in (nested(200_000), '{"bids":' + nested(200_000) + "}", "\xff" * 10, "[]", ""):
        with pytest.raises(FrameError) as info:
            protocol.parse_snapshot(body.encode("utf-8", "surrogateescape"), "BTC_USDT")
        assert info.value.reason in (R.MALFORMED_JSON, R.INVALID_FIELD)


ONE_MIB = 1 << 20


def _huge_frames() -> list[tuple[Venue, bytes | str]]:
    """Frames of about 1 MiB (the default max_size) built to cost the decoders the most."""
    levels = ",".join(['["1.5","2"]'] * (ONE_MIB // 12))
    json_levels = ",".join(['{"p":"1.5","v":"2"}'] * (ONE_MIB // 20))
    return [
        (
            Venue.GATEIO,
            '{"channel":"spot.order_book_update","event":"update","result":'
            '{"s":"A","U":1,"u":2,"b":[' + levels + "]}}",
        ),
        (Venue.GATEIO, '{"channel":"x","error":[' + ",".join(["1"] * (ONE_MIB // 2)) + "]}"),
        (Venue.GATEIO, '{"channel":"' + "a" * ONE_MIB + '"}'),
        (Venue.GATEIO, '{"' + '":1,"'.join(str(i) for i in range(ONE_MIB // 10)) + '":1}'),
        (
            Venue.MEXC,
            '{"c":"spot@public.increase.depth.v3.api@BTCUSDT","d":{"r":"1","bids":['
            + json_levels
            + "]}}",
        ),
        (Venue.MEXC, mexc.encode_depth("BTCUSDT", [("1.5", "2")] * (ONE_MIB // 16), [], 1, 2)),
        (Venue.MEXC, mexc.encode_depth("BTCUSDT", [("9" * ONE_MIB, "2")], [], 1, 2)),
        (Venue.MEXC, b"\x0a" + varint(ONE_MIB) + b"spot@" + b"x" * (ONE_MIB - 5)),
        (Venue.MEXC, '{"id":0,"code":1,"msg":"' + "m" * ONE_MIB + '"}'),
    ]


@pytest.mark.parametrize("case", range(len(_huge_frames())))
def test_huge_frames_cost_bounded_memory_and_keep_none(case, monkeypatch):
    # pytest's log capture keeps records (and the error in their args): not measured here.
    monkeypatch.setattr(logging.getLogger("ws_stack"), "propagate", False)
    venue, frame = _huge_frames()[case]
    handler = make_handler(venue)
    handler.handle(frame[:100])  # warm up the handler's own lazy state
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        handler.handle(frame)  # no callback: nothing outside the handler keeps a message
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert handler.stats().frames == 2
    assert handler.stats().errors.get(R.INTERNAL_ERROR.value, 0) == 0
    # At most ~32 bytes per frame byte while decoding (a level is a few Python objects);
    # afterwards only the level pool keeps anything (bounded by its capacity).
    assert peak - before < 32 * len(frame) + ONE_MIB
    assert after - before < ONE_MIB


def test_many_hostile_frames_leave_the_handler_flat():
    """Thousands of hostile frames later, a handler holds no more memory than before."""
    frames: dict[Venue, list[bytes | str]] = {venue: [] for venue in VENUES}
    for venue, bomb in json_bombs(5_000):
        frames[venue].append(bomb)
    frames[Venue.MEXC] += _wrong_wire_type_frames() + _giant_length_frames()
    for venue in VENUES:
        frames[venue] += BAD_FRAMES[venue] + FRAMES[venue]
    for venue, batch in frames.items():
        feed(make_handler(venue), batch)  # the bars, frame by frame
        handler = make_handler(venue)
        for frame in batch:  # warm up: pool filled, first error of each reason logged
            handler.handle(frame)
        tracemalloc.start()
        try:
            before, _ = tracemalloc.get_traced_memory()
            for _ in range(5):
                for frame in batch:
                    handler.handle(frame)
            after, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert handler.stats().frames == 6 * len(batch)
        assert after - before < 64 << 10


# -- numbers that do not fit ----------------------------------------------------------------

BAD_PRICES = [
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "-5",
    "0",
    "-0",
    "1234567890123456789012345678901234567890",
    "1e15",
    "1e400",
    "",
    "abc",
    "1,5",
    "0x10",
    "--1",
]
BAD_SIZES = [
    "NaN",
    "inf",
    "-inf",
    "-1",
    "-0.0001",
    "1234567890123456789012345678901234567890",
    "1e15",
    "1e400",
    "",
    "abc",
    "1,5",
]
GOOD = ("100.5", "2")
T0 = 1_700_000_000_000


def _depth_frames(venue: Venue, price: str, size: str, version: int) -> list[bytes | str]:
    """Depth deltas carrying the level (price, size) in every format the venue has."""
    level = [(price, size)]
    if venue is Venue.GATEIO:
        return [
            gate.encode_order_book_update("BTC_USDT", level, [], version, version, T0),
            gate.encode_order_book_update("BTC_USDT", [GOOD], level, version, version, T0),
        ]
    return [
        mexc.encode_depth("BTCUSDT", level, [], version, version),
        mexc.encode_depth("BTCUSDT", [GOOD, GOOD], level, version, version),
        mexc.encode_increase_depth("BTCUSDT", level, [], version),
        mexc.encode_legacy_depth("BTCUSDT", level, [], version),
    ]


def _other_frames(venue: Venue, price: str, size: str) -> list[bytes | str]:
    """Trades, tickers and snapshots carrying the number in price or size position."""
    if venue is Venue.GATEIO:
        return [
            gate.encode_trade("BTC_USDT", price, size, Side.BUY, T0, 1),
            gate.encode_book_ticker("BTC_USDT", price, size, "101", "1", 1, T0),
            gate.encode_book_ticker("BTC_USDT", "99", "1", price, size, 1, T0),
            gate.encode_order_book("BTC_USDT", [(price, size)], [], 5, T0),
        ]
    deal = mexc.Deal(price, size, Side.SELL, T0)
    return [
        mexc.encode_deals("BTCUSDT", [deal]),
        mexc.encode_deals("BTCUSDT", [mexc.Deal(*GOOD, Side.BUY, T0), deal], aggregated=False),
        mexc.encode_book_ticker("BTCUSDT", price, size, "101", "1"),
        mexc.encode_book_ticker("BTCUSDT", "99", "1", price, size),
        mexc.encode_limit_depth("BTCUSDT", [(price, size)], [], 5),
        mexc.encode_legacy_deals("BTCUSDT", [deal]),
        mexc.encode_legacy_book_ticker("BTCUSDT", price, size, "101", "1"),
        mexc.encode_legacy_depth("BTCUSDT", [(price, size)], [], 5, snapshot_depth=5),
    ]


def _bad_pairs() -> list[tuple[str, str]]:
    return [(price, GOOD[1]) for price in BAD_PRICES] + [(GOOD[0], size) for size in BAD_SIZES]


@pytest.mark.parametrize("venue", VENUES, ids=lambda v: v.value)
@pytest.mark.parametrize(("price", "size"), _bad_pairs())
def test_numbers_that_do_not_fit_are_refused_per_frame(venue, price, size):
    frames = _depth_frames(venue, price, size, 101) + _other_frames(venue, price, size)
    outcome = feed(make_handler(venue), frames)
    assert outcome.per_frame == [R.INVALID_FIELD] * len(frames), [str(e) for e in outcome.errors]
    for error in outcome.errors:
        assert any(
            word in error.detail
            for word in ("Expected", "outside", "could not convert", "out of range", "float")
        ), error.detail


@pytest.mark.parametrize("venue", VENUES, ids=lambda v: v.value)
def test_bad_numbers_never_reach_a_book(venue):
    """A book fed bad deltas stays as it was, in sync; the good delta with the same
    sequence number then applies as if the bad ones had never come."""
    symbol = "BTCUSDT" if venue is Venue.MEXC else "BTC_USDT"
    handler = make_handler(venue)
    book = LocalOrderBook(venue, symbol)
    book.apply(
        OrderBookUpdate(
            venue, symbol, [Level(99.0, 1.0)], [Level(101.0, 1.0)], True, last_update_id=100
        )
    )
    handler.on(WebSocketMessageType.ORDER_BOOK, book.apply)
    frames = [f for price, size in _bad_pairs() for f in _depth_frames(venue, price, size, 101)]
    outcome = feed(handler, frames)
    assert len(outcome.errors) == len(frames)
    assert book.in_sync and book.last_update_id == 100
    assert book.bids() == [(99.0, 1.0)] and book.asks() == [(101.0, 1.0)]
    feed(handler, [_depth_frames(venue, "100.5", "2", 101)[0]])
    assert book.in_sync and book.last_update_id == 101
    assert book.bids() == [(100.5, 2.0), (99.0, 1.0)]


@pytest.mark.parametrize("protocol", [MexcProtocol, GateioProtocol])
@pytest.mark.parametrize(("price", "size"), _bad_pairs())
def test_rest_snapshots_with_bad_numbers_are_refused(protocol, price, size):
    body = msgspec.json.encode(
        {"lastUpdateId": 5, "id": 5, "bids": [[price, size]], "asks": [["101", "1"]]}
    )
    with pytest.raises(FrameError) as info:
        protocol.parse_snapshot(body, "BTC_USDT")
    assert info.value.reason is R.INVALID_FIELD


# -- logging stays bounded ------------------------------------------------------------------


def test_hostile_frames_are_logged_once_per_reason_and_briefly(caplog):
    caplog.set_level(logging.DEBUG)
    for venue, frame in _huge_frames():
        feed(make_handler(venue), [frame, frame])
    for record in caplog.records:
        assert len(record.getMessage()) < 1_000
