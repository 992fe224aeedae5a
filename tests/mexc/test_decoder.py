"""ws_stack.mexc.decoder: type detection and the three parsers, on real-format frames."""

from __future__ import annotations

import msgspec
import pytest
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import (
    BookTicker,
    Level,
    OrderBookUpdate,
    Pong,
    Side,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
    WebSocketMessageType,
    check_price,
    check_size,
)
from ws_stack.mexc import decoder, detect, encoder, legacy, push
from ws_stack.mexc.encoder import Deal
from ws_stack.mexc.proto.PublicAggreDepthsV3Api_pb2 import PublicAggreDepthV3ApiItem
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ws_stack.mexc.raw_levels import levels_from_raw
from ws_stack.pool import LevelPool

from .cases import EXPECTED, MEXC, SYMBOL, T0, bad_frames, decode, good_frames

T = WebSocketMessageType
R = FrameErrorReason
GOOD = good_frames()
BAD = bad_frames()


def _reason(call, *args) -> FrameErrorReason:
    with pytest.raises(FrameError) as info:
        call(*args)
    assert info.value.venue is Venue.MEXC
    return info.value.reason


# -- fixtures ----------------------------------------------------------------------


def test_every_good_case_has_an_expectation() -> None:
    assert sorted(case.case for case in GOOD) == sorted(EXPECTED)


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.case)
def test_fixture_frame_decodes_to_expected_values(fixture) -> None:
    assert decode(fixture.frame) == EXPECTED[fixture.case]


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.case)
def test_fixture_frame_type_matches_its_messages(fixture) -> None:
    assert decoder.detect_type(fixture.frame) is EXPECTED[fixture.case][0].msg_type


@pytest.mark.parametrize("fixture", GOOD, ids=lambda f: f.case)
def test_fixture_frame_decodes_the_same_with_a_pool(fixture) -> None:
    assert decode(fixture.frame, LevelPool()) == EXPECTED[fixture.case]


@pytest.mark.parametrize("fixture", BAD, ids=lambda f: f.case)
def test_bad_fixture_frame_raises_its_reason(fixture) -> None:
    assert fixture.reason is not None
    assert _reason(decode, fixture.frame).value == fixture.reason


def test_protobuf_frames_are_binary_and_start_with_the_channel() -> None:
    for fixture in GOOD:
        if fixture.case.startswith(("legacy", "ack", "pong", "error", "refused")):
            assert isinstance(fixture.frame, str)
        else:
            assert isinstance(fixture.frame, bytes)


# -- detect_type -------------------------------------------------------------------


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
    assert decoder.detect_type(PushDataV3ApiWrapper(channel=name).SerializeToString()) is expected
    legacy = encoder.channel(kind, SYMBOL, protobuf=False)
    assert decoder.detect_type(f'{{"c":"{legacy}","d":{{}}}}') is expected
    assert decoder.detect_type(f'{{"c":"{legacy}","d":{{}}}}'.encode()) is expected


def test_detect_type_reads_the_channel_without_decoding(monkeypatch) -> None:
    def no_decoding(frame):
        raise AssertionError("detect_type decoded a frame it could classify from its head")

    monkeypatch.setattr(detect, "_parse_wrapper", no_decoding)
    monkeypatch.setattr(detect, "_decode_probe", no_decoding)
    frame = encoder.encode_depth(SYMBOL, [("1", "1")] * 20, [("2", "1")] * 20, 1, 2)
    assert decoder.detect_type(frame) is T.ORDER_BOOK
    assert (
        decoder.detect_type(encoder.encode_legacy_book_ticker(SYMBOL, 1, 1, 2, 1)) is T.BOOK_TICKER
    )


def test_detect_type_handles_a_two_byte_channel_length() -> None:
    name = encoder.channel("aggre.deals", "X" * 150)
    frame = PushDataV3ApiWrapper(channel=name).SerializeToString()
    assert frame[1] & 0x80  # the length varint takes two bytes
    assert decoder.detect_type(frame) is T.TRADE


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
    assert decoder.detect_type(frame) is expected


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
    assert _reason(decoder.detect_type, frame) is reason


