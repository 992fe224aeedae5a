"""The Gate.io fixture frames, their case names, and what each good one decodes to."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import msgspec

from ws_stack.frames import read_frames
from ws_stack.gateio import decoder
from ws_stack.gateio.decoder import UNKNOWN_ERROR_CODE
from ws_stack.messages import (
    BookTicker,
    Level,
    Message,
    OrderBookUpdate,
    Pong,
    Side,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
    WebSocketMessageType,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOD_FILE = FIXTURES / "gateio_frames.jsonl"
BAD_FILE = FIXTURES / "gateio_bad_frames.jsonl"
CASES_FILE = FIXTURES / "gateio_frames.cases.json"
GENERATOR = FIXTURES / "make_fixtures_gateio.py"

GATEIO = Venue.GATEIO
SYMBOL = "BTC_USDT"
T0 = 1_700_000_000_123

__all__ = [
    "EXPECTED",
    "GATEIO",
    "UNKNOWN_ERROR_CODE",
    "FixtureFrame",
    "bad_frames",
    "decode",
    "good_frames",
    "load_generator",
]


class FixtureFrame(NamedTuple):
    case: str
    frame: bytes | str
    reason: str | None


def _load(path: Path) -> list[FixtureFrame]:
    index = msgspec.json.decode(CASES_FILE.read_bytes())[path.name]
    frames = [recorded.data for recorded in read_frames(path)]
    assert len(frames) == len(index), f"{path.name} and {CASES_FILE.name} disagree"
    return [
        FixtureFrame(entry["case"], frame, entry.get("reason"))
        for entry, frame in zip(index, frames, strict=True)
    ]


def good_frames() -> list[FixtureFrame]:
    return _load(GOOD_FILE)


def bad_frames() -> list[FixtureFrame]:
    return _load(BAD_FILE)


def load_generator() -> ModuleType:
    """The fixture generator script, imported from its path (tests/fixtures is no package)."""
    spec = importlib.util.spec_from_file_location("make_fixtures_gateio", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_PARSERS = {
    WebSocketMessageType.TRADE: decoder.parse_trade,
    WebSocketMessageType.BOOK_TICKER: decoder.parse_book_ticker,
    WebSocketMessageType.ORDER_BOOK: decoder.parse_any_order_book,
    WebSocketMessageType.SUBSCRIPTION: decoder.parse_control,
    WebSocketMessageType.PONG: decoder.parse_control,
}


def decode(frame: bytes | str) -> Message:
    """Decode one frame the way GateioHandler routes it."""
    return _PARSERS[decoder.detect_type(frame)](frame)


def _levels(pairs: list[tuple[str, str]]) -> list[Level]:
    return [Level(float(price), float(size)) for price, size in pairs]


def _book(
    bids: list[tuple[str, str]],
    asks: list[tuple[str, str]],
    snapshot: bool,
    first: int | None,
    last: int,
    time_ms: int | None,
    symbol: str = SYMBOL,
) -> OrderBookUpdate:
    return OrderBookUpdate(
        GATEIO, symbol, _levels(bids), _levels(asks), snapshot, first, last, time_ms
    )


# Written out independently of the generator, from the same wire values.
_BIDS20 = [(f"{37000 - i}.{i:02d}", f"{i + 1}.{i:03d}") for i in range(20)]
_ASKS20 = [(f"{37001 + i}.{i:02d}", f"0.{i + 1:04d}") for i in range(20)]
_LONG = "37042.60000000000000000000000000000000000000000000000000000000000001"

#: What every line of gateio_frames.jsonl decodes to, written from the wire values.
EXPECTED: dict[str, Message] = {
    "trade_buy": Trade(GATEIO, SYMBOL, 37042.6, 0.0021, Side.BUY, T0, 5736713851),
    "trade_sell": Trade(GATEIO, SYMBOL, 37042.5, 1.5, Side.SELL, T0 + 1, 5736713852),
    "trade_docs": Trade(GATEIO, "GT_USDT", 0.4705, 16.47, Side.SELL, 1606292218213, 309143071),
    "trade_numeric_create_time_ms": Trade(
        GATEIO, "ETH_USDT", 2050.11, 0.5, Side.BUY, 1700000000125, 5736713853
    ),
    "book_ticker": BookTicker(GATEIO, SYMBOL, 37042.5, 0.8, 37042.6, 1.2, T0, 48733182),
    "book_ticker_docs": BookTicker(
        GATEIO, SYMBOL, 19177.79, 0.0003341504, 19179.38, 0.09, 1606293275123, 48733182
    ),
    "order_book_update_20": _book(_BIDS20, _ASKS20, False, 48776301, 48776306, T0),
    "order_book_update_empty_asks": _book(
        [("37000.1", "0.5"), ("36999.9", "1")], [], False, 48776307, 48776308, T0 + 100
    ),
    "order_book_update_unordered": _book(
        [("36990", "1"), ("37000.5", "2"), ("36995.25", "3")],
        [("37010", "1"), ("37001", "0.1"), ("37005.5", "0")],
        False,
        48776309,
        48776312,
        T0 + 200,
    ),
    "order_book_update_single_delete": _book(
        [], [("37001", "0")], False, 48776313, 48776313, T0 + 300
    ),
    "order_book_update_long_price": _book(
        [(_LONG, "1e-30")], [], False, 48776314, 48776314, T0 + 400
    ),
    "order_book_update_full": _book(_BIDS20[:3], _ASKS20[:3], True, 48776301, 48776320, T0 + 500),
    "order_book_update_l": _book([("37000", "2")], [], False, 48776321, 48776322, T0 + 600),
    "order_book_update_docs": _book(
        [("19137.74", "0.0001"), ("19088.37", "0")],
        [("19137.75", "0.6135")],
        True,
        48776301,
        48776306,
        1606294781123,
    ),
    "obu_full_50": _book(_BIDS20[:5], _ASKS20[:5], True, None, 8000, T0 + 650),
    "obu_delta": _book([("37000.5", "0.3")], [], False, 8001, 8003, T0 + 670),
    "obu_delta_delete": _book([("37000", "0")], [("37001.5", "2.5")], False, 9001, 9001, T0 + 690),
    "order_book": _book(_BIDS20[:5], _ASKS20[:5], True, None, 48791820, T0 + 700),
    "order_book_docs": _book(
        [("19079.55", "0.0195"), ("19079.07", "0.7341")],
        [("19080.24", "0.1638")],
        True,
        None,
        48791820,
        1606295412123,
    ),
    "ack_subscribe": SubscriptionAck(GATEIO, "spot.order_book_update", False, 7),
    "ack_subscribe_live": SubscriptionAck(GATEIO, "spot.trades"),
    "ack_unsubscribe": SubscriptionAck(GATEIO, "spot.book_ticker", True, 8),
    "error_ack": VenueError(GATEIO, 2, "unknown currency pair GT_USD", "spot.trades", 9),
    "pong": Pong(GATEIO, T0 + 3),
    "pong_docs": Pong(GATEIO, 1545404023000),
    "trade_pretty": Trade(GATEIO, "GT_USDT", 0.4705, 16.47, Side.BUY, 1606292218213, 309143071),
    "book_ticker_reordered": BookTicker(
        GATEIO, SYMBOL, 19177.79, 0.5, 19179.38, 0.09, 1606293275124, 48733183
    ),
}
