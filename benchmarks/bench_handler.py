"""Handlers (``ws_stack.handler`` and the venue handlers): the template method per frame.

``Handle`` times the handler's whole path for one frame (detect type, route, parse,
deliver to a callback, give pooled levels back) next to the same parser called directly,
so the template method's overhead is the difference of the two (a target), and
``HandleOverParser`` their ratio timed in one process (a target). ``Latency``
records per-message latency percentiles of the same hot paths in nanoseconds.
"""

from __future__ import annotations

import time
from typing import Any

from .asv_support import CALLS, Batched, Paired, Timed, require
from .cache_misses import Missed
from .common import CHANNELS, FORMATS, HANDLER_DEPTH, VENUES
from .instructions import Counted
from .parsers import direct_parser, make_handler
from .venue_frames import check_combination, frame, gateio_delta_frame, ladder


def _ignore(message: Any) -> None:
    """A consumer that does nothing: what is measured is delivery, not the consumer."""


def _subscribed_handler(venue: str) -> Any:
    messages = require("ws_stack.messages", "WebSocketMessageType")
    handler = make_handler(venue)
    for msg_type in messages.WebSocketMessageType:
        handler.on(msg_type, _ignore)
    return handler


class Handle(Batched):
    """One frame through ``handler.handle`` versus the venue parser called directly.

    Order books are deltas of HANDLER_DEPTH (20) levels a side.
    """

    version = 2
    params = [VENUES, FORMATS, CHANNELS]
    param_names = ["venue", "format", "channel"]

    def setup(self, venue: str, fmt: str, channel: str) -> None:
        self.frame = frame(venue, fmt, channel, HANDLER_DEPTH)
        self.handler = _subscribed_handler(venue)
        # The direct parser shares the handler's pool (MEXC) and gives levels back too.
        self.parse = direct_parser(venue, fmt, channel, self.handler.level_pool)
        if self.handler.handle(self.frame) < 1:
            raise RuntimeError(f"handler rejected the frame: {self.handler.stats()}")
        self.parse(self.frame)

    def time_handle(self, venue: str, fmt: str, channel: str) -> None:
        handle, data = self.handler.handle, self.frame
        for _ in CALLS:
            handle(data)

    def time_parse_direct(self, venue: str, fmt: str, channel: str) -> None:
        parse, data = self.parse, self.frame
        for _ in CALLS:
            parse(data)


class HandleInstructions(Counted):
    twin = Handle
    track_handle = Counted.of("time_handle")
    track_parse_direct = Counted.of("time_parse_direct")


class HandleOverParser(Paired):
    """The handler-to-parser ratio: ``Handle.time_handle`` over ``time_parse_direct`` in one process
    (see :class:`~benchmarks.asv_support.Paired`), for order books."""

    params = [VENUES, FORMATS, ["order_book"]]
    param_names = ["venue", "format", "channel"]
    setup = Handle.setup
    figure_batch = Handle.time_handle
    floor_batch = Handle.time_parse_direct
    track_ratio = Paired.ratios


class HandleMinusParser(Paired):
    """The template method's overhead: ``Handle.time_handle`` minus ``time_parse_direct``
    per call, in one process (see :class:`~benchmarks.asv_support.Paired`), for every
    frame."""

    params = Handle.params
    param_names = Handle.param_names
    unit = "seconds"
    setup = Handle.setup
    figure_batch = Handle.time_handle
    floor_batch = Handle.time_parse_direct
    track_overhead = Paired.differences


PASSES = 9
PASS_FRAMES = 4000


