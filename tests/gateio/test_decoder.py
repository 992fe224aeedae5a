"""ws_stack.gateio.decoder: type detection and the per-channel parsers."""

from __future__ import annotations

import msgspec
import pytest

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.gateio import decoder
from ws_stack.gateio import encoder as enc
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
)

from .cases import EXPECTED, GATEIO, bad_frames, decode, good_frames

T = WebSocketMessageType
GOOD = good_frames()
# Empty frames are the handler's to reject (test_handler covers them).
BAD = [case for case in bad_frames() if case.frame]
GOOD_BY_NAME = {case.case: case.frame for case in GOOD}


def _as(kind: type, frame: bytes | str) -> bytes | str:
    if kind is bytes:
        return frame.encode() if isinstance(frame, str) else frame
    return frame if isinstance(frame, str) else frame.decode()


# -- fixtures ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [str, bytes])
@pytest.mark.parametrize("case", GOOD, ids=[case.case for case in GOOD])
def test_every_good_fixture_decodes_to_its_expected_message(case, kind):
    assert decode(_as(kind, case.frame)) == EXPECTED[case.case]


def test_every_good_fixture_has_an_expectation():
    assert sorted(EXPECTED) == sorted(case.case for case in GOOD)


@pytest.mark.parametrize("case", BAD, ids=[case.case for case in BAD])
def test_every_bad_fixture_fails_with_its_reason(case):
    with pytest.raises(FrameError) as info:
        decode(case.frame)
    assert info.value.reason.value == case.reason
    assert info.value.venue is Venue.GATEIO
    assert info.value.frame == case.frame


# -- detect_type ---------------------------------------------------------------------------

_TYPES = {
    "trade_buy": T.TRADE,
    "book_ticker": T.BOOK_TICKER,
    "order_book_update_20": T.ORDER_BOOK,
    "order_book_update_full": T.ORDER_BOOK,
    "order_book": T.ORDER_BOOK,
    "ack_subscribe": T.SUBSCRIPTION,
    "ack_subscribe_live": T.SUBSCRIPTION,
    "ack_unsubscribe": T.SUBSCRIPTION,
    "error_ack": T.SUBSCRIPTION,
    "pong": T.PONG,
    "pong_docs": T.PONG,
    "trade_pretty": T.TRADE,
    "book_ticker_reordered": T.BOOK_TICKER,
}


@pytest.mark.parametrize("kind", [str, bytes])
@pytest.mark.parametrize(("name", "msg_type"), sorted(_TYPES.items()))
def test_detect_type(name, msg_type, kind):
    assert decoder.detect_type(_as(kind, GOOD_BY_NAME[name])) is msg_type


@pytest.mark.parametrize("kind", [str, bytes])
@pytest.mark.parametrize(
    "name",
    [
        "trade_buy",
        "trade_sell",
        "trade_docs",
        "trade_numeric_create_time_ms",
        "book_ticker",
        "book_ticker_docs",
        "order_book_update_20",
        "order_book_update_empty_asks",
        "order_book_update_full",
        "order_book_update_docs",
        "order_book",
        "order_book_docs",
        "obu_full_50",
        "obu_delta",
        "obu_delta_delete",
    ],
)
def test_compact_updates_never_need_the_envelope_decode(monkeypatch, name, kind):
    def fail(frame):
        raise AssertionError("slow path taken")

    monkeypatch.setattr(decoder, "_detect_by_decoding", fail)
    assert decoder.detect_type(_as(kind, GOOD_BY_NAME[name])) is EXPECTED[name].msg_type


