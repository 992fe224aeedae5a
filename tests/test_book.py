import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_stack.book import ApplyResult, LocalOrderBook, SequenceGap
from ws_stack.messages import Level, OrderBookUpdate, Venue

VENUES = [Venue.GATEIO, Venue.MEXC]


def snapshot(venue, last_id, bids, asks):
    return OrderBookUpdate(
        venue,
        "BTCUSDT",
        [Level(*lv) for lv in bids],
        [Level(*lv) for lv in asks],
        is_snapshot=True,
        last_update_id=last_id,
    )


def delta(venue, first, last, bids=(), asks=()):
    return OrderBookUpdate(
        venue,
        "BTCUSDT",
        [Level(*lv) for lv in bids],
        [Level(*lv) for lv in asks],
        is_snapshot=False,
        first_update_id=first,
        last_update_id=last,
    )


@pytest.fixture(params=VENUES, ids=lambda v: v.value)
def book(request):
    venue = request.param
    book = LocalOrderBook(venue, "BTCUSDT")
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


def test_delta_before_any_snapshot_is_out_of_sync():
    book = LocalOrderBook(Venue.GATEIO, "BTC_USDT")
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


@given(_levels, st.lists(st.tuples(_levels, _levels), max_size=6))
def test_deltas_apply_level_by_level_in_order(initial, deltas):
    """The book equals a plain dict updated one level at a time, sides kept sorted."""
    book = LocalOrderBook(Venue.GATEIO, "BTC_USDT")
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
