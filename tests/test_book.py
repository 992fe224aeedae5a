"""LocalOrderBook, on both implementations: the pure-Python reference and its compiled twin."""

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack import book as book_module
from ws_stack import implementation
from ws_stack.book import ApplyResult, LocalOrderBook, SequenceGap
from ws_stack.messages import Level, OrderBookUpdate, Venue

VENUES = [Venue.GATEIO, Venue.MEXC]

_compiled = implementation.compiled("ws_stack._book_side")
needs_compiled = pytest.mark.skipif(
    _compiled is None,
    reason="ws_stack._book_side is not built (no C compiler, or WS_STACK_NO_EXTENSIONS is set)",
)
Reference = book_module._PureLocalOrderBook
#: What LocalOrderBook derives from: the reference, and the compiled twin where it is built.
IMPLEMENTATIONS = [
    pytest.param(Reference, id="pure"),
    pytest.param(getattr(_compiled, "BookCore", None), id="compiled", marks=needs_compiled),
]


@pytest.fixture(params=IMPLEMENTATIONS)
def book_class(request):
    return request.param


class UpdateSubclass(OrderBookUpdate):
    """Not exactly an OrderBookUpdate: the compiled book reads its fields through getattr."""


def snapshot(venue, last_id, bids, asks, kind=OrderBookUpdate):
    return kind(
        venue,
        "BTCUSDT",
        [Level(*lv) for lv in bids],
        [Level(*lv) for lv in asks],
        is_snapshot=True,
        last_update_id=last_id,
    )


def delta(venue, first, last, bids=(), asks=(), kind=OrderBookUpdate):
    return kind(
        venue,
        "BTCUSDT",
        [Level(*lv) for lv in bids],
        [Level(*lv) for lv in asks],
        is_snapshot=False,
        first_update_id=first,
        last_update_id=last,
    )


@pytest.fixture(params=VENUES, ids=lambda v: v.value)
def book(request, book_class):
    venue = request.param
    book = book_class(venue, "BTCUSDT")
    result = book.apply(
        snapshot(venue, 100, [(99.0, 1.0), (98.0, 2.0), (97.0, 3.0)], [(101.0, 1.5), (102.0, 2.5)])
    )
    assert result is ApplyResult.SNAPSHOT
    return book


def test_snapshot_sets_sorted_sides(book):
    assert book.in_sync
    assert book.best_bid() == (99.0, 1.0)
    assert book.best_ask() == (101.0, 1.5)
    assert book.bids() == [(99.0, 1.0), (98.0, 2.0), (97.0, 3.0)]
    assert book.bids(2) == [(99.0, 1.0), (98.0, 2.0)]
    assert book.asks(1) == [(101.0, 1.5)]
    assert len(book) == 5


def test_snapshot_drops_zero_size_levels(book):
    book.apply(snapshot(book.venue, 5, [(1.0, 0.0), (2.0, 1.0)], []))
    assert book.bids() == [(2.0, 1.0)]
    assert book.asks() == []
    assert book.best_ask() is None


def test_deltas_upsert_and_delete(book):
    assert book.apply(delta(book.venue, 95, 101, bids=[(99.0, 0.0), (99.5, 4.0)])) is (
        ApplyResult.APPLIED
    )
    assert (
        book.apply(
            delta(book.venue, 102, 103, bids=[(98.0, 7.0)], asks=[(101.0, 0.0), (100.5, 1.0)])
        )
        is ApplyResult.APPLIED
    )
    assert book.bids() == [(99.5, 4.0), (98.0, 7.0), (97.0, 3.0)]
    assert book.asks() == [(100.5, 1.0), (102.0, 2.5)]
    assert book.last_update_id == 103
    assert book.in_sync


def test_deleting_an_absent_level_changes_nothing(book):
    book.apply(delta(book.venue, 101, 101, asks=[(150.0, 0.0)]))
    assert book.asks() == [(101.0, 1.5), (102.0, 2.5)]


def test_stale_deltas_are_ignored(book):
    assert book.apply(delta(book.venue, 90, 100, bids=[(99.0, 0.0)])) is ApplyResult.STALE
    assert book.best_bid() == (99.0, 1.0)
    assert book.in_sync


def test_first_delta_must_straddle_the_snapshot(book):
    result = book.apply(delta(book.venue, 102, 105, bids=[(50.0, 1.0)]))
    assert result is ApplyResult.GAP
    assert not book.in_sync
    assert book.last_gap == SequenceGap(expected=101, first_update_id=102, last_update_id=105)
    assert (50.0, 1.0) not in book.bids()


def test_gap_after_continuous_deltas_is_detected_and_not_applied(book):
    assert book.apply(delta(book.venue, 101, 110)) is ApplyResult.APPLIED
    assert book.apply(delta(book.venue, 111, 111)) is ApplyResult.APPLIED
    result = book.apply(delta(book.venue, 113, 120, asks=[(101.0, 0.0)]))
    assert result is ApplyResult.GAP
    assert book.gaps == 1
    assert book.last_gap == SequenceGap(expected=112, first_update_id=113, last_update_id=120)
    assert book.best_ask() == (101.0, 1.5)
    # Nothing more is applied until a new snapshot...
    assert book.apply(delta(book.venue, 121, 121, asks=[(101.0, 0.0)])) is (ApplyResult.OUT_OF_SYNC)
    # ...which brings the book back in sync.
    book.apply(snapshot(book.venue, 200, [(10.0, 1.0)], [(11.0, 1.0)]))
    assert book.in_sync
    assert book.apply(delta(book.venue, 201, 201)) is ApplyResult.APPLIED


