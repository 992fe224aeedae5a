"""Codecs (``ws_stack.mexc.decoder``, ``ws_stack.gateio.decoder``): detection and parsing.

Every combination of venue and format is a parameter; Gate.io has no protobuf format, so
those combinations are n/a. Frames are parsed as the venue's default handler parses them
(on commits whose MEXC handler pooled levels, they come from a pool and go back to it).

Next to the ws_stack figures are their floors, the bare library calls the ratio targets
compare them with in the same run: ``DetectType.time_find_marker`` (a ``find`` of the
channel marker in the first 64 bytes) and ``ParseOrderBook.time_floor`` (one msgspec
decode into string levels, or one protobuf ``ParseFromString``, of the same frame).
``DetectTypeOverFloor`` and ``ParseOrderBookOverFloor`` time each pair in one process, for
the targets' ratios, and ``ParseOrderBookOverFiveLevels`` a deep parse over a 5-level one.
``ParsePureOverCompiled`` is what the compiled MEXC push reader buys: the pure-Python
reference over the compiled twin, in one process.

Every timed call also has its instruction count (the ``...Instructions`` classes, see
:mod:`benchmarks.instructions`).
"""

from __future__ import annotations

from types import GenericAlias
from typing import Any

import msgspec

from .asv_support import CALLS, Batched, Paired, require
from .common import CHANNELS, DEPTHS, FORMATS, HANDLER_DEPTH, VENUES
from .floors import CHANNEL_MARKERS, floor_parser
from .instructions import Counted
from .parsers import default_pool, detector, direct_parser
from .venue_frames import frame, gateio_obu_frame


def _pool(venue: str) -> Any:
    return default_pool(venue)


class DetectType(Batched):
    """Classify one raw frame (the first step of every frame's handling)."""

    version = 2
    params = [VENUES, FORMATS, [*CHANNELS, "pong"]]
    param_names = ["venue", "format", "channel"]

    def setup(self, venue: str, fmt: str, channel: str) -> None:
        self.detect = detector(venue)
        self.frame = frame(venue, fmt, channel)
        self.detect(self.frame)
        # A control message is text in either format: it is searched as a JSON frame.
        text = isinstance(self.frame, str)
        self.marker = CHANNEL_MARKERS[venue, "json" if text else fmt]

    def time_detect_type(self, venue: str, fmt: str, channel: str) -> None:
        detect, data = self.detect, self.frame
        for _ in CALLS:
            detect(data)

    def time_find_marker(self, venue: str, fmt: str, channel: str) -> None:
        """The floor: a bare find of the channel marker in the frame's first 64 bytes."""
        find, marker = self.frame.find, self.marker
        for _ in CALLS:
            find(marker, 0, 64)


class DetectTypeInstructions(Counted):
    twin = DetectType
    track_detect_type = Counted.of("time_detect_type")
    track_find_marker = Counted.of("time_find_marker")


class DetectTypeOverFloor(Paired):
    """The detection-to-marker ratio: ``DetectType.time_detect_type`` over ``time_find_marker`` in
    one process (see :class:`~benchmarks.asv_support.Paired`), for the pushes."""

    params = [VENUES, FORMATS, CHANNELS]
    param_names = ["venue", "format", "channel"]
    setup = DetectType.setup
    figure_batch = DetectType.time_detect_type
    floor_batch = DetectType.time_find_marker
    track_ratio = Paired.ratios


