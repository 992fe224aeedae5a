"""The sans-I/O core of the simulator: one connection's subscriptions and pushes.

A :class:`Session` takes the client's text frames and returns the venue's replies
(:meth:`Session.receive`), and builds the pushes of one rate tick
(:meth:`Session.push_slot`) from the shared :class:`~ws_stack.sim.market.Market`, applying
the connection's :class:`~ws_stack.sim.faults.FaultPlan`. :class:`SimulatedVenue` holds
what is per venue rather than per connection (endpoint, symbol spelling, REST answers)
and makes the sessions. Venue subclasses (:mod:`ws_stack.sim.mexc`,
:mod:`ws_stack.sim.gateio`) parse requests and encode frames with the venue's own
encoder; they never await or touch a socket.

Each stream keeps a cursor: the last market version it delivered. Deltas cover exactly
``(cursor, version]`` so a client sees a continuous sequence; the market advances when a
stream of this connection has caught up with it, so with several connections it moves at
about ``rate_hz`` and each connection gets every version in order.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from ws_stack.messages import Venue
from ws_stack.protocol import ChannelKind
from ws_stack.sim.faults import FaultPlan, PushAction
from ws_stack.sim.market import LevelText, Market, SimTrade, SymbolMarket, Tick, merge_ticks
from ws_stack.sim.stats import SimStats

__all__ = [
    "REPLAY_STREAM",
    "Push",
    "RestResponse",
    "Session",
    "SimulatedVenue",
    "Stream",
    "StreamKind",
]

#: Most frames one stream emits per rate tick (trades and per-event depth emit one frame
#: per item): bounds the work of a tick when a subscriber is far behind.
MAX_FRAMES_PER_SLOT = 256
#: ``frames_sent`` key of replayed frames.
REPLAY_STREAM = "replay"

Frame = bytes | str


class StreamKind(enum.Enum):
    """How a stream turns market ticks into frames."""

    #: All trades since the last push, in one frame.
    TRADES = "trades"
    #: One frame per trade.
    TRADE_EACH = "trade_each"
    #: One increment covering every version since the last push (``first``..``last``).
    DEPTH_DELTA = "depth_delta"
    #: One increment frame per version.
    DEPTH_EVENT = "depth_event"
    #: The top-N book at the current version.
    DEPTH_SNAPSHOT = "depth_snapshot"
    #: Best bid and ask at the current version.
    BOOK_TICKER = "book_ticker"


#: The channel (in ws_stack's terms) a stream of each kind carries.
_CHANNELS = {
    StreamKind.TRADES: ChannelKind.TRADES,
    StreamKind.TRADE_EACH: ChannelKind.TRADES,
    StreamKind.DEPTH_DELTA: ChannelKind.DEPTH,
    StreamKind.DEPTH_EVENT: ChannelKind.DEPTH,
    StreamKind.DEPTH_SNAPSHOT: ChannelKind.DEPTH_SNAPSHOT,
    StreamKind.BOOK_TICKER: ChannelKind.BOOK_TICKER,
}


@dataclass(eq=False, slots=True)
class Stream:
    """One subscription of one connection."""

    #: The venue's name for it: MEXC channel, or ``"<channel>:<pair>"`` on Gate.io.
    key: str
    symbol: str
    kind: StreamKind
    depth: int = 0
    interval: str = ""
    #: MEXC: a legacy JSON channel rather than protobuf.
    legacy: bool = False
    #: Last market version fully delivered.
    cursor: int = 0
    #: Last trade delivered (``TRADE_EACH`` streams stop mid-tick on a malformed push).
    last_trade_id: int = 0
    #: A ``DEPTH_DELTA`` stream that opens with a full book (Gate.io ``spot.obu``).
    full_first: bool = False
    #: Whether that full book has been sent.
    full_sent: bool = False

    @property
    def channel(self) -> str:
        """ws_stack's name of the stream's channel (a ``ChannelKind`` value)."""
        if self.full_first:
            return ChannelKind.ORDER_BOOK_V2.value
        return _CHANNELS[self.kind].value


@dataclass(frozen=True, slots=True)
class Push:
    """One frame to send, and the stream it belongs to (the ``frames_sent`` key)."""

    stream: str
    frame: Frame


@dataclass(frozen=True, slots=True)
class RestResponse:
    """An HTTP answer of the REST snapshot endpoint (JSON body)."""

    status: int
    body: bytes


class Session(ABC):
    """One connection's protocol state: subscriptions, control replies, pushes."""

    venue: Venue

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
        self.market = market
        self.plan = plan
        self.stats = stats
        self.conn_id = conn_id
        self.streams: dict[str, Stream] = {}
        self._replay = replay
        self._replay_end = len(replay) * replay_loops if replay is not None else 0
        self._replay_pos = 0

    # -- control ---------------------------------------------------------------

    @abstractmethod
    def receive(self, frame: Frame, now_ms: int) -> list[str]:
        """Handle one client frame; return the venue's replies (may be empty)."""

    @property
    def replay_done(self) -> bool:
        """In replay mode, whether every replayed frame has been produced."""
        return self._replay is not None and self._replay_pos >= self._replay_end

    def _open(self, stream: Stream) -> bool:
        """Register ``stream`` from the current version on; ``False`` if already open."""
        if stream.key in self.streams:
            return False
        market = self.market[stream.symbol]
        stream.cursor = market.version
        stream.last_trade_id = market.last_trade_id
        self.streams[stream.key] = stream
        self.stats.subscriptions += 1
        return True

    def _close(self, key: str) -> None:
        if self.streams.pop(key, None) is not None:
            self.stats.unsubscriptions += 1

    # -- pushes ----------------------------------------------------------------

    def push_slot(self, now_ms: int) -> list[Push]:
        """The pushes of one rate tick: one per stream (more for per-item streams)."""
        if not self.streams:
            return []
        if self._replay is not None:
            return self._replay_slot(now_ms)
        self._advance(now_ms)
        pushes: list[Push] = []
        plan = self.plan
        for stream in list(self.streams.values()):
            market = self.market[stream.symbol]
            made = len(pushes)
            if stream.kind is StreamKind.TRADE_EACH:
                self._each_trade(stream, market, now_ms, pushes)
            elif stream.kind is StreamKind.DEPTH_EVENT:
                self._each_event(stream, market, now_ms, pushes)
            else:
                self._one_push(stream, market, now_ms, pushes)
            if plan.silenced(stream.channel):  # made, so the stream moves on, and lost
                self.stats.faults["silence"] += len(pushes) - made
                del pushes[made:]
        return pushes

    def _advance(self, now_ms: int) -> None:
        """Step every symbol that a stream of this connection has fully delivered."""
        stepped: set[str] = set()
        for stream in self.streams.values():
            symbol = stream.symbol
            if symbol not in stepped:
                market = self.market[symbol]
                if stream.cursor >= market.version:
                    market.step(now_ms)
                    stepped.add(symbol)

    def _one_push(
        self, stream: Stream, market: SymbolMarket, now_ms: int, pushes: list[Push]
    ) -> None:
        kind = stream.kind
        if stream.full_first and not stream.full_sent:
            # The first push of such a stream is its whole book; the deltas follow on.
            bids, asks = market.top(stream.depth)
            frame = self.render_full(stream, bids, asks, market.version, now_ms)
            stream.full_sent = True
            stream.cursor = market.version
            pushes.append(Push(stream.key, frame))
            return
        action = self.plan.decide(kind is StreamKind.DEPTH_DELTA)
        if action is PushAction.MALFORMED:
            # The data stays pending (cursor unchanged) and goes out with the next push,
            # so a malformed frame never doubles as a sequence gap.
            pushes.append(self._malformed_push(stream.key, stream.symbol, now_ms))
            return
        if action is PushAction.GAP:
            # The versions up to now are never sent; the next delta starts after them.
            self.stats.faults["gap"] += 1
            stream.cursor = market.version
            market.step(now_ms)
        if kind is StreamKind.DEPTH_SNAPSHOT:
            bids, asks = market.top(stream.depth)
            frame = self.render_snapshot(stream, bids, asks, market.version, now_ms)
        elif kind is StreamKind.BOOK_TICKER:
            bid, ask = market.best()
            frame = self.render_ticker(stream, bid, ask, market.version, now_ms)
        else:
            ticks = market.ticks_after(stream.cursor)
            if not ticks:
                return
            if kind is StreamKind.TRADES:
                trades = [
                    t for tick in ticks for t in tick.trades if t.trade_id > stream.last_trade_id
                ]
                if not trades:
                    stream.cursor = market.version
                    return
                stream.last_trade_id = trades[-1].trade_id
                frame = self.render_trades(stream, trades, now_ms)
            else:
                bids, asks = merge_ticks(ticks)
                frame = self.render_delta(
                    stream, bids, asks, ticks[0].version, ticks[-1].version, now_ms
                )
        stream.cursor = market.version
        pushes.append(Push(stream.key, frame))

    def _each_trade(
        self, stream: Stream, market: SymbolMarket, now_ms: int, pushes: list[Push]
    ) -> None:
        emitted = 0
        for tick in market.ticks_after(stream.cursor):
            for trade in tick.trades:
                if trade.trade_id <= stream.last_trade_id:
                    continue
                if emitted == MAX_FRAMES_PER_SLOT:
                    return
                emitted += 1
                if self.plan.decide(False) is PushAction.MALFORMED:
                    pushes.append(self._malformed_push(stream.key, stream.symbol, now_ms))
                    return  # this trade goes out with the next tick
                stream.last_trade_id = trade.trade_id
                pushes.append(Push(stream.key, self.render_trade(stream, trade, now_ms)))
            stream.cursor = tick.version

    def _each_event(
        self, stream: Stream, market: SymbolMarket, now_ms: int, pushes: list[Push]
    ) -> None:
        for tick in market.ticks_after(stream.cursor)[:MAX_FRAMES_PER_SLOT]:
            action = self.plan.decide(True)
            if action is PushAction.MALFORMED:
                pushes.append(self._malformed_push(stream.key, stream.symbol, now_ms))
                return  # this version goes out with the next tick
            stream.cursor = tick.version
            if action is PushAction.GAP:
                self.stats.faults["gap"] += 1
                continue
            pushes.append(Push(stream.key, self.render_event(stream, tick, now_ms)))

    def _replay_slot(self, now_ms: int) -> list[Push]:
        replay = self._replay
        if replay is None or self._replay_pos >= self._replay_end:
            return []
        if self.plan.decide(False) is PushAction.MALFORMED:
            symbol = next(iter(self.market.symbols))
            return [self._malformed_push(REPLAY_STREAM, symbol, now_ms)]
        frame = replay[self._replay_pos % len(replay)]
        self._replay_pos += 1
        return [Push(REPLAY_STREAM, frame)]

    def _malformed_push(self, key: str, symbol: str, now_ms: int) -> Push:
        self.stats.faults["malformed"] += 1
        return Push(key, self.malformed(symbol, self.plan.malformed, now_ms))

    # -- venue encoding --------------------------------------------------------

    @abstractmethod
    def render_trades(self, stream: Stream, trades: list[SimTrade], now_ms: int) -> Frame:
        """A ``TRADES`` push carrying ``trades``."""

    def render_trade(self, stream: Stream, trade: SimTrade, now_ms: int) -> Frame:
        """A ``TRADE_EACH`` push carrying one trade."""
        return self.render_trades(stream, [trade], now_ms)

    @abstractmethod
    def render_delta(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        first: int,
        last: int,
        now_ms: int,
    ) -> Frame:
        """A ``DEPTH_DELTA`` push covering versions ``first``..``last``."""

    def render_event(self, stream: Stream, tick: Tick, now_ms: int) -> Frame:
        """A ``DEPTH_EVENT`` push: the increment of one version."""
        return self.render_delta(
            stream, list(tick.bids), list(tick.asks), tick.version, tick.version, now_ms
        )

    @abstractmethod
    def render_snapshot(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        version: int,
        now_ms: int,
    ) -> Frame:
        """A ``DEPTH_SNAPSHOT`` push of the top levels at ``version``."""

    def render_full(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        version: int,
        now_ms: int,
    ) -> Frame:
        """The full book a ``full_first`` stream opens with (a venue that has one)."""
        raise NotImplementedError(f"{self.venue.value} has no stream that opens with a full book")

    @abstractmethod
    def render_ticker(
        self, stream: Stream, bid: LevelText, ask: LevelText, version: int, now_ms: int
    ) -> Frame:
        """A ``BOOK_TICKER`` push."""

    @abstractmethod
    def malformed(self, symbol: str, number: int, now_ms: int) -> Frame:
        """The ``number``-th malformed frame (1-based): the kind rotates with it."""