def test_overlap_is_only_allowed_for_the_first_delta(book):
    book.apply(delta(book.venue, 99, 105))
    assert book.apply(delta(book.venue, 104, 108)) is ApplyResult.GAP


def test_delta_before_any_snapshot_is_out_of_sync(book_class):
    book = book_class(Venue.GATEIO, "BTC_USDT")
    assert not book.in_sync
    assert book.apply(delta(Venue.GATEIO, 1, 1, bids=[(1.0, 1.0)])) is ApplyResult.OUT_OF_SYNC
    assert len(book) == 0


def test_invalidate_requires_a_new_snapshot(book):
    book.invalidate()
    assert book.apply(delta(book.venue, 101, 101)) is ApplyResult.OUT_OF_SYNC


def test_many_levels_stay_sorted(book):
    book.apply(
        snapshot(
            book.venue,
            1,
            [(float(p), 1.0) for p in range(1, 501)],
            [(float(p), 1.0) for p in range(501, 1001)],
        )
    )
    book.apply(
        delta(
            book.venue, 2, 2, bids=[(250.5, 2.0), (500.0, 0.0)], asks=[(500.5, 3.0), (1000.0, 0.0)]
        )
    )
    bids, asks = book.bids(), book.asks()
    assert [p for p, _ in bids] == sorted((p for p, _ in bids), reverse=True)
    assert [p for p, _ in asks] == sorted(p for p, _ in asks)
    assert book.best_bid() == (499.0, 1.0)
    assert book.best_ask() == (500.5, 3.0)
    assert len(book) == 1000


# Few distinct prices, so that deltas hit existing levels, remove absent ones and repeat.
_levels = st.lists(
    st.tuples(st.sampled_from([1.0, 1.5, 2.0, 2.5, 3.0, 1e9]), st.sampled_from([0.0, 1.0, 2.5])),
    max_size=8,
)


@pytest.mark.parametrize("book_class", IMPLEMENTATIONS)
@given(_levels, st.lists(st.tuples(_levels, _levels), max_size=6))
def test_deltas_apply_level_by_level_in_order(book_class, initial, deltas):
    """The book equals a plain dict updated one level at a time, sides kept sorted."""
    book = book_class(Venue.GATEIO, "BTC_USDT")
    book.apply(snapshot(Venue.GATEIO, 0, initial, initial))
    expected = {price: size for price, size in initial if size > 0}
    expected_bids, expected_asks = dict(expected), dict(expected)
    for n, (bids, asks) in enumerate(deltas, start=1):
        assert book.apply(delta(Venue.GATEIO, n, n, bids, asks)) is ApplyResult.APPLIED
        for side, levels in ((expected_bids, bids), (expected_asks, asks)):
            for price, size in levels:
                if size:
                    side[price] = size
                else:
                    side.pop(price, None)
    assert book.bids() == sorted(expected_bids.items(), reverse=True)
    assert book.asks() == sorted(expected_asks.items())


def test_the_state_before_a_snapshot(book_class):
    book = book_class(Venue.MEXC, "BTCUSDT")
    assert (book.venue, book.symbol) == (Venue.MEXC, "BTCUSDT")
    assert (book.last_update_id, book.in_sync, book.gaps, book.last_gap) == (None, False, 0, None)
    assert (book.best_bid(), book.best_ask(), book.bids(), book.asks(), len(book)) == (
        None,
        None,
        [],
        [],
        0,
    )


def test_last_update_id_is_writable(book):
    """What a caller replaying one delta does (benchmarks/bench_handler.py)."""
    book.last_update_id = 100
    assert book.apply(delta(book.venue, 101, 101, bids=[(99.0, 5.0)])) is ApplyResult.APPLIED
    book.last_update_id = 100
    assert book.apply(delta(book.venue, 101, 101, bids=[(99.0, 6.0)])) is ApplyResult.APPLIED
    assert book.best_bid() == (99.0, 6.0)
    assert book.last_update_id == 101


def test_ids_beyond_64_bits_and_missing_ids_follow_the_same_rule(book):
    big = 2**70
    book.apply(snapshot(book.venue, big, [(1.0, 1.0)], []))
    assert book.apply(delta(book.venue, big - 5, big + 1)) is ApplyResult.APPLIED
    assert book.apply(delta(book.venue, big, big + 1)) is ApplyResult.STALE
    assert book.apply(delta(book.venue, big + 2, big + 2)) is ApplyResult.APPLIED
    assert book.apply(delta(book.venue, None, None, bids=[(2.0, 1.0)])) is ApplyResult.APPLIED
    assert book.last_update_id == big + 2
    assert book.apply(delta(book.venue, big + 9, big + 9)) is ApplyResult.GAP
    assert book.last_gap == SequenceGap(big + 3, big + 9, big + 9)
    assert book.bids() == [(2.0, 1.0), (1.0, 1.0)]


