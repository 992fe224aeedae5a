"""Frames as the venues send them, for the benchmarks to parse, handle and replay.

The frames are built here from the venues' documented wire formats (JSON by hand, MEXC
protobuf with the generated ``_pb2`` modules), not with ``ws_stack``'s encoders: a change
to an encoder must not shift the history of the parsers.
"""

from __future__ import annotations

import json
from typing import Any

from .asv_support import require
from .common import GATEIO_SYMBOL, HANDLER_DEPTH, MEXC_SYMBOL

#: The venue's timestamp in every frame, in milliseconds.
TIME_MS = 1_700_000_000_123


def ladder(levels: int, start: float, step: float) -> list[tuple[float, float]]:
    """``levels`` (price, size) pairs from ``start`` moving by ``step``."""
    return [(round(start + i * step, 2), round(1.0 + (i % 7) * 0.25, 2)) for i in range(levels)]


def check_combination(venue: str, fmt: str) -> None:
    """Gate.io speaks JSON only: its protobuf combination is n/a, not a failure."""
    if venue == "gateio" and fmt != "json":
        raise NotImplementedError("Gate.io has no protobuf format")


def _text(value: float) -> str:
    return repr(float(value))


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"))


def _sides(depth: int) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    return ladder(depth, 49_999.5, -0.5), ladder(depth, 50_000.0, 0.5)


# -- Gate.io spot v4 (text frames) ------------------------------------------------------


def _gateio_push(channel: str, result: dict[str, Any]) -> str:
    # Key order as the venue sends it: type detection looks for the channel up front.
    return _json(
        {
            "time": TIME_MS // 1000,
            "time_ms": TIME_MS,
            "channel": channel,
            "event": "update",
            "result": result,
        }
    )


def gateio_delta_frame(
    bids: list[tuple[float, float]], asks: list[tuple[float, float]], seq: int = 1
) -> str:
    """A Gate.io ``spot.order_book_update`` frame with exactly these levels."""
    return _gateio_push(
        "spot.order_book_update",
        {
            "t": TIME_MS,
            "e": "depthUpdate",
            "E": TIME_MS // 1000,
            "s": GATEIO_SYMBOL,
            "U": seq,
            "u": seq,
            "b": [[_text(p), _text(s)] for p, s in bids],
            "a": [[_text(p), _text(s)] for p, s in asks],
        },
    )


def gateio_obu_frame(push: str, seq: int = 1) -> str:
    """A Gate.io ``spot.obu`` push: ``full_<n>`` is a whole book of ``n`` levels a side
    (stream ``ob.BTC_USDT.<n>``), ``delta_<n>`` an incremental push of ``n`` levels a side
    (``U`` = ``u`` = ``seq``, stream ``ob.BTC_USDT.50``)."""
    kind, _, count = push.partition("_")
    levels = int(count)
    if kind == "full":
        bids, asks = ladder(levels, 50_000.0, -0.5), ladder(levels, 50_000.5, 0.5)
        result: dict[str, Any] = {"t": TIME_MS, "full": True, "s": f"ob.{GATEIO_SYMBOL}.{levels}"}
    else:
        bids, asks = ladder(levels, 49_990.0, -0.5), ladder(levels, 50_010.5, 0.5)
        result = {"t": TIME_MS, "s": f"ob.{GATEIO_SYMBOL}.50", "U": seq}
    result["u"] = seq
    result["b"] = [[_text(p), _text(s)] for p, s in bids]
    result["a"] = [[_text(p), _text(s)] for p, s in asks]
    return _gateio_push("spot.obu", result)


def gateio_frame(channel: str, depth: int = HANDLER_DEPTH, seq: int = 1) -> str:
    """A Gate.io frame: trade, book_ticker, order_book (a delta), snapshot or pong."""
    bids, asks = _sides(depth)
    if channel == "trade":
        return _gateio_push(
            "spot.trades",
            {
                "id": seq,
                "create_time": TIME_MS // 1000,
                "create_time_ms": f"{TIME_MS}.123",
                "side": "buy",
                "currency_pair": GATEIO_SYMBOL,
                "amount": "0.25",
                "price": "50000.5",
                "range": f"{seq}-{seq}",
            },
        )
    if channel == "book_ticker":
        return _gateio_push(
            "spot.book_ticker",
            {"t": TIME_MS, "u": seq, "s": GATEIO_SYMBOL, "b": "49999.5", "B": "1.5",
             "a": "50000", "A": "0.75"},
        )  # fmt: skip
    if channel == "order_book":
        return gateio_delta_frame(bids, asks, seq)
    if channel == "snapshot":
        return _gateio_push(
            "spot.order_book",
            {
                "t": TIME_MS,
                "lastUpdateId": seq,
                "s": GATEIO_SYMBOL,
                "bids": [[_text(p), _text(s)] for p, s in bids],
                "asks": [[_text(p), _text(s)] for p, s in asks],
            },
        )
    if channel == "pong":
        return _json(
            {"time": TIME_MS // 1000, "time_ms": TIME_MS, "channel": "spot.pong",
             "event": "", "result": None},
        )  # fmt: skip
    raise ValueError(f"no Gate.io {channel} frame")


