"""Load: many symbols over sharded MEXC connections plus Gate.io, as fast as the
simulators can push, for a bounded time.

Each venue's simulator runs in its own process (``ws-stack sim``, 127.0.0.1, stopping by
itself after the run), so the client process measures only itself. The client is one
:class:`~ws_stack.asyncio.stream.MarketStream` per venue with trades, book tickers and
depth of every symbol and a local book per symbol (MEXC: 30 subscriptions per
connection). At the end the client unsubscribes everything, the markets stop, and every
book is compared with the simulator's REST snapshot: equal, or flagged (not live).

Full size (the figure in RELIABILITY.md)::

    .venv/bin/python -m tests.reliability.load --duration 60 --symbols 200

The test suite runs the same code for a few seconds (``tests/reliability/test_load.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field

from ws_stack.asyncio.connection import ConnectionConfig
from ws_stack.asyncio.rest import http_get
from ws_stack.asyncio.stream import MarketStream
from ws_stack.messages import Venue
from ws_stack.protocol import ChannelKind
from ws_stack.venues import protocol_class

#: Pushes per second per stream asked of the simulators: far above what they can send,
#: so they push as fast as they can.
SATURATING_RATE_HZ = 10_000
KINDS = (ChannelKind.TRADES, ChannelKind.BOOK_TICKER, ChannelKind.DEPTH)
_URLS = re.compile(r" on (ws://\S+) \(REST (http://\S+)\)")
_TICKS = os.sysconf("SC_CLK_TCK")


def symbols(venue: Venue, count: int) -> list[str]:
    """``count`` made-up symbols in the venue's spelling (S000USDT / S000_USDT)."""
    separator = "_" if venue is Venue.GATEIO else ""
    return [f"S{i:03d}{separator}USDT" for i in range(count)]


@dataclass
class VenueFigures:
    venue: str
    symbols: int
    connections: int
    subscriptions: int
    frames: int
    frames_per_s: float
    messages: dict[str, int]
    #: Handler latency: p99 over each connection's last 4096 frames at the end, and the
    #: worst and median of the per-second p99 during the run (microseconds).
    p99_us_final: float | None
    p99_us_worst_second: float | None
    p99_us_median_second: float | None
    queue_dropped: int
    reconnects: int
    errors: dict[str, int]
    resyncs: int
    books_equal: int
    books_flagged: int
    books_diverged: list[str]
    sim_cpu_s: float


@dataclass
class LoadFigures:
    duration_s: float
    rate_hz_asked: float
    client_cpu_s: float
    client_cpu_share: float
    frames: int
    frames_per_s: float
    queue_dropped: int
    venues: list[VenueFigures] = field(default_factory=list)

    def check(self) -> None:
        """The bars: no silent divergence, every frame read handled or counted."""
        for venue in self.venues:
            assert venue.books_diverged == [], venue.books_diverged
            assert venue.books_equal + venue.books_flagged == venue.symbols
            assert venue.frames > 0
            assert not {"internal_error", "callback_error", "handler_exception"} & set(
                venue.errors
            ), venue.errors


