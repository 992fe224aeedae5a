"""ws_stack.mexc.encoder: wire layout, and encode -> decode round trips (with hypothesis)."""

from __future__ import annotations

import string
from decimal import Decimal

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from ws_stack.messages import MAX_NUMBER, BookTicker, Level, OrderBookUpdate, Side, Trade, Venue
from ws_stack.mexc import decoder, encoder
from ws_stack.mexc.encoder import Deal
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ws_stack.pool import LevelPool

from .cases import SYMBOL, T0, load_generator

MEXC = Venue.MEXC


def _wrapper(frame: bytes) -> PushDataV3ApiWrapper:
    wrapper = PushDataV3ApiWrapper()
    wrapper.ParseFromString(frame)
    return wrapper


# -- layout ------------------------------------------------------------------------


def test_channel_names() -> None:
    assert (
        encoder.channel("aggre.deals", "BTCUSDT")
        == "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
    )
    assert (
        encoder.channel("aggre.depth", "BTCUSDT", interval="10ms")
        == "spot@public.aggre.depth.v3.api.pb@10ms@BTCUSDT"
    )
    assert (
        encoder.channel("aggre.bookTicker", "ETHUSDT")
        == "spot@public.aggre.bookTicker.v3.api.pb@100ms@ETHUSDT"
    )
    assert (
        encoder.channel("limit.depth", "BTCUSDT", depth=5)
        == "spot@public.limit.depth.v3.api.pb@BTCUSDT@5"
    )
    assert encoder.channel("deals", "BTCUSDT", protobuf=False) == "spot@public.deals.v3.api@BTCUSDT"
    assert (
        encoder.channel("increase.depth", "BTCUSDT", protobuf=False)
        == "spot@public.increase.depth.v3.api@BTCUSDT"
    )


def test_format_number() -> None:
    assert encoder.format_number("50000.10000000000000000000001") == "50000.10000000000000000000001"
    assert encoder.format_number(50000.1) == "50000.1"
    assert encoder.format_number(1e-05) == "0.00001"
    assert encoder.format_number(1.5e-10) == "0.00000000015"
    assert encoder.format_number(1e16) == "10000000000000000"
    assert encoder.format_number(3.0) == "3.0"
    assert encoder.format_number(float("nan")) == "nan"  # garbage in, garbage out (for tests)


def test_push_frames_start_with_the_channel_field() -> None:
    frames = [
        encoder.encode_deals(SYMBOL, [Deal("1", "1", Side.BUY, T0)]),
        encoder.encode_deals(SYMBOL, [], aggregated=False),
        encoder.encode_depth(SYMBOL, [], [], 1, 2),
        encoder.encode_increase_depth(SYMBOL, [], [], 1),
        encoder.encode_limit_depth(SYMBOL, [], [], 1),
        encoder.encode_book_ticker(SYMBOL, 1, 1, 2, 1),
    ]
    for frame in frames:
        wrapper = _wrapper(frame)
        assert frame.startswith(b"\x0a" + bytes([len(wrapper.channel)]) + wrapper.channel.encode())
        assert wrapper.symbol == SYMBOL


def test_encode_deals_fields() -> None:
    deals = [
        Deal("50000.1", "0.5", Side.BUY, T0, trade_id="1-2"),
        Deal(2.5, 3.0, Side.SELL, T0 + 1),
    ]
    wrapper = _wrapper(encoder.encode_deals(SYMBOL, deals, send_time_ms=T0 + 9))
    assert wrapper.WhichOneof("body") == "publicAggreDeals"
    assert wrapper.sendTime == T0 + 9
    assert wrapper.publicAggreDeals.eventType == "spot@public.aggre.deals.v3.api.pb@100ms"
    first, second = wrapper.publicAggreDeals.deals
    assert (first.price, first.quantity, first.tradeType, first.time) == ("50000.1", "0.5", 1, T0)
    assert (second.price, second.quantity, second.tradeType) == ("2.5", "3.0", 2)
    old = _wrapper(encoder.encode_deals(SYMBOL, deals, aggregated=False))
    assert old.WhichOneof("body") == "publicDeals"
    assert old.channel == "spot@public.deals.v3.api.pb@BTCUSDT"


