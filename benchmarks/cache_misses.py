"""Cache misses of a lone frame, counted under valgrind's cache simulation.

A lone frame costs several times a hot one, and not for its instructions, which are the
same hot or cold: for the cache lines it touches that the work before it pushed out
(:mod:`benchmarks.lone`). Timed, that cost moves with the machine's load; simulated, it
does not. callgrind's cache simulation (``--cache-sim=yes``) follows every access of the
process through a model of the caches, so the misses of one frame after a known eviction
are the same on every run of the same code, as instruction counts are, and the gate
judges them as it judges those.

A :class:`Missed` benchmark counts one call of a twin method after the twin's
``interfere()`` (the same 4 MiB write the timed lone frames have before each frame),
:data:`PARTS` times, and reports the median frame's misses less those of an empty part
(the same eviction, then no call: what the measurement's own requests miss):

* **first-level data misses**, ``D1mr + D1mw``: the lines of data the frame reads or
  writes that are not in the first-level data cache;
* **last-level misses**, ``ILmr + DLmr + DLmw``: the lines of code and data that come from
  memory.

The simulated caches are fixed, not the host's (valgrind would take the host's), so that
every machine counts the same: :data:`GEOMETRY`, 32 KiB 8-way first-level caches and a
2 MiB 16-way last level, all with 64-byte lines. The 4 MiB written evicts every line of
the data cache and the last level; it leaves the instruction cache as it was (the
interference runs no other code), so a frame's code misses are last-level ones.

The whole kind runs in one callgrind process of its own (the cache simulation slows
everything it sees; the instruction counts stay without it), forked per combination as
:mod:`benchmarks.instructions` does.
"""

from __future__ import annotations

import gc
import statistics
from typing import Any, ClassVar

from .instructions import Counted, _Requests, measure_suite

#: The simulated caches: (size in bytes, associativity, line size) of each.
GEOMETRY = {"I1": (32768, 8, 64), "D1": (32768, 8, 64), "LL": (2 << 20, 16, 64)}
#: Lone frames measured, and frames before them (the handler's specialised code, filled
#: pools: a handler that has been running).
PARTS = 5
WARM_UP_FRAMES = 20
#: What each reported figure sums, of callgrind's events.
EVENTS = {"d1": ("D1mr", "D1mw"), "ll": ("ILmr", "DLmr", "DLmw")}


class Missed(Counted):
    """Base of the cache-miss benchmarks: misses of one lone call of a twin method.

    A subclass names its twin, a class whose ``setup(*params)`` prepares one call at a
    time: a method per counted call, taking no argument, and ``interfere()``::

        class LoneFrameMisses(Missed):
            twin = LoneFrameCalls
            track_handle_d1 = Missed.of("handle", "d1")
    """

    unit = "misses"
    valgrind_options: ClassVar[tuple[str, ...]] = (
        "--cache-sim=yes",
        *(f"--{cache}={','.join(map(str, shape))}" for cache, shape in GEOMETRY.items()),
    )
    parts: ClassVar[int] = PARTS
    calls_per_part: ClassVar[int] = 1
    #: What a lone frame runs through: the handlers (and what they import) and the book.
    preloaded: ClassVar[tuple[str, ...]] = (
        "ws_stack.mexc.handler",
        "ws_stack.gateio.handler",
        "ws_stack.book",
    )

    def setup_cache(self) -> dict[str, Any]:
        return measure_suite(kind=Missed)

    @classmethod
    def measure_parts(cls, requests: _Requests, twin: Any, method: str,
                      params: tuple[Any, ...]) -> list[int]:  # fmt: skip
        """PARTS parts of one lone call, then one of none; each after the interference,
        which is dumped as a part of its own (not reported)."""
        call, interfere = getattr(twin, method), twin.interfere
        for _ in range(WARM_UP_FRAMES):  # uninstrumented: the simulated caches see nothing
            call()
        gc.collect()
        requests.start()
        try:
            numbers = []
            for part in range(cls.parts + 1):
                interfere()
                requests.dump()
                if part < cls.parts:
                    call()
                numbers.append(requests.dump())
        finally:
            requests.stop()
        return numbers

    @staticmethod
    def per_call(full: list[tuple[dict[str, int], int]], empty: tuple[dict[str, int], int],
                 calls: int) -> Any:  # fmt: skip
        """``{"d1": misses, "ll": misses}`` of the median lone call, less the empty part's."""

        def misses(part: dict[str, int], events: tuple[str, ...]) -> int:
            return sum(part.get(event, 0) for event in events)

        return {
            name: round(statistics.median(misses(part, events) for part, _ in full)
                        - misses(empty[0], events))
            for name, events in EVENTS.items()
        }  # fmt: skip

    @staticmethod
    def of(method: str, figure: str) -> Any:  # type: ignore[override]
        """A ``track_`` method: ``figure`` (``"d1"`` or ``"ll"``) of one lone ``method``."""

        def track(self: Missed, suite: dict[str, Any], *params: Any) -> int:
            value = self.measured[method]
            if "error" in value:
                raise RuntimeError(value["error"])
            misses: int = value[figure]
            return misses

        level = "first-level data" if figure == "d1" else "last-level"
        track.__doc__ = f"The {level} cache misses of one lone call of ``{method}``."
        track.counted = method  # type: ignore[attr-defined]  # Counted reads it
        return track
