"""The HFT targets (processing times, ratios to bare floors, memory), each mapped to the
asv benchmark that measures it.

This table is the one place the targets live: ``ws-stack-bench compliance`` checks the
stored asv results against it and ``ws-stack-bench targets`` lists it; the README points
here instead of repeating the numbers.

A target selects the values of one benchmark (optionally only some parameter values) and
compares the worst of them with its limit, written as a person would: ``"< 45 us"``,
``">= 75 %"``, ``"<= 110 % of baseline"`` (each value against the same benchmark and
parameters at the baseline commit, see :data:`BASELINE_COMMIT`), ``"<= 0"``.

The ratio targets are measured in one run, so that they hold on any machine: a target
with ``over`` divides each value by another benchmark's (its floor, e.g. a bare
``msgspec`` decode of the same bytes) at the same parameters, ``"<= 1.5x"``; one with
``spread`` compares the largest and smallest value across one parameter (flat cost). A
ratio, spread or difference (``minus``) target may name a ``paired`` benchmark that
measures the same figure in one process, the two sides timed in turn
(``benchmarks.asv_support.Paired``): where it has a value, that figure decides, because
separate benchmarks run minutes apart and the machine's load moves one against the other;
the figure of the separate benchmarks is still shown. A ratio target may also name a
``bound``: the same ratio, measured in one process, of the work no implementation can
skip over the same floor. It does not decide; the report shows it, and says a target is
out of reach where the bound itself misses the rule.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BASELINE_COMMIT", "TARGETS", "Comparison", "Target", "benchmarks_of"]

#: The commit relative targets compare with. ``None`` means the oldest commit in the
#: stored history that measured the benchmark, so that a slow drift over the history is
#: caught, not only a jump between neighbours. ``ws-stack-bench compliance --baseline``
#: overrides it.
BASELINE_COMMIT: str | None = None


class Comparison(enum.Enum):
    BELOW = "<"
    AT_MOST = "<="
    AT_LEAST = ">="

    def holds(self, value: float, limit: float) -> bool:
        if self is Comparison.BELOW:
            return value < limit
        if self is Comparison.AT_MOST:
            return value <= limit
        return value >= limit

    def worst(self, values: list[float]) -> float:
        """The value that decides the target (the largest, or the smallest for >=)."""
        return min(values) if self is Comparison.AT_LEAST else max(values)


#: Units a rule may use, as (factor to the benchmark's unit, how figures are shown).
_UNITS: dict[str, tuple[float, str]] = {
    "ns": (1e-9, "time"),
    "us": (1e-6, "time"),
    "ms": (1e-3, "time"),
    "s": (1.0, "time"),
    "%": (0.01, "ratio"),
    "x": (1.0, "multiple"),
    "": (1.0, "count"),
}
_RULE = re.compile(r"^(<|<=|>=)\s*([0-9.]+)\s*(ns|us|ms|s|%|x|)(\s+of baseline)?$")


@dataclass(frozen=True)
class Target:
    key: str
    title: str
    #: asv benchmark name, ``module.Class.method``.
    benchmark: str
    #: The limit as written, e.g. ``"< 45 us"`` (see the module docstring).
    rule: str
    #: Only these parameter values count (every value of a parameter not named here); a
    #: list names several values of one parameter.
    params: dict[str, Any] = field(default_factory=dict)
    #: Subtract this benchmark's value at the same parameters (an overhead target).
    minus: str | None = None
    #: Divide by this benchmark's value (a ratio target): at the same parameters, with
    #: ``over_params`` put in (e.g. ``{"depth": 5}`` to compare depths of one benchmark).
    over: str | None = None
    over_params: dict[str, Any] = field(default_factory=dict)
    #: The same ratio (spread, difference) measured in one process: a ``track_`` benchmark
    #: at the same parameters as ``benchmark`` (without the ``spread`` one). It decides
    #: where it has a value. For an ``inverse`` target it measures ``benchmark / over`` too.
    paired: str | None = None
    #: Report ``over / benchmark`` instead: a rate from two times (frames per second).
    inverse: bool = False
    #: The best ratio reachable: a ``track_`` benchmark measuring, in one process, the
    #: work any implementation must do over the same floor, at the parameters of
    #: ``benchmark`` it has (those it lacks are not compared). Shown, never deciding.
    bound: str | None = None
    #: Compare the largest value with the smallest across this parameter (the other
    #: parameters' combinations are judged one by one): cost that must stay flat.
    spread: str | None = None
    #: A figure shown beside the deciding one, never deciding: ``(label, benchmark)``, the
    #: benchmark's value at the deciding value's parameters (a lone frame's p99 beside
    #: its p95).
    beside: tuple[str, str] | None = None

    def __post_init__(self) -> None:
        if not _RULE.match(self.rule):
            raise ValueError(f"target {self.key}: cannot read rule {self.rule!r}")
        if self.paired is not None and not (self.over or self.spread or self.minus):
            raise ValueError(f"target {self.key}: only a ratio, a spread or a difference is paired")
        # A bound is the ratio of the unavoidable work over a floor: for a ratio over a
        # floor, or a benchmark that is such a ratio itself, not for a comparison of one
        # benchmark at two parameters, a spread or a difference.
        over_floor = self.over is not None and self.over != self.benchmark
        itself = self.over is None and self.spread is None and self.minus is None
        ratio = self.display in ("multiple", "ratio")
        if self.bound is not None and not (over_floor or (itself and ratio)):
            raise ValueError(f"target {self.key}: only a ratio over a floor has a bound")

    @property
    def comparison(self) -> Comparison:
        return Comparison(self._parts()[0])

    @property
    def limit(self) -> float:
        """In the benchmark's unit, or a factor of the baseline when :attr:`relative`."""
        _, number, unit, _ = self._parts()
        return float(number) * _UNITS[unit][0]

    @property
    def relative(self) -> bool:
        return self._parts()[3] is not None

    @property
    def display(self) -> str:
        """How figures are shown: "time", "ratio" (a percentage), "multiple" (1.18x),
        "count" or "factor"."""
        return "factor" if self.relative else _UNITS[self._parts()[2]][1]

    def _parts(self) -> tuple[str, str, str, str | None]:
        match = _RULE.match(self.rule)
        assert match is not None  # checked in __post_init__
        return match.group(1), match.group(2), match.group(3), match.group(4)


