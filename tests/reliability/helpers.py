"""Shared machinery of the reliability tests: bounded loops, the simulator's truth, audits.

* :class:`Truth` records the simulator's order book at every version, so that a client
  book can be compared with the venue *at the client's own version* at any moment;
* :class:`BookAuditor` does that comparison after every order-book update a stream
  applies: a book that says it is live must equal the truth (zero silent divergence);
* :class:`SessionLog` records, per simulator connection, which streams the client
  subscribed to (resubscription must be complete after every reconnect);
* :func:`fault_run` runs one :class:`~ws_stack.asyncio.stream.MarketStream` against a
  faulty simulator until a condition holds, turns the faults off, lets everything settle
  and returns a :class:`RunReport`, whose :meth:`~RunReport.check` asserts the
  reliability bars (a clear end state, no silent divergence, complete resubscription,
  no uncounted drop, no bug-class error).

The simulator's market and sessions are reached through private attributes on purpose:
the tests watch it from outside without it knowing, so the checks cannot change it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ws_stack.asyncio.connection import ConnectionConfig
from ws_stack.asyncio.stream import MarketStream
from ws_stack.book_sync import SyncStats
from ws_stack.exceptions import ConnectionFailed, FrameErrorReason
from ws_stack.messages import OrderBookUpdate, Venue, WebSocketMessageType
from ws_stack.metrics import MetricsSnapshot
from ws_stack.protocol import ChannelKind
from ws_stack.reconnect import ReconnectionPolicy
from ws_stack.sim import FaultConfig, SimConfig, VenueSimulator
from ws_stack.sim.session import StreamKind
from ws_stack.state import ConnectionState

#: Upper bound of one reliability test's event loop, in seconds: it only stops a hang.
TEST_TIMEOUT = 60.0
KINDS = (ChannelKind.TRADES, ChannelKind.BOOK_TICKER, ChannelKind.DEPTH)
#: Symbols per venue in the fault runs: 11 MEXC symbols x 3 channels = 33 subscriptions,
#: two sharded connections (30 + 3).
MEXC_SYMBOLS = tuple(
    f"{base}USDT"
    for base in ("BTC", "ETH", "SOL", "XRP", "DOGE", "ADA", "DOT", "LTC", "TRX", "BNB", "AVAX")
)
GATE_SYMBOLS = ("BTC_USDT", "ETH_USDT", "SOL_USDT", "XRP_USDT")
SYMBOLS = {Venue.MEXC: MEXC_SYMBOLS, Venue.GATEIO: GATE_SYMBOLS}
#: How the simulator names the stream each client subscription opens.
_STREAM_KINDS = {
    Venue.MEXC: {
        ChannelKind.TRADES: StreamKind.TRADES,
        ChannelKind.BOOK_TICKER: StreamKind.BOOK_TICKER,
        ChannelKind.DEPTH: StreamKind.DEPTH_DELTA,
        ChannelKind.DEPTH_SNAPSHOT: StreamKind.DEPTH_SNAPSHOT,
    },
    Venue.GATEIO: {
        ChannelKind.TRADES: StreamKind.TRADE_EACH,
        ChannelKind.BOOK_TICKER: StreamKind.BOOK_TICKER,
        ChannelKind.DEPTH: StreamKind.DEPTH_DELTA,
        ChannelKind.DEPTH_SNAPSHOT: StreamKind.DEPTH_SNAPSHOT,
        ChannelKind.ORDER_BOOK_V2: StreamKind.DEPTH_DELTA,
    },
}
#: Frame-error reasons that mean a ws_stack bug rather than a bad frame.
BUG_REASONS = (FrameErrorReason.INTERNAL_ERROR.value, FrameErrorReason.CALLBACK_ERROR.value)

Quotes = list[tuple[float, float]]


def fast_config(**overrides: Any) -> ConnectionConfig:
    """Small timeouts and delays, so that a fault cycle takes a fraction of a second."""
    settings: dict[str, Any] = {
        "connect_timeout": 2.0,
        "close_timeout": 0.2,
        "heartbeat_interval": 0.2,
        "ws_ping_interval": None,
        "ws_ping_timeout": None,
        "dead_peer_timeout": 2.0,
        "reconnect": ReconnectionPolicy(
            initial_delay=0.005, factor=2, max_delay=0.05, max_attempts=None, jitter=0.5, seed=3
        ),
    }
    settings.update(overrides)
    return ConnectionConfig(**settings)


async def wait_until(
    predicate: Callable[[], bool],
    what: str,
    *,
    timeout: float = 30.0,
    interval: float = 0.01,
    state: Callable[[], object] | None = None,
) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` (and ``state()``) after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            seen = f"; state: {state()}" if state is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{seen}")
        await asyncio.sleep(interval)


# -- the simulator's truth --------------------------------------------------------------


def fingerprint(bids: Quotes, asks: Quotes) -> int:
    """A hash of a whole book (bids and asks, best first, as ``(price, size)``)."""
    return hash((tuple(bids), tuple(asks)))


class Truth:
    """The simulator's book of every symbol at each of its last ``keep`` versions.

    Kept as fingerprints in a ring allocated in full up front, so that recording weighs
    the same from the first version on (the soak measures memory around it).
    """

    def __init__(self, sim: VenueSimulator, keep: int = 4096) -> None:
        self._keep = keep
        #: While set, the market does not move: streams only deliver what is pending.
        self.frozen = False
        self._rings: dict[str, list[tuple[int, int]]] = {}
        for symbol, market in sim._market.symbols.items():
            # Distinct placeholders as large as real entries (two ints outside the cache).
            ring = [(-(n + 1_000_000), n + 1_000_000) for n in range(keep)]
            self._rings[symbol] = ring
            self._record(ring, market)
            market.step = self._recording(ring, market, market.step)  # type: ignore[method-assign]

    def _recording(
        self, ring: list[tuple[int, int]], market: Any, step: Callable[[int], Any]
    ) -> Callable[[int], Any]:
        def recorded_step(time_ms: int) -> Any:
            if self.frozen:
                return None  # the callers of step() ignore its result
            tick = step(time_ms)
            self._record(ring, market)
            return tick

        return recorded_step

    def _record(self, ring: list[tuple[int, int]], market: Any) -> None:
        bids, asks = market.top()
        version = market.version
        ring[version % self._keep] = (
            version,
            fingerprint(
                [(float(p), float(s)) for p, s in bids], [(float(p), float(s)) for p, s in asks]
            ),
        )

    def at(self, symbol: str, version: int | None) -> int | None:
        """The book's fingerprint at ``version``; ``None`` if no longer kept."""
        if version is None:
            return None
        kept, print_ = self._rings[symbol][version % self._keep]
        return print_ if kept == version else None


