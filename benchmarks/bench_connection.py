"""The asyncio connection layer (``ws_stack.asyncio``) against the simulator on 127.0.0.1.

Client and simulator share one event loop in the benchmark process, except where a
figure must be the client's alone (subscriptions, memory, small deltas): there the source
runs in a child process (the simulator, or :mod:`benchmarks.pump`). The streaming
benchmarks have the source replay prepared order-book deltas (20 levels a side unless
said otherwise), so that its own cost is sending bytes, not simulating a market: what
they track is the pipeline from socket to callback. Reconnection policies have no delay
and no jitter here: what is timed is the mechanics, not a sleep.

The streaming benchmarks take a ``transport`` parameter (``ConnectionConfig.transport``:
``websockets``, the reference, or ``picows``); a ratio to "the bare loop" is always to
the bare *websockets* loop, the floor the targets are written against.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from functools import partial
from itertools import permutations
from pathlib import Path
from typing import Any

from .asv_support import CALLS, Batched, Timed, require, side_by_side, take_turns
from .common import CHANNELS, SYMBOLS, VENUES
from .connections import (
    TRANSPORTS,
    BookFollower,
    MessageCounter,
    PumpedStream,
    bare_picows,
    connection_class,
    connection_config,
    counting_handler,
    new_connection,
    quick_close,
    require_connection_layer,
)
from .instructions import Counted
from .parsers import direct_parser, make_handler
from .sim_process import SimProcess, deltas_file, write_deltas
from .venue_frames import frame as build_frame


class SimulatedVenue(Timed):
    """Base: a simulator of ``venue`` running on a private event loop."""

    params = [VENUES]
    param_names = ["venue"]
    timeout = 120
    rate_hz = 1000.0
    faults: dict[str, Any] = {}
    #: With a number, the simulator replays that many prepared deltas, 1,000 times over.
    replay_frames = 0

    def setup(self, venue: str) -> None:
        require_connection_layer(venue)
        sim = require("ws_stack.sim", "VenueSimulator", "SimConfig", "FaultConfig")
        self.loop = asyncio.new_event_loop()
        self.connections: list[Any] = []
        self.sim: Any = None
        replay: dict[str, Any] = {}
        if self.replay_frames:
            self._tmp = tempfile.TemporaryDirectory(prefix="ws-stack-bench-")
            path = Path(self._tmp.name) / "deltas.jsonl"
            path.write_bytes(deltas_file(venue, self.replay_frames))
            replay = {"replay": path, "replay_loops": 1000}
        config = sim.SimConfig(
            symbols=(SYMBOLS[venue],),
            rate_hz=self.rate_hz,
            faults=sim.FaultConfig(**self.faults),
            **replay,
        )
        self.sim = sim.VenueSimulator(venue, config)
        self.run(self.sim.start())
        self.venue = venue

    def teardown(self, venue: str) -> None:
        # asv calls teardown even when setup raised NotImplementedError: check what exists.
        loop = getattr(self, "loop", None)
        if loop is None:
            return
        self.stop_simulator()
        for connection in getattr(self, "connections", []):
            self.run(connection.close())
        loop.close()

    def stop_simulator(self) -> None:
        """Stop the simulator, before the clients close: a websockets client that closes
        while its peer still streams waits out its ``close_timeout`` (2 s), its unread frames
        holding back the peer's closing frame, and asv tears down after every sample."""
        if getattr(self, "sim", None) is not None:
            self.run(self.sim.stop())
            self.sim = None

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def connection(self, handler: Any = None, transport: str = "websockets") -> Any:
        return new_connection(self.venue, self.sim.ws_url, handler, transport=transport)


class ContextCreation(Timed):
    """Create the (unopened) WebSocket client connection a connection attempt awaits."""

    version = 1
    params = [VENUES]
    param_names = ["venue"]

    def setup(self, venue: str) -> None:
        self.cls = connection_class(venue)
        if not hasattr(self.cls, "connection_context"):
            raise NotImplementedError("no connection_context in this commit")
        self.options = connection_config().connect_options()
        self.url = "ws://127.0.0.1:9/ws"

    def time_connection_context(self, venue: str) -> None:
        self.cls.connection_context(self.url, self.options)


class ContextCreationInstructions(Counted):
    twin = ContextCreation
    track_connection_context = Counted.of("time_connection_context")