class HandleSmallDelta(Batched):
    """A Gate.io delta of 1, 3 or 5 levels a side through ``handle()`` with a 1,000-level
    book applied in the callback, next to parsing the same frame alone.

    The callback sets the book's id back before applying, so that the same frame applies
    on every call (one attribute store, in the figure).
    """

    version = 1
    params = [["gateio"], [1, 3, 5]]
    param_names = ["venue", "levels"]

    def setup(self, venue: str, levels: int) -> None:
        book_module = require("ws_stack.book", "LocalOrderBook")
        messages = require("ws_stack.messages", "OrderBookUpdate", "Level", "Venue")
        level, update = messages.Level, messages.OrderBookUpdate
        book = book_module.LocalOrderBook(messages.Venue.GATEIO, "BTC_USDT")
        book.apply(
            update(
                messages.Venue.GATEIO,
                "BTC_USDT",
                [level(p, s) for p, s in ladder(500, 50_000.0, -0.5)],
                [level(p, s) for p, s in ladder(500, 50_000.5, 0.5)],
                True,
                last_update_id=1,
            )
        )
        apply = book.apply

        def apply_to_book(delta: Any) -> None:
            book.last_update_id = delta.first_update_id - 1
            apply(delta)

        self.book = book
        self.handler = make_handler(venue)
        self.handler.on(messages.WebSocketMessageType.ORDER_BOOK, apply_to_book)
        self.parse = direct_parser(venue, "json", "order_book")
        bids = [(p, 2.0) for p, _ in ladder(levels, 49_999.0, -0.5)]
        asks = [(p, 2.0) for p, _ in ladder(levels, 50_001.5, 0.5)]
        self.frame = gateio_delta_frame(bids, asks, seq=2)
        if self.handler.handle(self.frame) < 1:
            raise RuntimeError(f"handler rejected the frame: {self.handler.stats()}")

    def time_handle(self, venue: str, levels: int) -> None:
        handle, data = self.handler.handle, self.frame
        for _ in CALLS:
            handle(data)

    def time_parse(self, venue: str, levels: int) -> None:
        parse, data = self.parse, self.frame
        for _ in CALLS:
            parse(data)


class HandleSmallDeltaInstructions(Counted):
    twin = HandleSmallDelta
    track_handle = Counted.of("time_handle")
    track_parse = Counted.of("time_parse")


class HandleSmallDeltaOverParse(Paired):
    """``HandleSmallDelta.time_handle`` (with the book) over ``time_parse`` in one process."""

    params = HandleSmallDelta.params
    param_names = HandleSmallDelta.param_names
    setup = HandleSmallDelta.setup
    figure_batch = HandleSmallDelta.time_handle
    floor_batch = HandleSmallDelta.time_parse
    track_ratio = Paired.ratios


