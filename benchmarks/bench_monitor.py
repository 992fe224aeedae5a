"""The monitor (``ws_stack.monitor`` and ``ws_stack.asyncio.monitor``): what it costs.

Monitoring adds nothing per frame beyond the connection's own counters (measured by
``bench_connection.ConsumeFrame``); its work happens once per interval (a tick: sample
every connection, the handler and the process, compute the interval's figures, update
the alerts) and once per Prometheus scrape (the same sample, written in the text format).
``MonitorInterval`` times and counts those two. ``MonitoredOverConsume`` puts them in
proportion to the frames of an interval, at the default settings (see its docstring):
the share of monitoring in a stream's per-frame work.
"""

from __future__ import annotations

from typing import Any

from . import bench_connection
from .asv_support import BATCH, Batched, Paired, per_call_clock, require
from .common import SYMBOLS, VENUES
from .connections import new_connection, require_connection_layer
from .instructions import Counted
from .venue_frames import frame

#: Connections a monitor watches in ``MonitorInterval``.
CONNECTIONS = [1, 10]
#: The settings ``MonitoredOverConsume`` stands for: the monitor's default interval,
#: Prometheus scraping every 15 s, and one busy connection (trades, tickers and deltas
#: of a few dozen symbols).
INTERVAL_S = 60
SCRAPES_PER_INTERVAL = 4
FRAMES_PER_S = 1000


#: Calls of a ``MonitorInterval`` sample: a scrape of ten connections takes a millisecond,
#: and BATCH of them a second (see ``asv_support.Batched``); a hundred take a tenth.
MONITOR_BATCH = 100
CALLS = range(MONITOR_BATCH)


#: The handler latencies the monitored connections have recorded, one per channel.
LATENCIES_NS = (1_250, 2_750, 9_500)


def _ignore(message: Any) -> None:
    """A consumer that does nothing: what is measured is the monitor."""


def _monitored_connections(venue: str, count: int) -> tuple[Any, list[Any]]:
    """A monitor of ``count`` connections (not started) sharing one handler that has
    handled a few frames, so that every figure of a sample has something to report."""
    require_connection_layer(venue)
    monitor_module = require("ws_stack.asyncio.monitor", "Monitor")
    messages = require("ws_stack.messages", "WebSocketMessageType")
    first = new_connection(venue, "ws://127.0.0.1:9/ws")
    handler = first.handler
    for msg_type in messages.WebSocketMessageType:
        handler.on(msg_type, _ignore)
    connections = [first]
    cls = type(first)
    for index in range(1, count):
        connections.append(
            cls(
                handler,
                [cls.subscription(SYMBOLS[venue], "trades")],
                url="ws://127.0.0.1:9/ws",
                name=f"{venue}-{index}",
            )
        )
    fmt = "protobuf" if venue == "mexc" else "json"
    for number, channel in enumerate(("trade", "book_ticker", "order_book")):
        data = frame(venue, fmt, channel, depth=5)
        for connection in connections:
            connection.counters.frames += 1
            connection.counters.bytes += len(data)
            handler.handle(data)
            # A latency of its own per channel, the same on every run (a measured one
            # would change the digits a scrape writes, and so its instruction count).
            connection.counters.latency.record(LATENCIES_NS[number])
    monitor = monitor_module.Monitor(connections, interval=1.0)
    monitor.tick()  # the first interval: every later tick has one before it
    return monitor, connections


class MonitorInterval(Batched):
    """One monitor tick and one scrape's exposition, for 1 and 10 connections
    (MONITOR_BATCH calls a sample)."""

    version = 1
    params = [VENUES, CONNECTIONS]
    param_names = ["venue", "connections"]
    timer = staticmethod(per_call_clock(MONITOR_BATCH))

    def setup(self, venue: str, connections: int) -> None:
        self.monitor, _ = _monitored_connections(venue, connections)

    def time_tick(self, venue: str, connections: int) -> None:
        tick = self.monitor.tick
        for _ in CALLS:
            tick()

    def time_scrape(self, venue: str, connections: int) -> None:
        exposition = self.monitor.exposition
        for _ in CALLS:
            exposition()


class _FixedClock:
    """The ``time`` a monitor reads, as a fixed sequence: one second more at every call,
    from the same start."""

    def __init__(self) -> None:
        self._monotonic = 1_000.0
        self._wall = 1_790_000_000.0

    def monotonic(self) -> float:
        self._monotonic += 1.0
        return self._monotonic

    def time(self) -> float:
        self._wall += 1.0
        return self._wall