class ConsumeFrame(Batched):
    """One received frame through a connection's per-frame work, without the socket.

    On ``websockets``: what ``Connection`` does for every frame once ``recv`` returns it
    (websockets' own work happens inside ``recv``): count the frame and its bytes, time
    ``handler.handle`` and record the time in the latency window. On ``picows``: the whole
    per-frame path outside picows' C parser: the transport's listener reads the frame
    from picows' buffer, counts and queues it, then the consumer dequeues it, times
    ``handler.handle`` and records the time; so the picows figure also holds the queue's
    put and get, which the websockets one leaves out. Compare transports with the socket
    benchmarks (``EndToEnd``, ``bench_mix.RealisticMixSocket``), not with this.

    MEXC frames are protobuf, Gate.io's JSON; order books are 5-level deltas (what venues
    mostly send). The difference to ``Handle.time_handle`` is what the connection's
    metrics (and, on picows, the listener) cost per frame.
    """

    version = 1
    params = [VENUES, CHANNELS, TRANSPORTS]
    param_names = ["venue", "channel", "transport"]

    def setup(self, venue: str, channel: str, transport: str) -> None:
        require_connection_layer(venue, transport)
        messages = require("ws_stack.messages", "WebSocketMessageType")
        self.connection = new_connection(venue, "ws://127.0.0.1:9/ws", transport=transport)
        handler = self.connection.handler
        for msg_type in messages.WebSocketMessageType:
            handler.on(msg_type, _ignore)
        fmt = "protobuf" if venue == "mexc" else "json"
        self.frame = build_frame(venue, fmt, channel, depth=5)
        if handler.handle(self.frame) < 1:
            raise RuntimeError(f"handler rejected the frame: {handler.stats()}")
        self.listener: Any = None
        if transport == "picows":
            self._set_up_listener()

    def _set_up_listener(self) -> None:
        """The picows listener of a connection, and one frame as picows hands it over."""
        picows = require("picows", "WSMsgType")
        seam = require("ws_stack.asyncio.transport", "FrameSink", "transport_class")
        queue = require("ws_stack.asyncio.queue", "ReceiveQueue").ReceiveQueue(1 << 30)
        sink = seam.FrameSink(self.connection.counters, queue, None, "bench")
        self.listener = seam.transport_class("picows").listener(sink, None)
        self.items = queue.drain()
        data = self.frame
        msg_type = picows.WSMsgType.BINARY if isinstance(data, bytes) else picows.WSMsgType.TEXT
        payload = data if isinstance(data, bytes) else data.encode()
        self.ws_frame = picows.picows._make_test_ws_frame(msg_type, payload, True, False)
        self.listener.on_ws_frame(None, self.ws_frame)
        if self.items.popleft() != data:
            raise RuntimeError("the listener queued another frame than it was given")

    def time_consume_frame(self, venue: str, channel: str, transport: str) -> None:
        metrics, data = self.connection.counters, self.frame
        handle, record, clock = (
            self.connection.handler.handle,
            metrics.latency.record,
            (time.perf_counter_ns),
        )
        # The consumer's one call since the latency window has a twin (ws_stack._metrics);
        # before, it read the clock twice and recorded the difference, as below.
        timed = getattr(metrics.latency, "time_call", None)
        if timed is not None:
            _consume_timed(self, timed, handle, clock)
        elif self.listener is None:
            for _ in CALLS:
                metrics.frames += 1
                metrics.bytes += len(data)
                start = clock()
                handle(data)
                record(clock() - start)
        else:
            receive, ws_frame, items = self.listener.on_ws_frame, self.ws_frame, self.items
            for _ in CALLS:
                receive(None, ws_frame)
                frame = items.popleft()
                start = clock()
                handle(frame)
                record(clock() - start)


def _consume_timed(bench: Any, timed: Any, handle: Any, clock: Any) -> None:
    """``ConsumeFrame.time_consume_frame``'s loop where the consumer makes one timed call.

    A function, not a method: ``bench_monitor.MonitoredConsume`` runs the time method on
    an object of its own class, which has the set-up's attributes and no other method."""
    metrics, data = bench.connection.counters, bench.frame
    if bench.listener is None:
        for _ in CALLS:
            metrics.frames += 1
            metrics.bytes += len(data)
            timed(clock, handle, data)
    else:
        receive, ws_frame, items = bench.listener.on_ws_frame, bench.ws_frame, bench.items
        for _ in CALLS:
            receive(None, ws_frame)
            timed(clock, handle, items.popleft())


class ConsumeFrameInstructions(Counted):
    twin = ConsumeFrame
    track_consume_frame = Counted.of("time_consume_frame")


def _ignore(message: Any) -> None:
    """A consumer that does nothing: what is measured is the path to it."""


class Connect(SimulatedVenue):
    """Open a connection (handshake done, subscription sent) and close it."""

    version = 1

    def time_connect(self, venue: str) -> None:
        connection = self.connection()
        self.run(connection.start())
        self.run(connection.close())


class Reconnect(SimulatedVenue):
    """The simulator drops every connection after one push; time one drop-to-connected."""

    version = 1
    faults = {"close_after_frames": 1}

    def setup(self, venue: str) -> None:
        super().setup(venue)
        state = require("ws_stack.state", "ConnectionState").ConnectionState
        self.reconnecting, self.connected = state.RECONNECTING, state.CONNECTED
        self.live = self.connection()
        self.connections.append(self.live)
        self.run(self.live.start())

    async def _cycle(self) -> None:
        await self.live.wait_for_state(self.reconnecting)
        await self.live.wait_for_state(self.connected)

    def time_reconnect(self, venue: str) -> None:
        self.run(self._cycle())


class EndToEnd(SimulatedVenue):
    """1,000 order-book deltas from the simulator through socket, transport, queue,
    handler and a 1,000-level local order book (every delta applied, see ``BookFollower``).

    ``BareReceive`` is its floor. A sample ends once the 1,000th frame is handled and the
    batch in flight has finished: 1,340-1,390 frames here, alike in both (the simulator
    sends 256-frame bursts), so their ratio is the ratio of frames per second.
    ``track_handler_latency_p99_ns`` is the connection's own p99 of ``handle()`` (book
    included) over the last 4,096 of 5,000 frames.
    """

    version = 2
    params = [VENUES, TRANSPORTS]
    param_names = ["venue", "transport"]
    rate_hz = 100_000.0
    replay_frames = 1000
    #: Set-up already takes 100 frames: asv's warm-up would set up once more for nothing.
    warmup_time = 0.0

    def setup(self, venue: str, transport: str = "websockets") -> None:
        require_connection_layer(venue, transport)
        super().setup(venue)
        handler, self.counter = counting_handler(venue)
        messages = require("ws_stack.messages", "WebSocketMessageType")
        handler.on(messages.WebSocketMessageType.ORDER_BOOK, BookFollower(venue))
        self.live = self.connection(handler, transport)
        self.connections.append(self.live)
        self.run(self.live.start())
        self.run(self.counter.wait_for(100))  # warm-up

    def teardown(self, venue: str, transport: str = "websockets") -> None:
        super().teardown(venue)

    def time_1000_frames(self, venue: str, transport: str) -> None:
        self.run(self.counter.wait_for(1000))

    def track_handler_latency_p99_ns(self, venue: str, transport: str) -> float:
        self.run(self.counter.wait_for(5000))
        p99: float | None = getattr(self.live.metrics(), "latency_p99_us", None)
        if p99 is None:
            raise NotImplementedError("this commit's connections report no latency")
        return round(p99 * 1000)

    track_handler_latency_p99_ns.unit = "ns"  # type: ignore[attr-defined]  # asv reads it


