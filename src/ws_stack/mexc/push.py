"""MEXC protobuf pushes (``PushDataV3ApiWrapper``): trades, order-book updates, tickers.

A frame is read through a wire-compatible view of the wrapper first, whose depth levels
:mod:`ws_stack.mexc.raw_levels` converts in one call, and with the real schema where the
view cannot settle it (see :func:`parse_push`). Prices and sizes are checked against the
bounds of :mod:`ws_stack.messages`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Protocol, TypeVar

import msgspec
from google.protobuf.message import DecodeError

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
    check_price,
    check_size,
)
from ws_stack.mexc.proto.PushDataV3ApiView_pb2 import (
    PublicIncreaseDepthsV3ApiView,
    PublicLimitDepthsV3ApiView,
    PushDataV3ApiWrapperView,
)
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ws_stack.mexc.raw_levels import levels_from_raw
from ws_stack.pool import LevelPool

__all__ = ["parse_push"]

_MEXC = Venue.MEXC

_SIDES = {1: Side.BUY, 2: Side.SELL}
_DETAIL_CHARS = 120


class _LevelItem(Protocol):
    """A depth item of any of the depth bodies (their generated classes differ)."""

    price: str
    quantity: str


class _DealItem(Protocol):
    price: str
    quantity: str
    tradeType: int
    time: int


#: The real wrapper or its view: both have the same fields except the depth levels.
_Wrapper = PushDataV3ApiWrapper | PushDataV3ApiWrapperView
_read_view = PushDataV3ApiWrapperView.FromString

_W = TypeVar("_W", PushDataV3ApiWrapper, PushDataV3ApiWrapperView)
_R = TypeVar("_R")
#: Four lists of numbers, one update's: bid prices, bid sizes, ask prices, ask sizes.
_Sides = tuple[list[float], list[float], list[float], list[float]]


def _parse_wrapper(frame: bytes) -> PushDataV3ApiWrapper:
    wrapper = PushDataV3ApiWrapper()
    try:
        wrapper.ParseFromString(frame)
    except DecodeError as exc:
        raise FrameError(FrameErrorReason.MALFORMED_PROTOBUF, str(exc), frame, _MEXC) from None
    return wrapper


def parse_push(frame: bytes, pool: LevelPool | None = None) -> Message | list[Message]:
    """Decode a binary push: trades (a list), an order-book update or a book ticker.

    With ``pool``, order-book levels are taken from it (the handler gives them back).
    Fields outside our schema (MEXC adds some) are ignored.

    The frame is read through a wire-compatible view of the wrapper first
    (``PushDataV3ApiView.proto``), which hands each order-book side over as raw level
    encodings; :func:`levels_from_raw` converts those it can prove canonical in one C
    call. Everything else (a level it cannot prove, a pool, a frame the view cannot
    read) is decoded with the real schema, which also names the error.
    """
    if pool is not None:  # pooled levels are refilled on the real schema's path
        return _parse_push_schema(frame, pool)
    try:
        view = _read_view(frame)
    except DecodeError:
        pass  # the real schema below raises the error with its reason
    else:
        build = _VIEW_BUILDERS.get(view.WhichOneof("body") or "")
        if build is not None:
            message = _build(build, view, pool, frame)
            if message is not None:
                return message
    return _parse_push_schema(frame, pool)


def _parse_push_schema(frame: bytes, pool: LevelPool | None) -> Message | list[Message]:
    """:func:`parse_push` with the real schema only: the safe path, and the reference."""
    wrapper = _parse_wrapper(frame)
    build = _PUSH_BUILDERS.get(wrapper.WhichOneof("body") or "")
    if build is None:
        raise FrameError(
            FrameErrorReason.UNKNOWN_MESSAGE, "push without a body ws_stack decodes", frame, _MEXC
        )
    return _build(build, wrapper, pool, frame)


def _build(
    build: Callable[[_W, LevelPool | None], _R], wrapper: _W, pool: LevelPool | None, frame: bytes
) -> _R:
    """``build(wrapper, pool)``, with a bad number's ``ValueError`` as the frame's error."""
    try:
        return build(wrapper, pool)
    except ValueError as exc:  # float()/int() of a bad string, or a bound check
        detail = str(exc)
        if len(detail) > _DETAIL_CHARS:  # float() quotes the whole (maybe hostile) string
            detail = detail[:_DETAIL_CHARS] + "..."
        raise FrameError(FrameErrorReason.INVALID_FIELD, detail, frame, _MEXC) from None


def _push_symbol(wrapper: _Wrapper, depth_suffix: bool = False) -> str:
    """``symbol``, or the channel's symbol segment when a frame leaves it out."""
    return wrapper.symbol or _channel_symbol(wrapper.channel, depth_suffix)


