"""The MEXC spot v3 message handler: raw frames in, typed messages to callbacks.

Binary frames are protobuf pushes, text frames are control messages or legacy JSON
pushes; :class:`MexcHandler` fills the two hooks of
:class:`~ws_stack.handler.MessageHandler` with the pure functions of
:mod:`ws_stack.mexc.decoder`.
"""

from __future__ import annotations

import enum

from ws_stack.handler import MessageHandler, Parser
from ws_stack.messages import Message, Venue, WebSocketMessageType
from ws_stack.mexc import decoder
from ws_stack.pool import LevelPool

__all__ = ["NEW_POOL", "MexcHandler"]


class _NewPool(enum.Enum):
    TOKEN = "new pool"


#: Default of ``MexcHandler(level_pool=...)``: give the handler a pool of its own.
NEW_POOL = _NewPool.TOKEN


class MexcHandler(MessageHandler):
    """Handles MEXC frames; order-book levels come from a :class:`LevelPool` by default.

    Pass ``level_pool=None`` to allocate fresh levels for every update instead (then an
    update's levels stay valid after its callbacks return), or a pool to share one.
    """

    venue = Venue.MEXC

    def __init__(self, *, level_pool: LevelPool | _NewPool | None = NEW_POOL) -> None:
        super().__init__(level_pool=LevelPool() if level_pool is NEW_POOL else level_pool)
        # (binary parser, text parser) per type, built once: route() only picks one.
        push = (self._parse_push, self._parse_legacy)
        control = (decoder.parse_control, decoder.parse_control)
        T = WebSocketMessageType
        self._routes: dict[WebSocketMessageType, tuple[Parser, Parser]] = {
            T.TRADE: push,
            T.ORDER_BOOK: push,
            T.BOOK_TICKER: push,
            T.SUBSCRIPTION: control,
            T.PONG: control,
            T.ERROR: control,
        }

    def detect_type(self, frame: bytes | str) -> WebSocketMessageType:
        """Classify a frame by its channel marker or control fields (see the decoder)."""
        return decoder.detect_type(frame)

    def route(self, msg_type: WebSocketMessageType, frame: bytes | str) -> Parser:
        """The decoder function for a frame of ``msg_type`` in its format (binary or JSON)."""
        binary, text = self._routes[msg_type]
        return text if decoder.is_json_frame(frame) else binary

    # Bound once in __init__; they read self.level_pool at call time, so the pool that
    # lent the levels is the one _deliver gives them back to.
    def _parse_push(self, frame: bytes | str) -> Message | list[Message]:
        return decoder.parse_push(frame, self.level_pool)  # type: ignore[arg-type]  # binary only

    def _parse_legacy(self, frame: bytes | str) -> Message | list[Message]:
        return decoder.parse_legacy(frame, self.level_pool)