@pytest.mark.parametrize(
    ("frame", "msg_type"),
    [
        # whitespace after the colon, and a channel key after the result
        ('{"channel" : "spot.trades", "event" : "update", "result" : {}}', T.TRADE),
        ('{"result":{},"event":"update","channel":"spot.order_book"}', T.ORDER_BOOK),
        # an event key between channel and result
        ('{"channel":"spot.book_ticker","id":5,"event":"update","result":{}}', T.BOOK_TICKER),
        # acks of channels this codec does not parse are still acks
        (
            '{"channel":"spot.tickers","event":"subscribe","result":{"status":"success"}}',
            T.SUBSCRIPTION,
        ),
        (
            '{"channel":"spot.trades","event":"unsubscribe","result":{"status":"success"}}',
            T.SUBSCRIPTION,
        ),
        # a venue error outside a subscribe exchange
        (
            '{"time":1,"channel":"","event":"","error":{"code":1,"message":"Invalid request"},'
            '"result":null}',
            T.SUBSCRIPTION,
        ),
        ('{"time":1,"error":{"code":1,"message":"x"}}', T.SUBSCRIPTION),
        ('{"channel":"spot.pong"}', T.PONG),
        (b'{"channel":"spot.pong","event":"","result":null}', T.PONG),
        # an escaped character inside the channel name
        ('{"channel":"spot.tr\\u0061des","event":"update","result":{}}', T.TRADE),
    ],
)
def test_detect_type_fallback(frame, msg_type):
    assert decoder.detect_type(frame) is msg_type


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"channel":"spot.tickers","event":"update","result":{}}', "unknown_channel"),
        ('{"channel":"spot.candlesticks","event":"update"}', "unknown_channel"),
        ('{"channel":"spot.trades"}', "unknown_message"),
        ('{"channel":"spot.trades","event":"all","result":{}}', "unknown_message"),
        ('{"channel":5,"event":"update"}', "unknown_message"),
        ('{"event":"update","result":{}}', "unknown_message"),
        ("[]", "unknown_message"),
        ('"spot.trades"', "unknown_message"),
        ("null", "unknown_message"),
        ('{"channel":"spot.trades"', "malformed_json"),
        ("{", "malformed_json"),
        ("not json at all", "malformed_json"),
        (b"\xff\xfe\x00", "malformed_json"),
        (b'{"channel":"spot.trades","event":"\x80update"}', "malformed_json"),
        ('{"channel":"\ud800"}', "malformed_json"),
    ],
)
def test_detect_type_errors(frame, reason):
    with pytest.raises(FrameError) as info:
        decoder.detect_type(frame)
    assert info.value.reason is FrameErrorReason(reason)
    assert info.value.venue is Venue.GATEIO


def test_detect_type_accepts_other_byte_buffers():
    frame = GOOD_BY_NAME["order_book_update_20"].encode()
    assert decoder.detect_type(bytearray(frame)) is T.ORDER_BOOK
    assert decoder.detect_type(memoryview(frame)) is T.ORDER_BOOK


def test_a_marker_only_inside_a_string_value_is_not_a_channel():
    # No top-level channel: the window after offset 10 must not be mistaken for one.
    frame = '{"a":"bcd spot.trades","event":"update","result":{}}'
    with pytest.raises(FrameError) as info:
        decoder.detect_type(frame)
    assert info.value.reason is FrameErrorReason.UNKNOWN_MESSAGE


# -- trades --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("create_time_ms", "expected"),
    [
        ('"1700000000123.4578"', 1700000000123),
        ('"1700000000123.999"', 1700000000123),
        ('"1700000000123"', 1700000000123),
        ("1700000000123", 1700000000123),
        ("1700000000123.5", 1700000000123),
    ],
)
def test_trade_time_from_create_time_ms_string_or_number(create_time_ms, expected):
    frame = (
        '{"channel":"spot.trades","event":"update","result":{"id":1,"create_time":1700000000,'
        f'"create_time_ms":{create_time_ms},"side":"buy","currency_pair":"BTC_USDT",'
        '"amount":"1","price":"2"}}'
    )
    assert decoder.parse_trade(frame).time_ms == expected


def test_trade_fields():
    trade = decoder.parse_trade(GOOD_BY_NAME["trade_buy"])
    assert type(trade) is Trade
    assert (trade.side, trade.trade_id, trade.price, trade.size) == (
        Side.BUY,
        5736713851,
        37042.6,
        0.0021,
    )


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (GOOD_BY_NAME["book_ticker"], "invalid_field"),  # channel tag mismatch
        (GOOD_BY_NAME["trade_buy"][:-3], "malformed_json"),
        ('{"channel":"spot.trades","result":{"id":"x"}}', "invalid_field"),
    ],
)
def test_parse_trade_errors(frame, reason):
    with pytest.raises(FrameError) as info:
        decoder.parse_trade(frame)
    assert info.value.reason.value == reason


