"""Gate.io spot v4 channel and event names, shared by the decoder, encoder and handler."""

from __future__ import annotations

__all__ = [
    "BOOK_TICKER",
    "EVENT_SUBSCRIBE",
    "EVENT_UNSUBSCRIBE",
    "EVENT_UPDATE",
    "OBU",
    "ORDER_BOOK",
    "ORDER_BOOK_UPDATE",
    "PING",
    "PONG",
    "TRADES",
]

TRADES = "spot.trades"
BOOK_TICKER = "spot.book_ticker"
ORDER_BOOK_UPDATE = "spot.order_book_update"
ORDER_BOOK = "spot.order_book"
#: Order book v2: full books in band, then ``U``/``u`` deltas; streams ``ob.{pair}.{depth}``.
OBU = "spot.obu"
PING = "spot.ping"
PONG = "spot.pong"

EVENT_UPDATE = "update"
EVENT_SUBSCRIBE = "subscribe"
EVENT_UNSUBSCRIBE = "unsubscribe"
