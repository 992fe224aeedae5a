"""MEXC legacy JSON pushes (``{"c": <channel>, "d": {...}, "s": .., "t": ..}``).

One msgspec decoder per kind of push decodes a frame straight into Structs (no dicts):
numbers arrive as strings, are converted in C and checked against the bounds of
:mod:`ws_stack.messages` there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Literal

import msgspec

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import (
    BookTicker,
    Level,
    Message,
    OrderBookUpdate,
    Price,
    Side,
    Size,
    Trade,
    Venue,
)
from ws_stack.mexc.detect import (
    _JSON_ERRORS,
    _channel_kind,
    _legacy_head_kind,
    _probe,
    _unknown_channel,
)
from ws_stack.mexc.push import _channel_symbol
from ws_stack.pool import LevelPool

__all__ = ["parse_legacy"]

_MEXC = Venue.MEXC


class _JsonDeal(msgspec.Struct, gc=False):
    S: Literal[1, 2]
    p: Price
    v: Size
    t: int


class _JsonDeals(msgspec.Struct, gc=False):
    deals: list[_JsonDeal]


class _JsonLevel(msgspec.Struct, gc=False):
    p: Price
    v: Size


class _JsonDepth(msgspec.Struct, gc=False):
    r: int
    asks: list[_JsonLevel] = []
    bids: list[_JsonLevel] = []


class _JsonTicker(msgspec.Struct, gc=False):
    bid_price: Price = msgspec.field(name="b")
    bid_size: Size = msgspec.field(name="B")
    ask_price: Price = msgspec.field(name="a")
    ask_size: Size = msgspec.field(name="A")


class _JsonDealsPush(msgspec.Struct, gc=False):
    c: str
    d: _JsonDeals
    s: str = ""
    t: int | None = None


class _JsonDepthPush(msgspec.Struct, gc=False):
    c: str
    d: _JsonDepth
    s: str = ""
    t: int | None = None


class _JsonTickerPush(msgspec.Struct, gc=False):
    c: str
    d: _JsonTicker
    s: str = ""
    t: int | None = None


# strict=False: the venue sends numbers as strings ("50000.1", "r": "123"); msgspec
# converts them and checks the Price/Size bounds in C.
_decode_deals = msgspec.json.Decoder(_JsonDealsPush, strict=False).decode
_decode_depth = msgspec.json.Decoder(_JsonDepthPush, strict=False).decode
_decode_ticker = msgspec.json.Decoder(_JsonTickerPush, strict=False).decode


def parse_legacy(frame: bytes | str, pool: LevelPool | None = None) -> Message | list[Message]:
    """Decode a legacy JSON push (``{"c": <channel>, "d": {...}, "s": .., "t": ..}``)."""
    kind = _legacy_kind(frame)
    build = _LEGACY_BUILDERS.get(kind)
    if build is None:
        raise _unknown_channel(kind, frame)
    try:
        return build(frame, pool)
    except msgspec.ValidationError as exc:
        raise FrameError(FrameErrorReason.INVALID_FIELD, str(exc), frame, _MEXC) from None
    except _JSON_ERRORS as exc:
        raise FrameError(FrameErrorReason.MALFORMED_JSON, str(exc), frame, _MEXC) from None
    except ValueError as exc:  # no symbol anywhere
        raise FrameError(FrameErrorReason.INVALID_FIELD, str(exc), frame, _MEXC) from None


def _legacy_kind(frame: bytes | str) -> str | bytes:
    kind = _legacy_head_kind(frame)
    return _channel_kind(_probe(frame).c or "") if kind is None else kind


def _legacy_deals(frame: bytes | str, pool: LevelPool | None) -> list[Message]:
    push = _decode_deals(frame)
    symbol = push.s or _channel_symbol(push.c)
    return [
        Trade(_MEXC, symbol, deal.p, deal.v, Side.BUY if deal.S == 1 else Side.SELL, deal.t)
        for deal in push.d.deals
    ]


def _legacy_side(levels: list[_JsonLevel], pool: LevelPool | None) -> list[Level]:
    if pool is not None:
        return pool.take([level.p for level in levels], [level.v for level in levels])
    return [Level(level.p, level.v) for level in levels]


def _legacy_depth(frame: bytes | str, pool: LevelPool | None, *, snapshot: bool) -> Message:
    push = _decode_depth(frame)
    data = push.d
    return OrderBookUpdate(
        _MEXC,
        push.s or _channel_symbol(push.c, snapshot),
        _legacy_side(data.bids, pool),
        _legacy_side(data.asks, pool),
        snapshot,
        None if snapshot else data.r,
        data.r,
        push.t or None,
    )


def _legacy_ticker(frame: bytes | str, pool: LevelPool | None) -> Message:
    push = _decode_ticker(frame)
    data = push.d
    return BookTicker(
        _MEXC,
        push.s or _channel_symbol(push.c),
        data.bid_price,
        data.bid_size,
        data.ask_price,
        data.ask_size,
        push.t or None,
    )


_LegacyBuilder = Callable[[bytes | str, LevelPool | None], Message | list[Message]]
_LEGACY_BY_KIND: dict[str, _LegacyBuilder] = {
    "deals": _legacy_deals,
    "aggre.deals": _legacy_deals,
    "increase.depth": partial(_legacy_depth, snapshot=False),
    "aggre.depth": partial(_legacy_depth, snapshot=False),
    "limit.depth": partial(_legacy_depth, snapshot=True),
    "bookTicker": _legacy_ticker,
    "aggre.bookTicker": _legacy_ticker,
}
_LEGACY_BUILDERS: dict[str | bytes, _LegacyBuilder] = dict(_LEGACY_BY_KIND.items())
_LEGACY_BUILDERS.update((kind.encode(), build) for kind, build in _LEGACY_BY_KIND.items())
