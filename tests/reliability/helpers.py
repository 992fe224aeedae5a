"""Shared machinery of the reliability tests: bounded loops, the simulator's truth, audits.

* :class:`Truth` reads the simulator's order book at any recent version (the simulator
  keeps them: ``SimConfig.keep_books``), so that a client book can be compared with the
  venue *at the client's own version* at any moment, and stops the market at the end;
* :class:`BookAuditor` is the oracle: it does that comparison after every order-book
  update a stream applies, every 50 ms (:meth:`BookAuditor.watch`) and at the end, when
  a live book must also be at the simulator's last version. A book that says it is live
  must equal the truth, every level of both sides (zero silent divergence); a breach
  names the symbol, the versions, the first differing level and the book's phases;
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
import itertools
import time
from collections import deque
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
from ws_stack.sim.market import BookState
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


#: Versions of each symbol's book the simulator keeps for the oracle: at 200 versions a
#: second, twenty seconds of them, far more than a live client is ever behind.
KEEP_BOOKS = 4096
#: How often the oracle compares every book with the truth while a run goes on.
CHECK_EVERY = 0.05


class Truth:
    """The simulator's book of every symbol at its recent versions, and a switch that
    stops its market (the simulator keeps the books: create it with ``keep_books``)."""

    def __init__(self, sim: VenueSimulator) -> None:
        if sim.config.keep_books <= 0:
            raise ValueError("the simulator keeps no books: SimConfig(keep_books=...)")
        self.sim = sim
        #: While set, the market does not move: streams only deliver what is pending.
        self.frozen = False
        for market in sim._market.symbols.values():
            market.step = self._freezable(market.step)  # type: ignore[method-assign]

    def _freezable(self, step: Callable[[int], Any]) -> Callable[[int], Any]:
        def maybe_step(time_ms: int) -> Any:
            if self.frozen:
                return None  # the callers of step() ignore its result
            return step(time_ms)

        return maybe_step

    def at(self, symbol: str, version: int | None) -> BookState | None:
        """The book at ``version``; ``None`` if no longer kept."""
        return None if version is None else self.sim.book_at(symbol, version)

    def version(self, symbol: str) -> int:
        return self.sim.version(symbol)


def first_difference(side: str, book: Quotes, truth: Sequence[tuple[float, float]]) -> str | None:
    """Where two sides of a book first differ, as a line; ``None`` if they do not."""
    for n, (ours, true) in enumerate(itertools.zip_longest(book, truth)):
        if ours != true:
            return f"{side}[{n}] is {ours}, truly {true}"
    return None


class BookAuditor:
    """The oracle: checks every live book of a stream against :class:`Truth`, after each
    update, every :data:`CHECK_EVERY` seconds (:meth:`watch`) and at the end
    (:meth:`final`). Breaches are collected in :attr:`divergent`; the run fails on any."""

    def __init__(self, stream: MarketStream, truth: Truth) -> None:
        self.stream = stream
        self.truth = truth
        #: Comparisons made after updates, by the watch and at the end, and versions too
        #: old to compare (the truth keeps a window).
        self.checked = 0
        self.watched = 0
        self.final_checks = 0
        self.unverifiable = 0
        #: The first breach of each symbol that had one, in full; must stay empty.
        self.divergent: list[str] = []
        #: Every breach found (the later ones of a symbol only counted).
        self.breaches = 0
        self._breached: set[str] = set()
        self._started = time.monotonic()
        #: Per symbol, the phases the book went through: (ms since start, phase, version).
        self.phases: dict[str, deque[tuple[int, str, int | None]]] = {
            symbol: deque(maxlen=24) for symbol in stream.books
        }
        # Registered after the stream's own callback: it sees the book the update left.
        stream.handler.on(WebSocketMessageType.ORDER_BOOK, self._on_update)

    @property
    def checks(self) -> int:
        """Every comparison made with the truth."""
        return self.checked + self.watched + self.final_checks

    def _on_update(self, update: OrderBookUpdate) -> None:
        sync = self.stream.books.get(update.symbol)
        if sync is not None:
            self._observe(update.symbol)
            if sync.live:
                self.verify(update.symbol)

    def _observe(self, symbol: str) -> None:
        sync = self.stream.books[symbol]
        history = self.phases[symbol]
        phase = sync.phase.value
        if not history or history[-1][1] != phase:
            elapsed = round((time.monotonic() - self._started) * 1000)
            history.append((elapsed, phase, sync.book.last_update_id))

    def phase_history(self, symbol: str) -> str:
        return " -> ".join(
            f"{phase}@{version} ({ms} ms)" for ms, phase, version in self.phases[symbol]
        )

    def verify(self, symbol: str, *, when: str = "update") -> None:
        """Compare ``symbol``'s book with the truth at its version, if it claims to be live."""
        sync = self.stream.books[symbol]
        self._observe(symbol)
        if not sync.live:
            return
        book = sync.book
        version = book.last_update_id
        truth = self.truth.at(symbol, version)
        if truth is None:
            self.unverifiable += 1
            return
        if when == "update":
            self.checked += 1
        elif when == "watch":
            self.watched += 1
        else:
            self.final_checks += 1
        difference = first_difference("bids", book.bids(), truth.bids) or first_difference(
            "asks", book.asks(), truth.asks
        )
        if difference is not None:
            self.breach(symbol, f"live at {version} but not the true book at {version}: "
                        f"{difference}", when)  # fmt: skip

    def breach(self, symbol: str, what: str, when: str) -> None:
        self.breaches += 1
        if symbol in self._breached:
            return
        self._breached.add(symbol)
        self.divergent.append(
            f"{symbol} ({when} check): {what}; simulator at {self.truth.version(symbol)}; "
            f"phases: {self.phase_history(symbol)}"
        )

    async def watch(self) -> None:
        """Check every book every :data:`CHECK_EVERY` seconds, until cancelled."""
        while True:
            await asyncio.sleep(CHECK_EVERY)
            for symbol in self.stream.books:
                self.verify(symbol, when="watch")

    def final(self) -> None:
        """The market stopped and the stream drained: a live book must be the simulator's
        book at its last version."""
        for symbol, sync in self.stream.books.items():
            if sync.live and sync.book.last_update_id != self.truth.version(symbol):
                self.final_checks += 1
                self.breach(symbol, f"live at {sync.book.last_update_id} at the end", "final")
            else:
                self.verify(symbol, when="final")


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
    #: Checks of live books against the truth after updates, and all the oracle's checks
    #: (after updates, every 50 ms, at the end).
    audited: int
    unverifiable: int
    divergent: list[str]
    oracle_checks: int
    transport: str
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
            assert self.exact, (
                "a frame the simulator sent was neither received nor counted: "
                f"{self.extra.get('frames_sent_and_read')} (frames sent, read)"
            )

    @property
    def summary(self) -> dict[str, Any]:
        """The figures of this run, for the reliability table."""
        return {
            "venue": self.venue.value,
            "transport": self.transport,
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
            "oracle_checks": self.oracle_checks,
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
    sim_config = SimConfig(
        symbols=symbols, rate_hz=rate_hz, seed=seed, faults=faults, keep_books=KEEP_BOOKS
    )
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
        counted: dict[str, Any] = {}
        watching = asyncio.create_task(auditor.watch(), name="oracle")
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
                    sent, read = await all_frames_read(stream, sim)
                    exact_ok = sent == read
                    counted["frames_sent_and_read"] = [sent, read]
        finally:
            watching.cancel()
            await asyncio.gather(watching, return_exceptions=True)
            await stream.close()
        auditor.final()
        if auditor.divergent:
            raise AssertionError(
                "the oracle found live books that are not the venue's:\n"
                + "\n".join(auditor.divergent)
                + f"\n({auditor.breaches} breaches in all)"
            )
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
            oracle_checks=auditor.checks,
            transport=transport,
            frames_read=sum(c.counters.frames for c in connections),
            frames_handled=stream.handler.stats().frames,
            queue_dropped=sum(c.queue.dropped for c in connections),
            exact=exact_ok,
            extra={"books_flagged_at_end": flagged, **counted},
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
            symbol: (
                sync.phase.value,
                sync.book.last_update_id,
                sim.book(symbol).last_update_id,
                auditor.phase_history(symbol),
            )
            for symbol, sync in stream.books.items()
        },
    )
    auditor.final()  # live at the final version, and the true book there
    assert group.state is ConnectionState.CONNECTED


async def all_frames_read(stream: MarketStream, sim: VenueSimulator) -> tuple[int, int]:
    """The frames the simulator sent (pushes and replies) and those the client read, once
    they are equal (every frame sent reached the client) or after 10 s.

    Unsubscribes everything first, so that nothing but heartbeat replies is in flight.
    """
    group = stream.group
    connections = group.connections
    await group.unsubscribe(*group.subscriptions)

    def read() -> int:
        return sum(c.counters.frames for c in connections)

    def sent() -> int:
        return sim.stats.pushes + sim.stats.control_replies

    def settled() -> bool:
        # Handled, or dropped by the queue and counted: nothing else happens to a frame
        # read. Both counts are taken at the moment they agree: the heartbeat's pongs keep
        # coming, and between the simulator counting one and the client reading it they
        # differ by one (compared again later, they once did, in 1,729 runs).
        return read() == sent() and all(len(c.queue) == 0 for c in connections)

    with contextlib.suppress(AssertionError):
        await wait_until(settled, "every frame sent to be read and handled", timeout=10)
    return sent(), read()
