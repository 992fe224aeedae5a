"""The continuous monitor: samples streams and the process, raises alerts, exports.

Every ``interval`` seconds :class:`Monitor` samples the metrics of every connection of
the streams it watches, the handlers' counts, the books' state and the process (CPU time,
resident memory, garbage-collector runs), turns the interval into an
:class:`~ws_stack.monitor.IntervalReport`, updates the alerts, logs, calls back and
appends the report to a JSON Lines file. With a metrics port it also serves the live
metrics on ``http://127.0.0.1:PORT/metrics`` through ``prometheus_client``; a scrape
takes a fresh sample on the event loop's thread, so counters are current between ticks.

The receive path keeps the counters it always kept, plus a running total of handler
time (for the average over an interval); the monitor reads them once per interval and
once per scrape.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import math
import os
import resource
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TypeAlias, TypeVar
from wsgiref.simple_server import WSGIServer

import msgspec
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from ws_stack.book_sync import BookSync
from ws_stack.exceptions import ConfigError
from ws_stack.monitor import (
    DEFAULT_RULES,
    AlertEvent,
    AlertRule,
    AlertTracker,
    ConnectionSample,
    IntervalReport,
    ProcessSample,
    Sample,
    Severity,
    StreamSample,
    frame_errors,
    interval_report,
)

from .connection import Connection
from .exposition import metric_families
from .group import ConnectionGroup
from .stream import MarketStream

__all__ = ["DEFAULT_INTERVAL", "Monitor", "MonitorTarget", "process_sample"]

logger = logging.getLogger(__name__)

#: The default sampling interval, in seconds: a minute, as is usual for a production monitor.
DEFAULT_INTERVAL = 60.0
#: How long a scrape waits for the event loop to take its sample.
SCRAPE_TIMEOUT = 5.0
#: Where the metrics server listens: loopback only.
METRICS_HOST = "127.0.0.1"

MonitorTarget: TypeAlias = MarketStream | ConnectionGroup | Connection
AlertCallback = Callable[[AlertEvent], None]
ReportCallback = Callable[[IntervalReport], None]


class Monitor:
    """Watches ``targets`` every ``interval`` seconds; see the module docstring.

    ``rules`` are the alert rules (:func:`~ws_stack.monitor.configure_rules` overrides
    thresholds); ``metrics_port`` serves Prometheus metrics on 127.0.0.1 (0 picks a
    free port); ``export`` is a JSON Lines file that gets one report per interval.
    Bad settings raise :class:`ConfigError` here or, for the port and the file, in
    :meth:`start`.
    """

    def __init__(
        self,
        targets: Iterable[MonitorTarget],
        *,
        interval: float = DEFAULT_INTERVAL,
        rules: Iterable[AlertRule] = DEFAULT_RULES,
        metrics_port: int | None = None,
        export: str | Path | None = None,
        on_alert: AlertCallback | None = None,
        on_report: ReportCallback | None = None,
    ) -> None:
        self.targets = tuple(targets)
        if not self.targets:
            raise ConfigError("Monitor needs at least one stream, group or connection")
        for target in self.targets:
            if not isinstance(target, MarketStream | ConnectionGroup | Connection):
                raise ConfigError(
                    f"Monitor cannot watch {target!r}: give a MarketStream, "
                    f"ConnectionGroup or Connection"
                )
        if (
            isinstance(interval, bool)
            or not isinstance(interval, int | float)
            or not math.isfinite(interval)
            or interval <= 0
        ):
            raise ConfigError(
                f"monitor interval must be a positive number of seconds, got {interval!r}"
            )
        if metrics_port is not None and (
            isinstance(metrics_port, bool)
            or not isinstance(metrics_port, int)
            or not 0 <= metrics_port <= 65535
        ):
            raise ConfigError(
                f"metrics port must be an integer from 0 to 65535 (0: any free "
                f"port), got {metrics_port!r}"
            )
        self.interval = float(interval)
        self.alerts = AlertTracker(rules)
        self.export_path = None if export is None else Path(export)
        self._metrics_port = metrics_port
        self._alert_callbacks: list[AlertCallback] = [] if on_alert is None else [on_alert]
        self._report_callbacks: list[ReportCallback] = [] if on_report is None else [on_report]
        self.registry = CollectorRegistry(auto_describe=False)
        self._collector = _SampleCollector(self)
        self.registry.register(self._collector)
        self.last_report: IntervalReport | None = None
        self._last: Sample | None = None
        self._task: asyncio.Task[None] | None = None
        self._server: WSGIServer | None = None
        self._server_thread: threading.Thread | None = None
        self._export: IO[bytes] | None = None
        self._encode = msgspec.json.Encoder().encode

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Take the first sample, open the export file, serve metrics, start ticking."""
        if self._task is not None:
            raise RuntimeError("Monitor already started")
        self._collector.loop = asyncio.get_running_loop()
        self._collector.loop_thread = threading.get_ident()
        if self.export_path is not None:
            try:
                self._export = open(self.export_path, "ab")  # noqa: SIM115 - closed in close()
            except OSError as exc:
                raise ConfigError(
                    f"cannot write the monitor export {str(self.export_path)!r}: "
                    f"{exc.strerror}; give a writable file"
                ) from None
        if self._metrics_port is not None:
            try:
                self._server, self._server_thread = start_http_server(
                    self._metrics_port, addr=METRICS_HOST, registry=self.registry
                )
            except OSError as exc:
                self._close_export()
                if exc.errno == errno.EADDRINUSE:
                    raise ConfigError(
                        f"metrics port {self._metrics_port} is in use on "
                        f"{METRICS_HOST}: choose another one (0 picks a free "
                        f"port)"
                    ) from None
                raise ConfigError(
                    f"cannot serve metrics on {METRICS_HOST}:{self._metrics_port}: {exc.strerror}"
                ) from None
        self._last = self.sample()
        self._task = asyncio.create_task(self._run(), name="monitor")

    async def close(self) -> None:
        """Stop ticking and serving; close the export file."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._server is not None:
            server, self._server = self._server, None
            # shutdown() waits for the serving thread's next poll: not on the loop.
            await asyncio.to_thread(server.shutdown)
            server.server_close()
        self._close_export()

    def _close_export(self) -> None:
        if self._export is not None:
            self._export.close()
            self._export = None

    async def __aenter__(self) -> Monitor:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def metrics_url(self) -> str | None:
        """``http://127.0.0.1:PORT/metrics`` while serving, else ``None``."""
        if self._server is None:
            return None
        return f"http://{METRICS_HOST}:{self._server.server_port}/metrics"

    def on_alert(self, callback: AlertCallback) -> None:
        """Call ``callback(event)`` whenever an alert is raised or cleared."""
        self._alert_callbacks.append(callback)

    def on_report(self, callback: ReportCallback) -> None:
        """Call ``callback(report)`` after every interval."""
        self._report_callbacks.append(callback)

    # -- sampling --------------------------------------------------------------------

    async def _run(self) -> None:
        next_tick = time.monotonic() + self.interval
        while True:
            await asyncio.sleep(max(0.0, next_tick - time.monotonic()))
            next_tick += self.interval
            try:
                self.tick()
            except Exception:  # a bug must not stop monitoring: log it, go on
                logger.exception("monitor: sampling failed")

    def sample(self) -> Sample:
        """What the targets and the process tell now (call on the event loop's thread)."""
        seen: dict[str, int] = {}
        streams = tuple(_stream_sample(target, seen) for target in self.targets)
        return Sample(time.monotonic(), time.time(), streams, process_sample())

    def tick(self) -> IntervalReport:
        """Close the current interval now: report, alerts, log, export, callbacks."""
        sample = self.sample()
        before = self._last if self._last is not None else sample
        self._last = sample
        report = interval_report(before, sample)
        events = self.alerts.update(report)
        report = msgspec.structs.replace(
            report, alerts=tuple(rule.name for rule in self.alerts.active)
        )
        self.last_report = report
        logger.info("monitor: %s", report.describe())
        for event in events:
            level = (
                logging.ERROR
                if event.raised and event.rule.severity is Severity.CRITICAL
                else logging.WARNING
                if event.raised
                else logging.INFO
            )
            logger.log(level, "monitor: %s", event.describe())
        if self._export is not None:
            self._export.write(self._encode(report) + b"\n")
            self._export.flush()
        for event in events:
            for alert_callback in self._alert_callbacks:
                _call(alert_callback, event)
        for report_callback in self._report_callbacks:
            _call(report_callback, report)
        return report

    def exposition(self) -> bytes:
        """The metrics in Prometheus' text format, as ``/metrics`` serves them."""
        return generate_latest(self.registry)