class BareReceive(SimulatedVenue):
    """The floor of ``EndToEnd``: a bare client of the transport that only counts frames.

    Same simulator, same replayed deltas, same subscription; no queue, handler or book;
    its frames are counted as ``EndToEnd``'s are. On ``websockets``: the library's client
    with the connection's options, read with ``async for``. On ``picows``: the library's
    listener callback, which counts each frame without reading its payload (picows'
    floor). Neither needs ws_stack's connection layer beyond the subscription request.
    """

    version = 1
    params = [VENUES, TRANSPORTS]
    param_names = ["venue", "transport"]
    rate_hz = 100_000.0
    replay_frames = 1000
    #: Set-up already takes 100 frames: asv's warm-up would set up once more for nothing.
    warmup_time = 0.0

    def setup(self, venue: str, transport: str = "websockets") -> None:
        if transport != "websockets":
            require(transport)
        super().setup(venue)
        cls = connection_class(venue)
        subscription = cls.subscription(SYMBOLS[venue], "depth")
        requests = [request.text for request in cls.subscribe_requests([subscription])]
        self.counter = MessageCounter()
        self.ws: Any = None
        self.picows: Any = None
        self.reader: Any = None
        if transport == "picows":
            self.picows = self.run(bare_picows(self.sim.ws_url, requests, self.on_frame()))
        else:
            options = connection_config().connect_options()
            self.ws = self.run(cls.connection_context(self.sim.ws_url, options))
            for text in requests:
                self.run(self.ws.send(text))
            self.reader = self.loop.create_task(self._count())
        self.run(self.counter.wait_for(100))  # warm-up

    def on_frame(self) -> Any:
        """What the picows floor does with each frame: count it."""
        count = self.counter

        def on_frame(frame: Any) -> None:
            count(frame)

        return on_frame

    async def _count(self) -> None:
        count = self.counter
        async for frame in self.ws:
            count(frame)

    def teardown(self, venue: str, transport: str = "websockets") -> None:
        # picows disconnects at once; a websockets client is closed by the simulator, while
        # its reader still reads the closing handshake (see stop_simulator).
        if getattr(self, "picows", None) is not None:
            self.picows.disconnect()
            self.run(self.picows.wait_disconnected())
        if getattr(self, "loop", None) is not None:
            self.stop_simulator()
        reader = getattr(self, "reader", None)
        if reader is not None:
            reader.cancel()
            self.run(asyncio.gather(reader, return_exceptions=True))
        if getattr(self, "ws", None) is not None:
            self.run(self.ws.close())
        super().teardown(venue)

    def time_1000_frames(self, venue: str, transport: str) -> None:
        self.run(self.counter.wait_for(1000))


#: Frames a window of the windowed benchmarks waits for.
WINDOW_FRAMES = 1000


def cpu_time_per_frame(counter: MessageCounter, run: Any, frames: int = WINDOW_FRAMES) -> float:
    """CPU seconds of this process per frame handled while ``run`` waits for ``frames``
    more on ``counter`` (the batches in flight finish too, and count)."""
    count, start = counter.count, time.process_time()
    run(counter.wait_for(frames))
    return (time.process_time() - start) / (counter.count - count)


class _ParseApplyReceive(BareReceive):
    """The end-to-end target's bound: the bare loop doing the work that target asks of every frame
    and nothing else: ws_stack's parser called directly and the update applied to the same
    1,000-level book as ``EndToEnd``'s. No queue, handler, callbacks or metrics.

    (Not a benchmark itself: ``ParseApplyOverBare`` measures it.)
    """

    def _work(self) -> Any:
        """``work(data)``: parse the frame's payload and apply it; skip what is no delta."""
        fmt = "protobuf" if self.venue == "mexc" else "json"
        parse = direct_parser(self.venue, fmt, "order_book")
        errors = require("ws_stack.exceptions", "FrameError").FrameError, TypeError
        follow, count = BookFollower(self.venue), self.counter

        def work(data: Any) -> None:
            try:
                update = parse(data)
            except errors:  # the subscription's ack (MEXC's is text: a TypeError)
                return
            follow(update)
            count(data)

        return work

    def on_frame(self) -> Any:
        work = self._work()
        binary = require("picows", "WSMsgType").WSMsgType.BINARY

        def on_frame(frame: Any) -> None:
            if frame.msg_type is binary:
                work(frame.get_payload_as_bytes())
            else:
                work(frame.get_payload_as_utf8_text())

        return on_frame

    async def _count(self) -> None:
        work = self._work()
        async for frame in self.ws:
            work(frame)


