"""The Gate.io spot v4 message handler: raw text frames in, typed messages out.

Gate's levels are built by msgspec in C while the frame is decoded, which is cheaper than
taking them from a :class:`~ws_stack.pool.LevelPool` and refilling them in Python, so this
handler takes no pool: the levels of a delivered ``OrderBookUpdate`` belong to the
receiver and are never reused.
"""

from __future__ import annotations

from ws_stack import implementation
from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.gateio import decoder
from ws_stack.handler import MessageHandler, Parser
from ws_stack.messages import Message, Venue, WebSocketMessageType

__all__ = ["GateioHandler"]

# The reference's (decoder.parse_update is its twin where built): _parse below is the
# reference, which the twin replaces.
_parse_update = decoder._reference_parse_update
_twin = implementation.compiled("ws_stack.gateio._updates")


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

    # The decoder's function itself: the hook needs nothing from the handler.
    detect_type = staticmethod(decoder.detect_type)

    def _parse(self, frame: bytes | str) -> Message | list[Message]:
        """Detect, route and parse fused in one decode for the update pushes that are
        nearly all traffic (:func:`~ws_stack.gateio.decoder.parse_update`); any other
        frame takes the hooks."""
        message = _parse_update(frame)
        if message is not None:
            return message
        return self.route(self.detect_type(frame), frame)(frame)

    #: The reference _parse, whichever runs: the differential tests call it.
    _reference_parse = _parse
    if _twin is not None:
        # The compiled twin (the same code, in C): no interpreter frame between handle()
        # and the decode.
        _parse = _twin.handler_parse

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
