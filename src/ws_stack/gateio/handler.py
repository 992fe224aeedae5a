"""The Gate.io spot v4 message handler: raw text frames in, typed messages out.

Gate's levels are built by msgspec in C while the frame is decoded, which is cheaper than
taking them from a :class:`~ws_stack.pool.LevelPool` and refilling them in Python, so this
handler takes no pool: the levels of a delivered ``OrderBookUpdate`` belong to the
receiver and are never reused.
"""

from __future__ import annotations

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.gateio import decoder
from ws_stack.gateio.channels import BOOK_TICKER, ORDER_BOOK, ORDER_BOOK_UPDATE, TRADES
from ws_stack.handler import MessageHandler, Parser
from ws_stack.messages import Venue, WebSocketMessageType

__all__ = ["GateioHandler"]

_MARKER, _MARKER_B, _MARKER_LEN, _WINDOW = (
    decoder._MARKER,
    decoder._MARKER_B,
    decoder._MARKER_LEN,
    decoder._WINDOW,
)


class GateioHandler(MessageHandler):
    """Turns Gate.io spot v4 frames (``str`` or ``bytes``) into typed messages."""

    venue = Venue.GATEIO

    def __init__(self) -> None:
        super().__init__(level_pool=None)
        # Keyed by message type: detect_type has already resolved the channel, and the one
        # pair of channels sharing a type (spot.order_book_update / spot.order_book) is told
        # apart inside the single decode of parse_any_order_book. The keys are the enum
        # values because Enum.__hash__ is Python code: a str key is ~4x cheaper per frame.
        self._parsers: dict[str, Parser] = {
            WebSocketMessageType.TRADE._value_: decoder.parse_trade,
            WebSocketMessageType.BOOK_TICKER._value_: decoder.parse_book_ticker,
            WebSocketMessageType.ORDER_BOOK._value_: decoder.parse_any_order_book,
            WebSocketMessageType.SUBSCRIPTION._value_: decoder.parse_control,
            WebSocketMessageType.PONG._value_: decoder.parse_control,
        }
        # detect_type's fast path taken one step further, to the parser: the text after
        # the channel marker of a compact update frame (the same windows) names the
        # channel, so the order-book channels go straight to their own parser.
        by_channel: dict[str, Parser] = {
            TRADES: decoder.parse_trade,
            BOOK_TICKER: decoder.parse_book_ticker,
            ORDER_BOOK_UPDATE: decoder.parse_order_book_update,
            ORDER_BOOK: decoder.parse_order_book,
        }
        self._fast_str: dict[str, Parser] = {
            window: by_channel[channel] for window, channel in decoder._CHANNEL_BY_WINDOW.items()
        }
        self._fast_bytes: dict[bytes, Parser] = {
            window.encode(): parser for window, parser in self._fast_str.items()
        }

    # A plain function, not a method: one call frame less per frame on the hot path.
    detect_type = staticmethod(decoder.detect_type)

    def _parser_for(self, frame: bytes | str) -> Parser:
        """detect_type then route, fused for the update frames that are nearly all traffic."""
        if type(frame) is str:
            start = frame.find(_MARKER) + _MARKER_LEN
            if start >= _MARKER_LEN:
                parser = self._fast_str.get(frame[start : start + _WINDOW])
                if parser is not None:
                    return parser
        elif type(frame) is bytes:
            start = frame.find(_MARKER_B) + _MARKER_LEN
            if start >= _MARKER_LEN:
                parser = self._fast_bytes.get(frame[start : start + _WINDOW])
                if parser is not None:
                    return parser
        return self.route(self.detect_type(frame), frame)

    def route(self, msg_type: WebSocketMessageType, frame: bytes | str) -> Parser:
        """The parser for ``msg_type``; raise :class:`FrameError` for a type Gate never sends."""
        try:
            return self._parsers[msg_type._value_]
        except KeyError:
            raise FrameError(
                FrameErrorReason.UNKNOWN_MESSAGE,
                f"no Gate.io parser for {msg_type.value}",
                frame,
                self.venue,
            ) from None