#: Frames per window, and pairs of windows per process, of the end-to-end ratios in one
#: process. Windows are long because the simulator sends in bursts and a socket's buffers
#: hold many frames: a short window measures a burst, not a rate.
OVER_BARE_FRAMES = 5000
OVER_BARE_PAIRS = 20
#: Pairs of a bound's process: a bound is shown beside its target and never decides, so it
#: takes half the samples (docs/history.md, "Samples: what each figure needs"): a window
#: in every other rotation (:func:`_rotations`), which is what this factor says.
BOUND_PAIRS_FACTOR = 0.5


def _rotations(windows: dict[Any, Any], rotations: int, halved: frozenset[Any] = frozenset()
               ) -> dict[Any, list[float]]:  # fmt: skip
    """:func:`~benchmarks.asv_support.take_turns` of windows by name: the figures of each,
    by name; those in ``halved`` in every other rotation."""
    names = list(windows)
    indexes = {index for index, name in enumerate(names) if name in halved}
    figures = take_turns([windows[name] for name in names], rotations, indexes)
    return dict(zip(names, figures, strict=True))


def _over_bare_run(venue: str) -> dict[tuple[str, str], dict[str, list[float]]]:
    """The end-to-end ratios of ``venue``, all in one process: ``EndToEnd`` and the bound
    (``_ParseApplyReceive``) on every transport, and the floor (``BareReceive`` on
    websockets) that all of them are divided by, taking windows in turn (see
    :class:`_OverBare`). ``{(kind, transport): {"samples": ratios}}``, kind ``"figure"`` or
    ``"bound"``; a set-up this commit cannot make is left out."""
    floor = BareReceive()
    floor.setup(venue, "websockets")
    streams: dict[tuple[str, str], Any] = {}
    try:
        for kind, cls in (("figure", EndToEnd), ("bound", _ParseApplyReceive)):
            for transport in TRANSPORTS:
                stream = cls()
                try:
                    stream.setup(venue, transport)
                except NotImplementedError:
                    stream.teardown(venue)
                    continue
                streams[kind, transport] = stream
        windows = {
            name: partial(cpu_time_per_frame, stream.counter, stream.run, OVER_BARE_FRAMES)
            for name, stream in {**streams, ("floor", "websockets"): floor}.items()
        }
        bounds = frozenset(name for name in streams if name[0] == "bound")
        figures = _rotations(windows, OVER_BARE_PAIRS, bounds)
    finally:
        for stream in [*streams.values(), floor]:
            stream.teardown(venue)
    floors = figures["floor", "websockets"]
    found = {}
    for name in streams:
        own_floors = floors[::2] if name in bounds else floors
        found[name] = {"samples": [a / b for a, b in zip(figures[name], own_floors, strict=True)]}
    return found


def _over_bare_venue(venue: str) -> dict[tuple[str, str], dict[str, list[float]]] | str:
    """``_over_bare_run(venue)``, or why this commit cannot run it."""
    try:
        require_connection_layer(venue)
        return _over_bare_run(venue)
    except NotImplementedError as exc:
        return str(exc)


class _OverBare:
    """Base of the end-to-end ratios in one process: a set-up's CPU time per frame over the bare
    ``websockets`` loop's (``BareReceive``), the two taking windows in turn. The set-up runs
    on the ``transport`` parameter; the floor is the bare websockets loop on both.

    ``EndToEnd`` and ``BareReceive`` run in separate processes, minutes apart, and the
    machine's load moves one against the other, as it does the parse and handler figures (see
    :class:`~benchmarks.asv_support.Paired`). Here each set-up has its own event loop and
    simulator (paused while another takes its window); a window is ``cpu_time_per_frame``
    over OVER_BARE_FRAMES. The CPU time of a process that is both client and simulator is
    its wall time on an idle core, so the ratio is the inverse of the ratio of frames per
    second, without the time the machine's other jobs take.

    One process per venue (``setup_cache``, shared by both subclasses) measures every
    ratio of the venue against one floor: ``EndToEnd`` on each transport, the bound on
    each transport, and ``BareReceive``, taking windows in turn over OVER_BARE_PAIRS
    rotations (each set-up first in its turn); the bounds take a window in every other
    rotation (BOUND_PAIRS_FACTOR). A set-up's ratio in a rotation is its window over the
    floor's window of that rotation; asv stores their median. (Until this suite, each
    ratio had a process of its own, with a floor of its own: the same figures, the floor
    measured four times over.) The two venues' processes run side by side, one a core
    (:func:`~benchmarks.asv_support.side_by_side`): each keeps its core busy alone and
    divides CPU times it measured itself, so the ratios are those one after the other
    would give (measured here: within their run-to-run spread), in half the time. A
    subclass names its ``kind`` and sets ``track_ratio = _OverBare.ratios``.
    """

    params = [VENUES, TRANSPORTS]
    param_names = ["venue", "transport"]
    unit = "ratio"
    timeout = 600
    kind: str

    def setup_cache(self) -> dict[str, Any]:
        return dict(zip(VENUES, side_by_side(_over_bare_venue, VENUES), strict=True))

    def setup(self, cache: dict[str, Any], venue: str, transport: str) -> None:
        ratios = cache[venue]
        if isinstance(ratios, str):
            raise NotImplementedError(ratios)
        if (self.kind, transport) not in ratios:
            raise NotImplementedError(f"this commit cannot set up {transport} here")

    def ratios(self, cache: dict[str, Any], venue: str, transport: str) -> dict[str, Any]:
        samples: list[float] = cache[venue][self.kind, transport]["samples"]
        return {"samples": samples, "number": 1}


class EndToEndOverBare(_OverBare):
    """The end-to-end target in one process: ``EndToEnd``'s CPU time per frame (simulator, socket,
    queue, handler, 1,000-level book) over ``BareReceive``'s; its inverse is the ratio of frames per
    second."""

    version = 1
    kind = "figure"
    track_ratio = _OverBare.ratios


