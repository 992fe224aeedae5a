"""MEXC frame type detection: what a raw frame holds, read from its first bytes.

:func:`detect_type` names a frame's message type without decoding it where the frame
allows; :func:`is_json_frame` tells JSON text (control messages, legacy pushes) from
protobuf pushes. The channel-name helpers and the JSON probe here also serve
:mod:`ws_stack.mexc.legacy`, and the control-code rule :mod:`ws_stack.mexc.control`, so
that a frame is parsed as the type it was detected as.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import Venue, WebSocketMessageType
from ws_stack.mexc.push import _parse_wrapper

__all__ = ["detect_type", "is_json_frame"]

_MEXC = Venue.MEXC

#: Channel kind (the text between ``spot@public.`` and ``.v3.api``) -> message type.
#: Keyed by both ``str`` and ``bytes`` so text and binary frames share one lookup.
_KIND_TYPES: dict[str, WebSocketMessageType] = {
    "deals": WebSocketMessageType.TRADE,
    "aggre.deals": WebSocketMessageType.TRADE,
    "increase.depth": WebSocketMessageType.ORDER_BOOK,
    "aggre.depth": WebSocketMessageType.ORDER_BOOK,
    "limit.depth": WebSocketMessageType.ORDER_BOOK,
    "bookTicker": WebSocketMessageType.BOOK_TICKER,
    "aggre.bookTicker": WebSocketMessageType.BOOK_TICKER,
}
_TYPE_BY_KIND: dict[str | bytes, WebSocketMessageType] = dict(_KIND_TYPES.items())
_TYPE_BY_KIND.update((kind.encode(), msg_type) for kind, msg_type in _KIND_TYPES.items())
_PUBLIC = "spot@public."
_PUBLIC_B = _PUBLIC.encode()
_KIND_START = len(_PUBLIC)
_KIND_END = ".v3.api"
_KIND_END_B = _KIND_END.encode()
#: How far past the kind's start ``.v3.api`` may end: the longest kind plus the marker.
_KIND_SPAN = max(map(len, _KIND_TYPES)) + len(_KIND_END)
#: A legacy push as MEXC writes it: the channel is the first key.
_LEGACY_HEAD = '{"c":"' + _PUBLIC
_LEGACY_HEAD_B = _LEGACY_HEAD.encode()
_LEGACY_KIND = len(_LEGACY_HEAD)
_CHANNEL_FIELD = 0x0A  # wrapper field 1 (channel), wire type 2: how every push starts
_OPEN_BRACE = 0x7B
_JSON_SPACE = b" \t\r\n"
#: MEXC refuses a subscription with code 0 and this text (observed, not documented).
_REFUSED = "Not Subscribed successfully"

#: The fast path of detect_type for binary pushes: the head of each push seen so far on a
#: public channel of a known kind (field tag, one-byte length and channel, exactly as on
#: the wire) -> its message type. A subscription's pushes all carry the same channel, so
#: after its first frame (read by _wire_kind) classifying one is a slice and a dict lookup.
#: A head holds its own length byte: a frame cut inside its channel slices shorter than
#: that length says, so it never matches a head (nor the head of a shorter channel, whose
#: length byte differs). Bounded: past the limit, new channels are read every time.
_KNOWN_HEADS: dict[bytes, WebSocketMessageType] = {}
_KNOWN_HEADS_LIMIT = 4096
#: The same for a legacy JSON push as MEXC writes it (text, the channel first): its first
#: _LEGACY_HEAD_SPAN characters -> the message type. Reading the channel's kind looks no
#: further (it must end with ".v3.api" within them), so they decide it alone.
_LEGACY_HEAD_SPAN = _LEGACY_KIND + _KIND_SPAN
_KNOWN_LEGACY_HEADS: dict[str, WebSocketMessageType] = {}

#: Wrapper body (oneof member) -> message type, for frames whose channel is unusable.
_TYPE_BY_BODY: dict[str, WebSocketMessageType] = {
    "publicDeals": WebSocketMessageType.TRADE,
    "publicAggreDeals": WebSocketMessageType.TRADE,
    "publicIncreaseDepths": WebSocketMessageType.ORDER_BOOK,
    "publicAggreDepths": WebSocketMessageType.ORDER_BOOK,
    "publicLimitDepths": WebSocketMessageType.ORDER_BOOK,
    "publicAggreBookTicker": WebSocketMessageType.BOOK_TICKER,
}


#: What msgspec raises on JSON it cannot parse, besides ValidationError: DecodeError;
#: UnicodeError for bad UTF-8 inside a string (not msgspec's own error); RecursionError
#: for nesting deeper than it recurses (a hostile ``[[[[...`` frame, anywhere in it).
_JSON_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)


class _Probe(msgspec.Struct, gc=False):
    """The keys that tell JSON frames apart; everything else is skipped unread."""

    c: str | None = None
    code: int | None = None
    msg: str | None = None


_decode_probe = msgspec.json.Decoder(_Probe).decode


def detect_type(frame: bytes | str) -> WebSocketMessageType:
    """Classify a raw frame from its channel marker, without decoding it.

    A binary push names its channel in its first field, a legacy JSON push as its first
    key: the first push of a channel is read there, and the channel's later pushes are
    known by one slice and one dict lookup. Frames that do not look as expected (fields in
    another order, JSON with whitespace or keys in another order) take a slower path that
    decodes just enough to decide, rather than being misclassified.
    """
    if type(frame) is bytes:
        # A push on a channel seen before: its head names the type (see _KNOWN_HEADS).
        try:
            msg_type = _KNOWN_HEADS.get(frame[: 2 + frame[1]])
        except IndexError:  # under two bytes
            msg_type = None
        if msg_type is not None:
            return msg_type
    elif type(frame) is str:
        # The same for a legacy push (see _KNOWN_LEGACY_HEADS).
        msg_type = _KNOWN_LEGACY_HEADS.get(frame[:_LEGACY_HEAD_SPAN])
        if msg_type is not None:
            return msg_type
    if not frame:
        raise FrameError(FrameErrorReason.EMPTY_FRAME, "empty frame", frame, _MEXC)
    if isinstance(frame, str):
        return _detect_json(frame)
    first = frame[0]
    if first == _CHANNEL_FIELD:
        kind = _wire_kind(frame)
        if kind is not None:
            msg_type = _type_of_kind(kind, frame)
            length = frame[1]
            if length < 0x80:  # a one-byte length: the head is tag, length and channel
                _remember(_KNOWN_HEADS, frame[: 2 + length], msg_type)
            return msg_type
    elif first == _OPEN_BRACE:
        return _detect_json(frame)
    if first in _JSON_SPACE and frame.lstrip()[:1] == b"{":
        return _detect_json(frame)
    return _detect_binary_slow(frame)


def is_json_frame(frame: bytes | str) -> bool:
    """Whether a non-empty frame is JSON text (a control message or legacy push)."""
    if isinstance(frame, str):
        return True
    first = frame[0]
    if first == _OPEN_BRACE:
        return True
    return (
        first in _JSON_SPACE
        and _wire_kind(frame) is None  # a push whose channel length byte is "{" (123)
        and frame.lstrip()[:1] == b"{"
    )


def _wire_kind(frame: bytes) -> bytes | None:
    """The channel kind of a push that starts with its ``spot@`` channel, else ``None``.

    Returns ``b""`` for a ``spot@`` channel that is not a public ``.v3.api`` one.
    """
    size = len(frame)
    if size < 3:
        return None
    length = frame[1]
    start = 2
    if length & 0x80:  # two-byte varint: a channel of 128..16383 bytes
        length = (length & 0x7F) | (frame[2] << 7)
        start = 3
        if length & 0x4000:
            return None
    end = start + length
    if end > size or not frame.startswith(b"spot@", start):
        return None
    if not frame.startswith(_PUBLIC_B, start):
        return b""
    kind_start = start + _KIND_START
    kind_end = frame.find(_KIND_END_B, kind_start, min(end, kind_start + _KIND_SPAN))
    return frame[kind_start:kind_end] if kind_end >= 0 else b""


_Head = TypeVar("_Head", bytes, str)


def _remember(
    heads: dict[_Head, WebSocketMessageType], head: _Head, msg_type: WebSocketMessageType
) -> None:
    """Remember the type of a push's head: at most _KNOWN_HEADS_LIMIT heads per table."""
    if len(heads) < _KNOWN_HEADS_LIMIT:
        heads[head] = msg_type