class BookAuditor:
    """Checks every live book of a stream against :class:`Truth` after each update."""

    def __init__(self, stream: MarketStream, truth: Truth) -> None:
        self.stream = stream
        self.truth = truth
        #: Comparisons made, and versions too old to compare (the truth keeps a window).
        self.checked = 0
        self.unverifiable = 0
        #: One line per divergence found; must stay empty.
        self.divergent: list[str] = []
        # Registered after the stream's own callback: it sees the book the update left.
        stream.handler.on(WebSocketMessageType.ORDER_BOOK, self._on_update)

    def _on_update(self, update: OrderBookUpdate) -> None:
        sync = self.stream.books.get(update.symbol)
        if sync is not None and sync.live:
            self.verify(update.symbol)

    def verify(self, symbol: str) -> None:
        """Compare ``symbol``'s book with the truth at its version, if it claims to be live."""
        sync = self.stream.books[symbol]
        if not sync.live:
            return
        book = sync.book
        truth = self.truth.at(symbol, book.last_update_id)
        if truth is None:
            self.unverifiable += 1
            return
        self.checked += 1
        if fingerprint(book.bids(), book.asks()) != truth:
            self.divergent.append(
                f"{symbol} @ {book.last_update_id}: live book differs from "
                f"the simulator's (best bids {book.bids(3)})"
            )


