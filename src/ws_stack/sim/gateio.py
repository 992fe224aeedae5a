"""Gate.io spot v4 as the simulator speaks it: requests, acks, pushes and REST snapshots.

Frames are built with :mod:`ws_stack.gateio.encoder`, so the simulator sends exactly what
ws_stack's own codec tests against.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import msgspec

from ws_stack.gateio import encoder
from ws_stack.gateio.channels import (
    BOOK_TICKER,
    EVENT_SUBSCRIBE,
    EVENT_UNSUBSCRIBE,
    OBU,
    ORDER_BOOK,
    ORDER_BOOK_UPDATE,
    PING,
    TRADES,
)
from ws_stack.messages import Venue
from ws_stack.sim.faults import FaultPlan
from ws_stack.sim.market import LevelText, Market, SimTrade, split_symbol
from ws_stack.sim.session import Frame, RestResponse, Session, SimulatedVenue, Stream, StreamKind
from ws_stack.sim.stats import SimStats

__all__ = [
    "CODE_INVALID_ARGUMENT",
    "CODE_INVALID_REQUEST",
    "GateioSession",
    "SimulatedGateio",
    "parse_subscription",
]

#: Gate's error codes: 1 = request not understood, 2 = invalid argument.
CODE_INVALID_REQUEST = 1
CODE_INVALID_ARGUMENT = 2

_UPDATE_INTERVALS = ("20ms", "100ms")
_BOOK_LEVELS = ("5", "10", "20", "50", "100")
_BOOK_INTERVALS = ("100ms", "1000ms")
_OBU_DEPTHS = ("50", "400")
_REST_MAX_LIMIT = 100
_REST_DEFAULT_LIMIT = 10


class _Request(msgspec.Struct):
    channel: str = ""
    event: str = ""
    id: int | None = None
    time: int | None = None
    payload: list[str] | None = None


_decode_request = msgspec.json.Decoder(_Request).decode


def parse_subscription(
    channel: str, payload: Sequence[str], pairs: Sequence[str]
) -> list[Stream] | str:
    """The streams a subscribe request asks for, or why it cannot be served."""
    if channel in (TRADES, BOOK_TICKER):
        if not payload:
            return "payload must list at least one currency pair"
        unknown = [pair for pair in payload if pair not in pairs]
        if unknown:
            return f"unknown currency pair {', '.join(unknown)}"
        kind = StreamKind.TRADE_EACH if channel == TRADES else StreamKind.BOOK_TICKER
        return [Stream(f"{channel}:{pair}", pair, kind) for pair in payload]
    if channel == ORDER_BOOK_UPDATE:
        if len(payload) != 2 or payload[1] not in _UPDATE_INTERVALS:
            return f"payload must be [pair, interval] with interval in {list(_UPDATE_INTERVALS)}"
        if payload[0] not in pairs:
            return f"unknown currency pair {payload[0]}"
        return [
            Stream(
                f"{channel}:{payload[0]}", payload[0], StreamKind.DEPTH_DELTA, interval=payload[1]
            )
        ]
    if channel == ORDER_BOOK:
        if len(payload) != 3 or payload[1] not in _BOOK_LEVELS or payload[2] not in _BOOK_INTERVALS:
            return (
                f"payload must be [pair, level, interval] with level in "
                f"{list(_BOOK_LEVELS)} and interval in {list(_BOOK_INTERVALS)}"
            )
        if payload[0] not in pairs:
            return f"unknown currency pair {payload[0]}"
        return [
            Stream(
                f"{channel}:{payload[0]}",
                payload[0],
                StreamKind.DEPTH_SNAPSHOT,
                depth=int(payload[1]),
                interval=payload[2],
            )
        ]
    if channel == OBU:
        if len(payload) != 1:
            return "payload must be [ob.<pair>.<depth>]"
        prefix, _, rest = payload[0].partition(".")
        pair, _, depth = rest.rpartition(".")
        if prefix != "ob" or not pair or depth not in _OBU_DEPTHS:
            return f"payload must be [ob.<pair>.<depth>] with depth in {list(_OBU_DEPTHS)}"
        if pair not in pairs:
            return f"unknown currency pair {pair}"
        return [
            Stream(
                f"{channel}:{payload[0]}",
                pair,
                StreamKind.DEPTH_DELTA,
                depth=int(depth),
                full_first=True,
            )
        ]
    return f"unknown channel {channel}"


class GateioSession(Session):
    """One Gate.io connection: subscribe/unsubscribe, ``spot.ping`` and pushes."""

    venue = Venue.GATEIO

    def __init__(
        self,
        market: Market,
        plan: FaultPlan,
        stats: SimStats,
        *,
        conn_id: int = 0,
        replay: Sequence[Frame] | None = None,
        replay_loops: int = 1,
    ) -> None:
        super().__init__(
            market, plan, stats, conn_id=conn_id, replay=replay, replay_loops=replay_loops
        )
        self._conn_hex = f"{conn_id:016x}"
        self._requests = 0

    def receive(self, frame: Frame, now_ms: int) -> list[str]:
        try:
            request = _decode_request(frame)
        except msgspec.DecodeError:
            return [
                encoder.encode_error(
                    "", "", CODE_INVALID_REQUEST, "invalid argument struct", time_ms=now_ms
                )
            ]
        channel, event, request_id = request.channel, request.event, request.id
        if channel == PING:
            return [encoder.encode_pong(now_ms, request_id)]
        if event not in (EVENT_SUBSCRIBE, EVENT_UNSUBSCRIBE):
            return [
                encoder.encode_error(
                    channel,
                    event,
                    CODE_INVALID_REQUEST,
                    f"unknown event {event!r}",
                    request_id,
                    time_ms=now_ms,
                )
            ]
        payload = request.payload or []
        streams = parse_subscription(channel, payload, tuple(self.market.symbols))
        if isinstance(streams, str):
            if event == EVENT_SUBSCRIBE:
                self.stats.subscription_errors += 1
            return [
                encoder.encode_error(
                    channel, event, CODE_INVALID_ARGUMENT, streams, request_id, time_ms=now_ms
                )
            ]
        if channel == OBU and event == EVENT_SUBSCRIBE and streams[0].key in self.streams:
            # One subscription per stream and connection: Gate refuses the second.
            self.stats.subscription_errors += 1
            return [
                encoder.encode_error(
                    channel,
                    event,
                    CODE_INVALID_ARGUMENT,
                    f"Alert sub {payload[0]}",
                    request_id,
                    time_ms=now_ms,
                )
            ]
        for stream in streams:
            if event == EVENT_SUBSCRIBE:
                self._open(stream)
            else:
                self._close(stream.key)
        self._requests += 1
        trace_id = f"{self.conn_id:08x}{self._requests:024x}"
        return [
            encoder.encode_ack(
                channel,
                event,
                request_id,
                time_ms=now_ms,
                payload=payload,
                conn_id=self._conn_hex,
                trace_id=trace_id,
            )
        ]

    # -- pushes ----------------------------------------------------------------

    def render_trades(self, stream: Stream, trades: list[SimTrade], now_ms: int) -> Frame:
        trade = trades[-1]  # TRADE_EACH: Gate sends one trade per frame
        return encoder.encode_trade(
            stream.symbol,
            trade.price,
            trade.size,
            trade.side,
            trade.time_ms,
            trade.trade_id,
            push_time_ms=now_ms,
        )

    def render_delta(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        first: int,
        last: int,
        now_ms: int,
    ) -> Frame:
        if stream.full_first:
            return encoder.encode_obu(
                stream.symbol, stream.depth, bids, asks, last, now_ms, first_id=first
            )
        return encoder.encode_order_book_update(stream.symbol, bids, asks, first, last, now_ms)

    def render_full(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        version: int,
        now_ms: int,
    ) -> Frame:
        return encoder.encode_obu(
            stream.symbol, stream.depth, bids, asks, version, now_ms, full=True
        )

    def render_snapshot(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        version: int,
        now_ms: int,
    ) -> Frame:
        return encoder.encode_order_book(stream.symbol, bids, asks, version, now_ms)

    def render_ticker(
        self, stream: Stream, bid: LevelText, ask: LevelText, version: int, now_ms: int
    ) -> Frame:
        return encoder.encode_book_ticker(stream.symbol, *bid, *ask, version, now_ms)

    def malformed(self, symbol: str, number: int, now_ms: int) -> Frame:
        """Rotates: truncated JSON, a push on an unknown channel, a non-numeric price."""
        bid, ask = self.market[symbol].best()
        ticker = encoder.encode_book_ticker(symbol, *bid, *ask, self.market[symbol].version, now_ms)
        which = number % 3
        if which == 1:
            return ticker[: len(ticker) // 2]
        if which == 2:
            return ticker.replace(f'"channel":"{BOOK_TICKER}"', '"channel":"spot.unknown"', 1)
        return encoder.encode_book_ticker(
            symbol, "not-a-price", bid[1], *ask, self.market[symbol].version, now_ms
        )


class SimulatedGateio(SimulatedVenue):
    """Gate.io's endpoint ``/ws/v4/`` and REST ``GET /api/v4/spot/order_book``."""

    venue = Venue.GATEIO
    ws_path = "/ws/v4/"
    session_class = GateioSession

    @staticmethod
    def wire_symbol(symbol: str) -> str:
        base, quote = split_symbol(symbol)
        return f"{base}_{quote}" if quote else base

    def rest(self, path: str, query: dict[str, str], now_ms: int) -> RestResponse:
        route = urlsplit(path).path.rstrip("/")
        if route != "/api/v4/spot/order_book":
            return _rest_error(404, "NOT_FOUND", f"Not found: {route}")
        pair = query.get("currency_pair")
        if not pair:
            return _rest_error(
                400, "MISSING_REQUIRED_PARAM", "Missing required parameter: currency_pair"
            )
        if pair not in self.market:
            return _rest_error(400, "INVALID_CURRENCY_PAIR", f"Invalid currency pair {pair}")
        limit = query.get("limit", str(_REST_DEFAULT_LIMIT))
        if not limit.isdigit() or not 1 <= int(limit) <= _REST_MAX_LIMIT:
            return _rest_error(
                400, "INVALID_PARAM_VALUE", f"limit must be between 1 and {_REST_MAX_LIMIT}"
            )
        market = self.market[pair]
        bids, asks = market.top(int(limit))
        body: dict[str, object] = {}
        if query.get("with_id", "false").lower() == "true":
            body["id"] = market.version
        last = market.ticks_after(market.version - 1)
        body.update(
            current=now_ms, update=last[0].time_ms if last else now_ms, asks=asks, bids=bids
        )
        return RestResponse(200, msgspec.json.encode(body))


def _rest_error(status: int, label: str, message: str) -> RestResponse:
    return RestResponse(status, msgspec.json.encode({"label": label, "message": message}))