def test_invalid_field_detail_names_channel_and_json_path():
    frame = enc.encode_order_book_update("BTC_USDT", [("1", "1"), ("2", "-3")], [], 1, 2, 3)
    with pytest.raises(FrameError) as info:
        decoder.parse_order_book_update(frame)
    assert info.value.reason is FrameErrorReason.INVALID_FIELD
    assert "spot.order_book_update" in info.value.detail
    assert "$.result.b[1][1]" in info.value.detail
    assert info.value.excerpt.startswith('{"time":0,"time_ms":3,"channel":"spot.order_book')
    with pytest.raises(FrameError) as info:
        decoder.parse_any_order_book(frame)
    assert "spot.order_book_update" in info.value.detail


def test_lone_surrogate_text_is_malformed():
    frame = GOOD_BY_NAME["trade_buy"].replace("BTC_USDT", "\ud800")
    with pytest.raises(FrameError) as info:
        decoder.parse_trade(frame)
    assert info.value.reason is FrameErrorReason.MALFORMED_JSON


# -- book ticker ---------------------------------------------------------------------------


def test_book_ticker_without_optional_ids():
    frame = (
        '{"channel":"spot.book_ticker","event":"update","result":'
        '{"s":"BTC_USDT","b":"1.5","B":"2","a":"1.6","A":"3"}}'
    )
    ticker = decoder.parse_book_ticker(frame)
    assert (ticker.time_ms, ticker.update_id, ticker.bid_price) == (None, None, 1.5)


# -- order books ---------------------------------------------------------------------------


def _update(result: str) -> str:
    return (
        '{"time":1,"time_ms":2,"channel":"spot.order_book_update","event":"update","result":'
        + result
        + "}"
    )


@pytest.mark.parametrize(
    "sides",
    ['"b":[],"a":[]', '"b":null,"a":null', "", '"b":[]'],
    ids=["empty", "null", "absent", "one_absent"],
)
def test_empty_sides_come_out_as_empty_lists(sides):
    comma = "," if sides else ""
    update = decoder.parse_order_book_update(
        _update('{"s":"X_Y","U":1,"u":2' + comma + sides + "}")
    )
    assert update.bids == [] and update.asks == []
    assert update.bids is not update.asks


def test_full_false_and_unknown_keys():
    update = decoder.parse_order_book_update(
        _update('{"full":false,"l":"20","zz":{"x":[1]},"s":"X_Y","U":1,"u":2,"b":[["1","2"]]}')
    )
    assert update == OrderBookUpdate(GATEIO, "X_Y", [Level(1.0, 2.0)], [], False, 1, 2, None)


def test_levels_are_messages_levels_and_independent_between_frames():
    frame = GOOD_BY_NAME["order_book_update_20"]
    first, second = decoder.parse_order_book_update(frame), decoder.parse_order_book_update(frame)
    assert type(first) is OrderBookUpdate
    assert all(type(level) is Level for level in first.bids + first.asks)
    assert first == second and first.bids[0] is not second.bids[0]


def test_any_order_book_tells_the_two_channels_apart():
    assert decoder.parse_any_order_book(GOOD_BY_NAME["order_book"]) == EXPECTED["order_book"]
    assert (
        decoder.parse_any_order_book(GOOD_BY_NAME["order_book_update_20"])
        == EXPECTED["order_book_update_20"]
    )
    with pytest.raises(FrameError) as info:
        decoder.parse_any_order_book(GOOD_BY_NAME["trade_buy"])
    assert info.value.reason is FrameErrorReason.INVALID_FIELD


def test_dedicated_order_book_parsers_reject_the_other_channel():
    with pytest.raises(FrameError):
        decoder.parse_order_book(GOOD_BY_NAME["order_book_update_20"])
    with pytest.raises(FrameError):
        decoder.parse_order_book_update(GOOD_BY_NAME["order_book"])


# -- parse_update: the four update channels in one decode ------------------------------


@pytest.mark.parametrize("kind", [str, bytes])
@pytest.mark.parametrize("case", GOOD, ids=[case.case for case in GOOD])
def test_parse_update_gives_an_update_push_or_none(case, kind):
    """A good update push comes out as its parser makes it; anything else is None."""
    message = decoder.parse_update(_as(kind, case.frame))
    expected = EXPECTED[case.case]
    if isinstance(expected, Trade | BookTicker | OrderBookUpdate):
        assert message == expected
    else:
        assert message is None


@pytest.mark.parametrize("case", BAD, ids=[case.case for case in BAD])
def test_parse_update_gives_none_for_every_bad_frame(case):
    assert decoder.parse_update(case.frame) is None