def _channel_symbol(channel: str, depth_suffix: bool = False) -> str:
    if depth_suffix:  # spot@public.limit.depth.v3.api.pb@BTCUSDT@20
        channel = channel.rpartition("@")[0]
    symbol = channel.rpartition("@")[2] if "@" in channel else ""
    if not symbol:
        raise ValueError("the push names no symbol")
    return symbol


def _push_time(wrapper: _Wrapper) -> int | None:
    return wrapper.sendTime or wrapper.createTime or None


def _trades(wrapper: _Wrapper, deals: Sequence[_DealItem]) -> list[Message]:
    symbol = _push_symbol(wrapper)
    trades: list[Message] = []
    for deal in deals:
        side = _SIDES.get(deal.tradeType)
        if side is None:
            raise ValueError(f"tradeType {deal.tradeType} is neither 1 (buy) nor 2 (sell)")
        trades.append(
            Trade(
                _MEXC,
                symbol,
                check_price(float(deal.price)),
                check_size(float(deal.quantity)),
                side,
                deal.time,
            )
        )
    return trades


def _push_aggre_deals(wrapper: _Wrapper, pool: LevelPool | None) -> list[Message]:
    return _trades(wrapper, wrapper.publicAggreDeals.deals)


def _push_deals(wrapper: _Wrapper, pool: LevelPool | None) -> list[Message]:
    return _trades(wrapper, wrapper.publicDeals.deals)


_price_text = attrgetter("price")
_quantity_text = attrgetter("quantity")
#: Bid prices, bid sizes, ask prices, ask sizes of one update, converted in one C call.
_decode_book_numbers = msgspec.json.Decoder(
    tuple[list[Price], list[Size], list[Price], list[Size]]
).decode


def _book(
    bids: Sequence[_LevelItem], asks: Sequence[_LevelItem], pool: LevelPool | None
) -> tuple[list[Level], list[Level]]:
    """Both sides' levels, every number checked before any level is taken from the pool.

    The venue's decimal strings are joined into one JSON array and converted (and
    bound-checked) by msgspec in C: several times cheaper than ``float()`` per string,
    which dominates the cost of a deep update. Text that is not one plain JSON number
    per item (garbage, ``"nan"``, ``".5"``, or a string smuggling in a ``,``) changes
    the JSON or the item counts, and then each string is converted one by one with
    :func:`float`, which either accepts it or names it in the error.
    """
    # upb builds a Python object per repeated item on every traversal: traverse once.
    bid_items, ask_items = list(bids), list(asks)
    texts = (
        list(map(_price_text, bid_items)),
        list(map(_quantity_text, bid_items)),
        list(map(_price_text, ask_items)),
        list(map(_quantity_text, ask_items)),
    )
    try:
        numbers = _decode_book_numbers("[[" + "],[".join([",".join(side) for side in texts]) + "]]")
    except msgspec.DecodeError:  # includes ValidationError (a bound)
        numbers = None
    if numbers is None or list(map(len, numbers)) != list(map(len, texts)):
        numbers = _checked_numbers(texts)
    bid_prices, bid_sizes, ask_prices, ask_sizes = numbers
    if pool is None:
        return list(map(Level, bid_prices, bid_sizes)), list(map(Level, ask_prices, ask_sizes))
    return pool.take(bid_prices, bid_sizes), pool.take(ask_prices, ask_sizes)


def _checked_numbers(texts: tuple[list[str], list[str], list[str], list[str]]) -> _Sides:
    """The slow path of :func:`_book`: ``float()`` and a bound check per string."""
    bid_prices, bid_sizes, ask_prices, ask_sizes = texts
    return (
        [check_price(float(text)) for text in bid_prices],
        [check_size(float(text)) for text in bid_sizes],
        [check_price(float(text)) for text in ask_prices],
        [check_size(float(text)) for text in ask_sizes],
    )


def _version(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} {value[:40]!r} is not an integer") from None


def _push_aggre_depth(wrapper: PushDataV3ApiWrapper, pool: LevelPool | None) -> Message:
    body = wrapper.publicAggreDepths
    symbol = _push_symbol(wrapper)
    first = _version(body.fromVersion, "fromVersion")
    last = _version(body.toVersion, "toVersion")
    bids, asks = _book(body.bids, body.asks, pool)
    return OrderBookUpdate(_MEXC, symbol, bids, asks, False, first, last, _push_time(wrapper))


