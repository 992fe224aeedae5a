"""Gate.io spot v4 codec: frame decoder, frame builders and the message handler."""

from ws_stack.gateio.decoder import (
    UNKNOWN_ERROR_CODE,
    detect_type,
    parse_any_order_book,
    parse_book_ticker,
    parse_control,
    parse_order_book,
    parse_order_book_update,
    parse_trade,
)
from ws_stack.gateio.encoder import (
    encode_ack,
    encode_book_ticker,
    encode_error,
    encode_order_book,
    encode_order_book_update,
    encode_ping,
    encode_pong,
    encode_subscribe_request,
    encode_trade,
    format_number,
)
from ws_stack.gateio.handler import GateioHandler

__all__ = [
    "UNKNOWN_ERROR_CODE",
    "GateioHandler",
    "detect_type",
    "encode_ack",
    "encode_book_ticker",
    "encode_error",
    "encode_order_book",
    "encode_order_book_update",
    "encode_ping",
    "encode_pong",
    "encode_subscribe_request",
    "encode_trade",
    "format_number",
    "parse_any_order_book",
    "parse_book_ticker",
    "parse_control",
    "parse_order_book",
    "parse_order_book_update",
    "parse_trade",
]
