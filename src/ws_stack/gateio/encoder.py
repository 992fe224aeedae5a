"""Gate.io spot v4 frame builders, for tests, the venue simulator and benchmarks.

Every builder returns ``str``: Gate speaks text frames only, ``websockets`` sends a
``str`` as a text frame, and receives Gate's frames as ``str``. The output matches the
live wire format: compact JSON, keys in Gate's order, prices, sizes and the depth level
``l`` as strings, ids and times as numbers.

Numbers may be given as ``str`` (sent verbatim, so tests can inject malformed values),
``int``, ``Decimal`` or ``float`` (written in plain decimal notation with the shortest
digits that round-trip, so ``float(text) == value``). Builders are pure: every time is
an argument.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal

import msgspec

from ws_stack.gateio.channels import (
    BOOK_TICKER,
    EVENT_SUBSCRIBE,
    EVENT_UNSUBSCRIBE,
    EVENT_UPDATE,
    OBU,
    ORDER_BOOK,
    ORDER_BOOK_UPDATE,
    PING,
    PONG,
    TRADES,
)
from ws_stack.messages import Level, Side

__all__ = [
    "LevelLike",
    "Number",
    "encode_ack",
    "encode_book_ticker",
    "encode_error",
    "encode_obu",
    "encode_order_book",
    "encode_order_book_update",
    "encode_ping",
    "encode_pong",
    "encode_subscribe_request",
    "encode_trade",
    "format_number",
]

Number = str | int | float | Decimal
#: A level as a ``(price, size)`` pair or a :class:`~ws_stack.messages.Level`.
LevelLike = Sequence[Number] | Level

_encode = msgspec.json.Encoder().encode


def format_number(value: Number) -> str:
    """``value`` as Gate writes numbers in strings: plain decimal, no exponent."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError(f"not a number: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))  # "0", not "0.0": Gate's delete size
        # repr is the shortest round-tripping form; Decimal drops the exponent.
        value = Decimal(repr(value))
    return format(value, "f")


def _levels(levels: Iterable[LevelLike]) -> list[list[str]]:
    out = []
    price: Number
    size: Number
    for level in levels:
        if isinstance(level, Level):
            price, size = level.price, level.size
        else:
            price, size = level
        out.append([format_number(price), format_number(size)])
    return out


def _push(channel: str, result: dict[str, object], push_time_ms: int) -> str:
    return _encode(
        {
            "time": push_time_ms // 1000,
            "time_ms": push_time_ms,
            "channel": channel,
            "event": EVENT_UPDATE,
            "result": result,
        }
    ).decode()


def encode_trade(
    symbol: str,
    price: Number,
    amount: Number,
    side: Side | str,
    create_time_ms: Number,
    trade_id: int,
    *,
    id_market: int | None = None,
    push_time_ms: int | None = None,
) -> str:
    """A ``spot.trades`` update. ``create_time_ms`` may carry sub-ms digits ("...213.4578").

    ``id_market`` (the per-market trade id, also used for ``range``) defaults to
    ``trade_id``; ``push_time_ms`` (the envelope time) defaults to the trade time.
    """
    time_ms_text = format_number(create_time_ms)
    event_ms = int(Decimal(time_ms_text))
    market_id = trade_id if id_market is None else id_market
    result = {
        "id": trade_id,
        "create_time": event_ms // 1000,
        "create_time_ms": time_ms_text,
        "side": side.value if isinstance(side, Side) else side,
        "currency_pair": symbol,
        "amount": format_number(amount),
        "price": format_number(price),
        "range": f"{market_id}-{market_id}",
        "id_market": market_id,
    }
    return _push(TRADES, result, event_ms if push_time_ms is None else push_time_ms)


def encode_book_ticker(
    symbol: str,
    bid_price: Number,
    bid_size: Number,
    ask_price: Number,
    ask_size: Number,
    update_id: int,
    time_ms: int,
    *,
    push_time_ms: int | None = None,
) -> str:
    """A ``spot.book_ticker`` update (``t`` = ``time_ms``, ``u`` = ``update_id``)."""
    result = {
        "t": time_ms,
        "u": update_id,
        "s": symbol,
        "b": format_number(bid_price),
        "B": format_number(bid_size),
        "a": format_number(ask_price),
        "A": format_number(ask_size),
    }
    return _push(BOOK_TICKER, result, time_ms if push_time_ms is None else push_time_ms)


def encode_order_book_update(
    symbol: str,
    bids: Iterable[LevelLike],
    asks: Iterable[LevelLike],
    first_id: int,
    last_id: int,
    time_ms: int,
    full: bool = False,
    *,
    depth: int | str | None = None,
    push_time_ms: int | None = None,
) -> str:
    """A ``spot.order_book_update`` diff (``U`` = ``first_id``, ``u`` = ``last_id``).

    ``full=True`` adds ``"full": true`` (a whole-book frame; Gate omits the key otherwise);
    ``depth`` adds the ``l`` key (e.g. ``"100"``).
    """
    result: dict[str, object] = {"t": time_ms}
    if full:
        result["full"] = True
    if depth is not None:
        result["l"] = str(depth)
    result.update(
        {
            "e": "depthUpdate",
            "E": time_ms // 1000,
            "s": symbol,
            "U": first_id,
            "u": last_id,
            "b": _levels(bids),
            "a": _levels(asks),
        }
    )
    return _push(ORDER_BOOK_UPDATE, result, time_ms if push_time_ms is None else push_time_ms)