def _outcome(detect, frame):
    try:
        return detect(frame)
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
    read = _outcome(decoder.detect_type, other)
    detect._KNOWN_LEGACY_HEADS.clear()
    _outcome(decoder.detect_type, frame)  # remembers the head if it names a known kind
    assert _outcome(decoder.detect_type, other) == read


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
    read = _outcome(decoder.detect_type, frame)
    _outcome(decoder.detect_type, whole)  # remembers the channel if it is a known kind
    assert _outcome(decoder.detect_type, frame) == read


def test_detect_type_remembers_a_bounded_number_of_channels(monkeypatch) -> None:
    monkeypatch.setattr(detect, "_KNOWN_HEADS", {})
    monkeypatch.setattr(detect, "_KNOWN_LEGACY_HEADS", {})
    monkeypatch.setattr(detect, "_KNOWN_HEADS_LIMIT", 2)
    symbols = ("A", "B", "C")
    frames = [encoder.encode_book_ticker(symbol, 1, 1, 2, 1) for symbol in symbols]
    assert [decoder.detect_type(frame) for frame in frames * 2] == [T.BOOK_TICKER] * 6
    assert sorted(detect._KNOWN_HEADS) == sorted(frame[: 2 + frame[1]] for frame in frames[:2])
    texts = [encoder.encode_legacy_book_ticker(symbol, 1, 1, 2, 1) for symbol in symbols]
    assert [decoder.detect_type(text) for text in texts * 2] == [T.BOOK_TICKER] * 6
    assert len(detect._KNOWN_LEGACY_HEADS) == 2


def test_detect_type_falls_back_when_the_body_comes_first() -> None:
    wrapper = PushDataV3ApiWrapper()
    wrapper.publicAggreDepths.toVersion = "2"
    assert decoder.detect_type(wrapper.SerializeToString()) is T.ORDER_BOOK  # no channel at all


def test_is_json_frame() -> None:
    assert decoder.is_json_frame("x")
    assert decoder.is_json_frame(b'{"a":1}')
    assert decoder.is_json_frame(b'\r\n {"a":1}')
    assert not decoder.is_json_frame(encoder.encode_pong().encode()[1:])
    assert not decoder.is_json_frame(encoder.encode_book_ticker(SYMBOL, 1, 1, 2, 1))
    # a push whose channel is exactly 123 bytes: its length byte is "{" after a "\n"
    long_channel = encoder.channel(
        "aggre.deals", "Y" * (123 - len(encoder.channel("aggre.deals", "")))
    )
    frame = PushDataV3ApiWrapper(channel=long_channel).SerializeToString()
    assert frame[:2] == b"\n{"
    assert not decoder.is_json_frame(frame)
    assert decoder.detect_type(frame) is T.TRADE


# -- parse_push --------------------------------------------------------------------


def test_unknown_fields_are_ignored() -> None:
    """Real frames carry fields MEXC's schema omits: trade-id ranges, a ticker version."""
    deals = encoder.encode_deals(SYMBOL, [Deal("1.5", "2", Side.BUY, T0, trade_id="7-9")])
    assert b"7-9" in deals
    assert decoder.parse_push(deals) == [Trade(MEXC, SYMBOL, 1.5, 2.0, Side.BUY, T0)]
    ticker = encoder.encode_book_ticker(SYMBOL, "1", "2", "3", "4", version="12345")
    assert ticker.endswith(b"*\x0512345")  # body field 5, wire type 2
    assert decoder.parse_push(ticker) == BookTicker(MEXC, SYMBOL, 1.0, 2.0, 3.0, 4.0)
    # an unknown wrapper field (and an unknown varint in a level) are skipped too
    depth = encoder.encode_depth(SYMBOL, [("1", "2")], [], 5, 6) + b"\xb8\x06\x01"
    assert decoder.parse_push(depth).last_update_id == 6


def test_kline_body_is_unsupported() -> None:
    frame = PushDataV3ApiWrapper(
        channel="spot@public.kline.v3.api.pb@BTCUSDT@Min1"
    ).SerializeToString()
    frame += b"\xa2\x13\x02\x08\x01"  # body 308 (kline), not in our schema
    assert _reason(decoder.parse_push, frame) is R.UNKNOWN_MESSAGE


