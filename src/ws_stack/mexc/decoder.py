"""Decoding of MEXC spot v3 frames into ws_stack's typed messages.

Pure functions, bytes/str in, :mod:`ws_stack.messages` structs out, no I/O. Three frame
formats share one socket:

* binary protobuf pushes (``PushDataV3ApiWrapper``): :func:`parse_push`;
* legacy JSON pushes (``{"c": <channel>, "d": {...}}``): :func:`parse_legacy`;
* JSON control messages (``{"id": 0, "code": 0, "msg": ...}``): :func:`parse_control`.

:func:`detect_type` classifies a frame from its first bytes without decoding it. Every
failure is a :class:`~ws_stack.exceptions.FrameError` with a specific reason; prices and
sizes are checked against the bounds of :mod:`ws_stack.messages` before they leave here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from operator import attrgetter
from struct import Struct
from typing import Literal, Protocol, TypeVar

import msgspec
from google.protobuf.message import DecodeError

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.messages import (
    BookTicker,
    Level,
    Message,
    OrderBookUpdate,
    Pong,
    Price,
    Side,
    Size,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
    WebSocketMessageType,
    check_price,
    check_size,
)
from ws_stack.mexc.proto.PushDataV3ApiView_pb2 import (
    PublicAggreDepthsV3ApiView,
    PublicIncreaseDepthsV3ApiView,
    PublicLimitDepthsV3ApiView,
    PushDataV3ApiWrapperView,
)
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ws_stack.pool import LevelPool

__all__ = ["detect_type", "is_json_frame", "parse_control", "parse_legacy", "parse_push"]

_MEXC = Venue.MEXC
_R = FrameErrorReason
_T = WebSocketMessageType

# -- type detection ----------------------------------------------------------------

#: Channel kind (the text between ``spot@public.`` and ``.v3.api``) -> message type.
#: Keyed by both ``str`` and ``bytes`` so text and binary frames share one lookup.
_KIND_TYPES: dict[str, WebSocketMessageType] = {
    "deals": _T.TRADE,
    "aggre.deals": _T.TRADE,
    "increase.depth": _T.ORDER_BOOK,
    "aggre.depth": _T.ORDER_BOOK,
    "limit.depth": _T.ORDER_BOOK,
    "bookTicker": _T.BOOK_TICKER,
    "aggre.bookTicker": _T.BOOK_TICKER,
}
_TYPE_BY_KIND: dict[str | bytes, WebSocketMessageType] = {
    **_KIND_TYPES,
    **{kind.encode(): msg_type for kind, msg_type in _KIND_TYPES.items()},
}
_PUBLIC = "spot@public."
_PUBLIC_B = _PUBLIC.encode()
_KIND_START = len(_PUBLIC)
_KIND_END = ".v3.api"
_KIND_END_B = _KIND_END.encode()
#: How far past the kind's start ``.v3.api`` may end: the longest kind plus the marker.
_KIND_SPAN = max(map(len, _KIND_TYPES)) + len(_KIND_END)
#: A legacy push as MEXC writes it: the channel is the first key.
_LEGACY_HEAD = '{"c":"' + _PUBLIC
_LEGACY_HEAD_B = _LEGACY_HEAD.encode()
_LEGACY_KIND = len(_LEGACY_HEAD)
_CHANNEL_FIELD = 0x0A  # wrapper field 1 (channel), wire type 2: how every push starts
_OPEN_BRACE = 0x7B
_JSON_SPACE = b" \t\r\n"
#: MEXC refuses a subscription with code 0 and this text (observed, not documented).
_REFUSED = "Not Subscribed successfully"

#: The fast path of detect_type for binary pushes: the head of each push seen so far on a
#: public channel of a known kind (field tag, one-byte length and channel, exactly as on
#: the wire) -> its message type. A subscription's pushes all carry the same channel, so
#: after its first frame (read by _wire_kind) classifying one is a slice and a dict lookup.
#: A head holds its own length byte: a frame cut inside its channel slices shorter than
#: that length says, so it never matches a head (nor the head of a shorter channel, whose
#: length byte differs). Bounded: past the limit, new channels are read every time.
_KNOWN_HEADS: dict[bytes, WebSocketMessageType] = {}
_KNOWN_HEADS_LIMIT = 4096
#: The same for a legacy JSON push as MEXC writes it (text, the channel first): its first
#: _LEGACY_HEAD_SPAN characters -> the message type. Reading the channel's kind looks no
#: further (it must end with ".v3.api" within them), so they decide it alone.
_LEGACY_HEAD_SPAN = _LEGACY_KIND + _KIND_SPAN
_KNOWN_LEGACY_HEADS: dict[str, WebSocketMessageType] = {}

#: Wrapper body (oneof member) -> message type, for frames whose channel is unusable.
_TYPE_BY_BODY: dict[str, WebSocketMessageType] = {
    "publicDeals": _T.TRADE,
    "publicAggreDeals": _T.TRADE,
    "publicIncreaseDepths": _T.ORDER_BOOK,
    "publicAggreDepths": _T.ORDER_BOOK,
    "publicLimitDepths": _T.ORDER_BOOK,
    "publicAggreBookTicker": _T.BOOK_TICKER,
}


#: What msgspec raises on JSON it cannot parse, besides ValidationError: DecodeError;
#: UnicodeError for bad UTF-8 inside a string (not msgspec's own error); RecursionError
#: for nesting deeper than it recurses (a hostile ``[[[[...`` frame, anywhere in it).
_JSON_ERRORS = (msgspec.DecodeError, UnicodeError, RecursionError)


class _Probe(msgspec.Struct, gc=False):
    """The keys that tell JSON frames apart; everything else is skipped unread."""

    c: str | None = None
    code: int | None = None
    msg: str | None = None


_decode_probe = msgspec.json.Decoder(_Probe).decode


def detect_type(frame: bytes | str) -> WebSocketMessageType:
    """Classify a raw frame from its channel marker, without decoding it.

    A binary push names its channel in its first field, a legacy JSON push as its first
    key: the first push of a channel is read there, and the channel's later pushes are
    known by one slice and one dict lookup. Frames that do not look as expected (fields in
    another order, JSON with whitespace or keys in another order) take a slower path that
    decodes just enough to decide, rather than being misclassified.
    """
    if type(frame) is bytes:
        # A push on a channel seen before: its head names the type (see _KNOWN_HEADS).
        try:
            msg_type = _KNOWN_HEADS.get(frame[: 2 + frame[1]])
        except IndexError:  # under two bytes
            msg_type = None
        if msg_type is not None:
            return msg_type
    elif type(frame) is str:
        # The same for a legacy push (see _KNOWN_LEGACY_HEADS).
        msg_type = _KNOWN_LEGACY_HEADS.get(frame[:_LEGACY_HEAD_SPAN])
        if msg_type is not None:
            return msg_type
    if not frame:
        raise FrameError(_R.EMPTY_FRAME, "empty frame", frame, _MEXC)
    if isinstance(frame, str):
        return _detect_json(frame)
    first = frame[0]
    if first == _CHANNEL_FIELD:
        kind = _wire_kind(frame)
        if kind is not None:
            msg_type = _type_of_kind(kind, frame)
            length = frame[1]
            if length < 0x80:  # a one-byte length: the head is tag, length and channel
                _remember(_KNOWN_HEADS, frame[: 2 + length], msg_type)
            return msg_type
    elif first == _OPEN_BRACE:
        return _detect_json(frame)
    if first in _JSON_SPACE and frame.lstrip()[:1] == b"{":
        return _detect_json(frame)
    return _detect_binary_slow(frame)


def is_json_frame(frame: bytes | str) -> bool:
    """Whether a non-empty frame is JSON text (a control message or legacy push)."""
    if isinstance(frame, str):
        return True
    first = frame[0]
    if first == _OPEN_BRACE:
        return True
    return (
        first in _JSON_SPACE
        and _wire_kind(frame) is None  # a push whose channel length byte is "{" (123)
        and frame.lstrip()[:1] == b"{"
    )


def _wire_kind(frame: bytes) -> bytes | None:
    """The channel kind of a push that starts with its ``spot@`` channel, else ``None``.

    Returns ``b""`` for a ``spot@`` channel that is not a public ``.v3.api`` one.
    """
    size = len(frame)
    if size < 3:
        return None
    length = frame[1]
    start = 2
    if length & 0x80:  # two-byte varint: a channel of 128..16383 bytes
        length = (length & 0x7F) | (frame[2] << 7)
        start = 3
        if length & 0x4000:
            return None
    end = start + length
    if end > size or not frame.startswith(b"spot@", start):
        return None
    if not frame.startswith(_PUBLIC_B, start):
        return b""
    kind_start = start + _KIND_START
    kind_end = frame.find(_KIND_END_B, kind_start, min(end, kind_start + _KIND_SPAN))
    return frame[kind_start:kind_end] if kind_end >= 0 else b""


_Head = TypeVar("_Head", bytes, str)


def _remember(
    heads: dict[_Head, WebSocketMessageType], head: _Head, msg_type: WebSocketMessageType
) -> None:
    """Remember the type of a push's head: at most _KNOWN_HEADS_LIMIT heads per table."""
    if len(heads) < _KNOWN_HEADS_LIMIT:
        heads[head] = msg_type


