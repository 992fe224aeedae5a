"""Soak: a million frames and a thousand reconnect cycles; nothing may grow or leak.

Both venues stream from in-process simulators (2 symbols each: trades, book tickers,
depth, local books checked against the simulator after every update) that drop every
connection after ``frames / cycles`` pushes, so the client reconnects, resubscribes and
rebuilds its books (REST snapshot each time) over and over. Ten checkpoints, one per
tenth of the frames, record retained memory (``tracemalloc``, traced from the start),
live objects (``gc``), open file descriptors and sockets, and running tasks; the last
must equal the first within :data:`MAX_RETAINED_GROWTH` and :data:`MAX_OBJECT_GROWTH`.
After everything is closed, no task, descriptor or socket may be left over.

Full size (the figure in RELIABILITY.md)::

    .venv/bin/python -m tests.reliability.soak --frames 1000000 --cycles 1000

The test suite runs a tenth of it (``tests/reliability/test_soak.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import resource
import sys
import time
import tracemalloc
from collections import deque
from dataclasses import asdict, dataclass, field

from ws_stack.asyncio.stream import MarketStream
from ws_stack.messages import Venue
from ws_stack.reconnect import ReconnectionPolicy
from ws_stack.sim import FaultConfig, SimConfig, VenueSimulator
from ws_stack.state import ConnectionState

from .helpers import KINDS, BookAuditor, Truth, fast_config, settle

#: Ticks the simulator keeps per symbol (for late subscribers: none here), and the
#: versions whose book it can tell for the truth: as many, since it rebuilds those between
#: the books it keeps whole from the ticks. Both fill within the first tenth (a client
#: further behind is counted unverifiable; none was).
HISTORY = 256
TRUTH = HISTORY
SOAK_SYMBOLS = {Venue.MEXC: ("BTCUSDT", "ETHUSDT"), Venue.GATEIO: ("BTC_USDT", "ETH_USDT")}
#: Tolerances between the first and the last tenth, stated in RELIABILITY.md.
MAX_RETAINED_GROWTH = 1 << 20  # bytes allocated after the first tenth, still alive
MAX_OBJECT_GROWTH = 0.01  # share of the live objects at the first tenth
#: Descriptors (or tasks) a checkpoint may catch in flight, beyond the first tenth's.
MAX_IN_FLIGHT = 8
TRACE = os.environ.get("WS_STACK_SOAK_TRACE", "1") != "0"


@dataclass
class Checkpoint:
    frames: int
    reconnects: int
    elapsed_s: float
    retained_bytes: int
    objects: int
    fds: int
    sockets: int
    tasks: int
    rss_kib: int


@dataclass
class SoakFigures:
    frames: int
    reconnects: int
    duration_s: float
    frames_per_s: float
    books_audited: int
    books_unverifiable: int
    books_diverged: int
    resyncs_and_restarts: int
    snapshots: int
    queue_dropped: int
    errors: dict[str, int]
    checkpoints: list[Checkpoint] = field(default_factory=list)
    #: After everything was closed, against before anything was opened.
    leaked_tasks: int = 0
    leaked_fds: int = 0
    leaked_sockets: int = 0

    @property
    def retained_growth(self) -> int:
        return self.checkpoints[-1].retained_bytes - self.checkpoints[0].retained_bytes

    @property
    def object_growth(self) -> float:
        first, last = self.checkpoints[0].objects, self.checkpoints[-1].objects
        return (last - first) / first

    def check(self, frames: int, cycles: int) -> None:
        assert self.frames >= frames and self.reconnects >= cycles
        assert self.books_diverged == 0 and self.books_audited > 0
        assert len(self.checkpoints) == 10
        assert self.retained_growth < MAX_RETAINED_GROWTH, self.retained_growth
        assert self.object_growth < MAX_OBJECT_GROWTH, self.object_growth
        early, late = self.checkpoints[:3], self.checkpoints[-3:]
        # A checkpoint may fall while a connection is being replaced or a snapshot
        # fetched (both ends of each socket live in this process): a few in flight, and
        # once a replacement plus its snapshots were caught mid-way (tasks 9 -> 19). A
        # leak grows with the cycles and shows at every late checkpoint; in-flight work
        # shows at one: the fewest of the last three is compared with the most of the
        # first three (one early checkpoint alone may fall between two busy moments).
        for measure in ("fds", "sockets", "tasks"):
            fewest_late = min(getattr(c, measure) for c in late)
            most_early = max(getattr(c, measure) for c in early)
            assert fewest_late <= most_early + MAX_IN_FLIGHT, (measure, early, late)
        assert (self.leaked_tasks, self.leaked_fds, self.leaked_sockets) == (0, 0, 0)
        assert not {"internal_error", "callback_error", "handler_exception"} & set(self.errors)

    def summary(self) -> dict[str, object]:
        first, last = self.checkpoints[0], self.checkpoints[-1]
        return {
            "frames": self.frames,
            "reconnects": self.reconnects,
            "frames_per_s": self.frames_per_s,
            "duration_s": self.duration_s,
            "retained_growth_bytes": self.retained_growth,
            "objects_first_tenth": first.objects,
            "objects_last_tenth": last.objects,
            "object_growth": round(self.object_growth, 5),
            "fds_first_last": [first.fds, last.fds],
            "sockets_first_last": [first.sockets, last.sockets],
            "tasks_first_last": [first.tasks, last.tasks],
            "rss_kib_first_last": [first.rss_kib, last.rss_kib],
            "books_audited": self.books_audited,
            "books_diverged": self.books_diverged,
            "books_unverifiable": self.books_unverifiable,
            "snapshots": self.snapshots,
            "queue_dropped": self.queue_dropped,
            "leaked": [self.leaked_tasks, self.leaked_fds, self.leaked_sockets],
            "errors": self.errors,
        }


def _descriptors() -> tuple[int, int]:
    """Open file descriptors of this process, and how many of them are sockets."""
    names = os.listdir("/proc/self/fd")
    sockets = 0
    for name in names:
        with contextlib.suppress(OSError):  # the descriptor listdir itself used
            sockets += os.readlink(f"/proc/self/fd/{name}").startswith("socket:")
    return len(names), sockets


def _checkpoint(frames: int, reconnects: int, started: float) -> Checkpoint:
    gc.collect()
    fds, sockets = _descriptors()
    retained = tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0
    return Checkpoint(
        frames=frames,
        reconnects=reconnects,
        elapsed_s=round(time.monotonic() - started, 2),
        retained_bytes=retained,
        objects=len(gc.get_objects()),
        fds=fds,
        sockets=sockets,
        tasks=len(asyncio.all_tasks()),
        rss_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    )


async def run_soak(
    frames: int, cycles: int, *, max_seconds: float = 1800, transport: str = "websockets"
) -> SoakFigures:
    """Soak until ``frames`` frames were read and ``cycles`` reconnects happened, on
    ``transport``."""
    gc.collect()
    fds_before, sockets_before = _descriptors()
    tasks_before = len(asyncio.all_tasks())
    if TRACE:  # from the start: bounded buffers then weigh the same at every checkpoint
        tracemalloc.start(int(os.environ.get("WS_STACK_SOAK_DEBUG", "1")))
    # One connection per venue, each dropped every `close_after` pushes: about `cycles`
    # reconnects over `frames` frames, both venues together.
    close_after = max(1, frames // cycles)
    faults = FaultConfig(close_after_frames=close_after)
    policy = ReconnectionPolicy(
        initial_delay=0.001, max_delay=0.01, max_attempts=None, jitter=0.5, seed=1
    )
    config = fast_config(
        reconnect=policy, heartbeat_interval=1.0, dead_peer_timeout=5.0, transport=transport
    )
    sims = {
        venue: VenueSimulator(
            venue,
            SimConfig(symbols=SOAK_SYMBOLS[venue], rate_hz=20_000, faults=faults, keep_books=TRUTH),
        )
        for venue in Venue
    }
    streams: dict[Venue, MarketStream] = {}
    auditors: list[BookAuditor] = []
    watchers: list[asyncio.Task[None]] = []
    truths: dict[Venue, Truth] = {}
    checkpoints: list[Checkpoint] = []
    started = time.monotonic()
    try:
        for venue, sim in sims.items():
            await sim.start()
            # Bounded buffers must be full by the first tenth: the simulator's tick history
            # (10,000 per symbol by default) is cut down; the truth is full from the start.
            for market in sim._market.symbols.values():
                market._history = deque(market._history, maxlen=HISTORY)
            truths[venue] = Truth(sim)
            stream = MarketStream(
                venue,
                SOAK_SYMBOLS[venue],
                KINDS,
                url=sim.ws_url,
                rest_url=sim.rest_url,
                config=config,
                snapshot_retry_delay=0.01,
            )
            auditors.append(BookAuditor(stream, truths[venue]))
            watchers.append(asyncio.create_task(auditors[-1].watch(), name="oracle"))
            streams[venue] = stream
            await stream.start()

        connections = [c for stream in streams.values() for c in stream.group.connections]

        def read() -> int:
            return sum(c.counters.frames for c in connections)

        def reconnects() -> int:
            return sum(c.counters.reconnects for c in connections)

        tenth = frames // 10
        while len(checkpoints) < 10:
            await asyncio.sleep(0.02)
            done = read()
            if done >= tenth * (len(checkpoints) + 1) and (
                len(checkpoints) < 9 or reconnects() >= cycles
            ):
                checkpoints.append(_checkpoint(done, reconnects(), started))
            assert time.monotonic() - started < max_seconds, "the soak ran out of time"
        if os.environ.get("WS_STACK_SOAK_DEBUG") and tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot()
            for stat in snapshot.statistics("traceback")[:12]:
                print(stat, file=sys.stderr)
                for line in stat.traceback.format()[-12:]:
                    print("   ", line, file=sys.stderr)
        tracemalloc.stop()
        total, cycled = read(), reconnects()
        duration = time.monotonic() - started
        for venue, stream in streams.items():
            sims[venue].set_faults(FaultConfig())
            await settle(
                stream, sims[venue], auditors[list(streams).index(venue)], truths[venue]
            )  # books equal to the simulator's at the end
            assert stream.group.state is ConnectionState.CONNECTED
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        for stream in streams.values():
            await stream.close()
        for sim in sims.values():
            await sim.stop()
    summaries = [stream.summary() for stream in streams.values()]
    errors: dict[str, int] = {}
    for summary in summaries:
        for reason, count in summary.metrics.errors.items():
            errors[reason] = errors.get(reason, 0) + count
    books = [b for summary in summaries for s in summary.symbols if (b := s.book) is not None]
    audited = sum(auditor.checks for auditor in auditors)
    unverifiable = sum(auditor.unverifiable for auditor in auditors)
    diverged = sum(len(auditor.divergent) for auditor in auditors)
    del streams, auditors, watchers, truths, sims
    gc.collect()
    fds_after, sockets_after = _descriptors()
    return SoakFigures(
        frames=total,
        reconnects=cycled,
        duration_s=round(duration, 1),
        frames_per_s=round(total / duration, 1),
        books_audited=audited,
        books_unverifiable=unverifiable,
        books_diverged=diverged,
        resyncs_and_restarts=sum(b.resyncs + b.restarts for b in books),
        snapshots=sum(b.snapshots for b in books),
        queue_dropped=sum(summary.metrics.queue_dropped for summary in summaries),
        errors=errors,
        checkpoints=checkpoints,
        leaked_tasks=len(asyncio.all_tasks()) - tasks_before,
        leaked_fds=fds_after - fds_before,
        leaked_sockets=sockets_after - sockets_before,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--cycles", type=int, default=1_000)
    parser.add_argument("--transport", default="websockets", help="websockets (default) or picows")
    args = parser.parse_args(argv)
    figures = asyncio.run(run_soak(args.frames, args.cycles, transport=args.transport))
    print(
        json.dumps(
            {**figures.summary(), "checkpoints": [asdict(c) for c in figures.checkpoints]}, indent=2
        )
    )
    figures.check(args.frames, args.cycles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
