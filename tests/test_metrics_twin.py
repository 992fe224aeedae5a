"""The latency window's compiled twin (ws_stack._metrics) against its reference, and the
timed call both make (tests/test_metrics.py runs the rest of the window's tests on
whichever ``metrics.LatencyWindow`` is)."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack import implementation, metrics
from ws_stack.metrics import Metrics, _PureLatencyWindow

_compiled = implementation.compiled("ws_stack._metrics")
needs_compiled = pytest.mark.skipif(
    _compiled is None, reason="ws_stack._metrics is not built (pure Python)"
)
WINDOWS = [
    pytest.param(_PureLatencyWindow, id="reference"),
    pytest.param(getattr(_compiled, "LatencyWindow", None), id="compiled", marks=needs_compiled),
]


def observe(window):
    return (window.samples(), window.count, window.total, window.percentile(50),
            window.percentile(99))  # fmt: skip


@needs_compiled
def test_the_window_in_use_is_the_compiled_one_where_built():
    assert metrics.LatencyWindow is _compiled.LatencyWindow
    assert isinstance(Metrics().latency, _compiled.LatencyWindow)


def test_metrics_count_in_slots_as_before():
    metrics = Metrics(latency_window=8)
    metrics.frames += 2
    metrics.bytes += 20
    metrics.reconnects += 1
    snapshot = metrics.snapshot(state="connected", uptime_s=1.0, queue_depth=0,
                                queue_capacity=8, queue_dropped=0)  # fmt: skip
    assert (snapshot.frames, snapshot.bytes, snapshot.reconnects) == (2, 20, 1)
    with pytest.raises(AttributeError):
        metrics.other = 1  # slots only, as before


@needs_compiled
@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(1, 40),
    times=st.lists(st.integers(0, 2**40), max_size=120),
)
def test_compiled_window_equals_the_reference(capacity, times):
    compiled, reference = _compiled.LatencyWindow(capacity), _PureLatencyWindow(capacity)
    for nanoseconds in times:
        compiled.record(nanoseconds)
        reference.record(nanoseconds)
        assert observe(compiled) == observe(reference)


class _Ticks:
    """A clock that moves 250 ns between two reads."""

    def __init__(self) -> None:
        self.now = 1_000

    def __call__(self) -> int:
        self.now += 250
        return self.now


@pytest.mark.parametrize("window_class", WINDOWS)
def test_a_timed_call_records_its_time_by_the_clock_given(window_class):
    window, seen = window_class(8), []
    window.time_call(_Ticks(), seen.append, "frame")
    assert seen == ["frame"]
    assert window.samples() == [250] and window.count == 1 and window.total == 250


@pytest.mark.parametrize("window_class", WINDOWS)
def test_a_call_that_raises_is_timed_and_raises(window_class):
    window = window_class(8)

    def fails(frame):
        raise RuntimeError(frame)

    with pytest.raises(RuntimeError, match="bad frame"):
        window.time_call(_Ticks(), fails, "bad frame")
    assert window.count == 1 and window.samples() == [250]


@pytest.mark.parametrize("window_class", WINDOWS)
def test_the_performance_counter_times_a_call_as_perf_counter_ns_does(window_class):
    window = window_class(8)
    before = time.perf_counter_ns()
    window.time_call(time.perf_counter_ns, time.sleep, 0.002)
    after = time.perf_counter_ns()
    (taken,) = window.samples()
    assert 2_000_000 <= taken <= after - before
