"""ws_stack.mexc.push: protobuf pushes, on the view's fast path and the real schema's."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import (
    BookTicker,
    Level,
    OrderBookUpdate,
    Side,
    Trade,
    check_price,
    check_size,
)
from ws_stack.mexc import encoder, push
from ws_stack.mexc.encoder import Deal
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ws_stack.pool import LevelPool

from .cases import MEXC, SYMBOL, T0, reason_of

R = FrameErrorReason


def test_unknown_fields_are_ignored() -> None:
    """Real frames carry fields MEXC's schema omits: trade-id ranges, a ticker version."""
    deals = encoder.encode_deals(SYMBOL, [Deal("1.5", "2", Side.BUY, T0, trade_id="7-9")])
    assert b"7-9" in deals
    assert push.parse_push(deals) == [Trade(MEXC, SYMBOL, 1.5, 2.0, Side.BUY, T0)]
    ticker = encoder.encode_book_ticker(SYMBOL, "1", "2", "3", "4", version="12345")
    assert ticker.endswith(b"*\x0512345")  # body field 5, wire type 2
    assert push.parse_push(ticker) == BookTicker(MEXC, SYMBOL, 1.0, 2.0, 3.0, 4.0)
    # an unknown wrapper field (and an unknown varint in a level) are skipped too
    depth = encoder.encode_depth(SYMBOL, [("1", "2")], [], 5, 6) + b"\xb8\x06\x01"
    assert push.parse_push(depth).last_update_id == 6


def test_kline_body_is_unsupported() -> None:
    frame = PushDataV3ApiWrapper(
        channel="spot@public.kline.v3.api.pb@BTCUSDT@Min1"
    ).SerializeToString()
    frame += b"\xa2\x13\x02\x08\x01"  # body 308 (kline), not in our schema
    assert reason_of(push.parse_push, frame) is R.UNKNOWN_MESSAGE


def test_push_symbol_falls_back_to_the_channel() -> None:
    wrapper = PushDataV3ApiWrapper()
    wrapper.ParseFromString(encoder.encode_deals("ETHUSDT", [Deal("1", "1", Side.SELL, 5)]))
    wrapper.ClearField("symbol")
    (trade,) = push.parse_push(wrapper.SerializeToString())
    assert trade.symbol == "ETHUSDT"
    wrapper.ClearField("channel")
    assert reason_of(push.parse_push, wrapper.SerializeToString()) is R.INVALID_FIELD


def test_push_time_is_send_time_else_create_time() -> None:
    frame = encoder.encode_book_ticker(SYMBOL, 1, 1, 2, 1, send_time_ms=7)
    assert push.parse_push(frame).time_ms == 7
    wrapper = PushDataV3ApiWrapper()
    wrapper.ParseFromString(frame)
    wrapper.ClearField("sendTime")
    wrapper.createTime = 6
    assert push.parse_push(wrapper.SerializeToString()).time_ms == 6
    wrapper.ClearField("createTime")
    assert push.parse_push(wrapper.SerializeToString()).time_ms is None


def test_depth_versions() -> None:
    aggre = push.parse_push(encoder.encode_depth(SYMBOL, [], [], "100", "105"))
    assert (aggre.is_snapshot, aggre.first_update_id, aggre.last_update_id) == (False, 100, 105)
    increase = push.parse_push(encoder.encode_increase_depth(SYMBOL, [], [], 9))
    assert (increase.is_snapshot, increase.first_update_id, increase.last_update_id) == (
        False,
        9,
        9,
    )
    limit = push.parse_push(encoder.encode_limit_depth(SYMBOL, [], [], 2**62))
    assert (limit.is_snapshot, limit.first_update_id, limit.last_update_id) == (True, None, 2**62)


