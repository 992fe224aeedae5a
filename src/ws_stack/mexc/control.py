"""MEXC JSON control messages (``{"id": 0, "code": 0, "msg": ...}``): acks, pongs, errors."""

from __future__ import annotations

import msgspec

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import Pong, SubscriptionAck, Venue, VenueError, WebSocketMessageType
from ws_stack.mexc.detect import _JSON_ERRORS, _control_type

__all__ = ["parse_control"]

_MEXC = Venue.MEXC


class _Control(msgspec.Struct, gc=False):
    id: int | None = None
    code: int | None = None
    msg: str = ""


_decode_control = msgspec.json.Decoder(_Control).decode


def parse_control(frame: bytes | str) -> SubscriptionAck | Pong | VenueError:
    """Decode ``{"id": .., "code": .., "msg": ..}``: an ack, a pong or a venue error."""
    try:
        control = _decode_control(frame)
    except msgspec.ValidationError as exc:
        raise FrameError(FrameErrorReason.INVALID_FIELD, str(exc), frame, _MEXC) from None
    except _JSON_ERRORS as exc:
        raise FrameError(FrameErrorReason.MALFORMED_JSON, str(exc), frame, _MEXC) from None
    if control.code is None:
        raise FrameError(
            FrameErrorReason.UNKNOWN_MESSAGE, "control message without 'code'", frame, _MEXC
        )
    msg_type = _control_type(control.code, control.msg)
    if msg_type is WebSocketMessageType.PONG:
        return Pong(_MEXC)
    if msg_type is WebSocketMessageType.SUBSCRIPTION:
        return SubscriptionAck(_MEXC, control.msg, request_id=control.id)
    return VenueError(
        _MEXC, control.code, control.msg, _bracketed(control.msg), request_id=control.id
    )


def _bracketed(msg: str) -> str | None:
    """The channel a refusal names in brackets (``... [spot@public...] ...``), if any."""
    start = msg.find("[")
    end = msg.find("]", start + 1)
    return msg[start + 1 : end] if 0 <= start < end else None
