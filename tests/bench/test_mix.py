"""The realistic mix (``benchmarks/bench_mix.py``) and its recordings.

The recordings are checked in; these tests keep them what the module and the docs say:
the simulator's stream of 20 symbols, in the stated proportions, and a pass that handles
every frame into books that end at the recorded snapshots.
"""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks import recordings
from benchmarks.bench_mix import RealisticMix
from benchmarks.parsers import make_handler
from ws_stack.messages import WebSocketMessageType

VENUES = ["mexc", "gateio"]


@pytest.mark.parametrize("venue", VENUES)
def test_the_recording_is_what_the_simulator_records_now(venue: str) -> None:
    recording = recordings.load(venue)
    assert [*recording.start, *recording.stream, *recording.end] == recordings.record(venue)


def _composition(venue: str) -> tuple[Counter[str], Counter[int], set[str]]:
    """Frames by message type, levels per side of the deltas, symbols."""
    handler = make_handler(venue)
    frames: Counter[str] = Counter()
    sides: Counter[int] = Counter()
    symbols: set[str] = set()

    def on_book(update: object) -> None:
        sides.update([len(update.bids), len(update.asks)])  # type: ignore[attr-defined]
        symbols.add(update.symbol)  # type: ignore[attr-defined]

    handler.on(WebSocketMessageType.ORDER_BOOK, on_book)
    for frame in recordings.load(venue).stream:
        handler.handle(frame)
    frames.update(handler.stats().messages)
    return frames, sides, symbols


@pytest.mark.parametrize(
    ("venue", "deltas", "trade_messages", "tickers"),
    [("mexc", 340, 461, 340), ("gateio", 300, 406, 300)],
)
def test_the_recording_has_the_documented_composition(
    venue: str, deltas: int, trade_messages: int, tickers: int
) -> None:
    """The figures docs/benchmarks.md states for the mix."""
    recording = recordings.load(venue)
    assert len(recording.start) == len(recording.end) == len(recordings.BASES) == 20
    messages, sides, symbols = _composition(venue)
    assert len(symbols) == 20
    assert messages == {"order_book": deltas, "trade": trade_messages, "book_ticker": tickers}
    # Gate.io sends a frame per trade; MEXC batches a slot's trades in one frame.
    trade_frames = len(recording.stream) - deltas - tickers
    assert trade_frames == (trade_messages if venue == "gateio" else 340)
    one_to_five = sum(count for levels, count in sides.items() if 1 <= levels <= 5)
    assert 0.9 < one_to_five / sum(sides.values()) < 0.92
    assert max(sides) <= 8


@pytest.mark.parametrize("venue", VENUES)
def test_a_pass_handles_every_frame_into_the_recorded_books(venue: str) -> None:
    bench = RealisticMix()
    bench.setup(venue)  # one pass, checked
    bench.time_pass(venue)
    bench.mix.check()  # and again after more passes: each starts from the snapshots
    assert bench.mix.handler.stats().failed_frames == 0
    assert len(bench.mix.trades) == len(bench.mix.tickers) == 20


@pytest.mark.parametrize("venue", VENUES)
def test_the_check_fails_when_a_delta_is_lost(venue: str) -> None:
    bench = RealisticMix()
    bench.setup(venue)
    mix = bench.mix
    handler = make_handler(venue)
    kinds: list[WebSocketMessageType] = []
    for frame in mix.stream:
        kinds.append(handler.detect_type(frame))
    last_delta = max(i for i, kind in enumerate(kinds) if kind is WebSocketMessageType.ORDER_BOOK)
    mix.stream = mix.stream[:last_delta] + mix.stream[last_delta + 1 :]
    with pytest.raises(RuntimeError, match="does not end at the last snapshot"):
        mix.check()