def test_encode_depth_fields() -> None:
    wrapper = _wrapper(encoder.encode_depth(SYMBOL, [("1", "2")], [("3", "0")], 7, "8"))
    body = wrapper.publicAggreDepths
    assert (body.fromVersion, body.toVersion) == ("7", "8")
    assert [(level.price, level.quantity) for level in body.bids] == [("1", "2")]
    assert [(level.price, level.quantity) for level in body.asks] == [("3", "0")]
    limit = _wrapper(encoder.encode_limit_depth(SYMBOL, [], [("3", "1")], 9, depth=10))
    assert limit.channel.endswith("@BTCUSDT@10")
    assert limit.publicLimitDepths.version == "9"
    increase = _wrapper(encoder.encode_increase_depth(SYMBOL, [("1", "1")], [], 11))
    assert increase.publicIncreaseDepths.version == "11"


def test_json_control_frames() -> None:
    assert encoder.encode_ack("spot@x", 5) == '{"id":5,"code":0,"msg":"spot@x"}'
    assert encoder.encode_pong() == '{"id":0,"code":0,"msg":"PONG"}'
    assert encoder.encode_error(1, "bad") == '{"id":0,"code":1,"msg":"bad"}'


def test_legacy_frames_match_the_documented_layout() -> None:
    frame = encoder.encode_legacy_deals(
        SYMBOL, [Deal("50000.1", "0.5", Side.BUY, 1700000000000)], time_ms=1700000000001
    )
    assert frame == (
        '{"c":"spot@public.deals.v3.api@BTCUSDT","d":{"deals":[{"S":1,"p":"50000.1",'
        '"t":1700000000000,"v":"0.5"}],"e":"spot@public.deals.v3.api"},"s":"BTCUSDT",'
        '"t":1700000000001}'
    )
    depth = msgspec.json.decode(encoder.encode_legacy_depth(SYMBOL, [("1", "2")], [], 7))
    assert depth["c"] == "spot@public.increase.depth.v3.api@BTCUSDT"
    assert depth["d"] == {
        "asks": [],
        "bids": [{"p": "1", "v": "2"}],
        "e": "spot@public.increase.depth.v3.api",
        "r": "7",
    }
    snapshot = msgspec.json.decode(encoder.encode_legacy_depth(SYMBOL, [], [], 7, snapshot_depth=5))
    assert snapshot["c"] == "spot@public.limit.depth.v3.api@BTCUSDT@5"
    ticker = msgspec.json.decode(encoder.encode_legacy_book_ticker(SYMBOL, "1", "2", "3", "4"))
    assert ticker["c"] == "spot@public.bookTicker.v3.api@BTCUSDT"
    assert ticker["d"] == {"A": "4", "B": "2", "a": "3", "b": "1"}


def test_fixture_files_are_what_the_generator_writes() -> None:
    generator = load_generator()
    for name, content in generator.build().items():
        committed = (generator.HERE / name).read_bytes()
        assert committed == content, (
            f"tests/fixtures/{name} is stale: run `python tests/fixtures/make_fixtures_mexc.py`"
        )


# -- round trips (hypothesis) ------------------------------------------------------

symbols = st.text(string.ascii_uppercase + string.digits, min_size=1, max_size=16)
times = st.integers(min_value=1, max_value=2**62)
versions = st.integers(min_value=0, max_value=2**63 - 1)


def _decimal_text(low: str, high: str, places: int) -> st.SearchStrategy[str]:
    """Positional decimal strings (what MEXC sends), e.g. ``"50000.12"``, ``"0.00000001"``."""
    return st.decimals(
        min_value=Decimal(low), max_value=Decimal(high), places=places, allow_nan=False
    ).map(lambda value: format(value, "f"))


price_texts = _decimal_text("0.00000001", "999999999999", 8)
size_texts = _decimal_text("0", "99999999999", 8)
price_floats = st.floats(
    min_value=1e-12, max_value=MAX_NUMBER, exclude_max=True, allow_subnormal=False
)
size_floats = st.floats(min_value=0.0, max_value=MAX_NUMBER, exclude_max=True)
prices = st.one_of(price_texts, price_floats)
sizes = st.one_of(size_texts, size_floats)
levels = st.lists(st.tuples(prices, sizes), max_size=25)
deals = st.lists(st.builds(Deal, prices, sizes, st.sampled_from(Side), times), max_size=10)