_T = TypeVar("_T")


def _call(callback: Callable[[_T], object], argument: _T) -> None:
    try:
        callback(argument)
    except Exception:
        logger.exception("monitor: callback %r raised", callback)


class _SampleCollector(Collector):
    """The registry's view of the monitor: a fresh sample on every scrape.

    The HTTP server scrapes from its own threads; the counters belong to the event loop,
    so the sample is taken there and handed back.
    """

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None

    def collect(self) -> Iterator[Metric]:
        monitor, loop = self.monitor, self.loop
        if loop is None or threading.get_ident() == self.loop_thread:
            sample = monitor.sample()
        else:
            sample = asyncio.run_coroutine_threadsafe(_sample_of(monitor), loop).result(
                SCRAPE_TIMEOUT
            )
        active = {rule.name for rule in monitor.alerts.active}
        yield from metric_families(sample, monitor.alerts.rules, active)


async def _sample_of(monitor: Monitor) -> Sample:
    return monitor.sample()


def _stream_sample(target: MonitorTarget, seen: dict[str, int]) -> StreamSample:
    books: Iterable[BookSync] = ()
    if isinstance(target, MarketStream):
        connections, handler, books = (
            target.group.connections,
            target.handler,
            (target.books.values()),
        )
    elif isinstance(target, ConnectionGroup):
        connections, handler = target.connections, target.handler
    else:
        connections, handler = (target,), target.handler
    samples = []
    for connection in connections:
        # Two streams of one venue both have a "gateio-0": labels must stay unique.
        name = connection.name
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}#{seen[name]}"
        samples.append(ConnectionSample(name, connection.metrics()))
    stats = handler.stats()
    live = out_of_sync = resyncs = 0
    for sync in books:
        if sync.live:
            live += 1
        else:
            out_of_sync += 1
        resyncs += sync.stats().resyncs
    return StreamSample(
        venue=handler.venue.value,
        connections=tuple(samples),
        messages=dict(stats.messages),
        frame_errors=frame_errors(stats.errors),
        books_live=live,
        books_out_of_sync=out_of_sync,
        resyncs=resyncs,
    )


_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def process_sample() -> ProcessSample:
    """CPU time, resident memory and garbage-collector runs of this process."""
    return ProcessSample(
        cpu_s=time.process_time(),
        rss_bytes=_resident_bytes(),
        gc_collections=tuple(generation["collections"] for generation in gc.get_stats()),
    )


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        # No procfs (macOS): the peak, which ru_maxrss gives in bytes there.
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
