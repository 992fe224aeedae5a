"""MEXC spot v3: the message handler and the decoder it uses.

* :mod:`ws_stack.mexc.handler` - :class:`MexcHandler`, the venue's message handler;
* :mod:`ws_stack.mexc.decoder` - frames to typed messages (pure): the entry points of
  :mod:`~ws_stack.mexc.detect`, :mod:`~ws_stack.mexc.push` (with
  :mod:`~ws_stack.mexc.raw_levels`), :mod:`~ws_stack.mexc.control` and
  :mod:`~ws_stack.mexc.legacy`;
* :mod:`ws_stack.mexc.protocol` - requests, replies and endpoints of a connection (pure);
* :mod:`ws_stack.mexc.encoder` - typed values to wire frames (for tests and the simulator);
* :mod:`ws_stack.mexc.proto` - our ``.proto`` schemas and their generated modules.
"""

from ws_stack.mexc.decoder import (
    detect_type,
    is_json_frame,
    parse_control,
    parse_legacy,
    parse_push,
)
from ws_stack.mexc.handler import NEW_POOL, MexcHandler

__all__ = [
    "NEW_POOL",
    "MexcHandler",
    "detect_type",
    "is_json_frame",
    "parse_control",
    "parse_legacy",
    "parse_push",
]
