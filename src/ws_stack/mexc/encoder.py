"""Builders of MEXC spot v3 frames in wire format: protobuf pushes and JSON text frames.

The inverse of :mod:`ws_stack.mexc.decoder`, for tests, fixtures, the venue simulator and
benchmarks. Pure functions: values in, frame out; no clock, no I/O (times are arguments).

Numbers are accepted as strings (sent verbatim, so a test can send exactly what the venue
sends, or garbage) or as floats (written with the shortest text that round-trips, in
positional notation like the venue's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar

import msgspec

from ws_stack.messages import Side
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

if TYPE_CHECKING:
    from google.protobuf.internal.containers import RepeatedCompositeFieldContainer
    from google.protobuf.message import Message as ProtoMessage

    #: A depth body's level item (each body has a class of its own).
    _Item = TypeVar("_Item", bound=ProtoMessage)

__all__ = [
    "ChannelKind",
    "Deal",
    "LevelSpec",
    "Number",
    "channel",
    "encode_ack",
    "encode_book_ticker",
    "encode_deals",
    "encode_depth",
    "encode_error",
    "encode_increase_depth",
    "encode_legacy_book_ticker",
    "encode_legacy_deals",
    "encode_legacy_depth",
    "encode_limit_depth",
    "encode_pong",
    "format_number",
]

Number = str | float
#: One order-book level as sent: ``(price, quantity)``.
LevelSpec = tuple[Number, Number]
ChannelKind = Literal[
    "deals",
    "aggre.deals",
    "increase.depth",
    "aggre.depth",
    "limit.depth",
    "bookTicker",
    "aggre.bookTicker",
]


class Deal(NamedTuple):
    """One trade as MEXC sends it."""

    price: Number
    quantity: Number
    side: Side
    time_ms: int
    #: Real frames carry a trade-id string at item field 5 that MEXC's schema omits;
    #: when given, it is written there as an unknown field.
    trade_id: str | None = None


#: ``tradeType`` (protobuf) and ``S`` (JSON) codes.
_TRADE_TYPE = {Side.BUY: 1, Side.SELL: 2}
_encode_json = msgspec.json.Encoder().encode


def format_number(value: Number) -> str:
    """``value`` as wire text: strings verbatim, floats as their shortest exact form."""
    if isinstance(value, str):
        return value
    text = repr(float(value))
    if "e" in text:  # 1e-05 -> 0.00001: the venue never uses exponents
        text = format(Decimal(text), "f")
    return text


def channel(
    kind: ChannelKind,
    symbol: str,
    *,
    interval: str = "100ms",
    depth: int = 20,
    protobuf: bool = True,
) -> str:
    """The channel name MEXC uses for a stream.

    E.g. ``spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT``. ``interval`` applies to the
    ``aggre.*`` kinds, ``depth`` to ``limit.depth``;
    ``protobuf=False`` gives the legacy JSON channel name (no ``.pb``).
    """
    base = f"spot@public.{kind}.v3.api{'.pb' if protobuf else ''}"
    if kind.startswith("aggre."):
        return f"{base}@{interval}@{symbol}"
    if kind == "limit.depth":
        return f"{base}@{symbol}@{depth}"
    return f"{base}@{symbol}"


# -- protobuf pushes ---------------------------------------------------------------


def encode_deals(
    symbol: str,
    deals: Iterable[Deal],
    *,
    aggregated: bool = True,
    interval: str = "100ms",
    send_time_ms: int = 0,
) -> bytes:
    """A trades push: body 314 (``aggre.deals``) or, with ``aggregated=False``, 301."""
    kind: ChannelKind = "aggre.deals" if aggregated else "deals"
    wrapper = _wrapper(channel(kind, symbol, interval=interval), symbol, send_time_ms)
    body = wrapper.publicAggreDeals if aggregated else wrapper.publicDeals
    body.eventType = _event_type(kind, interval)
    for deal in deals:
        item = body.deals.add(
            price=format_number(deal.price),
            quantity=format_number(deal.quantity),
            tradeType=_TRADE_TYPE[deal.side],
            time=deal.time_ms,
        )
        if deal.trade_id is not None:
            item.MergeFromString(_string_field(5, deal.trade_id))
    return wrapper.SerializeToString()


def encode_depth(
    symbol: str,
    bids: Iterable[LevelSpec],
    asks: Iterable[LevelSpec],
    from_version: int | str,
    to_version: int | str,
    *,
    interval: str = "100ms",
    send_time_ms: int = 0,
) -> bytes:
    """An aggregated depth increment (body 313); a quantity of 0 removes the level."""
    kind: ChannelKind = "aggre.depth"
    wrapper = _wrapper(channel(kind, symbol, interval=interval), symbol, send_time_ms)
    body = wrapper.publicAggreDepths
    _add_levels(body.bids, bids)
    _add_levels(body.asks, asks)
    body.eventType = _event_type(kind, interval)
    body.fromVersion = str(from_version)
    body.toVersion = str(to_version)
    return wrapper.SerializeToString()


def encode_increase_depth(
    symbol: str,
    bids: Iterable[LevelSpec],
    asks: Iterable[LevelSpec],
    version: int | str,
    *,
    send_time_ms: int = 0,
) -> bytes:
    """A per-event depth increment (body 302, the older channel)."""
    kind: ChannelKind = "increase.depth"
    wrapper = _wrapper(channel(kind, symbol), symbol, send_time_ms)
    body = wrapper.publicIncreaseDepths
    _add_levels(body.bids, bids)
    _add_levels(body.asks, asks)
    body.eventType = _event_type(kind)
    body.version = str(version)
    return wrapper.SerializeToString()


def encode_limit_depth(
    symbol: str,
    bids: Iterable[LevelSpec],
    asks: Iterable[LevelSpec],
    version: int | str,
    *,
    depth: int = 20,
    send_time_ms: int = 0,
) -> bytes:
    """A top-``depth`` snapshot (body 303)."""
    kind: ChannelKind = "limit.depth"
    wrapper = _wrapper(channel(kind, symbol, depth=depth), symbol, send_time_ms)
    body = wrapper.publicLimitDepths
    _add_levels(body.bids, bids)
    _add_levels(body.asks, asks)
    body.eventType = _event_type(kind)
    body.version = str(version)
    return wrapper.SerializeToString()


def encode_book_ticker(
    symbol: str,
    bid_price: Number,
    bid_size: Number,
    ask_price: Number,
    ask_size: Number,
    *,
    interval: str = "100ms",
    send_time_ms: int = 0,
    version: str | None = None,
) -> bytes:
    """A best bid/ask push (body 315).

    ``version`` reproduces the string real frames carry at body field 5, which MEXC's
    schema omits (it is written as an unknown field).
    """
    kind: ChannelKind = "aggre.bookTicker"
    wrapper = _wrapper(channel(kind, symbol, interval=interval), symbol, send_time_ms)
    body = wrapper.publicAggreBookTicker
    body.bidPrice = format_number(bid_price)
    body.bidQuantity = format_number(bid_size)
    body.askPrice = format_number(ask_price)
    body.askQuantity = format_number(ask_size)
    if version is not None:
        body.MergeFromString(_string_field(5, version))
    return wrapper.SerializeToString()


def _wrapper(name: str, symbol: str, send_time_ms: int) -> PushDataV3ApiWrapper:
    return PushDataV3ApiWrapper(channel=name, symbol=symbol, sendTime=send_time_ms)


def _event_type(kind: ChannelKind, interval: str = "100ms") -> str:
    """The body's ``eventType``: the channel name without the symbol (and depth)."""
    base = f"spot@public.{kind}.v3.api.pb"
    return f"{base}@{interval}" if kind.startswith("aggre.") else base


