"""Gate.io spot v4 connection protocol: the mixin a Gate.io connection is made of.

One JSON request per channel and payload (``{"time", "id", "channel", "event",
"payload"}``), answers matched by request ``id``, ``spot.ping`` every ~15 s, and the REST
order-book snapshot (``GET /api/v4/spot/order_book?..&with_id=true``, field ``id``).
Pure; see :mod:`ws_stack.protocol`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import ClassVar

import msgspec

from ws_stack.exceptions import ConfigError, FrameError, FrameErrorReason
from ws_stack.gateio import decoder
from ws_stack.gateio.channels import BOOK_TICKER, OBU, ORDER_BOOK, ORDER_BOOK_UPDATE, TRADES
from ws_stack.gateio.encoder import encode_ping, encode_subscribe_request
from ws_stack.messages import Level, OrderBookUpdate, Pong, SubscriptionAck, Venue, VenueError
from ws_stack.protocol import (
    ChannelKind,
    Request,
    Subscription,
    VenueProtocol,
    join_url,
    next_request_id,
)

__all__ = ["QUOTE_CURRENCIES", "GateioProtocol"]

#: Quote currencies recognised when a pair is written without ``_`` (``BTCUSDT``).
QUOTE_CURRENCIES = ("USDT", "USDC", "USD", "BTC", "ETH", "EUR", "TRY")

_CHANNELS: dict[ChannelKind, str] = {
    ChannelKind.TRADES: TRADES,
    ChannelKind.BOOK_TICKER: BOOK_TICKER,
    ChannelKind.DEPTH: ORDER_BOOK_UPDATE,
    ChannelKind.DEPTH_SNAPSHOT: ORDER_BOOK,
    ChannelKind.ORDER_BOOK_V2: OBU,
}


class _OrderBookSnapshot(msgspec.Struct, gc=False):
    id: int
    bids: list[Level]
    asks: list[Level]
    current: int | None = None
    update: int | None = None


# strict=False: prices and sizes come as strings; Level's bounds apply in C.
_decode_snapshot = msgspec.json.Decoder(_OrderBookSnapshot, strict=False).decode


class GateioProtocol(VenueProtocol):
    """Gate.io spot v4 (JSON everywhere)."""

    venue: ClassVar[Venue] = Venue.GATEIO
    default_url: ClassVar[str] = "wss://api.gateio.ws/ws/v4/"
    default_rest_url: ClassVar[str] = "https://api.gateio.ws"
    #: Gate.io documents no per-connection limit.
    max_subscriptions: ClassVar[int | None] = None
    #: Gate.io closes quiet sockets after ~60 s; it answers ``spot.ping`` every ~15 s.
    heartbeat_interval: ClassVar[float] = 15.0
    channel_kinds: ClassVar[frozenset[ChannelKind]] = frozenset(_CHANNELS)
    #: Update interval of ``spot.order_book_update`` and ``spot.order_book``.
    interval: ClassVar[str] = "100ms"
    #: Levels of the ``spot.order_book`` snapshot channel (5, 10, 20, 50 or 100).
    snapshot_depth: ClassVar[int] = 20
    #: Levels of the ``spot.obu`` book (50, pushed every 20 ms, or 400, every 100 ms).
    obu_depth: ClassVar[int] = 50

    @classmethod
    def normalize_symbol(cls, symbol: str) -> str:
        """``btc_usdt``, ``BTC-USDT``, ``BTC/USDT``, ``BTCUSDT`` -> ``BTC_USDT``."""
        pair = symbol.strip().upper().replace("-", "_").replace("/", "_")
        if "_" in pair:
            return pair
        for quote in QUOTE_CURRENCIES:
            if pair.endswith(quote) and len(pair) > len(quote):
                return f"{pair[: -len(quote)]}_{quote}"
        raise ConfigError(
            f"cannot tell base from quote in Gate.io pair {symbol!r}: write it as BASE_QUOTE, "
            "e.g. BTC_USDT"
        )

    @classmethod
    def channel(cls, subscription: Subscription) -> str:
        """The channel and its payload, e.g. ``spot.order_book_update:BTC_USDT,100ms``."""
        return f"{_CHANNELS[subscription.kind]}:{','.join(cls._payload(subscription))}"

    @classmethod
    def _payload(cls, subscription: Subscription) -> list[str]:
        kind = subscription.kind
        if kind is ChannelKind.DEPTH:
            return [subscription.symbol, cls.interval]
        if kind is ChannelKind.DEPTH_SNAPSHOT:
            return [subscription.symbol, str(cls.snapshot_depth), cls.interval]
        if kind is ChannelKind.ORDER_BOOK_V2:
            return [f"ob.{subscription.symbol}.{cls.obu_depth}"]
        return [subscription.symbol]

    @classmethod
    def subscribe_requests(cls, subscriptions: Sequence[Subscription]) -> list[Request]:
        return [cls._request(sub, unsubscribe=False) for sub in subscriptions]

    @classmethod
    def unsubscribe_requests(cls, subscriptions: Sequence[Subscription]) -> list[Request]:
        return [cls._request(sub, unsubscribe=True) for sub in subscriptions]

    @classmethod
    def _request(cls, subscription: Subscription, *, unsubscribe: bool) -> Request:
        # One request per subscription: the order-book channels take one pair per payload,
        # and a per-subscription id tells exactly which one a refusal is about.
        request_id = next_request_id()
        text = encode_subscribe_request(
            _CHANNELS[subscription.kind],
            cls._payload(subscription),
            int(time.time()),
            request_id,
            unsubscribe=unsubscribe,
        )
        return Request(text, (subscription,), (cls.channel(subscription),), unsubscribe, request_id)

    @classmethod
    def heartbeat_message(cls) -> str:
        return encode_ping(int(time.time()))

    @classmethod
    def parse_control(cls, frame: bytes | str) -> SubscriptionAck | Pong | VenueError:
        return decoder.parse_control(frame)

    @classmethod
    def answered(
        cls, request: Request, reply: SubscriptionAck | VenueError
    ) -> tuple[Subscription, ...]:
        """Gate.io echoes the request ``id``."""
        if reply.request_id is not None and reply.request_id == request.request_id:
            return request.subscriptions
        return ()

    @classmethod
    def snapshot_url(cls, rest_url: str, symbol: str) -> str:
        pair = cls.normalize_symbol(symbol)
        return join_url(
            rest_url, f"/api/v4/spot/order_book?currency_pair={pair}&limit=100&with_id=true"
        )

    @classmethod
    def parse_snapshot(cls, body: bytes, symbol: str) -> OrderBookUpdate:
        """``{"id": .., "current": ms, "bids": [[p, s], ..], "asks": [..]}`` -> snapshot."""
        try:
            snapshot = _decode_snapshot(body)
        except msgspec.ValidationError as exc:
            raise FrameError(
                FrameErrorReason.INVALID_FIELD, f"order book snapshot: {exc}", body, Venue.GATEIO
            ) from None
        except (msgspec.DecodeError, UnicodeError, RecursionError) as exc:  # see the decoder
            raise FrameError(
                FrameErrorReason.MALFORMED_JSON, f"order book snapshot: {exc}", body, Venue.GATEIO
            ) from None
        return OrderBookUpdate(
            Venue.GATEIO,
            cls.normalize_symbol(symbol),
            snapshot.bids,
            snapshot.asks,
            is_snapshot=True,
            last_update_id=snapshot.id,
            time_ms=snapshot.current,
        )
