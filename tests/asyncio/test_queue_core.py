"""The receive queue's compiled core (ws_stack.asyncio._queue) against its reference,
``_PureQueueCore`` (tests/asyncio/test_queue.py runs the queue's own tests on whichever
core ``ReceiveQueue`` derives from)."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack import implementation
from ws_stack.asyncio import queue as queue_module
from ws_stack.asyncio.queue import OverflowPolicy, ReceiveQueue, _PureQueueCore
from ws_stack.exceptions import ConfigError

_compiled = implementation.compiled("ws_stack.asyncio._queue")
needs_compiled = pytest.mark.skipif(
    _compiled is None, reason="ws_stack.asyncio._queue is not built (pure Python)"
)
CORES = [
    pytest.param(_PureQueueCore, id="reference"),
    pytest.param(getattr(_compiled, "QueueCore", None), id="compiled", marks=needs_compiled),
]


@needs_compiled
def test_the_queue_derives_from_the_compiled_core_where_built():
    assert issubclass(ReceiveQueue, _compiled.QueueCore)
    assert queue_module._QueueCore is _compiled.QueueCore


def observe(core):
    return list(core.drain()), core.dropped, len(core), core.closed


@needs_compiled
@settings(max_examples=300, deadline=None)
@given(
    maxsize=st.integers(1, 6),
    policy=st.sampled_from(list(OverflowPolicy)),
    steps=st.lists(st.one_of(st.binary(max_size=3), st.just("get"), st.just("close")), max_size=40),
)
def test_compiled_core_equals_the_reference(maxsize, policy, steps):
    compiled, reference = _compiled.QueueCore(maxsize, policy), _PureQueueCore(maxsize, policy)
    for step in steps:
        answers = []
        for core in (compiled, reference):
            if step == "get":
                try:
                    answers.append(core.get_nowait())
                except IndexError:
                    answers.append(IndexError)
            elif step == "close":
                answers.append(core.close())
            else:
                answers.append(core.put_nowait(step))
        assert answers[0] == answers[1]
        assert observe(compiled) == observe(reference)


@pytest.mark.parametrize("core_class", CORES)
def test_a_put_wakes_the_waiting_consumer_once(core_class):
    loop = asyncio.new_event_loop()
    try:
        core = core_class(4)
        core.waiter = waiter = loop.create_future()
        assert core.put_nowait(b"frame") is True
        assert waiter.done() and core.waiter is None
        assert core.put_nowait(b"more") is True  # nobody waits: nothing to wake
    finally:
        loop.close()


@pytest.mark.parametrize("core_class", CORES)
def test_taking_and_releasing_wake_a_blocked_producer(core_class):
    loop = asyncio.new_event_loop()
    try:
        core = core_class(1, OverflowPolicy.BLOCK)
        assert core.put_nowait("a") is True and core.put_nowait("b") is False
        assert core.dropped == 0  # refused under BLOCK, not dropped
        core._putter = putter = loop.create_future()
        assert core.get_nowait() == "a"
        assert putter.done() and core._putter is None
        core._putter = putter = loop.create_future()
        core.release()
        assert putter.done()
        core.waiter, core._putter = loop.create_future(), loop.create_future()
        waiter, putter = core.waiter, core._putter
        core.close()
        assert core.closed and waiter.done() and putter.done()
    finally:
        loop.close()


@pytest.mark.parametrize("core_class", CORES)
def test_the_size_must_be_positive(core_class):
    with pytest.raises(ConfigError, match="at least 1"):
        core_class(0)