def _add_levels(
    container: RepeatedCompositeFieldContainer[_Item], levels: Iterable[LevelSpec]
) -> None:
    for price, quantity in levels:
        container.add(price=format_number(price), quantity=format_number(quantity))


def _string_field(number: int, value: str) -> bytes:
    """A length-delimited field in raw wire format: how we write fields outside our schema."""
    data = value.encode()
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


# -- JSON text frames --------------------------------------------------------------


def encode_ack(channel_name: str, request_id: int = 0) -> str:
    """The venue's reply to a successful (un)subscription of ``channel_name``."""
    return _json({"id": request_id, "code": 0, "msg": channel_name})


def encode_pong(request_id: int = 0) -> str:
    """The venue's reply to ``{"method": "PING"}``."""
    return _json({"id": request_id, "code": 0, "msg": "PONG"})


def encode_error(code: int, msg: str, request_id: int = 0) -> str:
    """A control message reporting an error (non-zero ``code``)."""
    return _json({"id": request_id, "code": code, "msg": msg})


def encode_legacy_deals(symbol: str, deals: Iterable[Deal], *, time_ms: int = 0) -> str:
    """A legacy JSON trades push (``spot@public.deals.v3.api@<SYMBOL>``)."""
    kind: ChannelKind = "deals"
    data = {
        "deals": [
            {
                "S": _TRADE_TYPE[deal.side],
                "p": format_number(deal.price),
                "t": deal.time_ms,
                "v": format_number(deal.quantity),
            }
            for deal in deals
        ],
        "e": f"spot@public.{kind}.v3.api",
    }
    return _legacy(channel(kind, symbol, protobuf=False), data, symbol, time_ms)


def encode_legacy_depth(
    symbol: str,
    bids: Iterable[LevelSpec],
    asks: Iterable[LevelSpec],
    version: int | str,
    *,
    snapshot_depth: int | None = None,
    time_ms: int = 0,
) -> str:
    """A legacy JSON depth push: an increment, or a top-N snapshot if ``snapshot_depth``."""
    kind: ChannelKind = "increase.depth" if snapshot_depth is None else "limit.depth"
    name = channel(kind, symbol, depth=snapshot_depth or 20, protobuf=False)
    data = {
        "asks": [{"p": format_number(p), "v": format_number(v)} for p, v in asks],
        "bids": [{"p": format_number(p), "v": format_number(v)} for p, v in bids],
        "e": f"spot@public.{kind}.v3.api",
        "r": str(version),
    }
    return _legacy(name, data, symbol, time_ms)


def encode_legacy_book_ticker(
    symbol: str,
    bid_price: Number,
    bid_size: Number,
    ask_price: Number,
    ask_size: Number,
    *,
    time_ms: int = 0,
) -> str:
    """A legacy JSON best bid/ask push (``spot@public.bookTicker.v3.api@<SYMBOL>``)."""
    data = {
        "A": format_number(ask_size),
        "B": format_number(bid_size),
        "a": format_number(ask_price),
        "b": format_number(bid_price),
    }
    return _legacy(channel("bookTicker", symbol, protobuf=False), data, symbol, time_ms)


def _legacy(name: str, data: Mapping[str, object], symbol: str, time_ms: int) -> str:
    return _json({"c": name, "d": data, "s": symbol, "t": time_ms})


def _json(value: object) -> str:
    return _encode_json(value).decode()
