"""The message-handler template method: detect type -> route -> parse -> deliver.

:meth:`MessageHandler.handle` is the one entry point. A venue subclass fills in two hooks:

* :meth:`~MessageHandler.detect_type` looks at the raw frame (a magic byte, a channel
  marker) without decoding it, and
* :meth:`~MessageHandler.route` picks the parser for that type and frame format.

A frame that cannot be handled never raises out of :meth:`handle`: the
:class:`~ws_stack.exceptions.FrameError` is counted per reason, passed to the error
callbacks, and the handler is ready for the next frame. A callback that raises is counted
as ``callback_error`` and does not stop delivery to the other callbacks.

:meth:`MessageHandler.handle` and ``_deliver`` below are the reference of the per-frame
path. Where ``ws_stack._handler_core`` is built, its ``HandlerCore`` is the base class of
:class:`MessageHandler` and its compiled ``handle`` (the same code, delivery inlined)
replaces the method at the end of this module; the hooks, ``_parse`` and the error
methods stay Python and are called from it.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, overload

import msgspec

from ws_stack import implementation
from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import (
    BookTicker,
    Message,
    OrderBookUpdate,
    Pong,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
    WebSocketMessageType,
)
from ws_stack.pool import LevelPool

__all__ = ["ErrorCallback", "HandlerStats", "MessageCallback", "MessageHandler", "Parser"]

logger = logging.getLogger(__name__)

_M = TypeVar("_M", bound=Message)
#: A callback for the messages of one class (``MessageCallback[Trade]``); what it returns
#: is ignored.
MessageCallback = Callable[[_M], object]
ErrorCallback = Callable[[FrameError], object]
#: A parser turns one raw frame into a message, or a list of them (a batch of trades).
Parser = Callable[[bytes | str], Message | list[Message]]
#: A callback as the handler stores it: in a list per message class that holds callbacks
#: of that class only. A dict's annotation cannot tie a value's parameter type to its key,
#: so the store says Any there; the overloads of MessageHandler.on check the pairing where
#: a callback comes in.
_StoredCallback = MessageCallback[Any]


class HandlerStats(msgspec.Struct, frozen=True):
    frames: int
    messages: dict[str, int]
    errors: dict[str, int]

    @property
    def failed_frames(self) -> int:
        """Frames that were not handled (callback errors are not frame failures)."""
        return sum(
            count
            for reason, count in self.errors.items()
            if reason != FrameErrorReason.CALLBACK_ERROR.value
        )


_core = implementation.compiled("ws_stack._handler_core")
if TYPE_CHECKING or _core is None:

    class _HandlerBase:
        """The pure base of :class:`MessageHandler`: nothing; its state is in its dict."""

        __slots__ = ()

else:
    # Where built, the compiled twin is the base: it holds the attributes the per-frame
    # path touches in C fields (see _handler_core.pyx).
    _HandlerBase = _core.HandlerCore


class MessageHandler(_HandlerBase, ABC):
    """Turns raw WebSocket frames of one venue into typed messages for callbacks."""

    venue: ClassVar[Venue]

    def __init__(self, *, level_pool: LevelPool | None = None) -> None:
        self.level_pool = level_pool
        # Both keyed by message class (its hash is C-level, an Enum member's is Python
        # code) and filled for every class up front, so that delivery indexes plain dicts
        # (the interpreter's fastest path) and never needs a default.
        # Looked up with the class of whatever a parser returned (see _deliver).
        self._callbacks: dict[type, list[_StoredCallback]] = {cls: [] for cls in _CLASSES}
        self._messages: dict[type, int] = dict.fromkeys(_CLASSES, 0)
        self._error_callbacks: list[ErrorCallback] = []
        self._frames = 0
        self._errors: Counter[FrameErrorReason] = Counter()
        self._logged_reasons: set[FrameErrorReason] = set()

    # -- public API ---------------------------------------------------------------

    # One overload per message type, so that a type checker pairs each type with the class
    # its callbacks receive; a msg_type known only at run time needs a callback that takes
    # any message.
    @overload
    def on(
        self, msg_type: Literal[WebSocketMessageType.TRADE], callback: MessageCallback[Trade]
    ) -> None: ...
    @overload
    def on(
        self,
        msg_type: Literal[WebSocketMessageType.BOOK_TICKER],
        callback: MessageCallback[BookTicker],
    ) -> None: ...
    @overload
    def on(
        self,
        msg_type: Literal[WebSocketMessageType.ORDER_BOOK],
        callback: MessageCallback[OrderBookUpdate],
    ) -> None: ...
    @overload
    def on(
        self,
        msg_type: Literal[WebSocketMessageType.SUBSCRIPTION],
        callback: MessageCallback[SubscriptionAck],
    ) -> None: ...
    @overload
    def on(
        self, msg_type: Literal[WebSocketMessageType.PONG], callback: MessageCallback[Pong]
    ) -> None: ...
    @overload
    def on(
        self, msg_type: Literal[WebSocketMessageType.ERROR], callback: MessageCallback[VenueError]
    ) -> None: ...
    @overload
    def on(self, msg_type: WebSocketMessageType, callback: MessageCallback[Message]) -> None: ...

    def on(self, msg_type: WebSocketMessageType, callback: _StoredCallback) -> None:
        """Call ``callback(message)`` for every message of ``msg_type``."""
        self._callbacks[_CLASS_BY_TYPE[msg_type]].append(callback)

    def on_error(self, callback: ErrorCallback) -> None:
        """Call ``callback(error)`` for every frame that could not be handled."""
        self._error_callbacks.append(callback)

    def handle(self, frame: bytes | str) -> int:
        """Handle one raw frame; return how many messages were delivered (0 on error)."""
        self._frames += 1
        try:
            if not frame:
                raise FrameError(FrameErrorReason.EMPTY_FRAME, "empty frame", frame)
            result = self._parse(frame)
        except FrameError as error:
            self._reject(error, frame)
            return 0
        except Exception as exc:  # a parser bug must not kill the receive loop either
            detail = f"{type(exc).__name__}: {exc}"
            self._reject(FrameError(FrameErrorReason.INTERNAL_ERROR, detail, frame), frame)
            return 0
        # Several messages, or one. By exact type: isinstance() answers "no" (nearly every
        # frame) only after looking __class__ up, a few hundred instructions (2 % of a Gate
        # ticker frame); _deliver checks every result's class anyway.
        if type(result) is list:
            for message in result:
                self._deliver(message)
            return len(result)
        self._deliver(result)
        return 1

    def stats(self) -> HandlerStats:
        return HandlerStats(
            frames=self._frames,
            messages={_TYPE_VALUES[cls]: n for cls, n in self._messages.items() if n},
            errors={r.value: n for r, n in self._errors.items()},
        )

    # -- hooks --------------------------------------------------------------------

    @abstractmethod
    def detect_type(self, frame: bytes | str) -> WebSocketMessageType:
        """Classify a non-empty raw frame cheaply; raise :class:`FrameError` if impossible."""

    @abstractmethod
    def route(self, msg_type: WebSocketMessageType, frame: bytes | str) -> Parser:
        """The parser for a frame of ``msg_type``; raise :class:`FrameError` if none."""

    # -- internals ----------------------------------------------------------------

    def _parse(self, frame: bytes | str) -> Message | list[Message]:
        """Steps one to three of the template: :meth:`detect_type`, :meth:`route`, parse.

        A venue handler may fuse them for its most common frames (one decode that also
        names the channel, instead of a look at the frame and two calls), provided it
        answers exactly as the hooks do; its tests check that.
        """
        return self.route(self.detect_type(frame), frame)(frame)

    def _deliver(self, message: object) -> None:
        """Count one parse result and pass it to the callbacks of its exact class.

        That class lookup is the one check on the path, and the narrowing of what
        :meth:`handle` got: a message's class is a key; anything else a parser returned is
        its bug, reported. Hence ``object``: a type checker cannot follow a dict lookup, and
        the ``isinstance`` it could follow would cost every frame (see :meth:`handle`).
        """
        message_class = type(message)
        try:
            self._messages[message_class] += 1
            callbacks = self._callbacks[message_class]
        except KeyError:  # not a message: a parser bug, reported like one
            detail = f"parser returned a {message_class.__name__}, not a message"
            self._report(FrameError(FrameErrorReason.INTERNAL_ERROR, detail, b"", self.venue))
            return
        for callback in callbacks:
            try:
                callback(message)
            except Exception as exc:  # a user callback must not kill the receive loop
                self._callback_failed(callback, exc)
        # Pooled levels were on loan to the callbacks; take them back.
        if self.level_pool is not None and type(message) is OrderBookUpdate:
            self.level_pool.give(message.bids)
            self.level_pool.give(message.asks)

    def _callback_failed(self, callback: _StoredCallback, exc: Exception) -> None:
        self._report(
            FrameError(
                FrameErrorReason.CALLBACK_ERROR,
                f"callback {getattr(callback, '__qualname__', callback)!s} "
                f"raised {type(exc).__name__}: {exc}",
                b"",
                self.venue,
            )
        )

    def _reject(self, error: FrameError, frame: bytes | str) -> None:
        if error.venue is None:
            error.venue = self.venue
        if not error.frame:
            error.frame = frame
        self._report(error)

    def _report(self, error: FrameError) -> None:
        self._errors[error.reason] += 1
        if error.reason not in self._logged_reasons:
            # Log the first frame per reason; the counters carry the rest.
            self._logged_reasons.add(error.reason)
            logger.warning("dropped frame: %s", error)
        for callback in self._error_callbacks:
            try:
                callback(error)
            except Exception:
                logger.exception("error callback %r raised", callback)


_CLASSES: tuple[type[Message], ...] = (
    Trade,
    BookTicker,
    OrderBookUpdate,
    SubscriptionAck,
    Pong,
    VenueError,
)
_CLASS_BY_TYPE: dict[WebSocketMessageType, type[Message]] = {cls.msg_type: cls for cls in _CLASSES}
#: Each class's message type as HandlerStats names it (keyed like _messages, by any class).
_TYPE_VALUES: dict[type, str] = {cls: cls.msg_type.value for cls in _CLASSES}

#: The reference per-frame path, whichever runs: the differential tests call it.
_reference_handle = MessageHandler.handle
if _core is not None:
    # The compiled twin's handle, inherited by every subclass.
    MessageHandler.handle = _core.HandlerCore.handle  # type: ignore[method-assign]
