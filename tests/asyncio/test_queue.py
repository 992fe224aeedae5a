import asyncio

import pytest

from ws_stack.asyncio.queue import OverflowPolicy, QueueClosed, ReceiveQueue
from ws_stack.exceptions import ConfigError


def test_drop_oldest_keeps_the_newest_frames_and_counts():
    queue = ReceiveQueue(3, OverflowPolicy.DROP_OLDEST)
    for frame in ("a", "b", "c", "d", "e"):
        assert queue.put_nowait(frame) is True
    assert list(queue.drain()) == ["c", "d", "e"]
    assert queue.dropped == 2


def test_drop_newest_keeps_the_oldest_frames_and_counts():
    queue = ReceiveQueue(3, OverflowPolicy.DROP_NEWEST)
    results = [queue.put_nowait(frame) for frame in (b"a", b"b", b"c", b"d", b"e")]
    assert results == [True, True, True, False, False]
    assert list(queue.drain()) == [b"a", b"b", b"c"]
    assert queue.dropped == 2


def test_size_must_be_positive():
    with pytest.raises(ConfigError, match="at least 1"):
        ReceiveQueue(0)


def test_get_waits_for_a_frame_and_close_ends_the_consumer(run):
    async def test():
        queue = ReceiveQueue(4)
        getter = asyncio.create_task(queue.get())
        await asyncio.sleep(0)
        assert not getter.done()
        queue.put_nowait("x")
        assert await getter == "x"
        queue.put_nowait("y")
        queue.close()
        assert await queue.get() == "y"  # what was queued is still delivered
        with pytest.raises(QueueClosed):
            await queue.get()

    run(test)


def test_block_waits_for_room_and_never_drops(run):
    async def test():
        queue = ReceiveQueue(2, OverflowPolicy.BLOCK)
        await queue.put("a")
        await queue.put("b")
        assert queue.put_nowait("c") is False  # refused, not dropped
        producer = asyncio.create_task(queue.put("c"))
        await asyncio.sleep(0.01)
        assert not producer.done()
        assert queue.get_nowait() == "a"
        await asyncio.wait_for(producer, 1)
        assert list(queue.drain()) == ["b", "c"]
        assert queue.dropped == 0

    run(test)


def test_close_releases_a_blocked_producer(run):
    async def test():
        queue = ReceiveQueue(1, OverflowPolicy.BLOCK)
        await queue.put("a")
        producer = asyncio.create_task(queue.put("b"))
        await asyncio.sleep(0.01)
        queue.close()
        await asyncio.wait_for(producer, 1)

    run(test)
