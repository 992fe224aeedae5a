"""The MEXC fixture frames, what each good one decodes to, and helpers the tests share."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import msgspec
import pytest

from ws_stack.exceptions import FrameError, FrameErrorReason
from ws_stack.frames import read_frames
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
)
from ws_stack.mexc import decoder
from ws_stack.pool import LevelPool

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOOD_FILE = FIXTURES / "mexc_frames.jsonl"
BAD_FILE = FIXTURES / "mexc_bad_frames.jsonl"
CASES_FILE = FIXTURES / "mexc_frames.cases.json"
GENERATOR = FIXTURES / "make_fixtures_mexc.py"

MEXC = Venue.MEXC
SYMBOL = "BTCUSDT"
T0 = 1_700_000_000_000


class FixtureFrame(NamedTuple):
    case: str
    frame: bytes | str
    reason: str | None


def _load(path: Path) -> list[FixtureFrame]:
    index = msgspec.json.decode(CASES_FILE.read_bytes())[path.name]
    frames = [recorded.data for recorded in read_frames(path)]
    assert len(frames) == len(index), f"{path.name} and {CASES_FILE.name} disagree"
    return [FixtureFrame(e["case"], f, e.get("reason")) for e, f in zip(index, frames, strict=True)]


def good_frames() -> list[FixtureFrame]:
    return _load(GOOD_FILE)


def bad_frames() -> list[FixtureFrame]:
    return _load(BAD_FILE)


def load_generator() -> ModuleType:
    """The fixture generator script, imported from its path (tests/fixtures is no package)."""
    spec = importlib.util.spec_from_file_location("make_fixtures_mexc", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def decode(frame: bytes | str, pool: LevelPool | None = None) -> list[Message]:
    """Decode one frame the way the handler routes it; always a list."""
    msg_type = decoder.detect_type(frame)
    if msg_type.value in ("subscription", "pong", "error"):
        result: Message | list[Message] = decoder.parse_control(frame)
    elif decoder.is_json_frame(frame):
        result = decoder.parse_legacy(frame, pool)
    else:
        result = decoder.parse_push(frame, pool)  # type: ignore[arg-type]
    return result if isinstance(result, list) else [result]


def reason_of(call: Callable[..., object], *args: object) -> FrameErrorReason:
    """The reason of the MEXC :class:`FrameError` that ``call(*args)`` raises."""
    with pytest.raises(FrameError) as info:
        call(*args)
    assert info.value.venue is Venue.MEXC
    return info.value.reason


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
        MEXC, symbol, _levels(bids), _levels(asks), snapshot, first, last, time_ms
    )


_BIDS20 = [(f"{50000 - i}.5", f"{i + 1}.25") for i in range(20)]
_ASKS20 = [(f"{50001 + i}.5", f"0.{i + 1:03d}") for i in range(20)]

#: What every line of mexc_frames.jsonl decodes to, written from the wire values.
EXPECTED: dict[str, list[Message]] = {
    "aggre_deals": [
        Trade(MEXC, SYMBOL, 50000.1, 0.5, Side.BUY, T0),
        Trade(MEXC, SYMBOL, 50000.05, 1.25, Side.SELL, T0 + 1),
    ],
    "deals": [Trade(MEXC, SYMBOL, 49999.9, 0.01, Side.SELL, T0 + 2)],
    "aggre_depth": [_book(_BIDS20, _ASKS20, False, 1001, 1003, T0 + 6)],
    "aggre_depth_edge": [_book([], [("50000.1", "0"), ("50002", "3")], False, 1004, 1004, T0 + 7)],
    "increase_depth": [_book([("49990", "2")], [("50010", "0")], False, 77, 77, T0)],
    "limit_depth": [_book(_BIDS20[:5], _ASKS20[:5], True, None, 2000, T0 + 8)],
    "book_ticker": [BookTicker(MEXC, SYMBOL, 49999.5, 1.5, 50000.5, 2.5, T0 + 9)],
    "limit_depth_no_symbol": [_book([("1.5", "2")], [("2.5", "3")], True, None, 9, None)],
    "book_ticker_channel_last": [BookTicker(MEXC, SYMBOL, 1.5, 2.0, 2.5, 3.0, T0)],
    "legacy_deals": [Trade(MEXC, SYMBOL, 50000.1, 0.5, Side.BUY, T0)],
    "legacy_depth": [_book([("49999", "1")], [("50001", "0")], False, 3001, 3001, T0 + 2)],
    "legacy_limit_depth": [
        _book([("49999", "1"), ("49998", "2")], [("50001", "3")], True, None, 3002, T0 + 3)
    ],
    "legacy_book_ticker": [BookTicker(MEXC, SYMBOL, 49999.5, 1.5, 50000.5, 2.5, T0 + 4)],
    "legacy_deals_reordered": [Trade(MEXC, "ETHUSDT", 2000.5, 2.0, Side.SELL, T0 + 8)],
    "ack": [SubscriptionAck(MEXC, "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT", request_id=0)],
    "pong": [Pong(MEXC)],
    "pong_reordered": [Pong(MEXC)],
    "error": [VenueError(MEXC, 400, "Invalid params", request_id=0)],
    "refused": [
        VenueError(
            MEXC,
            0,
            "Not Subscribed successfully! [spot@public.miniTicker.v3.api@BTCUSDT@UTC+0]. "
            " Reason\uff1a Blocked! ",
            "spot@public.miniTicker.v3.api@BTCUSDT@UTC+0",
            request_id=0,
        )
    ],
}