_HANDLE = "bench_handler.Handle.time_handle"
_LONE = "bench_handler.LoneFrame.track_handle_p95"
_LONE_P99 = ("p99", "bench_handler.LoneFrame.track_handle_p99")
_GATEIO = {"venue": "gateio", "format": "json"}
_MEXC_PB = {"venue": "mexc", "format": "protobuf"}
_MEXC_JSON = {"venue": "mexc", "format": "json"}
_MEMORY = "bench_memory.ConnectionMemory.track_bytes_retained_per_connection"
_PARSE = "bench_codec.ParseOrderBook.time_parse"
_PARSE_FLOOR = "bench_codec.ParseOrderBook.time_floor"
_PARSE_PAIRED = "bench_codec.ParseOrderBookOverFloor.track_ratio"
_DEPTH_PAIRED = "bench_codec.ParseOrderBookOverFiveLevels.track_ratio"
_DELTA_20 = {"kind": "update", "depth": 20}
_PUSHES = ["trade", "book_ticker", "order_book"]
_WEBSOCKETS = {"transport": "websockets"}
_PICOWS = {"transport": "picows"}

# Per-message processing is the handler's whole path (detect, route, parse, deliver) for one
# frame. The latency targets are judged as a strategy meets them, at p95 on a lone frame
# (bench_handler.LoneFrame: one frame at a time, 4 MiB written between two; deltas of 3
# levels a side applied to a 1,000-level book), with the p99 shown beside. The same
# limits on the hot loop (the same frame again and again, caches warm; order books are
# 20-level deltas) are throughput rows: what a busy stream costs per frame.
TARGETS: tuple[Target, ...] = (
    Target("lone_detect_type", "Message type detection, lone frame p95 (every venue and format)",
           "bench_handler.LoneFrame.track_detect_p95", "< 8 us",
           beside=("p99", "bench_handler.LoneFrame.track_detect_p99")),
    Target("lone_order_book", "Order-book processing, lone frame p95 (Gate.io)", _LONE,
           "< 45 us", {**_GATEIO, "channel": "order_book"}, beside=_LONE_P99),
    Target("lone_trade", "Trade processing, lone frame p95 (Gate.io)", _LONE, "< 25 us",
           {**_GATEIO, "channel": "trade"}, beside=_LONE_P99),
    Target("lone_ticker", "Ticker processing, lone frame p95 (Gate.io)", _LONE, "< 18 us",
           {**_GATEIO, "channel": "book_ticker"}, beside=_LONE_P99),
    Target("lone_mexc_pb_order_book", "MEXC protobuf order book, lone frame p95", _LONE,
           "< 50 us", {**_MEXC_PB, "channel": "order_book"}, beside=_LONE_P99),
    Target("lone_mexc_pb_trade", "MEXC protobuf trade, lone frame p95", _LONE, "< 30 us",
           {**_MEXC_PB, "channel": "trade"}, beside=_LONE_P99),
    Target("lone_mexc_pb_ticker", "MEXC protobuf ticker, lone frame p95", _LONE, "< 20 us",
           {**_MEXC_PB, "channel": "book_ticker"}, beside=_LONE_P99),
    Target("lone_mexc_json_order_book", "MEXC JSON fallback order book, lone frame p95", _LONE,
           "< 100 us", {**_MEXC_JSON, "channel": "order_book"}, beside=_LONE_P99),
    Target("lone_mexc_json_trade", "MEXC JSON fallback trade, lone frame p95", _LONE,
           "< 60 us", {**_MEXC_JSON, "channel": "trade"}, beside=_LONE_P99),
    Target("lone_mexc_json_ticker", "MEXC JSON fallback ticker, lone frame p95", _LONE,
           "< 40 us", {**_MEXC_JSON, "channel": "book_ticker"}, beside=_LONE_P99),
    Target("detect_type", "Message type detection, hot loop (throughput)",
           "bench_codec.DetectType.time_detect_type", "< 8 us"),
    Target("order_book", "Order-book processing (Gate.io), hot loop (throughput)", _HANDLE,
           "< 45 us", {**_GATEIO, "channel": "order_book"}),
    Target("trade", "Trade processing (Gate.io), hot loop (throughput)", _HANDLE, "< 25 us",
           {**_GATEIO, "channel": "trade"}),
    Target("ticker", "Ticker processing (Gate.io), hot loop (throughput)", _HANDLE, "< 18 us",
           {**_GATEIO, "channel": "book_ticker"}),
    Target("connect", "Connection establishment", "bench_connection.Connect.time_connect",
           "< 80 ms"),
    Target("reconnect", "Reconnection", "bench_connection.Reconnect.time_reconnect", "< 40 ms"),
    Target("template_overhead", "Template-method overhead (handle minus direct parse)",
           _HANDLE, "< 5 us", minus="bench_handler.Handle.time_parse_direct",
           paired="bench_handler.HandleMinusParser.track_overhead"),
    Target("mexc_pb_order_book", "MEXC protobuf order book, hot loop (throughput)", _HANDLE,
           "< 50 us", {**_MEXC_PB, "channel": "order_book"}),
    Target("mexc_pb_trade", "MEXC protobuf trade, hot loop (throughput)", _HANDLE, "< 30 us",
           {**_MEXC_PB, "channel": "trade"}),
    Target("mexc_pb_ticker", "MEXC protobuf ticker, hot loop (throughput)", _HANDLE, "< 20 us",
           {**_MEXC_PB, "channel": "book_ticker"}),
    Target("mexc_json_order_book", "MEXC JSON fallback order book, hot loop (throughput)",
           _HANDLE, "< 100 us", {**_MEXC_JSON, "channel": "order_book"}),
    Target("mexc_json_trade", "MEXC JSON fallback trade, hot loop (throughput)", _HANDLE,
           "< 60 us", {**_MEXC_JSON, "channel": "trade"}),
    Target("mexc_json_ticker", "MEXC JSON fallback ticker, hot loop (throughput)", _HANDLE,
           "< 40 us", {**_MEXC_JSON, "channel": "book_ticker"}),
    Target("pool_reuse", "Object-pool reuse", "bench_pool.HandlerStream.track_reuse_ratio",
           ">= 75 %"),
    Target("memory_per_connection", "Memory per connection", _MEMORY,
           "<= 110 % of baseline"),
    Target("gc_pressure", "GC pressure", "bench_memory.GcPressure.track_gc_runs_per_100k_messages",
           "<= 105 % of baseline"),
    Target("leaks", "Leaks after connect/disconnect cycles",
           "bench_memory.ConnectionLeaks.track_objects_leaked", "<= 0"),
    # Ratios against a bare floor measured in the same run on the same bytes (see each
    # floor benchmark's docstring), so that they hold on any machine.
    Target("gateio_parse_ratio", "Gate.io delta parse / bare msgspec decode",
           _PARSE, "<= 1.5x", {**_GATEIO, **_DELTA_20}, over=_PARSE_FLOOR, paired=_PARSE_PAIRED),
    Target("mexc_parse_ratio", "MEXC protobuf delta parse / bare protobuf",
           _PARSE, "<= 2x", {**_MEXC_PB, **_DELTA_20}, over=_PARSE_FLOOR, paired=_PARSE_PAIRED,
           bound="bench_codec.MexcDepthBoundOverFloor.track_ratio"),
    Target("detect_ratio", "Type detection / bare find of the marker",
           "bench_codec.DetectType.time_detect_type", "<= 3x", {"channel": _PUSHES},
           over="bench_codec.DetectType.time_find_marker",
           paired="bench_codec.DetectTypeOverFloor.track_ratio"),
    Target("handler_ratio", "Handler with callbacks / parser, books",
           _HANDLE, "<= 1.2x", {"channel": "order_book"},
           over="bench_handler.Handle.time_parse_direct",
           paired="bench_handler.HandleOverParser.track_ratio"),
    Target("apply_ratio", "Apply delta to 1,000-level book / parse it",
           "bench_book.ApplyDelta.time_apply_delta", "<= 2x", {"levels": 20},
           over="bench_book.ParseDelta.time_parse_delta",
           paired="bench_book.ApplyDeltaOverParse.track_ratio"),
    Target("end_to_end_rate", "Frames/s end to end / bare websockets",
           "bench_connection.EndToEnd.time_1000_frames", ">= 70 %", _WEBSOCKETS,
           over="bench_connection.BareReceive.time_1000_frames", inverse=True,
           paired="bench_connection.EndToEndOverBare.track_ratio",
           bound="bench_connection.ParseApplyOverBare.track_ratio"),
    # The same on picows, over the same floor: the bare *websockets* loop.
    Target("end_to_end_rate_picows", "Frames/s end to end on picows / bare websockets",
           "bench_connection.EndToEnd.time_1000_frames", ">= 70 %", _PICOWS,
           over="bench_connection.BareReceive.time_1000_frames", over_params=_WEBSOCKETS,
           inverse=True, paired="bench_connection.EndToEndOverBare.track_ratio",
           bound="bench_connection.ParseApplyOverBare.track_ratio"),
    # The 50 us budget per order-book message, in ns (the benchmark's unit).
    Target("end_to_end_latency_p99", "p99 handler latency end to end (ns)",
           "bench_connection.EndToEnd.track_handler_latency_p99_ns", "< 50000"),
    Target("allocations_per_level", "Objects per level beyond decoder output",
           "bench_memory.DeltaAllocations.track_objects_per_level", "<= 1"),
    Target("steady_pool_reuse", "Level-pool reuse, steady delta stream",
           "bench_pool.HandlerStream.track_reuse_ratio", ">= 99 %"),
    Target("subscriptions_spread", "CPU time per frame, 1 / 30 / 300 subscriptions",
           "bench_connection.Subscriptions.track_frame_time", "<= 1.2x",
           spread="subscriptions", paired="bench_connection.SubscriptionsSpread.track_spread"),
    Target("depth_20_ratio", "Parse time, 20 vs 5 levels (linear: 4x)", _PARSE,
           "<= 4x", {"kind": "update", "depth": 20}, over=_PARSE, over_params={"depth": 5},
           paired=_DEPTH_PAIRED),
    Target("depth_100_ratio", "Parse time, 100 vs 5 levels (linear: 20x)", _PARSE,
           "<= 20x", {"kind": "update", "depth": 100}, over=_PARSE, over_params={"depth": 5},
           paired=_DEPTH_PAIRED),
    # The small deltas venues mostly send: near the floor too (1.5x since the compiled reader).
    Target("mexc_small_delta_ratio", "MEXC 1-5-level delta parse / bare protobuf",
           "bench_codec.ParseSmallDelta.time_parse", "<= 1.5x", {**_MEXC_PB, "kind": "update"},
           over="bench_codec.ParseSmallDelta.time_floor",
           paired="bench_codec.ParseSmallDeltaOverFloor.track_ratio",
           bound="bench_codec.MexcSmallDeltaBoundOverFloor.track_ratio"),
    Target("gateio_small_delta_handled", "Gate.io 1-5-level delta handled into a book / parse",
           "bench_handler.HandleSmallDelta.time_handle", "<= 1.5x",
           over="bench_handler.HandleSmallDelta.time_parse",
           paired="bench_handler.HandleSmallDeltaOverParse.track_ratio"),
    # The transport (picows over websockets), client CPU time per frame through a socket
    # from a source that never waits (benchmarks.pump), measured in one process.
    Target("gateio_small_delta_picows",
           "Gate.io 1-5-level deltas on picows / bare websockets",
           "bench_connection.SmallDeltasOverBare.track_rate_over_bare", ">= 1.5x",
           {"venue": "gateio", **_PICOWS},
           bound="bench_connection.SmallDeltasBoundOverBare.track_rate_over_bare"),
    Target("mix_socket_gateio", "Mix through a socket, picows / websockets (Gate.io)",
           "bench_mix.RealisticMixSocketSpeedup.track_ratio", ">= 2x", {"venue": "gateio"}),
    Target("mix_socket_mexc", "Mix through a socket, picows / websockets (MEXC)",
           "bench_mix.RealisticMixSocketSpeedup.track_ratio", ">= 1.6x", {"venue": "mexc"}),
    # What the compiled twins buy end to end on picows: the pure-Python references over the
    # twins, the two connections in one process (n/a before the twins existed).
    Target("mix_socket_compiled_mexc", "Mix through a socket on picows, compiled / pure (MEXC)",
           "bench_mix.RealisticMixSocketCompiledOverPure.track_ratio", ">= 1.8x",
           {"venue": "mexc"}),
    Target("mix_socket_compiled_gateio",
           "Mix through a socket on picows, compiled / pure (Gate.io)",
           "bench_mix.RealisticMixSocketCompiledOverPure.track_ratio", ">= 1.3x",
           {"venue": "gateio"}),
    # Measured in one process: a stream's frames with the monitor's work of an interval
    # over the same frames without it, at the default settings (bench_monitor).
    Target("monitoring_cost", "Monitoring: frames with / without it (per interval)",
           "bench_monitor.MonitoredOverConsume.track_ratio", "<= 1.05x"),
)  # fmt: skip


def benchmarks_of(targets: tuple[Target, ...] = TARGETS) -> list[str]:
    """The benchmarks that decide ``targets``: what a commit needs measured to be judged.

    For a paired target, the paired benchmark (and the bound), not the two separate ones
    it stands for, whose figure the table shows beside it when they are measured too (the
    slowest benchmarks of the suite are such separate ones). For any other target, the
    figure and what it is divided by or minus, and the bound.
    """
    names: set[str] = set()
    for target in targets:
        if target.paired is not None:
            deciding: tuple[str | None, ...] = (target.paired, target.bound)
        else:
            deciding = (target.benchmark, target.minus, target.over, target.bound)
        names.update(name for name in deciding if name)
        if target.beside is not None:
            names.add(target.beside[1])
    return sorted(names)