def _type_of_kind(kind: str | bytes, frame: bytes | str) -> WebSocketMessageType:
    msg_type = _TYPE_BY_KIND.get(kind)
    if msg_type is None:
        raise _unknown_channel(kind, frame)
    return msg_type


def _unknown_channel(kind: str | bytes, frame: bytes | str) -> FrameError:
    if isinstance(kind, bytes):
        kind = kind.decode("utf-8", "replace")
    detail = f"unknown channel kind {kind!r}" if kind else "not a public spot v3 channel"
    return FrameError(FrameErrorReason.UNKNOWN_CHANNEL, detail, frame, _MEXC)


def _channel_kind(name: str) -> str:
    """The kind of a channel name (``""`` if it is not a public ``.v3.api`` channel)."""
    if not name.startswith(_PUBLIC):
        return ""
    end = name.find(_KIND_END, _KIND_START)
    return name[_KIND_START:end] if end >= 0 else ""


def _legacy_head_kind(frame: bytes | str) -> str | bytes | None:
    """The kind of a legacy push written with its channel first, else ``None``."""
    if isinstance(frame, str):
        if not frame.startswith(_LEGACY_HEAD):
            return None
        end = frame.find(_KIND_END, _LEGACY_KIND, _LEGACY_KIND + _KIND_SPAN)
    else:
        if not frame.startswith(_LEGACY_HEAD_B):
            return None
        end = frame.find(_KIND_END_B, _LEGACY_KIND, _LEGACY_KIND + _KIND_SPAN)
    return frame[_LEGACY_KIND:end] if end >= 0 else ""