class ParseApplyOverBare(_OverBare):
    """The end-to-end target's bound in one process: the bare loop that also parses every frame and
    applies it to the book (``_ParseApplyReceive``) over the bare loop alone. What no stack
    built on ws_stack's parser and book can go below, whatever its connection layer.
    Half the target's pairs (BOUND_PAIRS_FACTOR: every other rotation)."""

    version = 1
    kind = "bound"
    track_ratio = _OverBare.ratios


class Subscriptions(Timed):
    """Client CPU time per frame with 1, 30 and 300 subscriptions, sharded 30 per connection,
    on each transport.

    Every subscription is one symbol's depth stream; a simulator in a child process replays
    deltas on every connection as fast as it can, so the figure is the client's alone. A
    window waits for 1,000 more frames through the connections' queues and the one shared
    handler; the batches in flight finish after the 1,000th (with ten connections, up to
    ten batches), so a window handles 1,000 to a few thousand frames, and the figure is the
    process CPU time over the frames the window handled, per frame. It should not depend
    on the number of subscriptions (a target compares the largest with the smallest).

    The windows are those of ``SubscriptionsSpread``'s process, which sets up all three
    subscription counts of a venue and transport and takes ROTATIONS windows of each in
    turn (one ``setup_cache`` for both): a figure's samples are its set-up's windows there.
    (Until this suite, each figure had a process of its own and PLAIN_SAMPLES windows: the
    same set-ups and windows, made twice.)
    """

    version = 2
    params: list[list[Any]] = [VENUES, [1, 30, 300], TRANSPORTS]
    param_names = ["venue", "subscriptions", "transport"]
    timeout = 600
    per_connection = 30

    def setup_cache(self) -> dict[tuple[str, str], Any]:
        """Every venue's and transport's rotations, shared with ``SubscriptionsSpread``."""
        return _subscription_runs()

    def setup(self, cache: dict[tuple[str, str], Any], venue: str, subscriptions: int,
              transport: str = "websockets") -> None:  # fmt: skip
        _subscription_run(cache, venue, transport)

    def start_simulator(self, venue: str, subscriptions: int) -> None:
        """Start the simulator's process, without waiting for it to listen (``connect``
        does): ``SubscriptionsSpread`` starts its three side by side."""
        self._tmp = tempfile.TemporaryDirectory(prefix="ws-stack-bench-")
        path = Path(self._tmp.name) / "deltas.jsonl"
        path.write_bytes(deltas_file(venue, 1000))
        sep = "_" if venue == "gateio" else ""
        self.symbols = [f"S{i:03d}{sep}USDT" for i in range(subscriptions)]
        # Replaying, the simulator sends one frame per tick and connection, whatever the
        # number of streams: at its top rate every connection offers more than is taken.
        self.sim = SimProcess(venue, wait=False, symbols=self.symbols, rate_hz=100_000.0,
                              replay=str(path), replay_loops=1000)  # fmt: skip

    def connect(self, venue: str, subscriptions: int, transport: str) -> None:
        """Once the simulator listens: the connections, started and warmed up."""
        group_module = require("ws_stack.asyncio.group", "ConnectionGroup")
        self.sim.wait_listening()
        self.loop = asyncio.new_event_loop()
        cls = connection_class(venue)
        handler = make_handler(venue)
        self.counter = MessageCounter()
        messages = require("ws_stack.messages", "WebSocketMessageType")
        handler.on(messages.WebSocketMessageType.ORDER_BOOK, self.counter)
        self.group = group_module.ConnectionGroup(
            cls,
            handler,
            [cls.subscription(symbol, "depth") for symbol in self.symbols],
            url=self.sim.ws_url,
            config=connection_config(transport, **quick_close()),
            per_connection=self.per_connection,
        )
        self.run(self.group.start())
        self.run(self.counter.wait_for(max(100, subscriptions)))  # warm-up

    def close(self, venue: str, subscriptions: int, transport: str = "websockets") -> None:
        """Stop the simulator and the connections, whatever was started."""
        # The simulator first (see SimulatedVenue.stop_simulator).
        if getattr(self, "sim", None) is not None:
            self.sim.close(at_once=True)
        loop = getattr(self, "loop", None)
        if loop is not None:
            if getattr(self, "group", None) is not None:
                self.run(self.group.close())
            loop.close()

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)

    def frame_time(self) -> float:
        return cpu_time_per_frame(self.counter, self.run)

    def track_frame_time(self, cache: dict[tuple[str, str], Any], venue: str, subscriptions: int,
                         transport: str) -> dict[str, Any]:  # fmt: skip
        times = _subscription_run(cache, venue, transport)["times"][subscriptions]
        return {"samples": times, "number": 1}

    track_frame_time.unit = "seconds"  # type: ignore[attr-defined]  # asv reads it


#: Rotations of SubscriptionsSpread per process (each times every set-up once).
ROTATIONS = 25


