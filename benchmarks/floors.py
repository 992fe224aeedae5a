"""Floors: the bare library calls ws_stack's ratio targets are measured against.

A ratio target divides a ws_stack figure by the same work done with the bare libraries
underneath (msgspec, upb protobuf, ``str.find``), timed in the same run, so that it holds
on any machine. The floors use none of ws_stack's code but MEXC's generated protobuf
schema: a change to ws_stack moves its figures, never their floors.
"""

from __future__ import annotations

from typing import Any

import msgspec

from .asv_support import require
from .venue_frames import check_combination

#: The channel marker type detection looks for, per venue and format (the first 64 bytes
#: of a frame are searched for it).
CHANNEL_MARKERS: dict[tuple[str, str], Any] = {
    ("gateio", "json"): '"channel":"',
    ("mexc", "protobuf"): b"spot@public.",
    ("mexc", "json"): '"c":"',
}


# The bare decode targets: the frames' shapes with every level left a string.
_Levels = list[tuple[str, str]] | None


class _GateBookResult(msgspec.Struct, gc=False):
    s: str
    t: int | None = None
    U: int | None = None
    u: int | None = None
    lastUpdateId: int | None = None
    b: _Levels = None
    a: _Levels = None
    bids: _Levels = None
    asks: _Levels = None


class _GateBookFrame(msgspec.Struct, gc=False):
    channel: str
    event: str
    result: _GateBookResult


class _MexcLegacyLevel(msgspec.Struct, gc=False):
    p: str
    v: str


class _MexcLegacyDepth(msgspec.Struct, gc=False):
    r: str
    asks: list[_MexcLegacyLevel] = []
    bids: list[_MexcLegacyLevel] = []


class _MexcLegacyFrame(msgspec.Struct, gc=False):
    c: str
    d: _MexcLegacyDepth
    s: str = ""
    t: int | None = None


def floor_parser(venue: str, fmt: str) -> Any:
    """The bare decode of an order-book frame that ws_stack's parser is compared with.

    JSON: one ``msgspec.json.Decoder`` call into a Struct with the levels as strings (the
    numbers left unconverted, no validation, no ws_stack types). MEXC protobuf: one
    ``ParseFromString`` of the wrapper with the real schema (upb), no field read.
    """
    check_combination(venue, fmt)
    if fmt == "protobuf":
        proto = require("ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2", "PushDataV3ApiWrapper")
        return proto.PushDataV3ApiWrapper.FromString
    shape = _GateBookFrame if venue == "gateio" else _MexcLegacyFrame
    return msgspec.json.Decoder(shape).decode
