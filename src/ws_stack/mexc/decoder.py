"""The MEXC spot v3 decoder's public entry points: raw frames in, typed messages out.

Pure functions, bytes/str in, :mod:`ws_stack.messages` structs out, no I/O. Three frame
formats share one socket:

* binary protobuf pushes (``PushDataV3ApiWrapper``): :func:`parse_push`, read in C by
  the compiled twin ``ws_stack.mexc._push_reader`` where it is built, else by its
  reference :mod:`ws_stack.mexc.push` (see :mod:`ws_stack.implementation`);
* legacy JSON pushes (``{"c": <channel>, "d": {...}}``): :func:`parse_legacy`, from
  :mod:`ws_stack.mexc.legacy`;
* JSON control messages (``{"id": 0, "code": 0, "msg": ...}``): :func:`parse_control`,
  from :mod:`ws_stack.mexc.control`.

:func:`detect_type` classifies a frame from its first bytes without decoding it, and
:func:`is_json_frame` tells the JSON formats from protobuf (:mod:`ws_stack.mexc.detect`).
Every failure is a :class:`~ws_stack.exceptions.FrameError` with a specific reason;
prices and sizes are checked against the bounds of :mod:`ws_stack.messages` before they
leave here.
"""

from __future__ import annotations

from ws_stack import implementation
from ws_stack.mexc.control import parse_control
from ws_stack.mexc.detect import detect_type, is_json_frame
from ws_stack.mexc.legacy import parse_legacy

if implementation.compiled("ws_stack.mexc._push_reader") is not None:
    from ws_stack.mexc._push_reader import parse_push
else:
    from ws_stack.mexc.push import parse_push

__all__ = ["detect_type", "is_json_frame", "parse_control", "parse_legacy", "parse_push"]