def _type_of_kind(kind: str | bytes, frame: bytes | str) -> WebSocketMessageType:
    msg_type = _TYPE_BY_KIND.get(kind)
    if msg_type is None:
        raise _unknown_channel(kind, frame)
    return msg_type


def _unknown_channel(kind: str | bytes, frame: bytes | str) -> FrameError:
    if isinstance(kind, bytes):
        kind = kind.decode("utf-8", "replace")
    detail = f"unknown channel kind {kind!r}" if kind else "not a public spot v3 channel"
    return FrameError(_R.UNKNOWN_CHANNEL, detail, frame, _MEXC)


def _channel_kind(name: str) -> str:
    """The kind of a channel name (``""`` if it is not a public ``.v3.api`` channel)."""
    if not name.startswith(_PUBLIC):
        return ""
    end = name.find(_KIND_END, _KIND_START)
    return name[_KIND_START:end] if end >= 0 else ""


def _legacy_head_kind(frame: bytes | str) -> str | bytes | None:
    """The kind of a legacy push written with its channel first, else ``None``."""
    if isinstance(frame, str):
        if not frame.startswith(_LEGACY_HEAD):
            return None
        end = frame.find(_KIND_END, _LEGACY_KIND, _LEGACY_KIND + _KIND_SPAN)
    else:
        if not frame.startswith(_LEGACY_HEAD_B):
            return None
        end = frame.find(_KIND_END_B, _LEGACY_KIND, _LEGACY_KIND + _KIND_SPAN)
    return frame[_LEGACY_KIND:end] if end >= 0 else ""


