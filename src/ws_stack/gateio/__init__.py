"""Gate.io spot v4: the message handler and the decoder it uses.

* :mod:`ws_stack.gateio.handler` - :class:`GateioHandler`, the venue's message handler;
* :mod:`ws_stack.gateio.decoder` - frames to typed messages (pure);
* :mod:`ws_stack.gateio.protocol` - requests, replies and endpoints of a connection (pure);
* :mod:`ws_stack.gateio.encoder` - typed values to wire frames (for tests and the simulator).
"""

from ws_stack.gateio.decoder import (
    UNKNOWN_ERROR_CODE,
    detect_type,
    parse_any_order_book,
    parse_book_ticker,
    parse_control,
    parse_order_book,
    parse_order_book_update,
    parse_trade,
)
from ws_stack.gateio.handler import GateioHandler

__all__ = [
    "UNKNOWN_ERROR_CODE",
    "GateioHandler",
    "detect_type",
    "parse_any_order_book",
    "parse_book_ticker",
    "parse_control",
    "parse_order_book",
    "parse_order_book_update",
    "parse_trade",
]
