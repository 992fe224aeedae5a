"""The consumer's inline delivery, and how picows' receiver uses it: a frame that finds the
consumer idle is handled at once, in the receiver; a read larger than the queue still
meets the queue's overflow policy, and the frames-dropped signal comes where it did."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from transports import SKIP_WITHOUT_PICOWS

from ws_stack import implementation
from ws_stack.asyncio.consumer import Consumer
from ws_stack.asyncio.queue import OverflowPolicy, ReceiveQueue
from ws_stack.asyncio.transport import FrameSink, transport_class
from ws_stack.gateio import GateioHandler
from ws_stack.gateio import encoder as gate_encoder
from ws_stack.messages import Side, Trade, WebSocketMessageType
from ws_stack.metrics import Metrics

QUEUE_SIZE = 8


def _trade_frame(trade_id: int) -> str:
    return gate_encoder.encode_trade("BTC_USDT", 100.0, 1.0, Side.BUY, 1_700_000_000_000, trade_id)


class _Seen:
    """What the handler delivered, in order: trade ids, and ``("dropped", n)`` signals;
    and which of the trades were handled outside the consumer's task (inline)."""

    def __init__(self, handler: GateioHandler, consumer: Consumer) -> None:
        self.events: list[object] = []
        self.inline: list[int] = []
        self.consumer_task: asyncio.Task[None] | None = None
        handler.on(WebSocketMessageType.TRADE, self._trade)
        consumer.on_frames_dropped(lambda count: self.events.append(("dropped", count)))

    def _trade(self, trade: Trade) -> None:
        self.events.append(trade.trade_id)
        if asyncio.current_task() is not self.consumer_task:
            self.inline.append(trade.trade_id)


def _engine(policy: OverflowPolicy) -> tuple[ReceiveQueue, Consumer, FrameSink, _Seen, Metrics]:
    queue = ReceiveQueue(QUEUE_SIZE, policy)
    metrics = Metrics(64)
    handler = GateioHandler()
    consumer = Consumer("test", queue, handler, metrics)
    sink = FrameSink(metrics, queue, None, "test", consumer.inline_delivery())
    return queue, consumer, sink, _Seen(handler, consumer), metrics


def test_an_idle_consumer_handles_a_frame_at_once_and_a_busy_one_queues_it(run):
    async def test():
        queue, consumer, sink, seen, metrics = _engine(OverflowPolicy.DROP_OLDEST)
        assert sink.deliver(_trade_frame(1)) is False  # not running yet: nothing to deliver to
        queue.put_nowait(_trade_frame(1))
        consuming = asyncio.create_task(consumer.run())
        await asyncio.sleep(0)  # the consumer takes frame 1, then waits
        assert seen.events == [1]
        assert sink.deliver(_trade_frame(2)) is True
        assert seen.events == [1, 2] and len(queue) == 0  # handled in the call, not queued
        queue.put_nowait(_trade_frame(3))  # the consumer is woken: it is not idle now
        assert sink.deliver(_trade_frame(4)) is False
        queue.put_nowait(_trade_frame(4))
        await asyncio.sleep(0)
        assert seen.events == [1, 2, 3, 4]
        assert metrics.latency.count == 4  # inline frames are timed like the others
        queue.close()
        await consuming
        assert sink.deliver(_trade_frame(5)) is False  # closed

    run(test)


def test_a_handler_that_raises_inline_is_counted_as_in_the_consumer(run):
    async def test():
        queue, consumer, sink, _, metrics = _engine(OverflowPolicy.DROP_OLDEST)

        def broken(frame: object) -> int:
            raise RuntimeError("handler bug")

        consumer._handler.handle = broken  # type: ignore[method-assign]
        consuming = asyncio.create_task(consumer.run())
        await asyncio.sleep(0)
        assert sink.deliver(_trade_frame(1)) is True
        assert metrics.errors["handler_exception"] == 1
        queue.close()
        await consuming

    run(test)


@dataclass
class _ReadFrame:
    """A whole text frame as picows hands it over, with ``last_in_buffer`` set as a read
    of several frames sets it (picows' own test frames are each alone in their read)."""

    payload: str
    last_in_buffer: bool
    fin: bool = True
    rsv1: bool = False
    rsv2: bool = False
    rsv3: bool = False

    @property
    def msg_type(self) -> object:
        from picows import WSMsgType

        return WSMsgType.TEXT

    def get_payload_as_utf8_text(self) -> str:
        return self.payload


