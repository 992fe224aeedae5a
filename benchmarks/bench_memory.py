"""Memory: allocations per parsed message, GC pressure, per-connection memory, leaks.

Every figure here is a count measured in one run (tracemalloc, ``gc`` callbacks,
``gc.get_objects``), deterministic for given code, and lower is better. The connection
benchmarks run the simulator in a child process so that only the client is measured.
"""

from __future__ import annotations

import asyncio
import gc
import tempfile
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .asv_support import require
from .common import CHANNELS, FORMATS, HANDLER_DEPTH, VENUES
from .connections import BookFollower, counting_handler, new_connection, require_connection_layer
from .parsers import direct_parser, make_handler
from .sim_process import SimProcess, write_deltas
from .venue_frames import check_combination, frame

PARSED = 1000


def _pool(venue: str) -> Any:
    return require("ws_stack.pool", "LevelPool").LevelPool() if venue == "mexc" else None


def _traced_per_call(call: Callable[[Any], Any], frames: list[Any]) -> tuple[float, float]:
    """(memory blocks, bytes) still allocated per call after ``PARSED`` calls over ``frames``.

    The results are kept, so what is counted is each result and everything new it
    references (and whatever the call's callbacks keep); temporaries freed during the call
    are not. With a level pool, levels go back to the pool after each parse (as the
    handler does) and are reused.
    """
    for i in range(200):  # warm-up: lazy imports, caches, the pool's first levels
        call(frames[i % len(frames)])
    kept: list[Any] = [None] * PARSED
    gc.collect()
    gc.disable()
    tracemalloc.start()
    try:
        for i in range(PARSED):
            kept[i] = call(frames[i % len(frames)])
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
        gc.enable()
    stats = snapshot.statistics("filename")
    return sum(stat.count for stat in stats) / PARSED, sum(stat.size for stat in stats) / PARSED


class ParseAllocations:
    """Memory blocks and bytes each parse path leaves allocated per message (tracemalloc).

    Order books are deltas of 20 levels a side. Lower is better.
    """

    version = 1
    params = [VENUES, FORMATS, CHANNELS]
    param_names = ["venue", "format", "channel"]
    timeout = 120

    def setup_cache(self) -> dict[tuple[str, str, str], tuple[float, float]]:
        found = {}
        for venue in VENUES:
            for fmt in FORMATS:
                for channel in CHANNELS:
                    try:
                        data = frame(venue, fmt, channel, HANDLER_DEPTH)
                        parse = direct_parser(venue, fmt, channel, _pool(venue))
                    except NotImplementedError:
                        continue
                    blocks, size = _traced_per_call(parse, [data])
                    found[venue, fmt, channel] = round(blocks, 2), round(size, 1)
        return found

    def setup(self, cache: dict[Any, Any], venue: str, fmt: str, channel: str) -> None:
        check_combination(venue, fmt)
        if (venue, fmt, channel) not in cache:
            raise NotImplementedError("this commit cannot parse these frames")

    def track_allocs_per_message(
        self,
        cache: dict[tuple[str, str, str], tuple[float, float]],
        venue: str,
        fmt: str,
        channel: str,
    ) -> float:
        return cache[venue, fmt, channel][0]

    track_allocs_per_message.unit = "allocations"  # type: ignore[attr-defined]  # asv reads it

    def track_bytes_per_message(
        self,
        cache: dict[tuple[str, str, str], tuple[float, float]],
        venue: str,
        fmt: str,
        channel: str,
    ) -> float:
        return cache[venue, fmt, channel][1]

    track_bytes_per_message.unit = "bytes"  # type: ignore[attr-defined]  # asv reads it


class DeltaAllocations:
    """Objects a steady stream of 20-level deltas leaves allocated per level, beyond the
    decoder's own output, through the default handler and a 1,000-level local book.

    tracemalloc blocks per delta with every delivered update kept (handler, callbacks,
    book and the update), minus the blocks per update of the venue parser alone (the
    decoder's output: the update, its lists, levels and numbers), over the 40 levels.
    0 means the handler and the book allocate nothing per level (the book stores the
    levels' own floats); an object pool would show up here as misses. Lower is better.
    """

    version = 1
    params = [VENUES]
    param_names = ["venue"]
    unit = "objects"
    timeout = 120

    def setup_cache(self) -> dict[str, float]:
        found = {}
        for venue in VENUES:
            try:
                found[venue] = self._per_level(venue)
            except NotImplementedError:
                continue
        return found

    @staticmethod
    def _per_level(venue: str) -> float:
        fmt = "protobuf" if venue == "mexc" else "json"
        frames = [frame(venue, fmt, "order_book", HANDLER_DEPTH, seq) for seq in (1, 2)]
        messages = require("ws_stack.messages", "WebSocketMessageType")
        handler = make_handler(venue)
        follower = BookFollower(venue)
        kept: list[Any] = []

        def keep(update: Any) -> None:
            follower(update)
            kept.append(update)

        handler.on(messages.WebSocketMessageType.ORDER_BOOK, keep)
        parse = direct_parser(venue, fmt, "order_book", getattr(handler, "level_pool", None))
        pipeline = _traced_per_call(handler.handle, frames)[0]
        decoder = _traced_per_call(parse, frames)[0]
        return round((pipeline - decoder) / (2 * HANDLER_DEPTH), 3)

    def setup(self, cache: dict[str, float], venue: str) -> None:
        if venue not in cache:
            raise NotImplementedError("this commit cannot handle these frames")

    def track_objects_per_level(self, cache: dict[str, float], venue: str) -> float:
        return cache[venue]


