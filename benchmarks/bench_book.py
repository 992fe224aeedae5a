"""Local order book: applying deltas to a deep book and taking a snapshot.

``ParseDelta`` is the floor of ``ApplyDelta`` for the ratio target: parsing those same
deltas (as Gate.io frames with exactly their levels). ``ApplyDeltaOverParse`` times the
pair in one process.
"""

from __future__ import annotations

from .asv_support import CALLS, Batched, Paired, require
from .instructions import Counted
from .parsers import direct_parser
from .venue_frames import gateio_delta_frame, gateio_obu_frame, ladder

BOOK_LEVELS = 1000


def _delta_levels(levels: int) -> list[tuple[list[tuple[float, float]], ...]]:
    """(bids, asks) of the two deltas applied in turn, as (price, size) pairs.

    Sizes alternate with zero so that repeated application keeps the book's shape: one
    pass deletes some levels, the next re-inserts them.
    """
    bids = [(p, s if i % 4 else 0.0) for i, (p, s) in enumerate(ladder(levels, 49_990.0, -0.5))]
    asks = [(p, s if i % 4 else 0.0) for i, (p, s) in enumerate(ladder(levels, 50_010.5, 0.5))]
    refill_bids = [(p, 1.0) for p, _ in bids]
    refill_asks = [(p, 1.0) for p, _ in asks]
    return [(bids, asks), (refill_bids, refill_asks)]


class ApplyDelta(Batched):
    """Apply a delta that updates, inserts and deletes levels of a 1,000-level book."""

    version = 2
    params = [5, 20, 100]
    param_names = ["levels"]

    def setup(self, levels: int) -> None:
        book_module = require("ws_stack.book", "LocalOrderBook")
        messages = require("ws_stack.messages", "OrderBookUpdate", "Level", "Venue")
        Level, Update, venue = messages.Level, messages.OrderBookUpdate, messages.Venue.GATEIO
        half = BOOK_LEVELS // 2
        self.book = book_module.LocalOrderBook(venue, "BTC_USDT")
        self.book.apply(
            Update(
                venue,
                "BTC_USDT",
                [Level(p, s) for p, s in ladder(half, 50_000.0, -0.5)],
                [Level(p, s) for p, s in ladder(half, 50_000.5, 0.5)],
                True,
                last_update_id=1,
            )
        )
        # Sequence checks are part of the cost: ids increase by one per delta.
        self.deltas = [
            Update(
                venue,
                "BTC_USDT",
                [Level(p, s) for p, s in bids],
                [Level(p, s) for p, s in asks],
                False,
                first_update_id=0,
                last_update_id=0,
            )
            for bids, asks in _delta_levels(levels)
        ]
        self.next_id = 2

    def time_apply_delta(self, levels: int) -> None:
        apply, deltas, next_id = self.book.apply, self.deltas, self.next_id
        for _ in CALLS:
            delta = deltas[next_id & 1]
            delta.first_update_id = delta.last_update_id = next_id
            next_id += 1
            apply(delta)
        self.next_id = next_id


class ApplyObu(Batched):
    """Gate.io ``spot.obu`` pushes applied to a book: a full push of 50 or 400 levels a
    side replaces the book; a 5-level delta updates the 400-level book a full push left,
    with the sequence checked (ids increase by one per delta)."""

    version = 1
    params = [["full_50", "full_400", "delta_5"]]
    param_names = ["push"]

    def setup(self, push: str) -> None:
        book_module = require("ws_stack.book", "LocalOrderBook")
        decoder = require("ws_stack.gateio.decoder", "parse_obu")
        venue = require("ws_stack.messages", "Venue").Venue.GATEIO
        self.book = book_module.LocalOrderBook(venue, "BTC_USDT")
        full = decoder.parse_obu(gateio_obu_frame("full_400"))
        self.book.apply(full)
        if push.startswith("full"):
            self.updates = [decoder.parse_obu(gateio_obu_frame(push))] * 2
        else:
            # Two deltas in turn keep the book's shape (one deletes, the next re-inserts).
            first = decoder.parse_obu(gateio_obu_frame(push))
            refill = decoder.parse_obu(gateio_obu_frame(push))
            for level in first.bids[::2] + first.asks[::2]:
                level.size = 0.0
            self.updates = [first, refill]
        self.next_id = 2

    def time_apply(self, push: str) -> None:
        apply, updates, next_id = self.book.apply, self.updates, self.next_id
        for _ in CALLS:
            update = updates[next_id & 1]
            if not update.is_snapshot:
                update.first_update_id = update.last_update_id = next_id
            next_id += 1
            apply(update)
        self.next_id = next_id


class ApplyObuInstructions(Counted):
    twin = ApplyObu
    track_apply = Counted.of("time_apply")


class ApplyDeltaInstructions(Counted):
    twin = ApplyDelta
    track_apply_delta = Counted.of("time_apply_delta")


class ParseDelta(Batched):
    """The floor of ``ApplyDelta``: parse the same deltas, from Gate.io frames, in turn."""

    version = 2
    params = [5, 20, 100]
    param_names = ["levels"]

    def setup(self, levels: int) -> None:
        self.parse = direct_parser("gateio", "json", "order_book")
        self.frames = [gateio_delta_frame(bids, asks) for bids, asks in _delta_levels(levels)]
        self.parse(self.frames[0])
        self.next_frame = 0

    def time_parse_delta(self, levels: int) -> None:
        parse, frames, next_frame = self.parse, self.frames, self.next_frame
        for _ in CALLS:
            parse(frames[next_frame & 1])
            next_frame += 1
        self.next_frame = next_frame


class ParseDeltaInstructions(Counted):
    twin = ParseDelta
    track_parse_delta = Counted.of("time_parse_delta")


class ApplyDeltaOverParse(Paired):
    """The apply-to-parse ratio: ``ApplyDelta.time_apply_delta`` over
    ``ParseDelta.time_parse_delta`` in one process (see :class:`~benchmarks.asv_support.Paired`)."""

    params = [20]
    param_names = ["levels"]
    figure_batch = ApplyDelta.time_apply_delta
    floor_batch = ParseDelta.time_parse_delta
    track_ratio = Paired.ratios

    def setup(self, levels: int) -> None:
        # Both fixtures on one object: they share no attribute name. (Hence the ignores:
        # each setup is typed for its own class.)
        ApplyDelta.setup(self, levels)  # type: ignore[arg-type]
        ParseDelta.setup(self, levels)  # type: ignore[arg-type]