def test_push_symbol_falls_back_to_the_channel() -> None:
    wrapper = PushDataV3ApiWrapper()
    wrapper.ParseFromString(encoder.encode_deals("ETHUSDT", [Deal("1", "1", Side.SELL, 5)]))
    wrapper.ClearField("symbol")
    (trade,) = decoder.parse_push(wrapper.SerializeToString())
    assert trade.symbol == "ETHUSDT"
    wrapper.ClearField("channel")
    assert _reason(decoder.parse_push, wrapper.SerializeToString()) is R.INVALID_FIELD


def test_push_time_is_send_time_else_create_time() -> None:
    frame = encoder.encode_book_ticker(SYMBOL, 1, 1, 2, 1, send_time_ms=7)
    assert decoder.parse_push(frame).time_ms == 7
    wrapper = PushDataV3ApiWrapper()
    wrapper.ParseFromString(frame)
    wrapper.ClearField("sendTime")
    wrapper.createTime = 6
    assert decoder.parse_push(wrapper.SerializeToString()).time_ms == 6
    wrapper.ClearField("createTime")
    assert decoder.parse_push(wrapper.SerializeToString()).time_ms is None


def test_depth_versions() -> None:
    aggre = decoder.parse_push(encoder.encode_depth(SYMBOL, [], [], "100", "105"))
    assert (aggre.is_snapshot, aggre.first_update_id, aggre.last_update_id) == (False, 100, 105)
    increase = decoder.parse_push(encoder.encode_increase_depth(SYMBOL, [], [], 9))
    assert (increase.is_snapshot, increase.first_update_id, increase.last_update_id) == (
        False,
        9,
        9,
    )
    limit = decoder.parse_push(encoder.encode_limit_depth(SYMBOL, [], [], 2**62))
    assert (limit.is_snapshot, limit.first_update_id, limit.last_update_id) == (True, None, 2**62)


def test_parse_push_takes_levels_from_the_pool() -> None:
    pool = LevelPool()
    pool.give([Level(1.0, 1.0) for _ in range(3)])
    update = decoder.parse_push(
        encoder.encode_depth(SYMBOL, [("5", "1"), ("4", "2")], [("6", "3")], 1, 1), pool
    )
    assert update.bids == [Level(5.0, 1.0), Level(4.0, 2.0)]
    assert update.asks == [Level(6.0, 3.0)]
    assert pool.stats().reused == 3


def test_a_bad_level_takes_nothing_from_the_pool() -> None:
    pool = LevelPool()
    frame = encoder.encode_depth(SYMBOL, [("5", "1")] * 10, [("nan", "1")], 1, 1)
    assert _reason(decoder.parse_push, frame, pool) is R.INVALID_FIELD
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
        decoder.parse_push(encoder.encode_depth(SYMBOL, bids, asks, 1, 1))
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
    assert _reason(decoder.parse_push, frame) is R.INVALID_FIELD


@pytest.mark.parametrize("cut", [1, 2, 10, 40, -1])
def test_truncated_push_is_malformed(cut: int) -> None:
    frame = encoder.encode_depth(SYMBOL, [("1", "1")] * 5, [("2", "1")] * 5, 1, 2)
    assert _reason(decoder.parse_push, frame[:cut]) is R.MALFORMED_PROTOBUF


def test_empty_push_has_no_body() -> None:
    assert _reason(decoder.parse_push, b"") is R.UNKNOWN_MESSAGE


# -- parse_control -----------------------------------------------------------------


def test_parse_control() -> None:
    ack = decoder.parse_control(encoder.encode_ack("spot@public.deals.v3.api.pb@BTCUSDT", 3))
    assert ack == SubscriptionAck(MEXC, "spot@public.deals.v3.api.pb@BTCUSDT", request_id=3)
    assert decoder.parse_control(b'{"id":0,"code":0,"msg":"PONG"}') == Pong(MEXC)
    assert decoder.parse_control(encoder.encode_error(1002, "too many", 4)) == VenueError(
        MEXC, 1002, "too many", request_id=4
    )


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"id":0,"code":', R.MALFORMED_JSON),
        ('{"id":"x","code":0,"msg":"PONG"}', R.INVALID_FIELD),
        ('{"id":0,"msg":"PONG"}', R.UNKNOWN_MESSAGE),
        ("[]", R.INVALID_FIELD),
    ],
)
def test_parse_control_errors(frame: str, reason: FrameErrorReason) -> None:
    assert _reason(decoder.parse_control, frame) is reason