def test_parse_push_takes_levels_from_the_pool() -> None:
    pool = LevelPool()
    pool.give([Level(1.0, 1.0) for _ in range(3)])
    update = push.parse_push(
        encoder.encode_depth(SYMBOL, [("5", "1"), ("4", "2")], [("6", "3")], 1, 1), pool
    )
    assert update.bids == [Level(5.0, 1.0), Level(4.0, 2.0)]
    assert update.asks == [Level(6.0, 3.0)]
    assert pool.stats().reused == 3


def test_a_bad_level_takes_nothing_from_the_pool() -> None:
    pool = LevelPool()
    frame = encoder.encode_depth(SYMBOL, [("5", "1")] * 10, [("nan", "1")], 1, 1)
    assert reason_of(push.parse_push, frame, pool) is R.INVALID_FIELD
    assert pool.stats().acquired == 0


@pytest.mark.parametrize(
    ("bids", "asks", "detail"),
    [
        ([("abc", "1")], [], "could not convert"),
        ([("1", "")], [], "could not convert"),
        ([("-1", "1")], [], "price -1.0"),
        ([("0", "1")], [], "price 0.0"),
        ([], [("1", "-0.5")], "size -0.5"),
        ([], [("NaN", "1")], "price nan"),
        ([("1", "1"), ("1", "nan")], [], "size nan"),
        ([], [("inf", "1")], "price inf"),
        ([("-inf", "1"), ("inf", "1")], [], "price -inf"),
        ([("1e15", "1")], [], "price 1000000000000000.0"),
        ([("1", "1e300")], [], "size 1e+300"),
        ([("1" * 5000, "1")], [], "price"),
    ],
)
def test_invalid_levels(bids, asks, detail) -> None:
    with pytest.raises(FrameError) as info:
        push.parse_push(encoder.encode_depth(SYMBOL, bids, asks, 1, 1))
    assert info.value.reason is R.INVALID_FIELD
    assert detail in info.value.detail
    assert len(info.value.detail) < 130


@pytest.mark.parametrize(
    "frame",
    [
        encoder.encode_book_ticker(SYMBOL, "1", "1", "0", "1"),
        encoder.encode_book_ticker(SYMBOL, "", "1", "2", "1"),
        encoder.encode_deals(SYMBOL, [Deal("1", "-1", Side.BUY, 1)]),
        encoder.encode_depth(SYMBOL, [], [], "", "1"),
        encoder.encode_increase_depth(SYMBOL, [], [], "1.5"),
        encoder.encode_limit_depth(SYMBOL, [], [], "9" * 5000),
    ],
)
def test_invalid_fields(frame: bytes) -> None:
    assert reason_of(push.parse_push, frame) is R.INVALID_FIELD


@pytest.mark.parametrize("cut", [1, 2, 10, 40, -1])
def test_truncated_push_is_malformed(cut: int) -> None:
    frame = encoder.encode_depth(SYMBOL, [("1", "1")] * 5, [("2", "1")] * 5, 1, 2)
    assert reason_of(push.parse_push, frame[:cut]) is R.MALFORMED_PROTOBUF


def test_empty_push_has_no_body() -> None:
    assert reason_of(push.parse_push, b"") is R.UNKNOWN_MESSAGE


# -- bulk number conversion: the msgspec fast path equals float() + bound checks ------