class ParseOrderBook(Batched):
    """Parse one order-book frame: a delta ("update") or a top-N snapshot."""

    version = 2
    params = [VENUES, FORMATS, ["update", "snapshot"], DEPTHS]
    param_names = ["venue", "format", "kind", "depth"]

    def setup(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        channel = "order_book" if kind == "update" else "snapshot"
        self.frame = frame(venue, fmt, channel, depth)
        self.parse = direct_parser(venue, fmt, channel, _pool(venue))
        self.parse(self.frame)
        self.floor = floor_parser(venue, fmt)
        self.floor(self.frame)

    def time_parse(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        parse, data = self.parse, self.frame
        for _ in CALLS:
            parse(data)

    def time_floor(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        """The floor: the same frame decoded bare (string levels, or protobuf only)."""
        floor, data = self.floor, self.frame
        for _ in CALLS:
            floor(data)


class ParseOrderBookInstructions(Counted):
    twin = ParseOrderBook
    track_parse = Counted.of("time_parse")
    track_floor = Counted.of("time_floor")


class ParseSmallDelta(ParseOrderBook):
    """Parse an order-book delta of 1 to 5 levels a side: what venues mostly send."""

    version = 1
    params = [VENUES, FORMATS, ["update"], [1, 3, 5]]


#: spot.obu pushes: full books of 50 and 400 levels a side, deltas of 1, 3 and 5.
OBU_PUSHES = ["full_50", "full_400", "delta_1", "delta_3", "delta_5"]


class ParseObu(Batched):
    """Gate.io ``spot.obu`` (order book v2): detect and parse a push, next to the bare
    msgspec decode of the same frame (its floor, as for the other Gate.io books)."""

    version = 1
    params = [OBU_PUSHES]
    param_names = ["push"]

    def setup(self, push: str) -> None:
        decoder = require("ws_stack.gateio.decoder", "parse_obu", "detect_type")
        self.detect, self.parse = decoder.detect_type, decoder.parse_obu
        self.floor = floor_parser("gateio", "json")
        self.frame = gateio_obu_frame(push)
        self.parse(self.frame)
        self.floor(self.frame)

    def time_detect(self, push: str) -> None:
        detect, data = self.detect, self.frame
        for _ in CALLS:
            detect(data)

    def time_parse(self, push: str) -> None:
        parse, data = self.parse, self.frame
        for _ in CALLS:
            parse(data)

    def time_floor(self, push: str) -> None:
        floor, data = self.floor, self.frame
        for _ in CALLS:
            floor(data)


class ParseObuInstructions(Counted):
    twin = ParseObu
    track_detect = Counted.of("time_detect")
    track_parse = Counted.of("time_parse")
    track_floor = Counted.of("time_floor")


class ParseSmallDeltaInstructions(Counted):
    twin = ParseSmallDelta
    track_parse = Counted.of("time_parse")
    track_floor = Counted.of("time_floor")


class ParseOrderBookOverFloor(Paired):
    """The parse-to-floor ratio: ``ParseOrderBook.time_parse`` over ``time_floor`` in one
    process (see :class:`~benchmarks.asv_support.Paired`), for the targets' 20-level delta."""

    params = [VENUES, FORMATS, ["update"], [HANDLER_DEPTH]]
    param_names = ["venue", "format", "kind", "depth"]
    setup = ParseOrderBook.setup
    figure_batch = ParseOrderBook.time_parse
    floor_batch = ParseOrderBook.time_floor
    track_ratio = Paired.ratios


class ParseSmallDeltaOverFloor(Paired):
    """The parse-to-floor ratio of the 1-, 3- and 5-level deltas venues mostly send:
    ``ParseSmallDelta.time_parse`` over ``time_floor`` in one process."""

    params = ParseSmallDelta.params
    param_names = ParseSmallDelta.param_names
    setup = ParseSmallDelta.setup
    figure_batch = ParseSmallDelta.time_parse
    floor_batch = ParseSmallDelta.time_floor
    track_ratio = Paired.ratios


class ParseOrderBookOverFiveLevels(Paired):
    """Growth with depth in one process: ``ParseOrderBook.time_parse`` of a 20- or
    100-level delta over the same parse of a 5-level one (see
    :class:`~benchmarks.asv_support.Paired`). Linear growth is 4x and 20x."""

    params = [VENUES, FORMATS, ["update"], [20, 100]]
    param_names = ["venue", "format", "kind", "depth"]

    def setup(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        self.deep, self.five = ParseOrderBook(), ParseOrderBook()
        self.deep.setup(venue, fmt, kind, depth)
        self.five.setup(venue, fmt, kind, 5)

    def figure_batch(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        self.deep.time_parse(venue, fmt, kind, depth)

    def floor_batch(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        self.five.time_parse(venue, fmt, kind, 5)

    track_ratio = Paired.ratios


class ParseTrade(Batched):
    """Parse one trade frame (one trade)."""

    version = 2
    params = [VENUES, FORMATS]
    param_names = ["venue", "format"]

    def setup(self, venue: str, fmt: str) -> None:
        self.frame = frame(venue, fmt, "trade")
        self.parse = direct_parser(venue, fmt, "trade", _pool(venue))
        self.parse(self.frame)

    def time_parse(self, venue: str, fmt: str) -> None:
        parse, data = self.parse, self.frame
        for _ in CALLS:
            parse(data)


class ParseTradeInstructions(Counted):
    twin = ParseTrade
    track_parse = Counted.of("time_parse")


class ParseBookTicker(Batched):
    """Parse one best bid/ask frame."""

    version = 2
    params = [VENUES, FORMATS]
    param_names = ["venue", "format"]

    def setup(self, venue: str, fmt: str) -> None:
        self.frame = frame(venue, fmt, "book_ticker")
        self.parse = direct_parser(venue, fmt, "book_ticker", _pool(venue))
        self.parse(self.frame)

    def time_parse(self, venue: str, fmt: str) -> None:
        parse, data = self.parse, self.frame
        for _ in CALLS:
            parse(data)


class ParseBookTickerInstructions(Counted):
    twin = ParseBookTicker
    track_parse = Counted.of("time_parse")


class ParseControl(Batched):
    """Parse a pong (JSON control message of both venues)."""

    version = 2
    params = [VENUES]
    param_names = ["venue"]

    def setup(self, venue: str) -> None:
        self.frame = frame(venue, "json", "pong")
        self.parse = direct_parser(venue, "json", "pong")
        self.parse(self.frame)

    def time_parse(self, venue: str) -> None:
        parse, data = self.parse, self.frame
        for _ in CALLS:
            parse(data)


class ParseControlInstructions(Counted):
    twin = ParseControl
    track_parse = Counted.of("time_parse")


class MexcDepthLowerBound(Batched):
    """The parts no MEXC protobuf depth parser can skip, each done the fastest way known.

    The MEXC parse target asks for a 20 + 20 level delta (``ParseOrderBook``'s frame) in at
    most twice a bare ``ParseFromString``. Any parser must read the frame with protobuf, take the 40
    levels out of it and make 40 Levels from 80 decimal strings. Measured here alone:
    ``time_read_frame`` parses the frame with the wire-compatible view (levels left as raw
    bytes, the cheapest parse that still reads every field); ``time_take_levels`` takes
    both sides' raw levels out of upb; ``time_make_levels`` has msgspec make the 40 Levels
    in C from the 80 strings already laid out as MessagePack (float conversion, bounds,
    structs, nothing else). Their sum over ``ParseOrderBook.time_floor`` is the lowest
    ratio reachable; ``MexcDepthBoundOverFloor`` times the three one after the other over
    the bare ``ParseFromString`` in one process.
    """

    version = 2

    def setup(self) -> None:
        self.prepare(HANDLER_DEPTH)

    def prepare(self, depth: int) -> None:
        """Set up for the delta of ``depth`` levels a side (``ParseOrderBook``'s frame)."""
        view = require("ws_stack.mexc.proto.PushDataV3ApiView_pb2", "PushDataV3ApiWrapperView")
        schema = require("ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2", "PushDataV3ApiWrapper")
        level_type = require("ws_stack.messages", "Level").Level
        self.frame = frame("mexc", "protobuf", "order_book", depth)
        self.read = view.PushDataV3ApiWrapperView.FromString
        read = self.read(self.frame)
        self.side = read.WhichOneof("body")
        self.body = getattr(read, self.side)
        wrapper = schema.PushDataV3ApiWrapper.FromString(self.frame)
        body = getattr(wrapper, wrapper.WhichOneof("body"))
        strings = [[level.price, level.quantity] for level in [*body.asks, *body.bids]]
        self.packed = msgspec.msgpack.encode(strings)
        # list[level_type], spelled so that a type checker does not read it as a type.
        self.make = msgspec.msgpack.Decoder(GenericAlias(list, level_type), strict=False).decode
        if len(self.make(self.packed)) != 2 * depth:
            raise RuntimeError(f"the frame does not hold {depth} + {depth} levels")
        self.floor = floor_parser("mexc", "protobuf")

    def time_read_frame(self) -> None:
        read, data = self.read, self.frame
        for _ in CALLS:
            read(data)

    def time_take_levels(self) -> None:
        body = self.body
        for _ in CALLS:
            body.asks[:]
            body.bids[:]

    def time_make_levels(self) -> None:
        make, packed = self.make, self.packed
        for _ in CALLS:
            make(packed)

    def parts_batch(self) -> None:
        """The three parts one after the other, as a parser must do them: read the frame,
        take the levels of what it read, make the Levels."""
        read, data, side, make, packed = self.read, self.frame, self.side, self.make, self.packed
        for _ in CALLS:
            body = getattr(read(data), side)
            body.asks[:]
            body.bids[:]
            make(packed)

    def floor_batch(self) -> None:
        """``ParseOrderBook.time_floor``'s loop for this frame: the bare ParseFromString."""
        floor, data = self.floor, self.frame
        for _ in CALLS:
            floor(data)


class MexcDepthLowerBoundInstructions(Counted):
    twin = MexcDepthLowerBound
    track_read_frame = Counted.of("time_read_frame")
    track_take_levels = Counted.of("time_take_levels")
    track_make_levels = Counted.of("time_make_levels")


class MexcDepthBoundOverFloor(Paired):
    """The MEXC parse target's bound in one process: ``MexcDepthLowerBound``'s three parts, one
    after the other, over the bare ``ParseFromString`` of the same frame (see
    :class:`~benchmarks.asv_support.Paired`): the lowest ratio reachable, each part done the
    fastest way known."""

    setup = MexcDepthLowerBound.setup
    prepare = MexcDepthLowerBound.prepare
    figure_batch = MexcDepthLowerBound.parts_batch
    floor_batch = MexcDepthLowerBound.floor_batch
    track_ratio = Paired.ratios


class MexcSmallDeltaBoundOverFloor(Paired):
    """The same bound for the 1-, 3- and 5-level deltas of ``ParseSmallDelta``: reading the
    frame, taking its levels and making them, over the bare ``ParseFromString``, in one
    process. It leaves out even the symbol, the versions and the update itself."""

    params = [[1, 3, 5]]
    param_names = ["depth"]

    def setup(self, depth: int) -> None:
        self.parts = MexcDepthLowerBound()
        self.parts.prepare(depth)

    def figure_batch(self, depth: int) -> None:
        self.parts.parts_batch()

    def floor_batch(self, depth: int) -> None:
        self.parts.floor_batch()

    track_ratio = Paired.ratios


#: MEXC protobuf pushes of ParsePureOverCompiled: deltas of 1, 5 and 20 levels a side,
#: a trade, a book ticker.
PURE_OVER_COMPILED_PUSHES = ["delta_1", "delta_5", "delta_20", "trade", "book_ticker"]


class ParsePureOverCompiled(Paired):
    """The pure-Python reference ``ws_stack.mexc.push.parse_push`` over its compiled twin
    (``ws_stack.mexc._push_reader``), the same frame in one process: the speed-up of the
    compiled reader (n/a before it existed, or where it is not built)."""

    params = [PURE_OVER_COMPILED_PUSHES]
    param_names = ["push"]

    def setup(self, push: str) -> None:
        compiled = require("ws_stack.mexc._push_reader", "parse_push")
        self.compiled = compiled.parse_push
        self.reference = require("ws_stack.mexc.push", "parse_push").parse_push
        if push.startswith("delta_"):
            self.frame = frame("mexc", "protobuf", "order_book", int(push[len("delta_") :]))
        else:
            self.frame = frame("mexc", "protobuf", push)
        if compiled.read_push(self.frame) is None:
            raise RuntimeError(f"the compiled reader hands the {push} frame over")

    def reference_batch(self, push: str) -> None:
        parse, data = self.reference, self.frame
        for _ in CALLS:
            parse(data)

    def compiled_batch(self, push: str) -> None:
        parse, data = self.compiled, self.frame
        for _ in CALLS:
            parse(data)

    figure_batch = reference_batch
    floor_batch = compiled_batch
    track_ratio = Paired.ratios