# -- parse_legacy ------------------------------------------------------------------


def test_parse_legacy_decodes_bytes_and_str_alike() -> None:
    frame = encoder.encode_legacy_depth(SYMBOL, [("1", "2")], [("3", "4")], 10, time_ms=T0)
    assert decoder.parse_legacy(frame) == decoder.parse_legacy(frame.encode())


def test_parse_legacy_symbol_falls_back_to_the_channel() -> None:
    frame = '{"c":"spot@public.limit.depth.v3.api@ETHUSDT@10","d":{"asks":[],"bids":[],"r":"3"}}'
    update = decoder.parse_legacy(frame)
    assert (update.symbol, update.is_snapshot, update.last_update_id, update.time_ms) == (
        "ETHUSDT",
        True,
        3,
        None,
    )


def test_parse_legacy_ignores_unknown_keys() -> None:
    frame = (
        '{"c":"spot@public.bookTicker.v3.api@BTCUSDT","x":[1,{"y":2}],'
        '"d":{"a":"2","A":"1","b":"1","B":"1","z":null},"s":"BTCUSDT","t":5}'
    )
    assert decoder.parse_legacy(frame) == BookTicker(MEXC, SYMBOL, 1.0, 1.0, 2.0, 1.0, 5)


def test_parse_legacy_uses_the_pool() -> None:
    pool = LevelPool()
    pool.give([Level(9.0, 9.0)])
    frame = encoder.encode_legacy_depth(SYMBOL, [("1", "2")], [], 10)
    update = decoder.parse_legacy(frame, pool)
    assert update.bids == [Level(1.0, 2.0)]
    assert pool.stats().reused == 1


@pytest.mark.parametrize(
    ("frame", "reason", "detail"),
    [
        (
            '{"c":"spot@public.deals.v3.api@X","d":{"deals":[{"S":3,"p":"1","t":1,"v":"1"}]}}',
            R.INVALID_FIELD,
            "$.d.deals[0].S",
        ),
        (
            '{"c":"spot@public.deals.v3.api@X","d":{"deals":[{"S":1,"p":"1e999","t":1,"v":"1"}]}}',
            R.INVALID_FIELD,
            "$.d.deals[0].p",
        ),
        (
            '{"c":"spot@public.increase.depth.v3.api@X","d":{"bids":[],"asks":[],"r":"v1"}}',
            R.INVALID_FIELD,
            "$.d.r",
        ),
        (
            '{"c":"spot@public.increase.depth.v3.api@X","d":{"bids":[{"p":"1"}],"r":"1"}}',
            R.INVALID_FIELD,
            "`v`",
        ),
        (
            '{"c":"spot@public.bookTicker.v3.api@X","d":{"a":"1","A":"1","b":"1"}}',
            R.INVALID_FIELD,
            "`B`",
        ),
        (
            '{"c":"spot@public.bookTicker.v3.api@","d":{"a":"1","A":"1","b":"1","B":"1"}}',
            R.INVALID_FIELD,
            "symbol",
        ),
        (
            '{"c":"spot@public.deals.v3.api@X","d":{"deals":[{"S":1,"p":"1","t":1,"v":"1"}]',
            R.MALFORMED_JSON,
            "truncated",
        ),
        ('{"c":"spot@public.kline.v3.api@X@Min1","d":{}}', R.UNKNOWN_CHANNEL, "kline"),
        ('{"d":{}}', R.UNKNOWN_CHANNEL, "public"),
    ],
)
def test_parse_legacy_errors(frame: str, reason: FrameErrorReason, detail: str) -> None:
    with pytest.raises(FrameError) as info:
        decoder.parse_legacy(frame)
    assert info.value.reason is reason
    assert detail in info.value.detail


def test_legacy_decoders_build_no_dicts() -> None:
    """The per-kind decoders target Structs all the way down (no ``dict``/``Any`` fields)."""
    for struct in (legacy._JsonDealsPush, legacy._JsonDepthPush, legacy._JsonTickerPush):
        info = msgspec.inspect.type_info(struct)
        stack = [info]
        while stack:
            node = stack.pop()
            assert not isinstance(node, msgspec.inspect.DictType | msgspec.inspect.AnyType)
            if isinstance(node, msgspec.inspect.StructType):
                stack.extend(field.type for field in node.fields)
            elif isinstance(node, msgspec.inspect.ListType):
                stack.append(node.item_type)
            elif isinstance(node, msgspec.inspect.UnionType):
                stack.extend(node.types)