def _f(value: str | float) -> float:
    return float(value)


def _expected_levels(pairs: list[tuple[str | float, str | float]]) -> list[Level]:
    return [Level(_f(price), _f(size)) for price, size in pairs]


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_format_number_is_exact_and_positional(value: float) -> None:
    text = encoder.format_number(value)
    assert float(text) == value
    assert "e" not in text


@given(symbols, deals, st.booleans(), times)
def test_deals_round_trip(symbol: str, items: list[Deal], aggregated: bool, sent: int) -> None:
    frame = encoder.encode_deals(symbol, items, aggregated=aggregated, send_time_ms=sent)
    expected = [Trade(MEXC, symbol, _f(d.price), _f(d.quantity), d.side, d.time_ms) for d in items]
    assert decoder.parse_push(frame) == expected
    legacy = encoder.encode_legacy_deals(symbol, items, time_ms=sent)
    assert decoder.parse_legacy(legacy) == expected


@given(symbols, levels, levels, versions, versions, st.integers(0, 2**62))
def test_aggregated_depth_round_trip(
    symbol: str, bids: list, asks: list, first: int, last: int, sent: int
) -> None:
    frame = encoder.encode_depth(symbol, bids, asks, first, last, send_time_ms=sent)
    expected = OrderBookUpdate(
        MEXC,
        symbol,
        _expected_levels(bids),
        _expected_levels(asks),
        False,
        first,
        last,
        sent or None,
    )
    assert decoder.parse_push(frame) == expected
    assert decoder.parse_push(frame, LevelPool(capacity=8)) == expected


@given(symbols, levels, levels, versions, st.sampled_from([5, 10, 20]))
def test_snapshot_and_increase_round_trip(
    symbol: str, bids: list, asks: list, version: int, depth: int
) -> None:
    expected_bids, expected_asks = _expected_levels(bids), _expected_levels(asks)
    snapshot = decoder.parse_push(
        encoder.encode_limit_depth(symbol, bids, asks, version, depth=depth)
    )
    assert snapshot == OrderBookUpdate(
        MEXC, symbol, expected_bids, expected_asks, True, None, version
    )
    increase = decoder.parse_push(encoder.encode_increase_depth(symbol, bids, asks, version))
    assert increase == OrderBookUpdate(
        MEXC, symbol, expected_bids, expected_asks, False, version, version
    )
    legacy = encoder.encode_legacy_depth(symbol, bids, asks, version, snapshot_depth=depth)
    assert decoder.parse_legacy(legacy) == snapshot
    assert (
        decoder.parse_legacy(encoder.encode_legacy_depth(symbol, bids, asks, version)) == increase
    )


@given(symbols, prices, sizes, prices, sizes, times, st.none() | st.text(max_size=20))
def test_book_ticker_round_trip(
    symbol: str,
    bid: str | float,
    bid_size: str | float,
    ask: str | float,
    ask_size: str | float,
    sent: int,
    version: str | None,
) -> None:
    frame = encoder.encode_book_ticker(
        symbol, bid, bid_size, ask, ask_size, send_time_ms=sent, version=version
    )
    expected = BookTicker(MEXC, symbol, _f(bid), _f(bid_size), _f(ask), _f(ask_size), sent)
    assert decoder.parse_push(frame) == expected
    legacy = encoder.encode_legacy_book_ticker(symbol, bid, bid_size, ask, ask_size, time_ms=sent)
    assert decoder.parse_legacy(legacy) == expected


@given(st.text(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.integers(0, 2**31))
def test_control_round_trip(msg: str, code: int, request_id: int) -> None:
    frame = encoder.encode_error(code, msg, request_id)
    result = decoder.parse_control(frame)
    assert decoder.detect_type(frame) is result.msg_type
    if code != 0:
        assert (result.code, result.message, result.request_id) == (code, msg, request_id)
