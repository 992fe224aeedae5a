"""ws_stack.gateio.encoder: exact wire format, and encode -> decode round trips."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack.gateio import decoder
from ws_stack.gateio import encoder as enc
from ws_stack.messages import (
    MAX_NUMBER,
    BookTicker,
    Level,
    OrderBookUpdate,
    Pong,
    Side,
    SubscriptionAck,
    Trade,
    VenueError,
)

from .cases import GATEIO, load_generator

# -- the committed fixtures ----------------------------------------------------------------


def test_committed_fixture_files_match_the_generator():
    generator = load_generator()
    for name, content in generator.build().items():
        path = generator.HERE / name
        assert path.read_bytes() == content, (
            f"{name} is stale: run python tests/fixtures/make_fixtures_gateio.py"
        )


def test_fixture_case_names_are_unique():
    generator = load_generator()
    for cases in (generator.good_cases(), generator.bad_cases()):
        names = [case.name for case in cases]
        assert len(names) == len(set(names))


# -- exact wire format ---------------------------------------------------------------------


def test_trade_wire_format():
    assert enc.encode_trade(
        "GT_USDT", "0.4705", "16.47", Side.SELL, "1606292218213.4578", 309143071,
        id_market=2390902, push_time_ms=1606292218231,
    ) == (
        '{"time":1606292218,"time_ms":1606292218231,"channel":"spot.trades","event":"update",'
        '"result":{"id":309143071,"create_time":1606292218,"create_time_ms":"1606292218213.4578",'
        '"side":"sell","currency_pair":"GT_USDT","amount":"16.47","price":"0.4705",'
        '"range":"2390902-2390902","id_market":2390902}}'
    )  # fmt: skip


def test_book_ticker_wire_format():
    assert enc.encode_book_ticker(
        "BTC_USDT", "19177.79", "0.0003341504", "19179.38", "0.09", 48733182, 1606293275123,
        push_time_ms=1606293275723,
    ) == (
        '{"time":1606293275,"time_ms":1606293275723,"channel":"spot.book_ticker",'
        '"event":"update","result":{"t":1606293275123,"u":48733182,"s":"BTC_USDT",'
        '"b":"19177.79","B":"0.0003341504","a":"19179.38","A":"0.09"}}'
    )  # fmt: skip


def test_order_book_update_wire_format():
    frame = enc.encode_order_book_update(
        "BTC_USDT", [("19137.74", "0.0001"), ("19088.37", "0")], [("19137.75", "0.6135")],
        48776301, 48776306, 1606294781123, full=True, depth=100, push_time_ms=1606294781236,
    )  # fmt: skip
    assert frame == (
        '{"time":1606294781,"time_ms":1606294781236,"channel":"spot.order_book_update",'
        '"event":"update","result":{"t":1606294781123,"full":true,"l":"100",'
        '"e":"depthUpdate","E":1606294781,"s":"BTC_USDT","U":48776301,"u":48776306,'
        '"b":[["19137.74","0.0001"],["19088.37","0"]],"a":[["19137.75","0.6135"]]}}'
    )
    plain = enc.encode_order_book_update("BTC_USDT", [], [], 1, 2, 1000)
    assert '"full"' not in plain and '"l"' not in plain
    assert '"b":[],"a":[]' in plain


def test_order_book_wire_format():
    assert enc.encode_order_book(
        "BTC_USDT", [("19079.55", "0.0195")], [("19080.24", "0.1638")], 48791820,
        1606295412123, depth=5, push_time_ms=1606295412213,
    ) == (
        '{"time":1606295412,"time_ms":1606295412213,"channel":"spot.order_book",'
        '"event":"update","result":{"t":1606295412123,"lastUpdateId":48791820,'
        '"s":"BTC_USDT","l":"5","bids":[["19079.55","0.0195"]],"asks":[["19080.24","0.1638"]]}}'
    )  # fmt: skip


def test_control_wire_formats():
    assert enc.encode_subscribe_request(
        "spot.order_book_update", ["BTC_USDT", "100ms"], 1611541000, 123456789
    ) == (
        '{"time":1611541000,"id":123456789,"channel":"spot.order_book_update",'
        '"event":"subscribe","payload":["BTC_USDT","100ms"]}'
    )
    assert enc.encode_subscribe_request("spot.trades", ["BTC_USDT"], 5, unsubscribe=True) == (
        '{"time":5,"channel":"spot.trades","event":"unsubscribe","payload":["BTC_USDT"]}'
    )
    assert enc.encode_ack("spot.trades", "subscribe", time_ms=1611541000001) == (
        '{"time":1611541000,"time_ms":1611541000001,"channel":"spot.trades",'
        '"event":"subscribe","error":null,"result":{"status":"success"}}'
    )
    assert enc.encode_ack(
        "spot.trades", "subscribe", 7, time_ms=1000, payload=["BTC_USDT"], conn_id="c",
        trace_id="t",
    ) == (
        '{"time":1,"time_ms":1000,"id":7,"conn_id":"c","trace_id":"t","channel":"spot.trades",'
        '"event":"subscribe","payload":["BTC_USDT"],"error":null,'
        '"result":{"status":"success"},"requestId":"t"}'
    )  # fmt: skip
    assert enc.encode_error("spot.trades", "subscribe", 2, "bad pair", time_ms=2000) == (
        '{"time":2,"time_ms":2000,"channel":"spot.trades","event":"subscribe",'
        '"error":{"code":2,"message":"bad pair"},"result":{"status":"fail"}}'
    )
    assert enc.encode_ping(1545404023) == '{"time":1545404023,"channel":"spot.ping"}'
    assert enc.encode_pong(1545404023123) == (
        '{"time":1545404023,"time_ms":1545404023123,"channel":"spot.pong","event":"",'
        '"error":null,"result":null}'
    )


def test_builders_return_compact_text():
    frames = [
        enc.encode_trade("A_B", 1.5, 2, "buy", 1, 1),
        enc.encode_ack("spot.trades", "subscribe", time_ms=1),
        enc.encode_ping(1, 2),
    ]
    for frame in frames:
        assert isinstance(frame, str)
        assert frame == msgspec.json.encode(msgspec.json.decode(frame)).decode()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("19137.74", "19137.74"),
        ("abc", "abc"),
        (5, "5"),
        (0, "0"),
        (0.1, "0.1"),
        (1e-05, "0.00001"),
        (1e16, "10000000000000000"),
        (3.0, "3"),
        (-0.0, "0"),
        (float("nan"), "NaN"),
        (-2.5, "-2.5"),
        (Decimal("1E-8"), "0.00000001"),
        (Decimal("12.3400"), "12.3400"),
    ],
)
def test_format_number(value, text):
    assert enc.format_number(value) == text


def test_format_number_rejects_bool():
    with pytest.raises(TypeError):
        enc.format_number(True)


def test_levels_may_be_level_objects():
    frame = enc.encode_order_book_update("A_B", [Level(1.5, 0.0)], [Level(2.25, 3.0)], 1, 2, 3)
    assert '"b":[["1.5","0"]],"a":[["2.25","3"]]' in frame


# -- round trips ---------------------------------------------------------------------------

symbols = st.text(max_size=20)
ids = st.integers(min_value=0, max_value=2**63 - 1)
times = st.integers(min_value=0, max_value=2**42)  # ms, past the year 2100
decimal_prices = st.decimals(
    min_value=Decimal("0.00000001"), max_value=Decimal("99999999999"), places=8
)
decimal_sizes = st.decimals(min_value=Decimal(0), max_value=Decimal("99999999999"), places=8)
float_prices = st.floats(min_value=0.0, max_value=MAX_NUMBER, exclude_min=True, exclude_max=True)
float_sizes = st.floats(min_value=0.0, max_value=MAX_NUMBER, exclude_max=True)
prices = decimal_prices | float_prices
sizes = decimal_sizes | float_sizes
levels = st.lists(st.tuples(prices, sizes), max_size=25)


@given(symbols, prices, sizes, st.sampled_from(Side), times, ids, st.booleans())
def test_trade_round_trip(symbol, price, size, side, time_ms, trade_id, as_string):
    frame = enc.encode_trade(
        symbol, price, size, side if as_string else side.value, str(time_ms), trade_id
    )
    assert decoder.detect_type(frame).value == "trade"
    assert decoder.parse_trade(frame) == Trade(
        GATEIO, symbol, float(price), float(size), side, time_ms, trade_id
    )


@given(times, st.integers(min_value=0, max_value=999))
def test_trade_time_truncates_sub_ms_digits(time_ms, micros):
    frame = enc.encode_trade("A_B", 1, 1, Side.BUY, f"{time_ms}.{micros:03d}", 1)
    assert decoder.parse_trade(frame).time_ms == time_ms


@given(times, st.integers(min_value=0, max_value=9999))
def test_trade_time_with_gates_four_sub_ms_digits_is_within_a_rounding(time_ms, fraction):
    # A double holds 1.7e12 ms to ~2.4e-4 ms, so ".9999" may round up to the next ms.
    frame = enc.encode_trade("A_B", 1, 1, Side.BUY, f"{time_ms}.{fraction:04d}", 1)
    assert decoder.parse_trade(frame).time_ms in (time_ms, time_ms + 1)


@given(symbols, prices, sizes, prices, sizes, ids, times)
def test_book_ticker_round_trip(symbol, bid, bid_size, ask, ask_size, update_id, time_ms):
    frame = enc.encode_book_ticker(symbol, bid, bid_size, ask, ask_size, update_id, time_ms)
    assert decoder.parse_book_ticker(frame) == BookTicker(
        GATEIO,
        symbol,
        float(bid),
        float(bid_size),
        float(ask),
        float(ask_size),
        time_ms,
        update_id,
    )


def _expected_levels(pairs: list[tuple[Decimal | float, Decimal | float]]) -> list[Level]:
    return [Level(float(price), float(size)) for price, size in pairs]


@settings(max_examples=200)
@given(symbols, levels, levels, ids, ids, times, st.booleans(), st.sampled_from([None, 20, "100"]))
def test_order_book_update_round_trip(symbol, bids, asks, first, last, time_ms, full, depth):
    frame = enc.encode_order_book_update(
        symbol, bids, asks, first, last, time_ms, full, depth=depth
    )
    expected = OrderBookUpdate(
        GATEIO, symbol, _expected_levels(bids), _expected_levels(asks), full, first, last, time_ms
    )
    assert decoder.detect_type(frame).value == "order_book"
    assert decoder.parse_order_book_update(frame) == expected
    assert decoder.parse_any_order_book(frame) == expected


@given(symbols, levels, levels, ids, times)
def test_order_book_round_trip(symbol, bids, asks, last, time_ms):
    frame = enc.encode_order_book(symbol, bids, asks, last, time_ms, depth=len(bids))
    expected = OrderBookUpdate(
        GATEIO, symbol, _expected_levels(bids), _expected_levels(asks), True, None, last, time_ms
    )
    assert decoder.parse_order_book(frame) == expected
    assert decoder.parse_any_order_book(frame) == expected


channels = st.sampled_from(
    ["spot.trades", "spot.book_ticker", "spot.order_book_update", "spot.order_book"]
) | st.text(min_size=1, max_size=30)


@given(channels, st.booleans(), st.none() | ids, times)
def test_ack_round_trip(channel, unsubscribe, request_id, time_ms):
    event = "unsubscribe" if unsubscribe else "subscribe"
    frame = enc.encode_ack(
        channel, event, request_id, time_ms=time_ms, conn_id="c", trace_id="t", payload=["A_B"]
    )
    assert decoder.detect_type(frame).value == "subscription"
    assert decoder.parse_control(frame) == SubscriptionAck(GATEIO, channel, unsubscribe, request_id)


@given(channels, st.integers(min_value=-(2**31), max_value=2**31), st.text(), times)
def test_error_round_trip(channel, code, message, time_ms):
    frame = enc.encode_error(channel, "subscribe", code, message, 3, time_ms=time_ms)
    assert decoder.parse_control(frame) == VenueError(GATEIO, code, message, channel, 3)


@given(times)
def test_pong_round_trip(time_ms):
    frame = enc.encode_pong(time_ms)
    assert decoder.detect_type(frame).value == "pong"
    assert decoder.parse_control(frame) == Pong(GATEIO, time_ms)


@given(float_prices)
def test_float_formatting_round_trips(value):
    text = enc.format_number(value)
    assert "e" not in text.lower()
    assert float(text) == value