def test_order_book_update_levels_are_levels() -> None:
    (update,) = decode(encoder.encode_legacy_depth(SYMBOL, [("1", "2")], [], 1))
    assert isinstance(update, OrderBookUpdate)
    assert all(type(level) is Level for level in update.bids)


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
        assert _reason(decoder.parse_push, frame) is R.INVALID_FIELD
    else:
        assert decoder.parse_push(frame) == expected


number_like = st.text(alphabet='0123456789.,-+e[] "\\nainf_', max_size=8)
level_texts = st.lists(st.tuples(number_like | st.text(max_size=4), number_like), max_size=4)


@given(level_texts, level_texts)
def test_bulk_conversion_matches_float_for_any_text(bids, asks) -> None:
    frame = encoder.encode_depth(SYMBOL, bids, asks, 1, 1)
    expected = _reference(bids, asks)
    if expected is None:
        assert _reason(decoder.parse_push, frame) is R.INVALID_FIELD
    else:
        assert decoder.parse_push(frame) == expected


@pytest.mark.parametrize(
    "frame",
    [
        '{"x":' + "[" * 100_000,
        '{"c":"spot@public.deals.v3.api@BTCUSDT","d":{"deals":[],"x":' + "[" * 100_000,
        '{"x":' + '{"a":' * 100_000 + ',"code":0}',
        '{"id":0,"code":0,"msg":"PONG","x":' + "[" * 100_000 + "}",
    ],
)
def test_nesting_deeper_than_msgspec_recurses_is_malformed_json(frame) -> None:
    """msgspec raises RecursionError (not a DecodeError) on such frames."""
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert info.value.reason is FrameErrorReason.MALFORMED_JSON


# -- the raw-level fast path (PushDataV3ApiView + raw_levels.levels_from_raw) ------

_NUMBER_BYTES = b"0123456789.eE+-"


def _raw_level(price: bytes, quantity: bytes) -> bytes:
    """The canonical encoding of a level (lengths below 128)."""
    return b"\n" + bytes([len(price)]) + price + b"\x12" + bytes([len(quantity)]) + quantity


def _reference_levels(items: list[bytes]) -> list[Level] | None:
    """What raw levels mean by definition: the real schema, float() and the bounds."""
    levels = []
    for item in items:
        try:
            parsed = PublicAggreDepthV3ApiItem.FromString(item)
            price, quantity = float(parsed.price), float(parsed.quantity)
            levels.append(Level(check_price(price), check_size(quantity)))
        except (DecodeError, ValueError):
            return None
    return levels


number_text = st.binary(min_size=1, max_size=24).map(
    lambda raw: bytes(_NUMBER_BYTES[b % len(_NUMBER_BYTES)] for b in raw)
)
canonical_level = st.builds(_raw_level, number_text, number_text)
long_number_text = st.integers(1, 60).map(lambda size: b"0." + b"0" * size + b"1")


@st.composite
def _mutated_level(draw: st.DrawFn) -> bytes:
    """A canonical level with one byte changed, inserted or removed, or two run together."""
    item = bytearray(draw(canonical_level))
    action = draw(st.sampled_from(["change", "insert", "delete", "append", "swap"]))
    at = draw(st.integers(0, len(item) - 1))
    byte = draw(st.sampled_from([0x0A, 0x12, 0x2C, 0x00, 0x30, 0x35, 0x2E, 0x92, 0xD9, 0x80]))
    if action == "change":
        item[at] = byte
    elif action == "insert":
        item.insert(at, byte)
    elif action == "delete":
        del item[at]
    elif action == "append":
        item += draw(canonical_level)
    else:  # quantity first, then price: valid protobuf, not canonical
        price_end = 2 + item[1]
        item = item[price_end:] + item[:price_end]
    return bytes(item)


