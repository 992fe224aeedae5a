"""How the suite runs under asv: n/a for missing features, batched and paired timing.

asv benchmarks the current ``benchmarks/`` against the ws_stack installed from every
commit of the history, so a suite must cope with a package that lacks what it measures:
:func:`require` turns a missing module or name into ``NotImplementedError``, which asv
records as "n/a" for that commit instead of a failure.

:class:`Timed` says how many samples a plain figure takes; :class:`Batched` and
:class:`Paired` are the two ways a short call is timed (see their docstrings). None has a
``time_`` or ``track_`` method of its own: asv collects those from every module of
``benchmarks/``, and a base class must not be taken for a benchmark.

asv runs a ``time_`` benchmark in ``rounds`` processes; a ``track_`` benchmark (every
ratio and count here) in one process per run, whatever its ``rounds`` says: asv reads
that attribute of time benchmarks only (``asv continuous -a rounds=N`` sets it for all).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def require(module: str, *names: str) -> Any:
    """Import ``module`` (and check ``names`` in it) or raise ``NotImplementedError``."""
    try:
        loaded = importlib.import_module(module)
    except ImportError as exc:
        raise NotImplementedError(f"{module} is not in this commit: {exc}") from None
    missing = [name for name in names if not hasattr(loaded, name)]
    if missing:
        raise NotImplementedError(f"{module} lacks {', '.join(missing)} in this commit")
    return loaded


#: How many calls a short benchmark times as one sample (see :class:`Batched`).
BATCH = 1000
#: Its loop: ``for _ in CALLS: ...`` in the body of a batched ``time_`` method, with
#: ``CALLS`` imported into the benchmark's own module. The instruction counter
#: (:mod:`benchmarks.instructions`) runs the same method with that module's ``CALLS`` set
#: to fewer calls: a loop over ``CALLS`` in a helper of another module would escape it.
CALLS = range(BATCH)


#: Samples of a plain figure in its one process (see :class:`Timed`), and asv's ``repeat``
#: that takes them, whatever the time (asv's default is up to 5 in 10 s per round, two
#: rounds).
PLAIN_SAMPLES = 3
TIMING_REPEAT = (PLAIN_SAMPLES, PLAIN_SAMPLES, 2.0)


class Timed:
    """Base of the plain figures: one process (asv round) of PLAIN_SAMPLES samples.

    A plain figure (a time, or a figure timed in its process with nothing beside it) moves
    on identical code far more between runs than one process's median is uncertain: the
    machine's load over minutes decides the figure, and more samples or processes in one
    run do not buy it back. One process of a few samples gives the same information at a
    fraction of the time. A figure whose process measures it and its floor in turn
    (:class:`Paired`, the socket ratios) keeps its samples: its noise is near what its
    samples can resolve. The measurements behind this rule: docs/history.md, "Samples:
    what each figure needs".
    """

    rounds = 1
    repeat = TIMING_REPEAT


def per_call_clock(batch: int) -> Callable[[], float]:
    """``perf_counter`` in units of ``batch`` seconds: a batch's duration reads as one call's."""

    def clock() -> float:
        return time.perf_counter() / batch

    return clock


class Batched(Timed):
    """Base of the benchmarks of one short call (under ~100 us): BATCH calls per sample.

    asv_runner 0.3 (pinned in ``asv.conf.json``) times a benchmark that has a ``setup()``
    one call per sample and runs ``setup()`` again before every sample: a sub-microsecond
    call then reads the clock's own cost with it, each sample starts with caches left cold
    by ``setup()``, and single calls are noisy. A subclass's ``time_`` methods make BATCH
    calls in a loop (``for _ in CALLS``), and ``timer`` (an asv benchmark attribute) counts
    in units of BATCH seconds, so asv stores the time of one call, averaged over the batch,
    as ``timeit`` would. The loop is the same for a figure and its floor. One round of
    PLAIN_SAMPLES samples, as every plain figure (:class:`Timed`).

    The warm-up is one batch: its thousand calls specialise the code and fill the caches
    and pools. asv's default warms up for 0.1 s, a hundred batches of a microsecond's call,
    in every benchmark process (what that cost: docs/history.md).

    A module whose calls take a millisecond (``bench_monitor``) batches fewer: it sets its
    own ``CALLS = range(n)`` and the class's ``timer = staticmethod(per_call_clock(n))``.
    """

    timer = staticmethod(per_call_clock(BATCH))
    #: asv warms up until this much time has passed, and at least one call: one batch.
    warmup_time = 1e-9


#: Pairs of batches a :class:`Paired` benchmark times in each process.
PAIRS = 30


class Paired:
    """Base of the ratio benchmarks of the performance targets: a figure over its floor,
    measured in alternating batches in one process.

    A target's figure and floor are also timed by their own ``time_`` benchmarks, but
    those run in separate processes, minutes apart in a full run, and the machine's load
    moves one against the other: their ratio varies from run to run on the same code.
    Here each pair of batches, BATCH calls of the figure and BATCH of the floor, gives one
    ratio; every other pair times the floor first, so that neither always runs second.
    The method hands asv the pairs' ratios as samples
    (``{"samples": [...], "number": 1}``, as ``bench_handler.Latency`` does), and asv
    stores their median.

    A subclass sets ``params``, ``setup``, ``figure_batch`` and ``floor_batch`` (the
    batched ``time_`` methods of the two benchmarks it pairs) and ``track_ratio =
    Paired.ratios`` (or ``track_<what> = Paired.differences``, in seconds per call, for a
    figure minus its floor): asv takes any ``track_`` method for a benchmark, and this
    base class must not be one.
    """

    version = 1
    unit = "ratio"
    figure_batch: Any
    floor_batch: Any

    def ratios(self, *params: Any) -> dict[str, Any]:
        pairs = self._pairs(params)
        return {"samples": [figure / floor for figure, floor in pairs], "number": 1}

    def differences(self, *params: Any) -> dict[str, Any]:
        pairs = self._pairs(params)
        return {"samples": [(figure - floor) / BATCH for figure, floor in pairs], "number": 1}

    def _pairs(self, params: tuple[Any, ...]) -> list[tuple[float, float]]:
        """PAIRS (figure, floor) durations of one batch each, timed in turn."""
        figure, floor, clock = self.figure_batch, self.floor_batch, time.perf_counter
        figure(*params)  # both warm before the first pair
        floor(*params)
        pairs = []
        for pair in range(PAIRS):
            floor_first = pair % 2 == 1
            first, second = (floor, figure) if floor_first else (figure, floor)
            start = clock()
            first(*params)
            middle = clock()
            second(*params)
            earlier, later = middle - start, clock() - middle
            pairs.append((later, earlier) if floor_first else (earlier, later))
        return pairs


def take_turns(
    windows: list[Any], rotations: int, halved: Collection[int] = ()
) -> list[list[float]]:
    """Call every window in turn, ``rotations`` times, each one first in its turn; the
    figures of each window, in the order given. The windows whose index is in ``halved``
    take part in every other rotation only (the even ones): a window's n-th figure was
    taken in the same rotation as the n-th figure of a window taken in every rotation, for
    a ``halved`` one the (2n)-th."""
    figures: list[list[float]] = [[] for _ in windows]
    for rotation in range(rotations):
        taking = [i for i in range(len(windows)) if rotation % 2 == 0 or i not in halved]
        turn = rotation % len(taking)
        for index in [*taking[turn:], *taking[:turn]]:
            figures[index].append(windows[index]())
    return figures


def side_by_side(work: Callable[[Any], Any], arguments: Sequence[Any]) -> list[Any]:
    """``[work(argument) for argument in arguments]``, each call in a process of its own
    (forked from this one), as many at a time as this process may use CPUs.

    For set-ups whose process keeps one core busy and measures CPU time per frame within
    itself (a figure and its floor taking turns): two on two cores measure what one after
    the other would, in half the time. ``work`` must be a module-level function; what it
    returns and raises crosses back by pickling.
    """
    workers = min(len(arguments), len(os.sched_getaffinity(0)))
    if workers <= 1:
        return [work(argument) for argument in arguments]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(pool.map(work, arguments))