class SessionLog:
    """The streams each simulator connection opened, as ``(symbol, StreamKind)`` sets."""

    def __init__(self, sim: VenueSimulator) -> None:
        self.opened: list[set[tuple[str, StreamKind]]] = []
        venue = sim._simulated_venue
        make_session = venue.session

        def logged_session(*args: Any, **kwargs: Any) -> Any:
            session = make_session(*args, **kwargs)
            opened: set[tuple[str, StreamKind]] = set()
            self.opened.append(opened)
            open_stream = session._open

            def logged_open(stream: Any) -> bool:
                opened.add((stream.symbol, stream.kind))
                return open_stream(stream)

            session._open = logged_open
            return session

        venue.session = logged_session  # type: ignore[method-assign]


def expected_streams(stream: MarketStream) -> list[set[tuple[str, StreamKind]]]:
    """Per connection of ``stream``, the simulator streams its subscriptions open."""
    kinds = _STREAM_KINDS[stream.venue]
    return [
        {(sub.symbol, kinds[sub.kind]) for sub in connection.subscriptions}
        for connection in stream.group.connections
    ]


# -- one run against a faulty simulator -------------------------------------------------


@dataclass
class RunReport:
    """What a :func:`fault_run` saw; :meth:`check` asserts the reliability bars on it."""

    venue: Venue
    #: ``connected`` when the run settled, ``error`` when the policy gave up.
    outcome: str
    failure: ConnectionFailed | None
    metrics: MetricsSnapshot
    books: dict[str, SyncStats]
    sim_faults: dict[str, int]
    sim_pushes: int
    sim_accepted: int
    sessions: list[set[tuple[str, StreamKind]]]
    expected: list[set[tuple[str, StreamKind]]]
    audited: int
    unverifiable: int
    divergent: list[str]
    #: Frames read from sockets = frames handled + dropped by the queue (+ still queued).
    frames_read: int
    frames_handled: int
    queue_dropped: int
    #: Whether every frame the simulator sent was received (runs without abrupt closes).
    exact: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        """The bars: a clear end state, no silent divergence, complete resubscription,
        nothing dropped without being counted, no bug-class error."""
        assert self.outcome in ("connected", "error")
        if self.outcome == "error":
            assert self.failure is not None and "attempt" in str(self.failure)
        assert self.divergent == [], self.divergent
        for opened in self.sessions:
            assert not opened or opened in self.expected, (
                f"a session subscribed to {len(opened)} streams, expected one of "
                f"{[len(e) for e in self.expected]}"
            )
        assert self.frames_read == self.frames_handled + self.queue_dropped
        assert self.metrics.queue_dropped == self.queue_dropped
        assert not set(self.metrics.errors) & set(BUG_REASONS), self.metrics.errors
        if self.exact is not None:
            assert self.exact, "a frame the simulator sent was neither received nor counted"

    @property
    def summary(self) -> dict[str, Any]:
        """The figures of this run, for the reliability table."""
        return {
            "venue": self.venue.value,
            "outcome": self.outcome,
            "reconnects": self.metrics.reconnects,
            "frames": self.metrics.frames,
            "errors": dict(sorted(self.metrics.errors.items())),
            "queue_dropped": self.queue_dropped,
            "resyncs": sum(b.resyncs for b in self.books.values()),
            "restarts": sum(b.restarts for b in self.books.values()),
            "sim_faults": self.sim_faults,
            "sessions": len(self.sessions),
            "audited": self.audited,
            "unverifiable": self.unverifiable,
            "divergent": len(self.divergent),
            **self.extra,
        }


Drive = Callable[[MarketStream, VenueSimulator], Awaitable[None]]


def reach(predicate: Callable[[MarketStream, VenueSimulator], bool], what: str) -> Drive:
    """A :data:`Drive` that just waits until ``predicate(stream, sim)`` holds."""

    async def drive(stream: MarketStream, sim: VenueSimulator) -> None:
        await wait_until(lambda: predicate(stream, sim), what)

    return drive