@pytest.mark.parametrize("event", ["subscribe", "unsubscribe", "all", None])
def test_parse_update_takes_only_the_update_event(event):
    push = msgspec.json.decode(GOOD_BY_NAME["trade_buy"])
    if event is None:
        del push["event"]
    else:
        push["event"] = event
    assert decoder.parse_update(msgspec.json.encode(push)) is None


# -- control -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        (
            '{"channel":"spot.trades","event":"subscribe","result":{"status":"fail"},"id":4}',
            VenueError(
                GATEIO,
                decoder.UNKNOWN_ERROR_CODE,
                "subscribe refused without an error object",
                "spot.trades",
                4,
            ),
        ),
        (
            '{"time":1,"error":{"code":1,"message":"Invalid request body format"},"result":null}',
            VenueError(GATEIO, 1, "Invalid request body format"),
        ),
        (
            '{"channel":"spot.trades","event":"subscribe","error":{"code":"4",'
            '"message":"Authentication fail"},"result":null}',
            VenueError(GATEIO, 4, "Authentication fail", "spot.trades"),
        ),
        (
            '{"channel":"spot.trades","event":"unsubscribe","error":null,"result":null}',
            SubscriptionAck(GATEIO, "spot.trades", True),
        ),
        ('{"channel":"spot.pong","event":"","id":3,"time":5}', Pong(GATEIO, 5000)),
        ('{"channel":"spot.pong"}', Pong(GATEIO)),
    ],
)
def test_parse_control(frame, expected):
    assert decoder.parse_control(frame) == expected


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ('{"event":"subscribe","result":{"status":"success"}}', "invalid_field"),
        ('{"channel":"spot.trades","event":"update"}', "unknown_message"),
        ('{"channel":"spot.trades","event":"subscribe","error":{"message":"x"}}', "invalid_field"),
        ('{"channel":"spot.trades","event":"subscribe","result":[1]}', "invalid_field"),
        ('{"channel":"spot.trades","event":"subscribe"', "malformed_json"),
    ],
)
def test_parse_control_errors(frame, reason):
    with pytest.raises(FrameError) as info:
        decoder.parse_control(frame)
    assert info.value.reason.value == reason


def test_validation_error_is_a_decode_error():
    # The parsers rely on catching DecodeError for both failure kinds.
    assert issubclass(msgspec.ValidationError, msgspec.DecodeError)


@pytest.mark.parametrize(
    "frame",
    [
        '{"x":' + "[" * 100_000,
        '{"channel":"x","error":' + "[" * 100_000 + "}",
        '{"channel":"spot.trades","event":"update","result":{"x":' + '{"a":' * 100_000 + "}",
        '{"channel":"spot.pong","x":' + "[" * 100_000 + "}",
    ],
)
def test_nesting_deeper_than_msgspec_recurses_is_malformed_json(frame):
    """msgspec raises RecursionError (not a DecodeError) on such frames."""
    with pytest.raises(FrameError) as info:
        decode(frame)
    assert info.value.reason is FrameErrorReason.MALFORMED_JSON


def test_obu_symbol_comes_from_the_stream_whatever_the_depth():
    for depth in (50, 400):
        frame = enc.encode_obu("ETH_USDT", depth, [], [], 5, 1_700_000_000_000, first_id=5)
        update = decoder.parse_obu(frame)
        assert update.symbol == "ETH_USDT" and not update.is_snapshot
        assert (update.first_update_id, update.last_update_id) == (5, 5)


def test_obu_with_the_time_between_event_and_result_takes_the_slow_path():
    frame = (
        '{"channel":"spot.obu","event":"update","time_ms":1000,"result":{"t":1000,'
        '"full":true,"s":"ob.BTC_USDT.50","u":7,"b":[["1","2"]],"a":[]}}'
    )
    assert decoder.detect_type(frame) is T.ORDER_BOOK
    assert decoder.parse_any_order_book(frame).last_update_id == 7
    assert decoder.parse_update(frame).is_snapshot


def test_obu_parser_rejects_another_channel():
    frame = enc.encode_order_book_update("BTC_USDT", [], [], 1, 2, 1_700_000_000_000)
    with pytest.raises(FrameError) as info:
        decoder.parse_obu(frame)
    assert info.value.reason is FrameErrorReason.INVALID_FIELD