class SimulatedVenue(ABC):
    """What is venue-specific but not per connection: names, paths, REST snapshots.

    The venue's side of what :class:`ws_stack.protocol.VenueProtocol` is the client's
    side of. It reads the client's requests with its own parsers, not through the
    client's protocol classes, so a client that sends what the venue does not expect
    fails against it.
    """

    venue: Venue
    #: Path of the WebSocket endpoint.
    ws_path: str
    #: The per-connection state of this venue.
    session_class: type[Session]

    def __init__(self, market: Market) -> None:
        self.market = market

    @staticmethod
    @abstractmethod
    def wire_symbol(symbol: str) -> str:
        """``symbol`` as this venue writes it (``BTCUSDT`` / ``BTC_USDT``)."""

    def session(
        self,
        plan: FaultPlan,
        stats: SimStats,
        *,
        conn_id: int,
        replay: Sequence[Frame] | None,
        replay_loops: int,
    ) -> Session:
        """A new session for one connection."""
        return self.session_class(
            self.market, plan, stats, conn_id=conn_id, replay=replay, replay_loops=replay_loops
        )

    @abstractmethod
    def rest(self, path: str, query: dict[str, str], now_ms: int) -> RestResponse:
        """Answer a plain HTTP GET (the REST order-book snapshot, or an error)."""