def reconnected(times: int) -> Drive:
    """Wait until every connection of the stream was re-established ``times`` times."""
    return reach(
        lambda stream, sim: all(c.counters.reconnects >= times for c in stream.group.connections),
        f"every connection to reconnect {times} times",
    )


async def fault_run(
    venue: Venue,
    faults: FaultConfig,
    drive: Drive,
    *,
    config: ConnectionConfig | None = None,
    symbols: Sequence[str] | None = None,
    kinds: Iterable[ChannelKind] = KINDS,
    rate_hz: float = 50.0,
    seed: int = 0,
    exact: bool = False,
    slow_callback: Callable[[Any], None] | None = None,
    expect_failure: bool = False,
    transport: str = "websockets",
) -> RunReport:
    """Stream from a simulator injecting ``faults`` while ``drive(stream, sim)`` runs, then settle.

    Settling turns the faults (and ``slow_callback``) off, waits for every connection to
    be connected and every book to be live, stops the market, and waits for every book
    to reach the simulator's final version (or, with a slow consumer, to be flagged). With
    ``exact``, also waits until every frame the simulator sent was read. With
    ``expect_failure``, the run must end in ``ERROR`` (the policy gave up). ``transport``
    is the connections' WebSocket library.
    """
    symbols = tuple(symbols or SYMBOLS[venue])
    sim_config = SimConfig(symbols=symbols, rate_hz=rate_hz, seed=seed, faults=faults)
    slow = {"on": slow_callback is not None}
    async with VenueSimulator(venue, sim_config) as sim:
        truth = Truth(sim)
        sessions = SessionLog(sim)
        stream = MarketStream(
            venue,
            symbols,
            kinds,
            url=sim.ws_url,
            rest_url=sim.rest_url,
            config=config or fast_config(),
            snapshot_retry_delay=0.02,
            transport=transport,
        )
        expected = expected_streams(stream)
        auditor = BookAuditor(stream, truth)
        if slow_callback is not None:

            def maybe_slow(message: Any) -> None:
                if slow["on"]:
                    slow_callback(message)

            stream.handler.on(WebSocketMessageType.TRADE, maybe_slow)
        exact_ok: bool | None = None
        try:
            failure = await _start_and_drive(stream, sim, drive)
            if expect_failure:
                assert failure is not None, "expected the reconnection policy to give up"
                # The group reports the first failure; the other connections follow.
                await wait_until(
                    lambda: all(c.state is ConnectionState.ERROR for c in stream.group.connections),
                    "every connection to give up",
                )
                # Every book fed by a failed connection is flagged, none claims to be live.
                assert not any(sync.live for sync in stream.books.values())
            else:
                assert failure is None, f"unexpected failure: {failure}"
                sim.set_faults(FaultConfig())
                slow["on"] = False
                # A dropping queue (slow consumer) may lose an ack, or a book's last delta.
                dropping = slow_callback is not None
                await settle(
                    stream,
                    sim,
                    auditor,
                    truth,
                    require_acks=not dropping,
                    require_live=not dropping,
                )
                if exact:
                    exact_ok = await all_frames_read(stream, sim)
        finally:
            await stream.close()
        for symbol in stream.books:
            auditor.verify(symbol)
        flagged = sum(not sync.live for sync in stream.books.values())
        metrics = stream.group.metrics()
        connections = stream.group.connections
        return RunReport(
            venue=venue,
            outcome="error" if failure is not None else "connected",
            failure=failure,
            metrics=metrics,
            books={symbol: sync.stats() for symbol, sync in stream.books.items()},
            sim_faults=dict(sim.stats.faults),
            sim_pushes=sim.stats.pushes,
            sim_accepted=sim.stats.connections_accepted,
            sessions=sessions.opened,
            expected=expected,
            audited=auditor.checked,
            unverifiable=auditor.unverifiable,
            divergent=auditor.divergent,
            frames_read=sum(c.counters.frames for c in connections),
            frames_handled=stream.handler.stats().frames,
            queue_dropped=sum(c.queue.dropped for c in connections),
            exact=exact_ok,
            extra={"books_flagged_at_end": flagged},
        )


