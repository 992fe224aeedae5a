"""The design document's HFT targets, each mapped to the asv benchmark that measures it.

This table is the one place the targets live: ``ws-stack-bench compliance`` checks the
stored asv results against it and ``ws-stack-bench targets`` lists it; the README points
here instead of repeating the numbers.

A target selects the values of one benchmark (optionally only some parameter values) and
compares the worst of them with its limit, written as in the design document: ``"< 45 us"``,
``">= 75 %"``, ``"<= 110 % of baseline"`` (each value against the same benchmark and
parameters at the baseline commit, see :data:`BASELINE_COMMIT`), ``"<= 0"``.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["BASELINE_COMMIT", "TARGETS", "Comparison", "Target"]

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
    "": (1.0, "count"),
}
_RULE = re.compile(r"^(<|<=|>=)\s*([0-9.]+)\s*(ns|us|ms|s|%|)(\s+of baseline)?$")


@dataclass(frozen=True)
class Target:
    key: str
    title: str
    #: asv benchmark name, ``module.Class.method``.
    benchmark: str
    #: The design document's wording, e.g. ``"< 45 us"`` (see the module docstring).
    rule: str
    #: Only these parameter values count (every value of a parameter not named here).
    params: dict[str, Any] = field(default_factory=dict)
    #: Subtract this benchmark's value at the same parameters (an overhead target).
    minus: str | None = None

    def __post_init__(self) -> None:
        if not _RULE.match(self.rule):
            raise ValueError(f"target {self.key}: cannot read rule {self.rule!r}")

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
        """How figures are shown: "time", "ratio" (a percentage), "count" or "factor"."""
        return "factor" if self.relative else _UNITS[self._parts()[2]][1]

    def _parts(self) -> tuple[str, str, str, str | None]:
        match = _RULE.match(self.rule)
        assert match is not None  # checked in __post_init__
        return match.group(1), match.group(2), match.group(3), match.group(4)


_HANDLE = "bench_handler.Handle.time_handle"
_GATEIO = {"venue": "gateio", "format": "json"}
_MEXC_PB = {"venue": "mexc", "format": "protobuf"}
_MEXC_JSON = {"venue": "mexc", "format": "json"}
_MEMORY = "bench_memory.ConnectionMemory.track_bytes_retained_per_connection"

# Per-message processing is the handler's whole path (detect, route, parse, deliver) for one
# frame; order books are 20-level deltas (the parse benchmarks also cover 5 and 100).
TARGETS: tuple[Target, ...] = (
    Target("detect_type", "Message type detection (every venue and format)",
           "bench_codec.DetectType.time_detect_type", "< 8 us"),
    Target("order_book", "Order-book processing (Gate.io)", _HANDLE, "< 45 us",
           {**_GATEIO, "channel": "order_book"}),
    Target("trade", "Trade processing (Gate.io)", _HANDLE, "< 25 us",
           {**_GATEIO, "channel": "trade"}),
    Target("ticker", "Ticker processing (Gate.io)", _HANDLE, "< 18 us",
           {**_GATEIO, "channel": "book_ticker"}),
    Target("connect", "Connection establishment", "bench_connection.Connect.time_connect",
           "< 80 ms"),
    Target("reconnect", "Reconnection", "bench_connection.Reconnect.time_reconnect", "< 40 ms"),
    Target("template_overhead", "Template-method overhead (handle minus direct parse)",
           _HANDLE, "< 5 us", minus="bench_handler.Handle.time_parse_direct"),
    Target("mexc_pb_order_book", "MEXC protobuf order book", _HANDLE, "< 50 us",
           {**_MEXC_PB, "channel": "order_book"}),
    Target("mexc_pb_trade", "MEXC protobuf trade", _HANDLE, "< 30 us",
           {**_MEXC_PB, "channel": "trade"}),
    Target("mexc_pb_ticker", "MEXC protobuf ticker", _HANDLE, "< 20 us",
           {**_MEXC_PB, "channel": "book_ticker"}),
    Target("mexc_json_order_book", "MEXC JSON fallback order book", _HANDLE, "< 100 us",
           {**_MEXC_JSON, "channel": "order_book"}),
    Target("mexc_json_trade", "MEXC JSON fallback trade", _HANDLE, "< 60 us",
           {**_MEXC_JSON, "channel": "trade"}),
    Target("mexc_json_ticker", "MEXC JSON fallback ticker", _HANDLE, "< 40 us",
           {**_MEXC_JSON, "channel": "book_ticker"}),
    Target("pool_reuse", "Object-pool reuse", "bench_pool.HandlerStream.track_reuse_ratio",
           ">= 75 %"),
    Target("memory_per_connection", "Memory per connection", _MEMORY,
           "<= 110 % of baseline"),
    Target("gc_pressure", "GC pressure", "bench_memory.GcPressure.track_gc_runs_per_100k_messages",
           "<= 105 % of baseline"),
    Target("leaks", "Leaks after connect/disconnect cycles",
           "bench_memory.ConnectionLeaks.track_objects_leaked", "<= 0"),
)  # fmt: skip