class _MonitorIntervalFixed(MonitorInterval):
    """``MonitorInterval`` with the figures a sample takes from outside the connections
    fixed: the clocks and the process's CPU time, memory and collections.

    What a tick or a scrape computes and writes is then the same on every run, so its
    instruction count is too (live figures change the digits written, and with them a few
    thousand instructions a scrape). Reading those figures is left out of the counts,
    and timed with the rest by ``MonitorInterval``. At a commit without them, the monitor
    reads them live.
    """

    def setup(self, venue: str, connections: int) -> None:
        monitor_module = require("ws_stack.asyncio.monitor", "Monitor")
        self._saved = {
            name: getattr(monitor_module, name)
            for name in ("time", "process_sample")
            if hasattr(monitor_module, name)
        }
        if "process_sample" in self._saved:
            figures = self._saved["process_sample"]()
            fixed = type(figures)(cpu_s=12.5, rss_bytes=48 << 20, gc_collections=(120, 10, 1))
            monitor_module.process_sample = lambda: fixed
        if "time" in self._saved:
            monitor_module.time = _FixedClock()
        self._module = monitor_module
        try:
            super().setup(venue, connections)
        except BaseException:  # not set up (n/a at this commit): leave the module as it was
            self.teardown(venue, connections)
            raise

    def teardown(self, venue: str, connections: int) -> None:
        for name, value in getattr(self, "_saved", {}).items():
            setattr(self._module, name, value)


class MonitorIntervalInstructions(Counted):
    # 2: counted with fixed clocks and process figures, without reading them.
    version = 2
    twin = _MonitorIntervalFixed
    # Calls of 0.2 to 11 million instructions: parts of 5 calls after 20 to warm up, not
    # the default's 20 after 100 (docs/instruction-counts.md). The fixed clock moves on at
    # every call, and the digits a scrape writes with it: these settings are part of what
    # is counted.
    calls_per_part = 5
    warm_up_calls = 20
    track_tick = Counted.of("time_tick")
    track_scrape = Counted.of("time_scrape")


class MonitoredConsume:
    """The two batches :class:`MonitoredOverConsume` pairs: BATCH frames through the
    per-frame path, and one interval's monitoring (a tick and its scrapes)."""

    def setup(self, venue: str, channel: str) -> None:
        self.monitor, (connection,) = _monitored_connections(venue, 1)
        self.connection = connection
        fmt = "protobuf" if venue == "mexc" else "json"
        self.frame = frame(venue, fmt, channel, depth=5)
        self.listener = None  # the websockets path of ConsumeFrame

    def consume(self, venue: str, channel: str) -> None:
        """The same per-frame work ``bench_connection.ConsumeFrame`` times, on websockets
        (the monitor reads the connection's counters, whatever feeds them)."""
        bench_connection.ConsumeFrame.time_consume_frame(self, venue, channel, "websockets")  # type: ignore[arg-type]

    def monitor_interval(self, venue: str, channel: str) -> None:
        self.monitor.tick()
        for _ in range(SCRAPES_PER_INTERVAL):
            self.monitor.exposition()


class MonitoredOverConsume(Paired):
    """A stream's frames with monitoring over the same frames without, at the default
    settings: one interval's work (a tick and SCRAPES_PER_INTERVAL scrapes) per
    INTERVAL_S x FRAMES_PER_S frames.

    Each pair times one interval's monitoring and one batch of BATCH frames in turn, in one
    process; the sample is (frames + monitoring) / frames for a whole interval, the batch
    standing for each BATCH frames of it (time adds up; the batches of an interval would
    only repeat the one timed).
    """

    params = [VENUES, ["order_book"]]
    param_names = ["venue", "channel"]
    setup = MonitoredConsume.setup
    figure_batch = MonitoredConsume.monitor_interval
    floor_batch = MonitoredConsume.consume
    consume = MonitoredConsume.consume

    def track_ratio(self, venue: str, channel: str) -> dict[str, Any]:
        batches = INTERVAL_S * FRAMES_PER_S / BATCH
        samples = [
            1.0 + monitoring / (batches * frames)
            for monitoring, frames in self._pairs((venue, channel))
        ]
        return {"samples": samples, "number": 1}