class GcPressure:
    """Garbage-collector runs (any generation) while a handler takes 100,000 frames.

    The frames cycle through trade, best bid/ask and 20-level order-book delta; nothing
    keeps the messages. Lower is better.
    """

    version = 1
    params = [VENUES, FORMATS]
    param_names = ["venue", "format"]
    unit = "collections"
    timeout = 180

    def setup_cache(self) -> dict[tuple[str, str], int]:
        found = {}
        for venue in VENUES:
            for fmt in FORMATS:
                try:
                    found[venue, fmt] = self._collections(venue, fmt)
                except NotImplementedError:
                    continue
        return found

    @staticmethod
    def _collections(venue: str, fmt: str) -> int:
        frames = [frame(venue, fmt, channel, HANDLER_DEPTH) for channel in CHANNELS]
        handle = make_handler(venue).handle
        for data in frames * 100:  # warm-up
            handle(data)
        runs = 0

        def count(phase: str, info: dict[str, Any]) -> None:
            nonlocal runs
            if phase == "start":
                runs += 1

        stream = frames * (100_000 // len(frames)) + frames[: 100_000 % len(frames)]
        gc.collect()
        gc.callbacks.append(count)
        try:
            for data in stream:
                handle(data)
        finally:
            gc.callbacks.remove(count)
        return runs

    def setup(self, cache: dict[Any, int], venue: str, fmt: str) -> None:
        check_combination(venue, fmt)
        if (venue, fmt) not in cache:
            raise NotImplementedError("this commit cannot handle these frames")

    def track_gc_runs_per_100k_messages(
        self, cache: dict[tuple[str, str], int], venue: str, fmt: str
    ) -> int:
        return cache[venue, fmt]


class _ClientOfChildSimulator:
    """Base: a simulator child process replaying deltas, and a private event loop."""

    params = [VENUES]
    param_names = ["venue"]
    timeout = 120
    #: Deltas each connection is sent (then the stream stops).
    deltas = 1000

    def setup(self, venue: str) -> None:
        require_connection_layer(venue)
        self._tmp = tempfile.TemporaryDirectory(prefix="ws-stack-bench-")
        path = Path(self._tmp.name) / "deltas.jsonl"
        write_deltas(path, venue, self.deltas)
        self.sim = SimProcess(venue, rate_hz=100_000.0, replay=str(path))
        self.loop = asyncio.new_event_loop()
        self.venue = venue

    def teardown(self, venue: str) -> None:
        # asv calls teardown even when setup raised NotImplementedError.
        if getattr(self, "loop", None) is not None:
            self.loop.close()
        if getattr(self, "sim", None) is not None:
            self.sim.close()

    async def open_and_stream(self, count: int) -> tuple[Any, Any]:
        """A started connection with its own handler, once it received ``count`` deltas."""
        handler, counter = counting_handler(self.venue)
        connection = new_connection(self.venue, self.sim.ws_url, handler)
        await connection.start()
        await counter.wait_for(count)
        return connection, handler


class ConnectionMemory(_ClientOfChildSimulator):
    """Bytes a live connection (with its handler) holds after streaming 1,000 deltas.

    Four connections are opened; the figure is tracemalloc's traced memory (after a full
    collection) with them open and idle, minus before, divided by four. Lower is better.
    """

    version = 1
    unit = "bytes"
    connections = 4

    async def _measure(self) -> float:
        warm, _ = await self.open_and_stream(self.deltas)  # imports, caches, first use
        await warm.close()
        del warm
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            opened = [await self.open_and_stream(self.deltas) for _ in range(self.connections)]
            await asyncio.sleep(0.05)  # let the last frames' buffers settle
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        for connection, _ in opened:
            await connection.close()
        return (after - before) / self.connections

    def track_bytes_retained_per_connection(self, venue: str) -> float:
        return round(self.loop.run_until_complete(self._measure()), -2)


class ConnectionLeaks(_ClientOfChildSimulator):
    """Objects left behind by 20 connect / stream 100 deltas / close cycles.

    ``len(gc.get_objects())`` after a full collection, after the cycles minus before
    (after two warm-up cycles); 0 is the target. Lower is better.
    """

    version = 1
    unit = "objects"
    cycles = 20
    deltas = 100

    async def _cycle(self) -> None:
        connection, _ = await self.open_and_stream(self.deltas)
        await connection.close()

    async def _measure(self) -> int:
        for _ in range(2):
            await self._cycle()
        gc.collect()
        before = len(gc.get_objects())
        for _ in range(self.cycles):
            await self._cycle()
        gc.collect()
        return max(0, len(gc.get_objects()) - before)

    def track_objects_leaked(self, venue: str) -> int:
        return self.loop.run_until_complete(self._measure())
