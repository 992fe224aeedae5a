"""The MEXC spot v3 message handler: raw frames in, typed messages to callbacks.

Binary frames are protobuf pushes, text frames are control messages or legacy JSON
pushes; :class:`MexcHandler` fills the two hooks of
:class:`~ws_stack.handler.MessageHandler` with the pure functions of
:mod:`ws_stack.mexc.decoder`.
"""

from __future__ import annotations

import enum
from typing import Any

from ws_stack import implementation
from ws_stack.handler import MessageHandler, Parser
from ws_stack.messages import Message, Venue, WebSocketMessageType
from ws_stack.mexc import decoder
from ws_stack.pool import LevelPool

__all__ = ["NEW_POOL", "MexcHandler"]


class _NewPool(enum.Enum):
    TOKEN = "new pool"


#: ``MexcHandler(level_pool=NEW_POOL)``: give the handler a pool of its own.
NEW_POOL = _NewPool.TOKEN

_twin = implementation.compiled("ws_stack.mexc._dispatch")
#: The hooks the compiled _parse skips for a push of a known channel.
_SKIPPED_HOOKS = ("detect_type", "route", "_parse_push")


class MexcHandler(MessageHandler):
    """Handles MEXC frames; order-book levels are built in C and belong to the receiver.

    Pass a :class:`LevelPool` (or ``NEW_POOL`` for one of its own) to take levels from
    it instead: they are then on loan to the callbacks and reused afterwards. In CPython
    that costs more than it saves (refilling a level is Python code, msgspec allocates
    one in C from its own free list), so it is off by default.
    """

    venue = Venue.MEXC

    def __init__(self, *, level_pool: LevelPool | _NewPool | None = None) -> None:
        super().__init__(level_pool=LevelPool() if level_pool is NEW_POOL else level_pool)
        # (binary parser, text parser) per type, built once: route() only picks one. Keyed
        # by the enum's value: Enum.__hash__ is Python code, a str's hash is cached.
        push = (self._parse_push, self._parse_legacy)
        control = (decoder.parse_control, decoder.parse_control)
        self._routes: dict[str, tuple[Parser, Parser]] = {
            WebSocketMessageType.TRADE._value_: push,
            WebSocketMessageType.ORDER_BOOK._value_: push,
            WebSocketMessageType.BOOK_TICKER._value_: push,
            WebSocketMessageType.SUBSCRIPTION._value_: control,
            WebSocketMessageType.PONG._value_: control,
            WebSocketMessageType.ERROR._value_: control,
        }

    # A plain function, not a method: one call frame less per frame on the hot path.
    detect_type = staticmethod(decoder.detect_type)

    def route(self, msg_type: WebSocketMessageType, frame: bytes | str) -> Parser:
        """The decoder function for a frame of ``msg_type`` in its format (binary or JSON)."""
        binary, text = self._routes[msg_type._value_]
        # A push starts with its channel field (0x0A) and then a length that is not "{":
        # never JSON, so is_json_frame need not look (see its whitespace rule).
        if type(frame) is bytes and frame[:1] == b"\n" and frame[1:2] != b"{":
            return binary
        return text if decoder.is_json_frame(frame) else binary

    # Bound once in __init__; they read self.level_pool at call time, so the pool that
    # lent the levels is the one _deliver gives them back to.
    def _parse_push(self, frame: bytes | str) -> Message | list[Message]:
        # route() returns this parser for bytes frames only, which no annotation can say.
        return decoder.parse_push(frame, self.level_pool)  # type: ignore[arg-type]

    def _parse_legacy(self, frame: bytes | str) -> Message | list[Message]:
        return decoder.parse_legacy(frame, self.level_pool)

    #: The reference _parse (the template's), whichever runs: the differential tests call it.
    _reference_parse = MessageHandler._parse
    if _twin is not None:
        # The compiled twin: a push of a known channel detected, routed and parsed in C.
        _parse = _twin.handler_parse

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass's own hooks must be called: the reference _parse calls them all.
        if "_parse" not in vars(cls) and any(hook in vars(cls) for hook in _SKIPPED_HOOKS):
            cls._parse = MexcHandler._reference_parse