@st.composite
def _resliced_levels(draw: st.DrawFn) -> list[bytes]:
    """Canonical levels joined, with separator-like bytes inserted, cut at random points:
    items whose bytes shift across the boundaries the fast path relies on."""
    separator_like = st.sampled_from([b",", b"\x12", b",\n", b"\n\x01", b"\x12\x01"])
    # Long number strings too: a "," (44) or a 0x0A (10) read as a length needs that many.
    piece = canonical_level | separator_like | long_number_text
    pieces = draw(st.lists(piece, max_size=6))
    joined = b"".join(pieces)
    cuts = sorted(draw(st.lists(st.integers(0, len(joined)), max_size=4)))
    return [joined[i:j] for i, j in zip([0, *cuts], [*cuts, len(joined)], strict=True)]


raw_level = canonical_level | _mutated_level() | st.binary(max_size=12)


def _check_raw_levels(asks: list[bytes], bids: list[bytes]) -> None:
    fast = levels_from_raw(asks, bids)
    if fast is not None:
        assert _reference_levels(asks) == fast[0]
        assert _reference_levels(bids) == fast[1]


@given(st.lists(raw_level, max_size=5), st.lists(raw_level, max_size=5))
def test_raw_levels_are_canonical_or_refused(asks: list[bytes], bids: list[bytes]) -> None:
    """Whatever bytes the view hands over, the fast path returns the real schema's levels
    or nothing (and the frame then takes the real schema's path)."""
    _check_raw_levels(asks, bids)


@given(_resliced_levels(), _resliced_levels())
def test_resliced_raw_levels_are_canonical_or_refused(asks, bids) -> None:
    _check_raw_levels(asks, bids)


def test_a_separator_read_as_a_length_is_refused() -> None:
    """A level ending in a bare quantity tag could take the separator after it as its
    length (44) and run into the next level, which then starts a level of its own at a
    "," + 0x0A inside it: the counts of tags alone do not notice."""
    number_44 = b"0." + b"0" * 41 + b"1"
    items = [b"\n\x015\x12", number_44 + b",\n\x017\x12\x011"]
    assert _reference_levels(items) is None
    assert levels_from_raw(items, []) is None


#: Decimal strings as venues write them (no exponent, no leading zero, no sign).
plain_decimal = st.from_regex(r"(0|[1-9][0-9]{0,13})(\.[0-9]{1,12})?", fullmatch=True).map(
    str.encode
)
plain_level = st.builds(_raw_level, plain_decimal, plain_decimal)


@given(st.lists(plain_level, max_size=5), st.lists(plain_level, max_size=5))
def test_plain_decimal_levels_take_the_fast_path(asks: list[bytes], bids: list[bytes]) -> None:
    fast = levels_from_raw(asks, bids)
    expected = (_reference_levels(asks), _reference_levels(bids))
    if fast is not None:
        assert fast == expected
    else:  # refused only for a price of 0 (out of bounds) or a length byte of 18
        assert None in expected or any(b"\n\x12" in i or b"\x12\x12" in i for i in asks + bids)


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

    expected = decoder.parse_push(encoder.encode_depth(SYMBOL, [(price, quantity)], [], 1, 2))
    monkeypatch.setattr(push, "_parse_push_schema", no_safe_path)
    for frame in (
        encoder.encode_depth(SYMBOL, [(price, quantity)] * 3, [(price, quantity)], 1, 2),
        encoder.encode_increase_depth(SYMBOL, [(price, quantity)], [], 5),
        encoder.encode_limit_depth(SYMBOL, [], [(price, quantity)] * 2, 7),
    ):
        update = decoder.parse_push(frame)
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
            assert _reason(decoder.parse_push, frame) is error.reason
        else:
            assert decoder.parse_push(frame) == expected


def test_a_level_with_an_unknown_field_is_decoded_by_the_real_schema() -> None:
    wrapper = PushDataV3ApiWrapper.FromString(encoder.encode_depth(SYMBOL, [("5", "1")], [], 1, 1))
    wrapper.publicAggreDepths.bids[0].MergeFromString(b"\x30\x31")  # field 6 = 49
    frame = wrapper.SerializeToString()
    assert decoder.parse_push(frame) == push._parse_push_schema(frame, None)
    assert decoder.parse_push(frame).bids == [Level(5.0, 1.0)]