class SimProcess:
    """A ``ws-stack sim`` child process that stops by itself after ``lifetime`` seconds."""

    def __init__(self, venue: Venue, names: list[str], rate_hz: float, lifetime: float) -> None:
        command = [
            sys.executable,
            "-m",
            "ws_stack.cli",
            "sim",
            "--venue",
            venue.value,
            "--rate",
            str(rate_hz),
            "--symbols",
            ",".join(names),
            "--duration",
            str(lifetime),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        match = _URLS.search(line)
        if match is None:
            self.stop()
            raise RuntimeError(f"the {venue.value} simulator did not start: {line!r}")
        self.ws_url, self.rest_url = match.groups()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the simulator so far (Linux /proc)."""
        try:
            with open(f"/proc/{self.process.pid}/stat") as stat:
                fields = stat.read().rpartition(")")[2].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # our own child, by its pid
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        if self.process.stdout is not None:
            self.process.stdout.close()


async def _quiesce_and_compare(stream: MarketStream, rest_url: str) -> tuple[int, int, list[str]]:
    """Unsubscribe everything (the market stops), let the last frames drain, then compare
    every book with the simulator's REST snapshot: ``(equal, flagged, diverged)``."""
    group = stream.group
    await group.unsubscribe(*group.subscriptions)

    def read() -> int:
        return sum(c.counters.frames for c in group.connections)

    last, quiet_since = read(), time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() - quiet_since < 1.0 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if read() != last:
            last, quiet_since = read(), time.monotonic()
    protocol = protocol_class(stream.venue)
    equal, flagged, diverged = 0, 0, []
    for symbol, sync in stream.books.items():
        body = await http_get(protocol.snapshot_url(rest_url, symbol), timeout=10)
        truth = protocol.parse_snapshot(body, symbol)
        if not sync.live:
            flagged += 1
            continue
        book = sync.book
        same = (
            book.last_update_id == truth.last_update_id
            and book.bids() == [(lv.price, lv.size) for lv in truth.bids]
            and book.asks() == [(lv.price, lv.size) for lv in truth.asks]
        )
        if same:
            equal += 1
        else:
            diverged.append(
                f"{symbol}: live at {book.last_update_id}, simulator at {truth.last_update_id}"
            )
    return equal, flagged, diverged


async def run_load(
    duration: float,
    symbol_count: int,
    rate_hz: float = SATURATING_RATE_HZ,
    transport: str = "websockets",
) -> LoadFigures:
    """Run the load for ``duration`` seconds on ``transport``; return the figures (see the
    module doc)."""
    lifetime = duration + 120  # the simulators outlive the run, then stop by themselves
    sims = {
        venue: SimProcess(venue, symbols(venue, symbol_count), rate_hz, lifetime) for venue in Venue
    }
    try:
        config = ConnectionConfig(transport=transport)
        streams = {
            venue: MarketStream(
                venue,
                symbols(venue, symbol_count),
                KINDS,
                url=sims[venue].ws_url,
                rest_url=sims[venue].rest_url,
                config=config,
            )
            for venue in Venue
        }
        seconds: dict[Venue, list[float]] = {venue: [] for venue in Venue}
        cpu_start = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        await asyncio.gather(*(stream.start() for stream in streams.values()))
        while (elapsed := time.monotonic() - started) < duration:
            await asyncio.sleep(min(1.0, duration - elapsed))
            for venue, stream in streams.items():
                p99 = stream.group.metrics().latency_p99_us
                if p99 is not None:
                    seconds[venue].append(p99)
        wall = time.monotonic() - started
        summaries = {venue: stream.summary() for venue, stream in streams.items()}
        cpu_end = resource.getrusage(resource.RUSAGE_SELF)
        sim_cpu = {venue: sim.cpu_seconds() for venue, sim in sims.items()}
        comparisons = {}
        for venue, stream in streams.items():
            comparisons[venue] = await _quiesce_and_compare(stream, sims[venue].rest_url)
        for stream in streams.values():
            await stream.close()
    finally:
        for sim in sims.values():
            sim.stop()
    client_cpu = (cpu_end.ru_utime - cpu_start.ru_utime) + (cpu_end.ru_stime - cpu_start.ru_stime)
    figures = LoadFigures(
        duration_s=round(wall, 2),
        rate_hz_asked=rate_hz,
        client_cpu_s=round(client_cpu, 2),
        client_cpu_share=round(client_cpu / wall, 3),
        frames=0,
        frames_per_s=0.0,
        queue_dropped=0,
    )
    for venue, summary in summaries.items():
        metrics = summary.metrics
        equal, flagged, diverged = comparisons[venue]
        per_second = seconds[venue]
        figures.venues.append(
            VenueFigures(
                venue=venue.value,
                symbols=symbol_count,
                connections=metrics.connections,
                subscriptions=metrics.subscriptions,
                frames=metrics.frames,
                frames_per_s=round(metrics.frames / wall, 1),
                messages=dict(metrics.messages_by_type),
                p99_us_final=_round(metrics.latency_p99_us),
                p99_us_worst_second=_round(max(per_second, default=None)),
                p99_us_median_second=_round(statistics.median(per_second) if per_second else None),
                queue_dropped=metrics.queue_dropped,
                reconnects=metrics.reconnects,
                errors=dict(metrics.errors),
                resyncs=summary.resyncs,
                books_equal=equal,
                books_flagged=flagged,
                books_diverged=diverged,
                sim_cpu_s=round(sim_cpu[venue], 2),
            )
        )
        figures.frames += metrics.frames
        figures.queue_dropped += metrics.queue_dropped
    figures.frames_per_s = round(figures.frames / wall, 1)
    return figures


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument("--symbols", type=int, default=200, help="per venue (default 200)")
    parser.add_argument(
        "--rate",
        type=float,
        default=SATURATING_RATE_HZ,
        help="pushes/s per stream asked of the simulators",
    )
    parser.add_argument("--transport", default="websockets", help="websockets (default) or picows")
    args = parser.parse_args(argv)
    figures = asyncio.run(run_load(args.duration, args.symbols, args.rate, args.transport))
    print(json.dumps(asdict(figures), indent=2))
    figures.check()
    return 0


if __name__ == "__main__":
    sys.exit(main())
