"""MEXC spot v3: protobuf/JSON codec and message handler.

* :mod:`ws_stack.mexc.decoder` - frames to typed messages (pure);
* :mod:`ws_stack.mexc.encoder` - typed values to wire frames (pure; tests, simulator);
* :mod:`ws_stack.mexc.handler` - :class:`MexcHandler`, the venue's message handler;
* :mod:`ws_stack.mexc.proto` - our ``.proto`` schemas and their generated modules.
"""

from ws_stack.mexc.decoder import (
    detect_type,
    is_json_frame,
    parse_control,
    parse_legacy,
    parse_push,
)
from ws_stack.mexc.encoder import (
    ChannelKind,
    Deal,
    LevelSpec,
    channel,
    encode_ack,
    encode_book_ticker,
    encode_deals,
    encode_depth,
    encode_error,
    encode_increase_depth,
    encode_legacy_book_ticker,
    encode_legacy_deals,
    encode_legacy_depth,
    encode_limit_depth,
    encode_pong,
    format_number,
)
from ws_stack.mexc.handler import NEW_POOL, MexcHandler

__all__ = [
    "NEW_POOL",
    "ChannelKind",
    "Deal",
    "LevelSpec",
    "MexcHandler",
    "channel",
    "detect_type",
    "encode_ack",
    "encode_book_ticker",
    "encode_deals",
    "encode_depth",
    "encode_error",
    "encode_increase_depth",
    "encode_legacy_book_ticker",
    "encode_legacy_deals",
    "encode_legacy_depth",
    "encode_limit_depth",
    "encode_pong",
    "format_number",
    "is_json_frame",
    "parse_control",
    "parse_legacy",
    "parse_push",
]