def _reference(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> OrderBookUpdate | None:
    """What a level list means by definition: float() of each string, within the bounds."""
    try:
        convert = [
            [Level(check_price(float(p)), check_size(float(s))) for p, s in side]
            for side in (bids, asks)
        ]
    except ValueError:
        return None
    return OrderBookUpdate(MEXC, SYMBOL, convert[0], convert[1], False, 1, 1)


@pytest.mark.parametrize(
    ("bids", "asks"),
    [
        ([(".5", "1")], []),  # float() reads these, JSON does not: the slow path decodes them
        ([("05", "1.")], []),
        ([(" 1 ", "\t2")], []),
        ([("1", "-0")], [("2", "0")]),
        ([("1,2", "1")], [("3", "1")]),  # smuggled separators must not shift values
        ([("1", "1,2")], [("3", "1")]),
        ([("1]", "1")], [("[3", "1")]),
        ([("1],[2", "1")], []),
        ([("", "1")], [("2", "")]),
        ([('1"', "1")], []),
    ],
)
def test_bulk_conversion_matches_float(bids, asks) -> None:
    frame = encoder.encode_depth(SYMBOL, bids, asks, 1, 1)
    expected = _reference(bids, asks)
    if expected is None:
        assert reason_of(push.parse_push, frame) is R.INVALID_FIELD
    else:
        assert push.parse_push(frame) == expected


number_like = st.text(alphabet='0123456789.,-+e[] "\\nainf_', max_size=8)
level_texts = st.lists(st.tuples(number_like | st.text(max_size=4), number_like), max_size=4)


@given(level_texts, level_texts)
def test_bulk_conversion_matches_float_for_any_text(bids, asks) -> None:
    frame = encoder.encode_depth(SYMBOL, bids, asks, 1, 1)
    expected = _reference(bids, asks)
    if expected is None:
        assert reason_of(push.parse_push, frame) is R.INVALID_FIELD
    else:
        assert push.parse_push(frame) == expected


# -- depth frames on the view's fast path and off it --------------------------------


@pytest.mark.parametrize(
    ("price", "quantity"),
    [
        ("50000.5", "1.25"),
        ("0.00001234", "123.456789"),  # length 10: the length byte equals the price tag
        ("1", "0"),
        ("99999999999999", "0.000000001"),
    ],
)
def test_typical_depth_frames_take_the_fast_path(monkeypatch, price: str, quantity: str) -> None:
    def no_safe_path(*args: object) -> None:
        raise AssertionError("the frame took the real schema's path")

    expected = push.parse_push(encoder.encode_depth(SYMBOL, [(price, quantity)], [], 1, 2))
    monkeypatch.setattr(push, "_parse_push_schema", no_safe_path)
    for frame in (
        encoder.encode_depth(SYMBOL, [(price, quantity)] * 3, [(price, quantity)], 1, 2),
        encoder.encode_increase_depth(SYMBOL, [(price, quantity)], [], 5),
        encoder.encode_limit_depth(SYMBOL, [], [(price, quantity)] * 2, 7),
    ):
        update = push.parse_push(frame)
        assert isinstance(update, OrderBookUpdate)
        assert (update.bids + update.asks)[0] == expected.bids[0]


@pytest.mark.parametrize(
    ("bids", "asks"),
    [
        ([("1.00000000000000001", "1")], []),  # a length byte of 18
        ([("1", "0.000000000000001")], [("2", "1")]),
        ([("1", "1")], [("1e2", "1E-2")]),
        ([("5", "1")], [("nan", "1")]),
        ([("00.5", "1")], []),
    ],
)
def test_frames_the_fast_path_refuses_decode_as_the_real_schema_does(bids, asks) -> None:
    for frame in (
        encoder.encode_depth(SYMBOL, bids, asks, 1, 2),
        encoder.encode_limit_depth(SYMBOL, bids, asks, 3),
    ):
        try:
            expected = push._parse_push_schema(frame, None)
        except FrameError as error:
            assert reason_of(push.parse_push, frame) is error.reason
        else:
            assert push.parse_push(frame) == expected


def test_a_level_with_an_unknown_field_is_decoded_by_the_real_schema() -> None:
    wrapper = PushDataV3ApiWrapper.FromString(encoder.encode_depth(SYMBOL, [("5", "1")], [], 1, 1))
    wrapper.publicAggreDepths.bids[0].MergeFromString(b"\x30\x31")  # field 6 = 49
    frame = wrapper.SerializeToString()
    assert push.parse_push(frame) == push._parse_push_schema(frame, None)
    assert push.parse_push(frame).bids == [Level(5.0, 1.0)]
