"""Codecs (``ws_stack.mexc.decoder``, ``ws_stack.gateio.decoder``): detection and parsing.

Every combination of venue and format is a parameter; Gate.io has no protobuf format, so
those combinations are n/a. Frames are parsed as the venue's default handler parses them
(on commits whose MEXC handler pooled levels, they come from a pool and go back to it).

Next to the ws_stack figures are their floors, the bare library calls the ratio targets
compare them with in the same run: ``DetectType.time_find_marker`` (a ``find`` of the
channel marker in the first 64 bytes) and ``ParseOrderBook.time_floor`` (one msgspec
decode into string levels, or one protobuf ``ParseFromString``, of the same frame).
"""

from __future__ import annotations

from typing import Any

from .common import (
    CHANNEL_MARKERS,
    CHANNELS,
    DEPTHS,
    FORMATS,
    VENUES,
    default_pool,
    detector,
    direct_parser,
    floor_parser,
    frame,
)


def _pool(venue: str) -> Any:
    return default_pool(venue)


class DetectType:
    """Classify one raw frame (the first step of every frame's handling)."""

    version = 1
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
        self.detect(self.frame)

    def time_find_marker(self, venue: str, fmt: str, channel: str) -> None:
        """The floor: a bare find of the channel marker in the frame's first 64 bytes."""
        self.frame.find(self.marker, 0, 64)


class ParseOrderBook:
    """Parse one order-book frame: a delta ("update") or a top-N snapshot."""

    version = 1
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
        self.parse(self.frame)

    def time_floor(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        """The floor: the same frame decoded bare (string levels, or protobuf only)."""
        self.floor(self.frame)


class ParseTrade:
    """Parse one trade frame (one trade)."""

    version = 1
    params = [VENUES, FORMATS]
    param_names = ["venue", "format"]

    def setup(self, venue: str, fmt: str) -> None:
        self.frame = frame(venue, fmt, "trade")
        self.parse = direct_parser(venue, fmt, "trade", _pool(venue))
        self.parse(self.frame)

    def time_parse(self, venue: str, fmt: str) -> None:
        self.parse(self.frame)


class ParseBookTicker:
    """Parse one best bid/ask frame."""

    version = 1
    params = [VENUES, FORMATS]
    param_names = ["venue", "format"]

    def setup(self, venue: str, fmt: str) -> None:
        self.frame = frame(venue, fmt, "book_ticker")
        self.parse = direct_parser(venue, fmt, "book_ticker", _pool(venue))
        self.parse(self.frame)

    def time_parse(self, venue: str, fmt: str) -> None:
        self.parse(self.frame)


class ParseControl:
    """Parse a pong (JSON control message of both venues)."""

    version = 1
    params = [VENUES]
    param_names = ["venue"]

    def setup(self, venue: str) -> None:
        self.frame = frame(venue, "json", "pong")
        self.parse = direct_parser(venue, "json", "pong")
        self.parse(self.frame)

    def time_parse(self, venue: str) -> None:
        self.parse(self.frame)