def test_local_order_book_derives_from_the_active_implementation():
    expected = Reference if _compiled is None else _compiled.BookCore
    assert LocalOrderBook.__bases__ == (expected,)


def test_local_order_book_can_be_subclassed_and_take_attributes():
    class Tagged(LocalOrderBook):
        def __init__(self, venue, symbol, tag):
            super().__init__(venue, symbol)
            self.tag = tag

    book = Tagged(Venue.GATEIO, "BTC_USDT", "mine")
    book.note = "extra"
    assert (book.tag, book.note, book.symbol) == ("mine", "extra", "BTC_USDT")
    assert book.apply(snapshot(Venue.GATEIO, 1, [(1.0, 1.0)], [])) is ApplyResult.SNAPSHOT
    assert book.best_bid() == (1.0, 1.0)


def test_local_order_book_methods_can_be_replaced(monkeypatch):
    """As the fault runs plant a bug, and the Where test a slowdown."""
    apply = LocalOrderBook.apply
    seen = []

    def counting_apply(book, update):
        seen.append(update.last_update_id)
        return apply(book, update)

    monkeypatch.setattr(LocalOrderBook, "apply", counting_apply)
    book = LocalOrderBook(Venue.MEXC, "BTCUSDT")
    assert book.apply(snapshot(Venue.MEXC, 7, [], [])) is ApplyResult.SNAPSHOT
    assert seen == [7]


@pytest.mark.parametrize(
    ("variable", "expected"),
    [("1", "_PureLocalOrderBook"), pytest.param("0", "BookCore", marks=needs_compiled)],
)
def test_ws_stack_no_extensions_selects_the_book(variable, expected):
    code = "from ws_stack.book import LocalOrderBook; print(LocalOrderBook.__bases__[0].__name__)"
    env = {**os.environ, implementation.NO_EXTENSIONS_VARIABLE: variable}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == expected


# The differential test: the same random steps through both implementations. Ids come from
# a small range, so that deltas follow on, straddle, repeat (stale) and skip (gap); a few
# are None, beyond 64 bits, negative, a bool or a float (compared through Python's
# operators by both).
_ids = st.one_of(
    st.integers(0, 12),
    st.none(),
    st.sampled_from([2**62 - 2, 2**62 - 1, 2**62, 2**64, -(2**62), -1, True, 3.0, 4.5]),
)
_kinds = st.sampled_from([OrderBookUpdate, OrderBookUpdate, UpdateSubclass])
_step = st.one_of(
    st.tuples(st.just("snapshot"), _ids, _levels, _levels, _kinds),
    st.tuples(st.just("delta"), _ids, _ids, _levels, _levels, _kinds),
    st.tuples(st.just("delta"), _ids, _ids, _levels, _levels, _kinds),
    st.tuples(st.just("invalidate")),
    st.tuples(st.just("set_last_update_id"), _ids),
)


def observe(book):
    return {
        "venue": book.venue,
        "symbol": book.symbol,
        "last_update_id": (type(book.last_update_id), book.last_update_id),
        "in_sync": book.in_sync,
        "gaps": book.gaps,
        "last_gap": book.last_gap,
        "best_bid": book.best_bid(),
        "best_ask": book.best_ask(),
        "bids": book.bids(),
        "asks": book.asks(),
        "bids(2)": book.bids(2),
        "asks(1)": book.asks(1),
        "len": len(book),
    }


def run_step(book, step):
    venue = book.venue
    match step:
        case ("snapshot", last_id, bids, asks, kind):
            return book.apply(snapshot(venue, last_id, bids, asks, kind))
        case ("delta", first, last, bids, asks, kind):
            return book.apply(delta(venue, first, last, bids, asks, kind))
        case ("invalidate",):
            return book.invalidate()
        case ("set_last_update_id", value):
            book.last_update_id = value
            return None
    raise AssertionError(step)


@needs_compiled
@settings(max_examples=1000)
@given(st.lists(_step, max_size=25))
def test_compiled_book_equals_the_reference(steps):
    compiled = _compiled.BookCore(Venue.GATEIO, "BTC_USDT")
    reference = Reference(Venue.GATEIO, "BTC_USDT")
    assert observe(compiled) == observe(reference)
    for step in steps:
        result = run_step(compiled, step)
        assert result is run_step(reference, step), step
        assert observe(compiled) == observe(reference), step


def test_an_update_that_is_not_a_struct_is_read_through_its_attributes(book):
    class Update:
        is_snapshot = False
        first_update_id = last_update_id = 101
        bids = (Level(99.0, 0.0),)
        asks = ()

    assert book.apply(Update()) is ApplyResult.APPLIED
    assert book.best_bid() == (98.0, 2.0)
    Update.first_update_id = Update.last_update_id = 102
    del Update.asks
    with pytest.raises(AttributeError):
        book.apply(Update())
    assert book.last_update_id == 102  # the sequence is checked before the levels are read
