"""MEXC spot v3 connection protocol: the mixin a MEXC connection is made of.

JSON control messages (``SUBSCRIPTION`` / ``UNSUBSCRIPTION`` / ``PING``), acks that echo
the channel names in ``msg``, at most 30 subscriptions per connection, and the REST depth
snapshot (``GET /api/v3/depth``, ``lastUpdateId``). Pure; see :mod:`ws_stack.protocol`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import msgspec

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import Level, OrderBookUpdate, Pong, SubscriptionAck, Venue, VenueError
from ws_stack.mexc import decoder
from ws_stack.mexc.encoder import ChannelKind as MexcChannelKind
from ws_stack.mexc.encoder import channel as mexc_channel
from ws_stack.protocol import ChannelKind, Request, Subscription, VenueProtocol, join_url

__all__ = ["MAX_SUBSCRIPTIONS", "MexcProtocol"]

#: MEXC's documented limit of subscriptions per connection.
MAX_SUBSCRIPTIONS = 30

_KINDS: dict[ChannelKind, MexcChannelKind] = {
    ChannelKind.TRADES: "aggre.deals",
    ChannelKind.BOOK_TICKER: "aggre.bookTicker",
    ChannelKind.DEPTH: "aggre.depth",
    ChannelKind.DEPTH_SNAPSHOT: "limit.depth",
}

_encode_json = msgspec.json.Encoder().encode


class _DepthSnapshot(msgspec.Struct, gc=False):
    last_update_id: int = msgspec.field(name="lastUpdateId")
    bids: list[Level]
    asks: list[Level]


# strict=False: prices and sizes come as strings ("50000.1"); Level's bounds apply in C.
_decode_snapshot = msgspec.json.Decoder(_DepthSnapshot, strict=False).decode


class MexcProtocol(VenueProtocol):
    """MEXC spot v3 (protobuf pushes, JSON control)."""

    venue: ClassVar[Venue] = Venue.MEXC
    default_url: ClassVar[str] = "wss://wbs-api.mexc.com/ws"
    default_rest_url: ClassVar[str] = "https://api.mexc.com"
    max_subscriptions: ClassVar[int | None] = MAX_SUBSCRIPTIONS
    #: MEXC drops a connection after 60 s without traffic; it asks for a PING every ~20 s.
    heartbeat_interval: ClassVar[float] = 20.0
    channel_kinds: ClassVar[frozenset[ChannelKind]] = frozenset(_KINDS)
    #: Push interval of the aggregated channels (``100ms`` or ``10ms``).
    interval: ClassVar[str] = "100ms"
    #: Levels of the ``limit.depth`` snapshot channel (5, 10 or 20).
    snapshot_depth: ClassVar[int] = 20

    @classmethod
    def normalize_symbol(cls, symbol: str) -> str:
        """``btc_usdt``, ``BTC-USDT``, ``BTC/USDT`` -> ``BTCUSDT``."""
        plain = symbol.strip().upper()
        for separator in ("_", "-", "/"):
            plain = plain.replace(separator, "")
        return plain

    @classmethod
    def channel(cls, subscription: Subscription) -> str:
        """E.g. ``spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT``."""
        return mexc_channel(
            _KINDS[subscription.kind],
            subscription.symbol,
            interval=cls.interval,
            depth=cls.snapshot_depth,
        )

    @classmethod
    def subscribe_requests(cls, subscriptions: Sequence[Subscription]) -> list[Request]:
        return cls._requests("SUBSCRIPTION", subscriptions, unsubscribe=False)

    @classmethod
    def unsubscribe_requests(cls, subscriptions: Sequence[Subscription]) -> list[Request]:
        return cls._requests("UNSUBSCRIPTION", subscriptions, unsubscribe=True)

    @classmethod
    def _requests(
        cls, method: str, subscriptions: Sequence[Subscription], *, unsubscribe: bool
    ) -> list[Request]:
        # One message names many channels; batches stay within the per-connection limit.
        requests = []
        for start in range(0, len(subscriptions), MAX_SUBSCRIPTIONS):
            batch = tuple(subscriptions[start : start + MAX_SUBSCRIPTIONS])
            channels = tuple(cls.channel(sub) for sub in batch)
            text = _encode_json({"method": method, "params": list(channels)}).decode()
            requests.append(Request(text, batch, channels, unsubscribe))
        return requests

    @classmethod
    def heartbeat_message(cls) -> str:
        return '{"method":"PING"}'

    @classmethod
    def parse_control(cls, frame: bytes | str) -> SubscriptionAck | Pong | VenueError:
        return decoder.parse_control(frame)

    @classmethod
    def answered(
        cls, request: Request, reply: SubscriptionAck | VenueError
    ) -> tuple[Subscription, ...]:
        """MEXC names the channels (comma-separated when several) in ``msg``."""
        if reply.channel is None:
            return ()
        names = {name.strip() for name in reply.channel.split(",")}
        return tuple(
            sub
            for sub, channel in zip(request.subscriptions, request.channels, strict=True)
            if channel in names
        )

    @classmethod
    def snapshot_url(cls, rest_url: str, symbol: str) -> str:
        return join_url(rest_url, f"/api/v3/depth?symbol={cls.normalize_symbol(symbol)}&limit=1000")

    @classmethod
    def parse_snapshot(cls, body: bytes, symbol: str) -> OrderBookUpdate:
        """``{"lastUpdateId": .., "bids": [[p, q], ..], "asks": [..]}`` -> snapshot."""
        try:
            snapshot = _decode_snapshot(body)
        except msgspec.ValidationError as exc:
            raise FrameError(
                FrameErrorReason.INVALID_FIELD, f"depth snapshot: {exc}", body, Venue.MEXC
            ) from None
        except (msgspec.DecodeError, UnicodeError, RecursionError) as exc:  # as detect._JSON_ERRORS
            raise FrameError(
                FrameErrorReason.MALFORMED_JSON, f"depth snapshot: {exc}", body, Venue.MEXC
            ) from None
        return OrderBookUpdate(
            Venue.MEXC,
            cls.normalize_symbol(symbol),
            snapshot.bids,
            snapshot.asks,
            is_snapshot=True,
            last_update_id=snapshot.last_update_id,
        )