# -- MEXC spot v3: protobuf pushes and legacy JSON pushes -------------------------------


def _mexc_wrapper(channel: str) -> Any:
    proto = require("ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2", "PushDataV3ApiWrapper")
    return proto.PushDataV3ApiWrapper(channel=channel, symbol=MEXC_SYMBOL, sendTime=TIME_MS)


def _mexc_protobuf(channel: str, depth: int, seq: int) -> bytes:
    bids, asks = _sides(depth)
    if channel == "trade":
        wrapper = _mexc_wrapper(f"spot@public.aggre.deals.v3.api.pb@100ms@{MEXC_SYMBOL}")
        body = wrapper.publicAggreDeals
        body.eventType = "spot@public.aggre.deals.v3.api.pb@100ms"
        body.deals.add(price="50000.5", quantity="0.25", tradeType=1, time=TIME_MS)
    elif channel == "book_ticker":
        wrapper = _mexc_wrapper(f"spot@public.aggre.bookTicker.v3.api.pb@100ms@{MEXC_SYMBOL}")
        body = wrapper.publicAggreBookTicker
        body.bidPrice, body.bidQuantity = "49999.5", "1.5"
        body.askPrice, body.askQuantity = "50000", "0.75"
    elif channel in ("order_book", "snapshot"):
        if channel == "order_book":
            wrapper = _mexc_wrapper(f"spot@public.aggre.depth.v3.api.pb@100ms@{MEXC_SYMBOL}")
            body = wrapper.publicAggreDepths
            body.eventType = "spot@public.aggre.depth.v3.api.pb@100ms"
            body.fromVersion, body.toVersion = str(seq), str(seq)
        else:
            wrapper = _mexc_wrapper(f"spot@public.limit.depth.v3.api.pb@{MEXC_SYMBOL}@{depth}")
            body = wrapper.publicLimitDepths
            body.eventType = "spot@public.limit.depth.v3.api.pb"
            body.version = str(seq)
        for price, size in bids:
            body.bids.add(price=_text(price), quantity=_text(size))
        for price, size in asks:
            body.asks.add(price=_text(price), quantity=_text(size))
    else:
        raise ValueError(f"no MEXC protobuf {channel} frame")
    data: bytes = wrapper.SerializeToString()
    return data


def _mexc_legacy(channel: str, depth: int, seq: int) -> str:
    bids, asks = _sides(depth)
    if channel == "trade":
        name = f"spot@public.deals.v3.api@{MEXC_SYMBOL}"
        data: dict[str, Any] = {
            "deals": [{"S": 1, "p": "50000.5", "t": TIME_MS, "v": "0.25"}],
            "e": "spot@public.deals.v3.api",
        }
    elif channel == "book_ticker":
        name = f"spot@public.bookTicker.v3.api@{MEXC_SYMBOL}"
        data = {"A": "0.75", "B": "1.5", "a": "50000", "b": "49999.5"}
    elif channel in ("order_book", "snapshot"):
        kind = "increase.depth" if channel == "order_book" else "limit.depth"
        suffix = "" if channel == "order_book" else f"@{depth}"
        name = f"spot@public.{kind}.v3.api@{MEXC_SYMBOL}{suffix}"
        data = {
            "asks": [{"p": _text(p), "v": _text(s)} for p, s in asks],
            "bids": [{"p": _text(p), "v": _text(s)} for p, s in bids],
            "e": f"spot@public.{kind}.v3.api",
            "r": str(seq),
        }
    else:
        raise ValueError(f"no MEXC legacy JSON {channel} frame")
    return _json({"c": name, "d": data, "s": MEXC_SYMBOL, "t": TIME_MS})


def mexc_frame(fmt: str, channel: str, depth: int = HANDLER_DEPTH, seq: int = 1) -> bytes | str:
    """A MEXC frame: protobuf push (bytes), legacy JSON push or pong (text)."""
    if channel == "pong":
        return _json({"id": 0, "code": 0, "msg": "PONG"})
    if fmt == "protobuf":
        return _mexc_protobuf(channel, depth, seq)
    return _mexc_legacy(channel, depth, seq)


def frame(venue: str, fmt: str, channel: str, depth: int = HANDLER_DEPTH, seq: int = 1) -> Any:
    """The frame of ``venue`` in format ``fmt`` for ``channel`` (see the two builders)."""
    check_combination(venue, fmt)
    if venue == "mexc":
        return mexc_frame(fmt, channel, depth, seq)
    return gateio_frame(channel, depth, seq)