def _detect_json(frame: bytes | str) -> WebSocketMessageType:
    kind = _legacy_head_kind(frame)
    if kind is not None:
        msg_type = _type_of_kind(kind, frame)
        if isinstance(frame, str):
            _remember(_KNOWN_LEGACY_HEADS, frame[:_LEGACY_HEAD_SPAN], msg_type)
        return msg_type
    probe = _probe(frame)
    if probe.c is not None:
        return _type_of_kind(_channel_kind(probe.c), frame)
    if probe.code is not None:
        return _control_type(probe.code, probe.msg or "")
    raise FrameError(_R.UNKNOWN_MESSAGE, "JSON frame with neither 'c' nor 'code'", frame, _MEXC)


def _probe(frame: bytes | str) -> _Probe:
    try:
        return _decode_probe(frame)
    except msgspec.ValidationError as exc:
        if frame.lstrip()[:1] not in ("{", b"{"):  # valid JSON, but an array, a string...
            raise FrameError(_R.UNKNOWN_MESSAGE, "not a JSON object", frame, _MEXC) from None
        raise FrameError(_R.INVALID_FIELD, str(exc), frame, _MEXC) from None
    except _JSON_ERRORS as exc:
        raise FrameError(_R.MALFORMED_JSON, str(exc), frame, _MEXC) from None


def _control_type(code: int, msg: str) -> WebSocketMessageType:
    if code != 0 or msg.startswith(_REFUSED):
        return _T.ERROR
    return _T.PONG if msg == "PONG" else _T.SUBSCRIPTION


def _detect_binary_slow(frame: bytes) -> WebSocketMessageType:
    wrapper = _parse_wrapper(frame)
    if wrapper.channel:
        return _type_of_kind(_channel_kind(wrapper.channel), frame)
    body = wrapper.WhichOneof("body")
    if body is not None:
        return _TYPE_BY_BODY[body]
    raise FrameError(
        _R.MALFORMED_PROTOBUF, "binary frame is not a push (no channel, no body)", frame, _MEXC
    )