def _latencies(venue: str, fmt: str, channel: str) -> tuple[list[int], list[int]]:
    """Per-pass p50 and p99 in ns: PASSES passes of PASS_FRAMES frames timed one by one."""
    data = frame(venue, fmt, channel, HANDLER_DEPTH)
    handle = _subscribed_handler(venue).handle
    clock = time.perf_counter_ns
    for _ in range(1000):  # warm-up: caches, the level pool
        handle(data)
    p50, p99 = [], []
    samples = [0] * PASS_FRAMES
    for _ in range(PASSES):
        for i in range(PASS_FRAMES):
            start = clock()
            handle(data)
            samples[i] = clock() - start
        ordered = sorted(samples)
        p50.append(ordered[PASS_FRAMES // 2])
        p99.append(ordered[PASS_FRAMES * 99 // 100])
    return p50, p99


def _every_frame_kind(measure: Any) -> dict[tuple[str, str, str], Any]:
    """``measure(venue, format, channel)`` of every kind of frame this commit handles."""
    found = {}
    for venue in VENUES:
        for fmt in FORMATS:
            for channel in CHANNELS:
                try:
                    found[venue, fmt, channel] = measure(venue, fmt, channel)
                except NotImplementedError:
                    continue
    return found


def _measured(cache: dict[Any, Any], venue: str, fmt: str, channel: str) -> None:
    """A set-up from a cache of :func:`_every_frame_kind`: n/a where it has no figures."""
    check_combination(venue, fmt)
    if (venue, fmt, channel) not in cache:
        raise NotImplementedError("this commit cannot handle these frames")


class Latency(Timed):
    """Per-message latency of ``handler.handle`` in ns (frames timed one by one).

    Each pass of 4,000 frames gives one p50 and one p99; the figure is the median over the
    passes (nine, in the one process of its ``setup_cache``). A track benchmark records one
    value, but one process's percentiles of microsecond calls move with the machine's load,
    so the methods hand asv the passes as samples (``{"samples": [...], "number": 1}``, the
    form asv 0.6 reads timing results in): asv then stores the median
    with a confidence interval and compares with statistics, as for ``time_`` benchmarks.
    The figures include the clock's own cost (tens of ns). Lower is better.
    """

    version = 3
    params = [VENUES, FORMATS, CHANNELS]
    param_names = ["venue", "format", "channel"]
    unit = "ns"
    timeout = 180

    def setup_cache(self) -> dict[tuple[str, str, str], tuple[list[int], list[int]]]:
        return _every_frame_kind(_latencies)

    def setup(self, cache: dict[Any, Any], venue: str, fmt: str, channel: str) -> None:
        _measured(cache, venue, fmt, channel)

    def track_latency_p50_ns(self, cache: Any, venue: str, fmt: str, channel: str) -> Any:
        return {"samples": cache[venue, fmt, channel][0], "number": 1}

    def track_latency_p99_ns(self, cache: Any, venue: str, fmt: str, channel: str) -> Any:
        return {"samples": cache[venue, fmt, channel][1], "number": 1}


#: Lone frames per combination (``LoneFrame``): handled, and type detections alone, in
#: turns (two handled, one detected).
LONE_HANDLED = 1000
LONE_DETECTED = 500


def _lone_latencies(venue: str, fmt: str, channel: str) -> dict[str, dict[str, int]]:
    """Percentiles in ns of lone frames: ``{"handle": {"p50": ...}, "detect": {...}}``."""
    lone_module = require_lone()
    lone = lone_module.LoneHandler(venue, fmt, channel)
    handle, detect, next_frame, interfere = (
        lone.handler.handle, lone.detect, lone.next_frame, lone.interfere
    )  # fmt: skip
    clock = time.perf_counter_ns
    handled: list[int] = []
    detected: list[int] = []
    for turn in range(LONE_HANDLED + LONE_DETECTED):
        data = next_frame()
        interfere()
        if turn % 3 == 2:
            start = clock()
            detect(data)
            detected.append(clock() - start)
        else:
            start = clock()
            handle(data)
            handled.append(clock() - start)
    return {
        "handle": lone_module.percentiles(handled),
        "detect": lone_module.percentiles(detected),
    }


def require_lone() -> Any:
    """``benchmarks.lone``, or n/a where this commit's handlers cannot take its callbacks."""
    require("ws_stack.book", "LocalOrderBook")
    require("ws_stack.messages", "WebSocketMessageType")
    from . import lone

    return lone


def _lone_track(what: str, name: str) -> Any:
    def track(self: LoneFrame, cache: Any, venue: str, fmt: str, channel: str) -> float:
        nanoseconds: int = cache[venue, fmt, channel][what][name]
        return nanoseconds / 1e9

    track.__doc__ = f"The {name} of a lone frame's ``{what}`` (s)."
    return track


class LoneFrame(Timed):
    """The latency of a lone frame: ``handler.handle`` (detect, route, parse, deliver to a
    strategy's callbacks, the delta applied to a 1,000-level book) and type detection
    alone, one frame at a time with 4 MiB written between two frames
    (:mod:`benchmarks.lone`), at p50, p95, p99 and p99.9.

    Per combination, 1,000 frames handled and 500 detected in turns, each timed alone;
    order-book frames are deltas of 3 levels a side. The figures include the clock's own
    cost (tens of ns). The design's latency targets are judged on the p95 here.
    """

    version = 1
    params = [VENUES, FORMATS, CHANNELS]
    param_names = ["venue", "format", "channel"]
    unit = "seconds"
    timeout = 180

    def setup_cache(self) -> dict[tuple[str, str, str], dict[str, dict[str, int]]]:
        return _every_frame_kind(_lone_latencies)

    def setup(self, cache: dict[Any, Any], venue: str, fmt: str, channel: str) -> None:
        _measured(cache, venue, fmt, channel)

    track_handle_p50 = _lone_track("handle", "p50")
    track_handle_p95 = _lone_track("handle", "p95")
    track_handle_p99 = _lone_track("handle", "p99")
    track_handle_p999 = _lone_track("handle", "p999")
    track_detect_p50 = _lone_track("detect", "p50")
    track_detect_p95 = _lone_track("detect", "p95")
    track_detect_p99 = _lone_track("detect", "p99")
    track_detect_p999 = _lone_track("detect", "p999")


class LoneFrameCalls:
    """``LoneFrame``'s call one at a time, for its counted twin: the next frame handled,
    and the interference that comes before it, in each venue's own format (MEXC's legacy
    JSON, a fallback, is timed but not counted)."""

    params = [VENUES, CHANNELS]
    param_names = ["venue", "channel"]

    def setup(self, venue: str, channel: str) -> None:
        lone = require_lone()
        # Frames enough for the warm-up and the parts, built under valgrind.
        self.lone = lone.LoneHandler(venue, lone.OWN_FORMAT[venue], channel, frames=50)
        self.interfere = self.lone.interfere

    def handle(self) -> None:
        self.lone.handle_next()


class LoneFrameMisses(Missed):
    """Cache misses of a lone frame (``LoneFrame``'s) through the handler's whole path,
    after the same 4 MiB written, under valgrind's cache simulation
    (:mod:`benchmarks.cache_misses`): first-level data and last level."""

    twin = LoneFrameCalls
    track_handle_d1_misses = Missed.of("handle", "d1")
    track_handle_ll_misses = Missed.of("handle", "ll")