class SubscriptionsSpread:
    """The spread across subscription counts, measured in one process: the three ``Subscriptions``
    set-ups side by side, each on its own event loop with its own simulator process, taking a window
    in turn.

    Measured in separate processes, minutes apart, any of the three can be the slowest on
    identical code, as the machine's load changes. Here each of ROTATIONS rotations measures one
    window of every set-up (``Subscriptions.frame_time``: CPU time per frame handled; an
    idle set-up's loop is paused and its simulator waits on full socket buffers). The
    windows of one rotation are next to each other in time, where the load of the machine
    (whose other core may share this one's caches and execution units) is most alike: for
    each two set-ups, the figure compares them rotation by rotation and takes the median
    of those ratios; the spread is the largest such median: one value per process (asv runs
    a track benchmark in one). (Not the largest over the smallest of the three medians: that
    is above 1 by construction on a loaded machine, even for 1 and 30 subscriptions, which
    are the same client work: one connection, the same frames.) A process sets up 330
    subscriptions and three simulators, on one transport; the simulators start side by side.
    """

    version = 3
    params = [VENUES, TRANSPORTS]
    param_names = ["venue", "transport"]
    unit = "ratio"
    timeout = 600

    #: The same function as ``Subscriptions``': asv runs it once for both (it keys a cache
    #: by the function that makes it).
    setup_cache = Subscriptions.setup_cache

    def setup(self, cache: dict[tuple[str, str], Any], venue: str,
              transport: str = "websockets") -> None:  # fmt: skip
        _subscription_run(cache, venue, transport)

    def track_spread(self, cache: dict[tuple[str, str], Any], venue: str,
                     transport: str) -> dict[str, Any]:  # fmt: skip
        return {"samples": [_subscription_run(cache, venue, transport)["spread"]], "number": 1}


def _subscription_run(cache: dict[tuple[str, str], Any], venue: str, transport: str) -> Any:
    found = cache[venue, transport]
    if isinstance(found, str):
        raise NotImplementedError(found)
    return found


def _subscription_runs() -> dict[tuple[str, str], Any]:
    """The ``setup_cache`` that ``Subscriptions`` and ``SubscriptionsSpread`` share: for each
    venue and transport, one process's rotations of the three set-ups (see
    ``SubscriptionsSpread``): ``{"times": {subscriptions: CPU times per frame, one a
    rotation}, "spread": the spread}``, or why this commit cannot run them."""
    found: dict[tuple[str, str], Any] = {}
    for venue in VENUES:
        for transport in TRANSPORTS:
            try:
                found[venue, transport] = _spread_run(venue, transport)
            except NotImplementedError as exc:
                found[venue, transport] = str(exc)
    return found


def _spread_run(venue: str, transport: str) -> dict[str, Any]:
    """The three ``Subscriptions`` set-ups side by side, ROTATIONS windows each in turn."""
    require_connection_layer(venue, transport)
    streams: list[tuple[int, Subscriptions]] = []
    try:
        for subscriptions in Subscriptions.params[1]:
            stream = Subscriptions()
            streams.append((subscriptions, stream))
            stream.start_simulator(venue, subscriptions)
        for subscriptions, stream in streams:
            stream.connect(venue, subscriptions, transport)
        times = take_turns([stream.frame_time for _, stream in streams], ROTATIONS)
    finally:
        for subscriptions, stream in streams:
            stream.close(venue, subscriptions, transport)
    spread = max(
        statistics.median(a / b for a, b in zip(times[i], times[j], strict=True))
        for i, j in permutations(range(len(times)), 2)
    )
    counts = [subscriptions for subscriptions, _ in streams]
    return {"times": dict(zip(counts, times, strict=True)), "spread": spread}


#: Order-book deltas the pump sends per pass in ``SmallDeltasOverBare``, and their sizes.
SMALL_DELTAS = 1000
SMALL_DELTA_LEVELS = [1, 3, 5]
#: Frames per window, and windows per process, of ``SmallDeltasOverBare``.
SMALL_DELTA_FRAMES = 10_000
SMALL_DELTA_PAIRS = 10
#: Frames each side handles before the first window: the interpreter has specialised the
#: code (a few dozen calls) and the pump's stream is under way. (A whole window before.)
SMALL_DELTA_WARM_UP = 2_000


def _small_deltas_run(venue: str, levels: int) -> dict[str, list[float]]:
    """The small-delta ratios at ``levels``, all in one process: the whole stack on every
    transport (``SmallDeltasOverBare``) and the bound (``SmallDeltasBoundOverBare``, on
    picows), each over one bare websockets floor, taking windows in turn; the bound in
    every other rotation. ``{name: ratios}``, name a transport or ``"bound"``; a set-up this
    commit cannot make is left out."""
    messages = require("ws_stack.messages", "WebSocketMessageType")
    deltas = _small_deltas(venue, levels)
    streams: dict[str, PumpedStream] = {}
    try:
        for transport in TRANSPORTS:
            try:
                require_connection_layer(venue, transport)
            except NotImplementedError:
                continue
            handler = make_handler(venue)
            handler.on(messages.WebSocketMessageType.ORDER_BOOK, BookFollower(venue))
            streams[transport] = PumpedStream(venue, deltas, handler, transport)
            streams[transport].count_messages("ORDER_BOOK")
        if "websockets" not in streams:
            raise NotImplementedError("this commit has no connection layer for small deltas")
        bound = _small_delta_bound_work(venue)
        if bound is not None:
            streams["bound"] = PumpedStream(venue, deltas, work=bound)
        streams["floor"] = PumpedStream(venue, deltas)
        for stream in streams.values():
            stream.frame_time(SMALL_DELTA_WARM_UP)
        windows = {
            name: partial(stream.frame_time, SMALL_DELTA_FRAMES) for name, stream in streams.items()
        }
        times = _rotations(windows, SMALL_DELTA_PAIRS, frozenset({"bound"}))
        for name in TRANSPORTS:
            if name in streams:
                streams[name].check()
    finally:
        for stream in streams.values():
            stream.close()
    floors = times.pop("floor")
    return {
        name: [b / a for a, b in zip(found, floors[:: 2 if name == "bound" else 1], strict=True)]
        for name, found in times.items()
    }


