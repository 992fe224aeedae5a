import pytest

from ws_stack.book_sync import BookSync, SyncPhase
from ws_stack.exceptions import ConfigError
from ws_stack.messages import Level, OrderBookUpdate, Venue

VENUES = [Venue.MEXC, Venue.GATEIO]


def snapshot(venue, last_id, bids=((99.0, 1.0),), asks=((101.0, 1.0),)):
    return OrderBookUpdate(
        venue,
        "X",
        [Level(*lv) for lv in bids],
        [Level(*lv) for lv in asks],
        is_snapshot=True,
        last_update_id=last_id,
    )


def delta(venue, first, last, bids=(), asks=()):
    return OrderBookUpdate(
        venue,
        "X",
        [Level(*lv) for lv in bids],
        [Level(*lv) for lv in asks],
        is_snapshot=False,
        first_update_id=first,
        last_update_id=last,
    )


@pytest.fixture(params=VENUES, ids=lambda v: v.value)
def venue(request):
    return request.param


def test_buffers_until_snapshot_then_replays_the_newer_deltas(venue):
    sync = BookSync(venue, "X")
    assert sync.needs_snapshot
    assert sync.apply(delta(venue, 95, 98, bids=[(90.0, 9.0)])) is True  # fetch now
    sync.snapshot_requested()
    assert not sync.needs_snapshot
    assert sync.apply(delta(venue, 99, 101, bids=[(99.0, 2.0)])) is False  # already fetching
    assert sync.apply(delta(venue, 102, 102, asks=[(101.0, 0.0), (102.0, 3.0)])) is False
    assert sync.phase is SyncPhase.BUFFERING
    assert sync.apply_snapshot(snapshot(venue, 100)) is True
    assert sync.live
    book = sync.book
    # 95..98 is older than the snapshot (dropped); 99..101 straddles it; 102 follows.
    assert book.bids() == [(99.0, 2.0)]
    assert book.asks() == [(102.0, 3.0)]
    assert book.last_update_id == 102
    assert sync.stats().deltas_applied == 2


def test_live_deltas_apply_and_a_gap_triggers_a_counted_resync(venue):
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 11, 11))
    sync.snapshot_requested()
    sync.apply_snapshot(snapshot(venue, 10))
    assert sync.apply(delta(venue, 12, 12, bids=[(98.0, 1.0)])) is False
    assert sync.book.last_update_id == 12
    # 13 is missing: the book stops, buffers, and asks for a new snapshot.
    assert sync.apply(delta(venue, 14, 15, bids=[(97.0, 1.0)])) is True
    assert sync.resyncs == 1
    assert sync.phase is SyncPhase.BUFFERING and not sync.book.in_sync
    sync.snapshot_requested()
    sync.apply(delta(venue, 16, 16, asks=[(103.0, 1.0)]))
    assert sync.apply_snapshot(snapshot(venue, 14, bids=[(99.0, 5.0)])) is True
    assert sync.book.bids() == [(99.0, 5.0), (97.0, 1.0)]
    assert sync.book.last_update_id == 16
    assert sync.resyncs == 1


def test_snapshot_older_than_the_buffer_asks_again(venue):
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 50, 51))
    sync.snapshot_requested()
    assert sync.apply_snapshot(snapshot(venue, 40)) is False  # 41..49 never arrived
    assert sync.stale_snapshots == 1
    assert sync.needs_snapshot
    assert sync.apply(delta(venue, 52, 52)) is True
    sync.snapshot_requested()
    assert sync.apply_snapshot(snapshot(venue, 50)) is True
    assert sync.book.last_update_id == 52


def test_pushed_snapshot_counts_as_a_snapshot(venue):
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 7, 7, bids=[(98.0, 1.0)]))
    assert sync.apply(snapshot(venue, 6)) is False
    assert sync.live
    assert sync.book.bids() == [(99.0, 1.0), (98.0, 1.0)]


def test_buffered_deltas_are_copies(venue):
    """Pooled levels are only on loan to callbacks: the buffer must not keep them."""
    sync = BookSync(venue, "X")
    update = delta(venue, 11, 11, bids=[(98.0, 1.0)])
    sync.apply(update)
    update.bids[0].price = 1.0  # the pool reuses the level
    sync.apply_snapshot(snapshot(venue, 10))
    assert sync.book.bids() == [(99.0, 1.0), (98.0, 1.0)]


def test_full_buffer_drops_the_oldest_and_counts(venue):
    sync = BookSync(venue, "X", max_buffer=2)
    for n in (1, 2, 3):
        sync.apply(delta(venue, n, n))
    assert sync.stats().buffer_dropped == 1
    assert sync.stats().buffered == 2
    with pytest.raises(ConfigError):
        BookSync(venue, "X", max_buffer=0)


def test_failed_fetch_and_restart(venue):
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 1, 1))
    sync.snapshot_requested()
    sync.snapshot_failed()
    assert sync.needs_snapshot
    sync.apply_snapshot(snapshot(venue, 1))
    assert sync.live
    sync.restart()
    assert sync.restarts == 1 and sync.phase is SyncPhase.BUFFERING and sync.resyncs == 0


def test_snapshot_requested_before_a_restart_is_dropped(venue):
    """A snapshot fetched for a lost socket must not make the new book live."""
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 5, 5))
    token = sync.snapshot_requested()
    sync.restart()  # the connection dropped while the snapshot was on its way
    assert sync.needs_snapshot  # the next fetch may start at once
    assert sync.apply_snapshot(snapshot(venue, 9), token) is False
    assert not sync.live and sync.stale_snapshots == 1 and sync.snapshots == 0
    sync.snapshot_failed(token)  # a late failure of the old fetch changes nothing either
    fresh = sync.snapshot_requested()
    sync.snapshot_failed(token)
    assert not sync.needs_snapshot
    assert sync.apply_snapshot(snapshot(venue, 9), fresh) is True and sync.live