# -- protobuf pushes ---------------------------------------------------------------

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


def _parse_wrapper(frame: bytes) -> PushDataV3ApiWrapper:
    wrapper = PushDataV3ApiWrapper()
    try:
        wrapper.ParseFromString(frame)
    except DecodeError as exc:
        raise FrameError(_R.MALFORMED_PROTOBUF, str(exc), frame, _MEXC) from None
    return wrapper


def parse_push(frame: bytes, pool: LevelPool | None = None) -> Message | list[Message]:
    """Decode a binary push: trades (a list), an order-book update or a book ticker.

    With ``pool``, order-book levels are taken from it (the handler gives them back).
    Fields outside our schema (MEXC adds some) are ignored.

    The frame is read through a wire-compatible view of the wrapper first
    (``PushDataV3ApiView.proto``), which hands each order-book side over as raw level
    encodings; :func:`_levels_from_raw` converts those it can prove canonical in one C
    call. Everything else (a level it cannot prove, a pool, a frame the view cannot
    read) is decoded with the real schema, which also names the error.
    """
    if pool is not None:  # pooled levels are refilled on the real schema's path
        return _parse_push_schema(frame, pool)
    view = PushDataV3ApiWrapperView()
    try:
        view.ParseFromString(frame)
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
        raise FrameError(_R.UNKNOWN_MESSAGE, "push without a body ws_stack decodes", frame, _MEXC)
    return _build(build, wrapper, pool, frame)  # type: ignore[return-value]  # never None


def _build(
    build: _PushBuilder, wrapper: _Wrapper, pool: LevelPool | None, frame: bytes
) -> Message | list[Message] | None:
    try:
        return build(wrapper, pool)
    except ValueError as exc:  # float()/int() of a bad string, or a bound check
        detail = str(exc)
        if len(detail) > _DETAIL_CHARS:  # float() quotes the whole (maybe hostile) string
            detail = detail[:_DETAIL_CHARS] + "..."
        raise FrameError(_R.INVALID_FIELD, detail, frame, _MEXC) from None


def _push_symbol(wrapper: PushDataV3ApiWrapper, depth_suffix: bool = False) -> str:
    """``symbol``, or the channel's symbol segment when a frame leaves it out."""
    return wrapper.symbol or _channel_symbol(wrapper.channel, depth_suffix)


def _channel_symbol(channel: str, depth_suffix: bool = False) -> str:
    if depth_suffix:  # spot@public.limit.depth.v3.api.pb@BTCUSDT@20
        channel = channel.rpartition("@")[0]
    symbol = channel.rpartition("@")[2] if "@" in channel else ""
    if not symbol:
        raise ValueError("the push names no symbol")
    return symbol


def _push_time(wrapper: PushDataV3ApiWrapper) -> int | None:
    return wrapper.sendTime or wrapper.createTime or None


def _trades(wrapper: PushDataV3ApiWrapper, deals: Sequence[_DealItem]) -> list[Message]:
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


def _push_aggre_deals(wrapper: PushDataV3ApiWrapper, pool: LevelPool | None) -> list[Message]:
    return _trades(wrapper, wrapper.publicAggreDeals.deals)


def _push_deals(wrapper: PushDataV3ApiWrapper, pool: LevelPool | None) -> list[Message]:
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


def _checked_numbers(texts: tuple[list[str], ...]) -> list[list[float]]:
    """The slow path of :func:`_book`: ``float()`` and a bound check per string."""
    bid_prices, bid_sizes, ask_prices, ask_sizes = texts
    return [
        [check_price(float(text)) for text in bid_prices],
        [check_size(float(text)) for text in bid_sizes],
        [check_price(float(text)) for text in ask_prices],
        [check_size(float(text)) for text in ask_sizes],
    ]


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


def _push_book_ticker(wrapper: PushDataV3ApiWrapper, pool: LevelPool | None) -> Message:
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