def _detect_json(frame: bytes | str) -> WebSocketMessageType:
    kind = _legacy_head_kind(frame)
    if kind is not None:
        msg_type = _type_of_kind(kind, frame)
        if isinstance(frame, str):
            _remember(_KNOWN_LEGACY_HEADS, frame[:_LEGACY_HEAD_SPAN], msg_type)
        return msg_type
    probe = _probe(frame)
    if probe.c is not None:
        return _type_of_kind(_channel_kind(probe.c), frame)
    if probe.code is not None:
        return _control_type(probe.code, probe.msg or "")
    raise FrameError(
        FrameErrorReason.UNKNOWN_MESSAGE, "JSON frame with neither 'c' nor 'code'", frame, _MEXC
    )


def _probe(frame: bytes | str) -> _Probe:
    try:
        return _decode_probe(frame)
    except msgspec.ValidationError as exc:
        if frame.lstrip()[:1] not in ("{", b"{"):  # valid JSON, but an array, a string...
            raise FrameError(
                FrameErrorReason.UNKNOWN_MESSAGE, "not a JSON object", frame, _MEXC
            ) from None
        raise FrameError(FrameErrorReason.INVALID_FIELD, str(exc), frame, _MEXC) from None
    except _JSON_ERRORS as exc:
        raise FrameError(FrameErrorReason.MALFORMED_JSON, str(exc), frame, _MEXC) from None


def _control_type(code: int, msg: str) -> WebSocketMessageType:
    if code != 0 or msg.startswith(_REFUSED):
        return WebSocketMessageType.ERROR
    return WebSocketMessageType.PONG if msg == "PONG" else WebSocketMessageType.SUBSCRIPTION


def _detect_binary_slow(frame: bytes) -> WebSocketMessageType:
    wrapper = _parse_wrapper(frame)
    if wrapper.channel:
        return _type_of_kind(_channel_kind(wrapper.channel), frame)
    body = wrapper.WhichOneof("body")
    if body is not None:
        return _TYPE_BY_BODY[body]
    raise FrameError(
        FrameErrorReason.MALFORMED_PROTOBUF,
        "binary frame is not a push (no channel, no body)",
        frame,
        _MEXC,
    )