def _small_delta_bound_work(venue: str) -> Any:
    """What the bound's bare picows client does with each frame (see
    ``SmallDeltasBoundOverBare``), or ``None`` without picows."""
    try:
        require("picows")
    except NotImplementedError:
        return None
    fmt = "protobuf" if venue == "mexc" else "json"
    parse = direct_parser(venue, fmt, "order_book")
    follow = BookFollower(venue)

    def work(data: Any) -> None:
        follow(parse(data))

    return work


class _SmallDeltas:
    """Base of the small-delta ratios: one process (``setup_cache``, shared by both
    subclasses) measures them all, per number of levels: the whole stack on each transport,
    the bound, and the bare websockets floor they are all divided by, taking windows of
    SMALL_DELTA_FRAMES frames in turn over SMALL_DELTA_PAIRS rotations (each one first in
    its turn); the bound takes a window in every other rotation (BOUND_PAIRS_FACTOR). A
    ratio of a rotation is the floor's CPU time per frame over the set-up's, in that
    rotation; asv stores their median. (Until this suite, each ratio had a process of its
    own with a floor of its own: the same figures, the floor measured three times over.)
    """

    unit = "ratio"
    timeout = 600

    def setup_cache(self) -> dict[int, Any]:
        found: dict[int, Any] = {}
        for levels in SMALL_DELTA_LEVELS:
            try:
                found[levels] = _small_deltas_run("gateio", levels)
            except NotImplementedError as exc:
                found[levels] = str(exc)
        return found

    @staticmethod
    def _samples(cache: dict[int, Any], levels: int, name: str) -> dict[str, Any]:
        ratios = cache[levels]
        if isinstance(ratios, str):
            raise NotImplementedError(ratios)
        if name not in ratios:
            raise NotImplementedError(f"this commit cannot set up {name} here")
        return {"samples": ratios[name], "number": 1}


class SmallDeltasOverBare(_SmallDeltas):
    """The small deltas venues mostly send (1, 3 or 5 levels a side) end to end, over the bare
    websockets loop: frames per second, the whole stack's over the loop's (Gate.io: the
    target's venue; MEXC's small deltas are in the realistic mix through a socket).

    The whole stack is a connection on the ``transport`` parameter: socket, transport, queue,
    handler and a 1,000-level local book to which every delta is applied (``BookFollower``).
    The floor is a bare websockets client that only counts frames, the loop any Python
    client of websockets starts from. Each side reads from its own :mod:`benchmarks.pump` in
    a child process, which never waits for it, so the CPU time of this process is the
    clients' alone; the set-ups take windows of SMALL_DELTA_FRAMES frames in turn (see
    :class:`_SmallDeltas`), and each rotation gives the floor's CPU time per frame over the
    stack's. Above 1, the stack with its book handles more frames per second than a bare
    websockets loop that does nothing with them.
    """

    version = 1
    params = [["gateio"], SMALL_DELTA_LEVELS, TRANSPORTS]
    param_names = ["venue", "levels", "transport"]

    def setup(self, cache: dict[int, Any], venue: str, levels: int, transport: str) -> None:
        self._samples(cache, levels, transport)

    def track_rate_over_bare(self, cache: dict[int, Any], venue: str, levels: int,
                             transport: str) -> dict[str, Any]:  # fmt: skip
        return self._samples(cache, levels, transport)


def _small_deltas(venue: str, levels: int) -> list[Any]:
    fmt = "protobuf" if venue == "mexc" else "json"
    return [build_frame(venue, fmt, "order_book", levels, n) for n in range(SMALL_DELTAS)]


class SmallDeltasBoundOverBare(_SmallDeltas):
    """The bound of ``SmallDeltasOverBare`` on picows: a bare picows client doing only what
    no stack can skip (read each frame, ws_stack's parser called directly, the update
    applied to the same 1,000-level book) over the same bare websockets loop, frames per
    second, in one process. No queue, handler, callbacks, metrics or latency timing. Where
    even this misses the target's rule, the target is out of reach on this interpreter.
    Half the target's rotations (BOUND_PAIRS_FACTOR: every other one).
    """

    version = 1
    params = [["gateio"], SMALL_DELTA_LEVELS]
    param_names = ["venue", "levels"]

    def setup(self, cache: dict[int, Any], venue: str, levels: int) -> None:
        self._samples(cache, levels, "bound")

    def track_rate_over_bare(self, cache: dict[int, Any], venue: str,
                             levels: int) -> dict[str, Any]:  # fmt: skip
        return self._samples(cache, levels, "bound")


class OneConnection(Timed):
    """Peak memory of a process whose one connection receives 5,000 deltas.

    The simulator runs in a child process: the figure is the client's.
    """

    #: 2: measured in a process forked from asv's forkserver (which has imported the suite),
    #: no longer in a new interpreter: less memory on the same code (docs/history.md).
    version = 2
    params = [VENUES]
    param_names = ["venue"]
    timeout = 120

    def setup(self, venue: str) -> None:
        require_connection_layer(venue)
        self._tmp = tempfile.TemporaryDirectory(prefix="ws-stack-bench-")
        path = Path(self._tmp.name) / "deltas.jsonl"
        write_deltas(path, venue, 1000)
        # Ten times the frames needed: the benchmark stops at 5,000 whatever happens.
        self.sim = SimProcess(venue, rate_hz=100_000.0, replay=str(path), replay_loops=50)
        self.loop = asyncio.new_event_loop()

    def teardown(self, venue: str) -> None:
        # asv calls teardown even when setup raised NotImplementedError.
        if getattr(self, "loop", None) is not None:
            self.loop.close()
        if getattr(self, "sim", None) is not None:
            self.sim.close()

    def peakmem_one_connection_5000_frames(self, venue: str) -> None:
        handler, counter = counting_handler(venue)
        # Closed with the simulator still sending: see connections.TEARDOWN_CLOSE_TIMEOUT_S.
        connection = new_connection(venue, self.sim.ws_url, handler, **quick_close())
        self.loop.run_until_complete(connection.start())
        self.loop.run_until_complete(counter.wait_for(5000))
        self.loop.run_until_complete(connection.close())