class _Socket:
    """What the listener's flow control asks of picows' transport: pausing the socket."""

    def __init__(self) -> None:
        self.underlying_transport = self
        self.is_disconnected = False
        self.paused = False

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


def _read(listener: object, first: int, count: int) -> None:
    """``count`` trades from id ``first`` arriving in one read."""
    for n in range(first, first + count):
        listener.on_ws_frame(None, _ReadFrame(_trade_frame(n), n == first + count - 1))  # type: ignore[attr-defined]


@SKIP_WITHOUT_PICOWS
@pytest.mark.parametrize(
    "policy, after_inline",
    [
        # A read of 30 frames into a queue of 8: the first 8 are handled as they come;
        # the rest meet the queue as a read meets it without inline delivery.
        (OverflowPolicy.DROP_NEWEST, [*range(9, 17), ("dropped", 14)]),
        (OverflowPolicy.DROP_OLDEST, [("dropped", 14), *range(23, 31)]),
        (OverflowPolicy.BLOCK, list(range(9, 31))),
    ],
)
@pytest.mark.parametrize("receiver", ["active", "reference"])
def test_a_read_larger_than_the_queue_meets_its_overflow_policy(
    run, policy, after_inline, receiver
):
    async def test():
        queue, consumer, sink, seen, _ = _engine(policy)
        listener = transport_class("picows").listener(sink, None)  # type: ignore[attr-defined]
        if receiver == "reference":  # the Python closure, where the compiled twin is active
            listener.on_ws_frame = listener._receiver()
        socket = _Socket()
        listener.on_ws_connected(socket)
        consuming = seen.consumer_task = asyncio.create_task(consumer.run())
        await asyncio.sleep(0)
        _read(listener, 1, 30)
        assert seen.events == list(range(1, 9)) and seen.inline == list(range(1, 9))
        for _ in range(50):  # BLOCK: the held frames go in as the consumer takes them
            if len(seen.events) >= 8 + len(after_inline) and not socket.paused:
                break
            await asyncio.sleep(0)
        assert seen.events == list(range(1, 9)) + after_inline
        assert not socket.paused
        # The consumer is idle again, and the next reads are handled as they come.
        _read(listener, 31, 3)
        _read(listener, 34, 2)
        assert seen.events[-5:] == [31, 32, 33, 34, 35] and seen.inline[-5:] == seen.events[-5:]
        queue.close()
        await consuming

    run(test)


@SKIP_WITHOUT_PICOWS
def test_the_listener_takes_the_compiled_receiver_where_it_is_built(run):
    """The twin ``ws_stack.asyncio._receiver`` where built (the test above holds it to the
    reference closure), the reference closure otherwise."""

    async def test():
        sink = _engine(OverflowPolicy.DROP_OLDEST)[2]
        listener = transport_class("picows").listener(sink, None)  # type: ignore[attr-defined]
        compiled = implementation.compiled("ws_stack.asyncio._receiver") is not None
        assert type(listener.on_ws_frame).__name__ == (
            "cython_function_or_method" if compiled else "function"
        )

    run(test)


class _MetricsOfAnotherClass(Metrics):
    """Not exactly a Metrics: the compiled receiver adds to its counters through their
    attributes rather than in their slots."""

    __slots__ = ()


@SKIP_WITHOUT_PICOWS
@pytest.mark.parametrize("metrics_class", [Metrics, _MetricsOfAnotherClass])
@pytest.mark.parametrize("receiver", ["active", "reference"])
def test_the_receiver_counts_every_frame_and_its_bytes(run, metrics_class, receiver):
    async def test():
        metrics = metrics_class(8)
        metrics.frames, metrics.bytes = 5, 2**70  # counting goes on from there, as ints do
        sink = FrameSink(metrics, ReceiveQueue(QUEUE_SIZE), None, "test")
        listener = transport_class("picows").listener(sink, None)  # type: ignore[attr-defined]
        if receiver == "reference":
            listener.on_ws_frame = listener._receiver()
        listener.on_ws_connected(_Socket())
        _read(listener, 1, 3)
        sizes = [len(_trade_frame(n)) for n in range(1, 4)]
        assert (metrics.frames, metrics.bytes) == (8, 2**70 + sum(sizes))

    run(test)