def test_dropped_frames_make_the_book_unverified_until_a_delta_follows_on(venue):
    sync = BookSync(venue, "X")
    sync.apply_snapshot(snapshot(venue, 10))
    sync.frames_dropped()
    assert sync.phase is SyncPhase.UNVERIFIED and not sync.live
    assert not sync.needs_snapshot  # no REST round trip just for a suspicion
    sync.apply(delta(venue, 5, 9))  # stale: proves nothing
    assert sync.phase is SyncPhase.UNVERIFIED
    assert sync.apply(delta(venue, 11, 12, bids=[(99.5, 1.0)])) is False
    assert sync.live and sync.book.last_update_id == 12  # none of its deltas was lost
    sync.frames_dropped()
    assert sync.apply(delta(venue, 14, 15)) is True  # one of them was: a gap, resync
    assert sync.phase is SyncPhase.BUFFERING and sync.resyncs == 1
    sync.frames_dropped()  # buffering: the snapshot to come will not be trusted alone
    assert sync.phase is SyncPhase.BUFFERING


def test_restart_of_an_unverified_book_counts(venue):
    sync = BookSync(venue, "X")
    sync.apply_snapshot(snapshot(venue, 1))
    sync.frames_dropped()
    sync.restart()
    assert sync.restarts == 1 and sync.phase is SyncPhase.BUFFERING


def test_a_snapshot_after_lost_frames_is_not_proof(venue):
    """Frames lost while buffering: the snapshot may be older than a delta among them
    (issue 34), so the book is unverified until a delta that arrived after the loss
    follows on; the deltas buffered before the loss prove nothing."""
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 11, 11))
    sync.snapshot_requested()
    sync.frames_dropped()  # 12..12 was among them
    assert sync.apply_snapshot(snapshot(venue, 10)) is True  # joins up with 11
    assert sync.phase is SyncPhase.UNVERIFIED and not sync.live
    assert sync.book.last_update_id == 11
    assert sync.apply(delta(venue, 13, 13)) is True  # the gap shows: resync
    assert sync.phase is SyncPhase.BUFFERING and sync.resyncs == 1


def test_a_delta_buffered_after_the_loss_proves_the_snapshot(venue):
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 11, 11))
    sync.snapshot_requested()
    sync.frames_dropped()  # nothing of this book among them, as 12 shows
    sync.apply(delta(venue, 12, 12))
    assert sync.apply_snapshot(snapshot(venue, 10)) is True
    assert sync.live and sync.book.last_update_id == 12
    # A later loss needs a later proof, even with deltas buffered before it.
    sync.frames_dropped()
    assert sync.apply(delta(venue, 13, 13)) is False
    assert sync.live


def test_a_delta_buffered_after_the_loss_but_stale_proves_nothing(venue):
    sync = BookSync(venue, "X")
    sync.apply(delta(venue, 11, 11))
    sync.snapshot_requested()
    sync.frames_dropped()
    sync.apply(delta(venue, 12, 12))
    assert sync.apply_snapshot(snapshot(venue, 12)) is True  # both already in it
    assert sync.phase is SyncPhase.UNVERIFIED
    assert sync.apply(delta(venue, 13, 13)) is False
    assert sync.live and sync.book.last_update_id == 13


def test_a_pushed_snapshot_proves_the_book_only_after_the_loss(venue):
    sync = BookSync(venue, "X")
    sync.apply_snapshot(snapshot(venue, 10))
    sync.frames_dropped()
    assert sync.apply(snapshot(venue, 20)) is False  # arrived after the loss: whole
    assert sync.live and sync.book.last_update_id == 20
    # Lost while buffering (after a gap): the pushed snapshot that comes next is proof.
    sync.apply(delta(venue, 25, 25))
    sync.frames_dropped()
    sync.apply(snapshot(venue, 30))
    assert sync.live and sync.book.last_update_id == 30


def test_after_a_gap_of_an_unverified_book_every_buffered_delta_came_after_the_loss(venue):
    sync = BookSync(venue, "X")
    sync.apply_snapshot(snapshot(venue, 10))
    sync.frames_dropped()
    sync.apply(delta(venue, 13, 13))  # 11..12 were lost: a gap, buffered
    assert sync.phase is SyncPhase.BUFFERING
    assert sync.apply_snapshot(snapshot(venue, 12)) is True  # 13 follows on, and proves it
    assert sync.live and sync.book.last_update_id == 13
    sync.frames_dropped()
    sync.apply(delta(venue, 15, 15))  # a gap again
    assert sync.apply_snapshot(snapshot(venue, 15)) is True  # 15 stale: no proof
    assert sync.phase is SyncPhase.UNVERIFIED


def test_buffered_deltas_from_before_the_loss_that_overflow_the_buffer(venue):
    sync = BookSync(venue, "X", max_buffer=2)
    sync.apply(delta(venue, 11, 11))
    sync.apply(delta(venue, 12, 12))
    sync.frames_dropped()  # both buffered deltas came before it
    sync.apply(delta(venue, 13, 13))  # pushes 11 out; 12 (before), 13 (after) stay
    assert sync.apply_snapshot(snapshot(venue, 11)) is True
    assert sync.live and sync.book.last_update_id == 13  # 13 proves it