def _push_increase_depth(wrapper: PushDataV3ApiWrapper, pool: LevelPool | None) -> Message:
    body = wrapper.publicIncreaseDepths
    symbol = _push_symbol(wrapper)
    version = _version(body.version, "version")
    bids, asks = _book(body.bids, body.asks, pool)
    return OrderBookUpdate(_MEXC, symbol, bids, asks, False, version, version, _push_time(wrapper))


def _push_limit_depth(wrapper: PushDataV3ApiWrapper, pool: LevelPool | None) -> Message:
    body = wrapper.publicLimitDepths
    symbol = _push_symbol(wrapper, depth_suffix=True)
    version = _version(body.version, "version")
    bids, asks = _book(body.bids, body.asks, pool)
    return OrderBookUpdate(_MEXC, symbol, bids, asks, True, None, version, _push_time(wrapper))


def _push_book_ticker(wrapper: _Wrapper, pool: LevelPool | None) -> Message:
    body = wrapper.publicAggreBookTicker
    return BookTicker(
        _MEXC,
        _push_symbol(wrapper),
        check_price(float(body.bidPrice)),
        check_size(float(body.bidQuantity)),
        check_price(float(body.askPrice)),
        check_size(float(body.askQuantity)),
        _push_time(wrapper),
    )


# -- depth bodies read through the view: levels from their raw encodings -----------


# Each reads its body's fields once and leaves anything it cannot settle (a level it
# cannot prove canonical, a version that is not an integer) to the real schema's path,
# which names the error. The aggregated depth is what MEXC mostly sends, small deltas
# whose fixed cost per frame matters: its builder calls nothing but the level conversion
# (_push_symbol and _push_time written out in place).


def _view_aggre_depth(view: PushDataV3ApiWrapperView, pool: LevelPool | None) -> Message | None:
    body = view.publicAggreDepths
    try:
        first, last = int(body.fromVersion), int(body.toVersion)
    except ValueError:
        return None
    levels = levels_from_raw(body.asks[:], body.bids[:])
    if levels is None:
        return None
    symbol = view.symbol or _channel_symbol(view.channel)
    time = view.sendTime or view.createTime or None
    return OrderBookUpdate(_MEXC, symbol, levels[1], levels[0], False, first, last, time)


def _view_increase_depth(view: PushDataV3ApiWrapperView, pool: LevelPool | None) -> Message | None:
    return _view_one_version(view, view.publicIncreaseDepths, snapshot=False)


def _view_limit_depth(view: PushDataV3ApiWrapperView, pool: LevelPool | None) -> Message | None:
    return _view_one_version(view, view.publicLimitDepths, snapshot=True)


def _view_one_version(
    view: PushDataV3ApiWrapperView,
    body: PublicIncreaseDepthsV3ApiView | PublicLimitDepthsV3ApiView,
    snapshot: bool,
) -> Message | None:
    """A body with one ``version``: an increment (first = last) or a top-N snapshot."""
    try:
        version = int(body.version)
    except ValueError:
        return None
    levels = levels_from_raw(body.asks[:], body.bids[:])
    if levels is None:
        return None
    # A snapshot's channel ends in its depth: spot@public.limit.depth.v3.api.pb@BTCUSDT@20
    symbol = _push_symbol(view, depth_suffix=snapshot)
    first = None if snapshot else version
    bids, asks = levels[1], levels[0]
    return OrderBookUpdate(_MEXC, symbol, bids, asks, snapshot, first, version, _push_time(view))


#: A body's builder on the real schema, and on the view (``None``: left to the real schema).
_PushBuilder = Callable[[PushDataV3ApiWrapper, LevelPool | None], Message | list[Message]]
_ViewBuilder = Callable[
    [PushDataV3ApiWrapperView, LevelPool | None], Message | list[Message] | None
]
_PUSH_BUILDERS: dict[str, _PushBuilder] = {
    "publicDeals": _push_deals,
    "publicAggreDeals": _push_aggre_deals,
    "publicAggreDepths": _push_aggre_depth,
    "publicIncreaseDepths": _push_increase_depth,
    "publicLimitDepths": _push_limit_depth,
    "publicAggreBookTicker": _push_book_ticker,
}
#: The view's builders: trades and tickers read the same fields as on the real schema.
#: (The keys in _PUSH_BUILDERS' order, which gives both dicts the same layout.)
_VIEW_BUILDERS: dict[str, _ViewBuilder] = {
    "publicDeals": _push_deals,
    "publicAggreDeals": _push_aggre_deals,
    "publicAggreDepths": _view_aggre_depth,
    "publicIncreaseDepths": _view_increase_depth,
    "publicLimitDepths": _view_limit_depth,
    "publicAggreBookTicker": _push_book_ticker,
}