#: Lone frames through a socket (``LoneFrameSocket``): frames of each channel per run, the
#: frames before them that warm the connection up, and how far apart the pump sends them.
LONE_SOCKET_FRAMES = 250
LONE_SOCKET_WARM_UP = 30
LONE_SOCKET_INTERVAL_S = 0.001


def _lone_socket_run(venue: str, transport: str) -> dict[str, dict[str, int]]:
    """Percentiles in ns, per channel, of lone frames from receipt to the callback's return
    (see :class:`LoneFrameSocket`)."""
    from .bench_handler import require_lone
    from .pump import PumpProcess

    lone = require_lone()
    require_connection_layer(venue, transport)
    cls = connection_class(venue)
    if "frame_tap" not in cls.__init__.__code__.co_varnames:
        raise NotImplementedError("this commit's connections take no frame tap")
    each = LONE_SOCKET_FRAMES + LONE_SOCKET_WARM_UP
    streams = [lone.lone_stream(venue, lone.OWN_FORMAT[venue], channel, each)
               for channel in CHANNELS]  # fmt: skip
    frames = [data for turn in zip(*streams, strict=True) for data in turn]
    clock, interfere = time.perf_counter_ns, lone.Interference()
    # The tap sees every frame as the transport hands it over; each frame is one message,
    # so the n-th message delivered came in the n-th frame received.
    receipts: list[int] = []
    latencies: dict[str, list[int]] = {channel: [] for channel in CHANNELS}
    done = asyncio.Event()

    def timed(channel: str, callback: Any) -> Any:
        found = latencies[channel]

        def on_message(message: Any) -> None:
            callback(message)
            found.append(clock() - receipts[sum(map(len, latencies.values()))])
            if sum(map(len, latencies.values())) == len(frames):
                done.set()
            interfere()  # the strategy's other work, once the frame is handled

        return on_message

    handler = make_handler(venue)
    lone.strategy_callbacks(handler, venue, timed)
    pump = PumpProcess(frames, loops=1, lifetime=60.0, interval=LONE_SOCKET_INTERVAL_S)
    loop = asyncio.new_event_loop()
    try:
        connection = cls(
            handler, [cls.subscription(SYMBOLS[venue], "depth")], url=pump.ws_url,
            config=connection_config(transport, **quick_close()),
            frame_tap=lambda frame: receipts.append(clock()),
        )  # fmt: skip
        loop.run_until_complete(connection.start())
        loop.run_until_complete(asyncio.wait_for(done.wait(), 30.0))
        stats = handler.stats()
        loop.run_until_complete(connection.close())
    finally:
        pump.close(at_once=True)
        loop.close()
    if stats.failed_frames or len(receipts) != len(frames):
        raise RuntimeError(f"lone frames lost or failed: {len(receipts)} of {len(frames)}, {stats}")
    return {
        channel: lone.percentiles(found[LONE_SOCKET_WARM_UP:])
        for channel, found in latencies.items()
    }


def _lone_socket_track(name: str) -> Any:
    def track(self: LoneFrameSocket, cache: Any, venue: str, transport: str,
              channel: str) -> float:  # fmt: skip
        nanoseconds: int = cache[venue, transport][channel][name]
        return nanoseconds / 1e9

    track.__doc__ = f"The {name} of a lone frame from receipt to the callback's return (s)."
    return track


class LoneFrameSocket(Timed):
    """The latency of a lone frame through a socket, from the transport's receipt of the
    frame (the connection's frame tap) to the return of the strategy's callback.

    A pump in a child process (:mod:`benchmarks.pump`) sends a venue's frames one at a
    time, 1 ms apart: trades, book tickers and 3-level order-book deltas in turns, 250 of
    each after 30 of each to warm up (MEXC protobuf, Gate.io JSON). Between two frames
    the connection's event loop waits on its socket, and the callback, once it has
    handled a frame, writes 4 MiB as the strategy's other work (:mod:`benchmarks.lone`).
    What is timed is transport, queue, consumer, handler and callback of a frame that
    arrives alone, as an application sees it. p50, p95, p99 and p99.9.
    """

    version = 1
    params = [VENUES, TRANSPORTS, CHANNELS]
    param_names = ["venue", "transport", "channel"]
    unit = "seconds"
    timeout = 180

    def setup_cache(self) -> dict[tuple[str, str], dict[str, dict[str, int]]]:
        found = {}
        for venue in VENUES:
            for transport in TRANSPORTS:
                try:
                    found[venue, transport] = _lone_socket_run(venue, transport)
                except NotImplementedError:
                    continue
        return found

    def setup(self, cache: dict[Any, Any], venue: str, transport: str, channel: str) -> None:
        if (venue, transport) not in cache:
            raise NotImplementedError("this commit cannot stream lone frames on this transport")

    track_p50 = _lone_socket_track("p50")
    track_p95 = _lone_socket_track("p95")
    track_p99 = _lone_socket_track("p99")
    track_p999 = _lone_socket_track("p999")