def encode_obu(
    symbol: str,
    depth: int,
    bids: Iterable[LevelLike],
    asks: Iterable[LevelLike],
    last_id: int,
    time_ms: int,
    *,
    first_id: int | None = None,
    full: bool = False,
    push_time_ms: int | None = None,
) -> str:
    """A ``spot.obu`` (order book v2) push of the stream ``ob.{symbol}.{depth}``.

    ``full=True`` is a whole book (``"full": true``, ``u`` = ``last_id``, no ``U``);
    otherwise an incremental push from ``first_id`` to ``last_id``.
    """
    result: dict[str, object] = {"t": time_ms}
    if full:
        result["full"] = True
    result["s"] = f"ob.{symbol}.{depth}"
    if first_id is not None:
        result["U"] = first_id
    result["u"] = last_id
    result["b"] = _levels(bids)
    result["a"] = _levels(asks)
    return _push(OBU, result, time_ms if push_time_ms is None else push_time_ms)


def encode_order_book(
    symbol: str,
    bids: Iterable[LevelLike],
    asks: Iterable[LevelLike],
    last_update_id: int,
    time_ms: int,
    *,
    depth: int | str | None = None,
    push_time_ms: int | None = None,
) -> str:
    """A ``spot.order_book`` top-N snapshot; ``depth`` adds the ``l`` key (e.g. ``"20"``)."""
    result: dict[str, object] = {"t": time_ms, "lastUpdateId": last_update_id, "s": symbol}
    if depth is not None:
        result["l"] = str(depth)
    result["bids"] = _levels(bids)
    result["asks"] = _levels(asks)
    return _push(ORDER_BOOK, result, time_ms if push_time_ms is None else push_time_ms)


def encode_subscribe_request(
    channel: str,
    payload: Sequence[str],
    time_s: int,
    request_id: int | None = None,
    *,
    unsubscribe: bool = False,
) -> str:
    """The client's subscribe (or ``unsubscribe``) request; ``id`` only when given."""
    request: dict[str, object] = {"time": time_s}
    if request_id is not None:
        request["id"] = request_id
    request["channel"] = channel
    request["event"] = EVENT_UNSUBSCRIBE if unsubscribe else EVENT_SUBSCRIBE
    request["payload"] = list(payload)
    return _encode(request).decode()


def encode_ack(
    channel: str,
    event: str,
    request_id: int | None = None,
    *,
    time_ms: int,
    payload: Sequence[str] | None = None,
    conn_id: str | None = None,
    trace_id: str | None = None,
) -> str:
    """The server's success answer to a subscribe/unsubscribe request.

    Live servers add ``conn_id``, ``trace_id``, the echoed ``payload`` and ``requestId``
    (equal to ``trace_id``); each appears only when given.
    """
    answer = _answer_head(channel, event, request_id, time_ms, conn_id, trace_id, payload)
    answer["error"] = None
    answer["result"] = {"status": "success"}
    if trace_id is not None:
        answer["requestId"] = trace_id
    return _encode(answer).decode()


def encode_error(
    channel: str,
    event: str,
    code: int,
    message: str,
    request_id: int | None = None,
    *,
    time_ms: int,
) -> str:
    """The server's refusal of a request: ``error`` object and ``"status": "fail"``."""
    answer = _answer_head(channel, event, request_id, time_ms, None, None, None)
    answer["error"] = {"code": code, "message": message}
    answer["result"] = {"status": "fail"}
    return _encode(answer).decode()


def _answer_head(
    channel: str,
    event: str,
    request_id: int | None,
    time_ms: int,
    conn_id: str | None,
    trace_id: str | None,
    payload: Sequence[str] | None,
) -> dict[str, object]:
    answer: dict[str, object] = {"time": time_ms // 1000, "time_ms": time_ms}
    if request_id is not None:
        answer["id"] = request_id
    if conn_id is not None:
        answer["conn_id"] = conn_id
    if trace_id is not None:
        answer["trace_id"] = trace_id
    answer["channel"] = channel
    answer["event"] = event
    if payload is not None:
        answer["payload"] = list(payload)
    return answer


def encode_ping(time_s: int, request_id: int | None = None) -> str:
    """The client's application-level ``spot.ping``."""
    ping: dict[str, object] = {"time": time_s}
    if request_id is not None:
        ping["id"] = request_id
    ping["channel"] = PING
    return _encode(ping).decode()


def encode_pong(time_ms: int, request_id: int | None = None) -> str:
    """The server's ``spot.pong`` answer (``event`` empty, ``result`` null)."""
    pong: dict[str, object] = {"time": time_ms // 1000, "time_ms": time_ms}
    if request_id is not None:
        pong["id"] = request_id
    pong.update({"channel": PONG, "event": "", "error": None, "result": None})
    return _encode(pong).decode()