# -- order-book levels straight from their wire bytes -------------------------------
#
# The view (PushDataV3ApiView.proto) gives each side as a list of raw level encodings;
# _levels_from_raw turns canonical ones into Levels with one msgspec call instead of
# three Python objects per level. The trick: a canonical level is
#
#     0x0A <len P> P 0x12 <len Q> Q          (price = field 1, quantity = field 2)
#
# and MessagePack's str8 is 0xD9 <len> <bytes>. Rewriting both tag bytes to 0xD9 and
# putting a fixarray-of-2 header (0x92) in front of each level turns it into exactly the
# MessagePack array [P, Q] with the *same length bytes*, so msgspec's decoder walks the
# protobuf length prefixes itself and, with strict=False, converts each string to a
# float in C under the Price/Size bounds. The levels are joined with a "," in front of
# each; replace(",\n") rewrites separator and price tag together (so a length byte of
# 10 is left alone) and translate() rewrites every 0x12.
#
# Why a successful decode proves every level canonical, i.e. equal to the real schema's
# reading (the safe path's), given the checks made first: (a) the text is ASCII, so the
# only bytes >= 0x80 afterwards are the 0x92 and 0xD9 we wrote, and 0x92 is the only
# array header; (b) "," occurs exactly n times, so only as our separators; (c) 0x12
# occurs exactly n times; (d) no 0xD9 follows a 0xD9 (a length byte of 18 would have
# been rewritten: such frames take the safe path).
# msgspec must read n arrays of exactly two floats and no trailing byte. Values are
# str8 strings holding a number (so never a 0x92, 0xD9, "," or tag byte) or one-byte
# fixints. An array starts only at a 0x92, and a 0x92 can be neither a value nor inside
# one, nor a length byte (the 0xD9 we wrote after it would then sit in a number string),
# so there are exactly n 0x92, i.e. by (b) every separator was followed by 0x0A: array k
# is level k, read exactly to its end. Every 0xD9 must be a str8 header: it is no fixint,
# cannot sit in a number string nor, by (d), be a length byte. There are 2n of them (n
# price tags by the above, n quantity tags by (c)) for 2n values, so no value is a fixint
# and level k reads: the str8 at its rewritten 0x0A, whose length byte is ASCII and not
# a rewritten tag, hence the protobuf length, and whose bytes P are a number string;
# then the str8 at its 0x12 (a price tag's 0xD9 always follows a 0x92), again with the
# protobuf length and a number string Q, ending the level. So each level is exactly
# 0x0A |P| P 0x12 |Q| Q, the canonical encoding of {price: P, quantity: Q}. Where msgspec
# accepts a number string it reads the same float as float() (both round correctly; it
# rejects "nan", " 1", "1_0", ".5"..., which then take the safe path), and it applies the
# same bounds as check_price / check_size. Any other input fails a check or the decode,
# and the frame is decoded again with the real schema, which names the error.

_PRICE_TAG_AFTER_SEP = b",\n"
_ARRAY_AND_STR8 = b"\x92\xd9"
_QUANTITY_TAG = b"\x12"
_QUANTITY_TAG_TO_STR8 = bytes.maketrans(_QUANTITY_TAG, b"\xd9")
_MISREAD_LENGTH = b"\xd9\xd9"
_ARRAY32 = Struct(">BI").pack
_LEVEL_ERRORS = (msgspec.DecodeError, UnicodeError)
_decode_raw_levels = msgspec.msgpack.Decoder(list[Level], strict=False).decode


def _levels_from_raw(
    asks: list[bytes], bids: list[bytes]
) -> tuple[list[Level], list[Level]] | None:
    """Both sides' levels from their raw encodings, or ``None`` if not provably canonical."""
    n = len(asks) + len(bids)
    if not n:
        return [], []
    raw = b",".join([b"", *asks, *bids])
    if not raw.isascii() or raw.count(b",") != n or raw.count(_QUANTITY_TAG) != n:
        return None
    packed = _ARRAY32(0xDD, n) + raw.replace(_PRICE_TAG_AFTER_SEP, _ARRAY_AND_STR8).translate(
        _QUANTITY_TAG_TO_STR8
    )
    if _MISREAD_LENGTH in packed:
        return None
    try:
        levels = _decode_raw_levels(packed)
    except _LEVEL_ERRORS:
        return None
    split = len(asks)
    return levels[:split], levels[split:]


def _view_update(
    view: PushDataV3ApiWrapperView,
    body: PublicAggreDepthsV3ApiView | PublicIncreaseDepthsV3ApiView | PublicLimitDepthsV3ApiView,
    symbol: str,
    first: int | None,
    last: int,
    snapshot: bool = False,
) -> Message | None:
    """The update of a depth body read through the view, ``None`` for the safe path."""
    levels = _levels_from_raw(body.asks[:], body.bids[:])
    if levels is None:
        return None
    asks, bids = levels
    return OrderBookUpdate(_MEXC, symbol, bids, asks, snapshot, first, last, _push_time(view))