async def _start_and_drive(
    stream: MarketStream, sim: VenueSimulator, drive: Drive
) -> ConnectionFailed | None:
    """Start the stream and drive it concurrently (``drive`` may be what lets it connect);
    return the ``ConnectionFailed`` either raised, re-raise anything else."""
    starting = asyncio.create_task(stream.start(), name="start")
    driving = asyncio.create_task(drive(stream, sim), name="drive")
    try:
        await asyncio.wait({starting, driving}, return_when=asyncio.FIRST_EXCEPTION)
        for task in (starting, driving):
            if task.done() and task.exception() is not None:
                if isinstance(task.exception(), ConnectionFailed):
                    return task.exception()  # type: ignore[return-value]
                await task  # raises
        await starting
        await driving
        return None
    except ConnectionFailed as exc:
        return exc
    finally:
        for task in (starting, driving):
            task.cancel()
        await asyncio.gather(starting, driving, return_exceptions=True)


async def settle(
    stream: MarketStream,
    sim: VenueSimulator,
    auditor: BookAuditor,
    truth: Truth,
    *,
    require_acks: bool = True,
    require_live: bool = True,
) -> None:
    """Faults are off: wait until connected, subscribed and live; freeze the market and
    wait until every book has the simulator's final version; compare them."""
    group = stream.group
    # A stall under way runs its course and its client drops that socket: wait for the
    # simulator to hold exactly the client's (fresh) connections, none of them stalled.
    await wait_until(
        lambda: (
            sim.stalled_connections == 0 and sim.stats.connections_open == len(group.connections)
        ),
        "stalls to end and dropped sockets to go",
    )

    def connected() -> bool:
        return group.state is ConnectionState.CONNECTED and (
            not require_acks
            or all(c.active_subscriptions == set(c.subscriptions) for c in group.connections)
        )

    await wait_until(
        connected,
        "every connection to be connected"
        + (" with every subscription acknowledged" if require_acks else ""),
    )
    await wait_until(
        lambda: all(sync.live for sync in stream.books.values()),
        "every book to go live",
        state=lambda: {
            symbol: (sync.phase.value, sync._requested, sync.stats())
            for symbol, sync in stream.books.items()
            if not sync.live
        },
    )
    for symbol in stream.books:
        auditor.verify(symbol)
    # The market stops; the streams deliver what they still owe, then only tickers flow.
    # Every book must end at the simulator's final version, or flagged (not live): with
    # a dropping queue, the frame that carried a book's last delta may have been dropped,
    # and with the market stopped no later delta can prove the book whole again.
    truth.frozen = True
    await wait_until(
        lambda: all(
            (sync.live or not require_live)
            and (not sync.live or sync.book.last_update_id == sim.book(symbol).last_update_id)
            for symbol, sync in stream.books.items()
        ),
        "every live book to reach the simulator's final version",
        state=lambda: {
            symbol: (sync.phase.value, sync.book.last_update_id, sim.book(symbol).last_update_id)
            for symbol, sync in stream.books.items()
        },
    )
    for symbol, sync in stream.books.items():
        final = sim.book(symbol)
        if sync.live:
            assert (sync.book.bids(), sync.book.asks()) == (final.bids(), final.asks()), (
                f"{symbol}: book at the final version differs from the simulator's"
            )
    assert group.state is ConnectionState.CONNECTED


async def all_frames_read(stream: MarketStream, sim: VenueSimulator) -> bool:
    """Whether every frame the simulator sent (pushes and replies) reached the client.

    Unsubscribes everything first, so that nothing but heartbeat replies is in flight.
    """
    group = stream.group
    connections = group.connections
    await group.unsubscribe(*group.subscriptions)

    def read() -> int:
        return sum(c.counters.frames for c in connections)

    def sent() -> int:
        return sim.stats.pushes + sim.stats.control_replies

    with contextlib.suppress(AssertionError):
        await wait_until(lambda: read() == sent(), "every frame sent to be read", timeout=10)
    # Handled, or dropped by the queue and counted: nothing else happens to a frame read.
    await wait_until(lambda: all(len(c.queue) == 0 for c in connections), "queues to drain")
    return read() == sent()
