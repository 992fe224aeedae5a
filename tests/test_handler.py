"""The template method of MessageHandler, exercised through the real MEXC handler."""

import logging

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import OrderBookUpdate, WebSocketMessageType
from ws_stack.mexc import encoder
from ws_stack.mexc.handler import MexcHandler
from ws_stack.pool import LevelPool

T = WebSocketMessageType
DEPTH = encoder.encode_depth(
    "BTCUSDT", [("100.5", "1"), ("100.4", "2")], [("100.6", "3")], 11, 12, send_time_ms=5
)
PONG = encoder.encode_pong()


def test_callbacks_get_messages_by_type():
    handler = MexcHandler()
    books, pongs = [], []
    handler.on(T.ORDER_BOOK, lambda update: books.append(update.copy()))
    handler.on(T.PONG, pongs.append)
    assert handler.handle(DEPTH) == 1
    assert handler.handle(PONG) == 1
    assert [(lv.price, lv.size) for lv in books[0].bids] == [(100.5, 1.0), (100.4, 2.0)]
    assert len(pongs) == 1
    stats = handler.stats()
    assert stats.frames == 2
    assert stats.messages == {"order_book": 1, "pong": 1}
    assert stats.errors == {}


def test_a_raising_callback_is_counted_and_others_still_run(caplog):
    handler = MexcHandler()
    seen, errors = [], []

    def broken(update: OrderBookUpdate) -> None:
        raise RuntimeError("strategy bug")

    handler.on(T.ORDER_BOOK, broken)
    handler.on(T.ORDER_BOOK, lambda update: seen.append(update.last_update_id))
    handler.on_error(errors.append)
    with caplog.at_level(logging.WARNING, logger="ws_stack.handler"):
        assert handler.handle(DEPTH) == 1
        assert handler.handle(DEPTH) == 1
    assert seen == [12, 12]
    assert [e.reason for e in errors] == [FrameErrorReason.CALLBACK_ERROR] * 2
    assert "strategy bug" in errors[0].detail
    assert handler.stats().errors == {"callback_error": 2}
    assert handler.stats().failed_frames == 0
    # Logged once per reason; the counters carry the rest.
    assert len([r for r in caplog.records if "callback_error" in r.getMessage()]) == 1


def test_a_raising_error_callback_does_not_escape():
    handler = MexcHandler()

    def broken(error: FrameError) -> None:
        raise RuntimeError("logging backend down")

    handler.on_error(broken)
    assert handler.handle(b"") == 0
    assert handler.handle(PONG) == 1
    assert handler.stats().errors == {"empty_frame": 1}


def test_rejected_frames_carry_venue_reason_and_excerpt():
    handler = MexcHandler()
    errors = []
    handler.on_error(errors.append)
    handler.handle("{not json")
    (error,) = errors
    assert error.venue.value == "mexc"
    assert error.reason is FrameErrorReason.MALFORMED_JSON
    assert error.excerpt == "{not json"
    assert "mexc" in str(error) and "malformed_json" in str(error)


def test_pooled_levels_return_to_the_pool_after_delivery():
    pool = LevelPool(capacity=64)
    handler = MexcHandler(level_pool=pool)
    kept = []
    handler.on(T.ORDER_BOOK, lambda update: kept.append((update, update.copy())))
    handler.handle(DEPTH)
    handler.handle(DEPTH)
    stats = pool.stats()
    assert stats.acquired == 6
    assert stats.reused == 3
    assert stats.available == 3
    # copy() taken inside the callback stays intact after the levels were reused.
    (_, first_copy), _ = kept
    assert [(lv.price, lv.size) for lv in first_copy.asks] == [(100.6, 3.0)]


def test_without_a_pool_updates_can_be_kept():
    handler = MexcHandler(level_pool=None)
    kept = []
    handler.on(T.ORDER_BOOK, kept.append)
    handler.handle(DEPTH)
    handler.handle(encoder.encode_depth("BTCUSDT", [("1", "1")], [], 13, 13, send_time_ms=6))
    assert [(lv.price, lv.size) for lv in kept[0].bids] == [(100.5, 1.0), (100.4, 2.0)]


def test_invalid_utf8_in_a_control_frame_is_malformed_json():
    handler = MexcHandler()
    assert handler.handle(b'{"id":0,"code":0,"msg":"\xff"}') == 0
    assert handler.stats().errors == {"malformed_json": 1}


def test_an_unexpected_parser_exception_is_counted_not_raised():
    class BuggyHandler(MexcHandler):
        def route(self, msg_type, frame):
            return lambda frame: [][0]  # stands in for a parser bug

    handler = BuggyHandler()
    errors = []
    handler.on_error(errors.append)
    assert handler.handle(PONG) == 0
    assert errors[0].reason is FrameErrorReason.INTERNAL_ERROR
    assert "IndexError" in errors[0].detail
    assert handler.stats().errors == {"internal_error": 1}


def test_a_parser_returning_a_non_message_is_an_internal_error():
    class BuggyHandler(MexcHandler):
        def route(self, msg_type, frame):
            return lambda frame: None  # stands in for a parser bug

    handler = BuggyHandler()
    errors = []
    handler.on_error(errors.append)
    handler.handle(PONG)
    assert [e.reason for e in errors] == [FrameErrorReason.INTERNAL_ERROR]
    assert "NoneType" in errors[0].detail
    assert handler.stats().messages == {}
