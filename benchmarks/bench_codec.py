"""Codecs (``ws_stack.mexc.decoder``, ``ws_stack.gateio.decoder``): detection and parsing.

Every combination of venue and format is a parameter; Gate.io has no protobuf format, so
those combinations are n/a. MEXC order-book levels come from a level pool and go back to
it after each parse, as in the handler.
"""

from __future__ import annotations

from typing import Any

from .common import CHANNELS, DEPTHS, FORMATS, VENUES, detector, direct_parser, frame, require


def _pool(venue: str) -> Any:
    if venue != "mexc":
        return None
    return require("ws_stack.pool", "LevelPool").LevelPool()


class DetectType:
    """Classify one raw frame (the first step of every frame's handling)."""

    version = 1
    params = [VENUES, FORMATS, [*CHANNELS, "pong"]]
    param_names = ["venue", "format", "channel"]

    def setup(self, venue: str, fmt: str, channel: str) -> None:
        self.detect = detector(venue)
        self.frame = frame(venue, fmt, channel)
        self.detect(self.frame)

    def time_detect_type(self, venue: str, fmt: str, channel: str) -> None:
        self.detect(self.frame)


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

    def time_parse(self, venue: str, fmt: str, kind: str, depth: int) -> None:
        self.parse(self.frame)


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
