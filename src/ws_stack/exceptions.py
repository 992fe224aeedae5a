"""ws_stack's exception hierarchy: catch by intent, not by module.

* :class:`ConfigError` - bad configuration, raised at start-up; the message says what to fix.
* :class:`FrameError` - a frame that cannot be handled. Handlers never let it escape their
  entry point: they count it per :class:`FrameErrorReason` and report it.
* :class:`ConnectionFailed` and friends - the live connection layer.
"""

from __future__ import annotations

import enum

from ws_stack.messages import Venue

__all__ = [
    "ConfigError",
    "ConnectionFailed",
    "FrameError",
    "FrameErrorReason",
    "InvalidStateTransition",
    "WsStackError",
    "excerpt",
]

EXCERPT_CHARS = 80
#: Longest detail a FrameError keeps: a hostile frame can put a megabyte into a field a
#: detail quotes (an unknown channel name), and details end up in logs.
DETAIL_CHARS = 200


class WsStackError(Exception):
    """Base class of every error ws_stack raises on purpose."""


class ConfigError(WsStackError, ValueError):
    """Invalid configuration, detected before anything starts."""


class FrameErrorReason(enum.Enum):
    """Why a frame was not handled; handler statistics count frames per reason."""

    EMPTY_FRAME = "empty_frame"
    OVERSIZED = "oversized"
    MALFORMED_JSON = "malformed_json"
    MALFORMED_PROTOBUF = "malformed_protobuf"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_MESSAGE = "unknown_message"
    INVALID_FIELD = "invalid_field"
    CALLBACK_ERROR = "callback_error"
    #: A parser raised something other than FrameError: a ws_stack bug, frame skipped.
    INTERNAL_ERROR = "internal_error"


def excerpt(frame: bytes | str, limit: int = EXCERPT_CHARS) -> str:
    """A short, printable excerpt of a frame for error reports and logs."""
    head = frame[:limit]
    # latin-1 maps every byte to one character, so unicode_escape below escapes each
    # non-printable byte exactly once (b"\x80" -> "\\x80").
    text = head if isinstance(head, str) else head.decode("latin-1")
    if not text.isprintable():
        text = text.encode("unicode_escape").decode("ascii")
    return text + ("..." if len(frame) > limit else "")


class FrameError(WsStackError):
    """A frame that could not be handled, with enough context to find it again."""

    def __init__(
        self,
        reason: FrameErrorReason,
        detail: str,
        frame: bytes | str = b"",
        venue: Venue | None = None,
    ) -> None:
        if len(detail) > DETAIL_CHARS:
            detail = detail[:DETAIL_CHARS] + "..."
        self.reason = reason
        self.detail = detail
        self.frame = frame
        self.venue = venue
        super().__init__(detail)

    @property
    def excerpt(self) -> str:
        return excerpt(self.frame)

    def __str__(self) -> str:
        venue = self.venue.value if self.venue else "?"
        return f"[{venue}] {self.reason.value}: {self.detail} (frame: {self.excerpt!r})"


class ConnectionFailed(WsStackError):
    """The connection could not be (re-)established within the reconnection policy."""


class InvalidStateTransition(WsStackError, RuntimeError):
    """A connection state change that the state machine does not allow: a bug."""