def _view_aggre_depth(view: PushDataV3ApiWrapperView, pool: LevelPool | None) -> Message | None:
    body = view.publicAggreDepths
    symbol = _push_symbol(view)
    first = _version(body.fromVersion, "fromVersion")
    return _view_update(view, body, symbol, first, _version(body.toVersion, "toVersion"))


def _view_increase_depth(view: PushDataV3ApiWrapperView, pool: LevelPool | None) -> Message | None:
    body = view.publicIncreaseDepths
    symbol = _push_symbol(view)
    version = _version(body.version, "version")
    return _view_update(view, body, symbol, version, version)


def _view_limit_depth(view: PushDataV3ApiWrapperView, pool: LevelPool | None) -> Message | None:
    body = view.publicLimitDepths
    symbol = _push_symbol(view, depth_suffix=True)
    version = _version(body.version, "version")
    return _view_update(view, body, symbol, None, version, snapshot=True)


_PushBuilder = Callable[[_Wrapper, LevelPool | None], Message | list[Message] | None]
_PUSH_BUILDERS: dict[str, _PushBuilder] = {
    "publicDeals": _push_deals,
    "publicAggreDeals": _push_aggre_deals,
    "publicAggreDepths": _push_aggre_depth,
    "publicIncreaseDepths": _push_increase_depth,
    "publicLimitDepths": _push_limit_depth,
    "publicAggreBookTicker": _push_book_ticker,
}
#: The view's builders: trades and tickers read the same fields as on the real schema.
_VIEW_BUILDERS: dict[str, _PushBuilder] = {
    **_PUSH_BUILDERS,
    "publicAggreDepths": _view_aggre_depth,  # type: ignore[dict-item]
    "publicIncreaseDepths": _view_increase_depth,  # type: ignore[dict-item]
    "publicLimitDepths": _view_limit_depth,  # type: ignore[dict-item]
}

# -- control messages --------------------------------------------------------------


class _Control(msgspec.Struct, gc=False):
    id: int | None = None
    code: int | None = None
    msg: str = ""


_decode_control = msgspec.json.Decoder(_Control).decode


def parse_control(frame: bytes | str) -> SubscriptionAck | Pong | VenueError:
    """Decode ``{"id": .., "code": .., "msg": ..}``: an ack, a pong or a venue error."""
    try:
        control = _decode_control(frame)
    except msgspec.ValidationError as exc:
        raise FrameError(_R.INVALID_FIELD, str(exc), frame, _MEXC) from None
    except _JSON_ERRORS as exc:
        raise FrameError(_R.MALFORMED_JSON, str(exc), frame, _MEXC) from None
    if control.code is None:
        raise FrameError(_R.UNKNOWN_MESSAGE, "control message without 'code'", frame, _MEXC)
    msg_type = _control_type(control.code, control.msg)
    if msg_type is _T.PONG:
        return Pong(_MEXC)
    if msg_type is _T.SUBSCRIPTION:
        return SubscriptionAck(_MEXC, control.msg, request_id=control.id)
    return VenueError(
        _MEXC, control.code, control.msg, _bracketed(control.msg), request_id=control.id
    )


def _bracketed(msg: str) -> str | None:
    """The channel a refusal names in brackets (``... [spot@public...] ...``), if any."""
    start = msg.find("[")
    end = msg.find("]", start + 1)
    return msg[start + 1 : end] if 0 <= start < end else None


# -- legacy JSON pushes ------------------------------------------------------------


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
        raise FrameError(_R.INVALID_FIELD, str(exc), frame, _MEXC) from None
    except _JSON_ERRORS as exc:
        raise FrameError(_R.MALFORMED_JSON, str(exc), frame, _MEXC) from None
    except ValueError as exc:  # no symbol anywhere
        raise FrameError(_R.INVALID_FIELD, str(exc), frame, _MEXC) from None


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
_LEGACY_BUILDERS: dict[str | bytes, _LegacyBuilder] = {
    **_LEGACY_BY_KIND,
    **{kind.encode(): build for kind, build in _LEGACY_BY_KIND.items()},
}
