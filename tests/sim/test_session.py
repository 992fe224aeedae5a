"""The venue-independent push logic of Session, driven without sockets."""

import msgspec

from ws_stack.book import ApplyResult
from ws_stack.gateio import encoder as gate_encoder
from ws_stack.messages import OrderBookUpdate, Trade, Venue
from ws_stack.sim.config import FaultConfig
from ws_stack.sim.faults import FaultPlan
from ws_stack.sim.market import Market
from ws_stack.sim.session import REPLAY_STREAM
from ws_stack.sim.stats import SimStats

from .helpers import Decoded, apply_all, assert_same_book, make_session

DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
EVENT_DEPTH = "spot@public.increase.depth.v3.api@BTCUSDT"
DEALS = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"


def subscribe(session, *channels):
    session.receive(msgspec.json.encode({"method": "SUBSCRIPTION", "params": channels}), 0)


def snapshot_book(session, venue=Venue.MEXC, symbol="BTCUSDT"):
    """What a client builds from the REST snapshot: a synced LocalOrderBook."""
    return session.market[symbol].book(venue)


def updates(decoded, frames):
    out = []
    for frame in frames:
        out += [m for m in decoded.feed(frame) if isinstance(m, OrderBookUpdate)]
    return out


def test_two_connections_each_see_every_version():
    market = Market(["BTCUSDT"], seed=3)
    stats = SimStats()
    one = make_session(Venue.MEXC, market=market, stats=stats)
    two = make_session(Venue.MEXC, market=market, stats=stats)
    subscribe(one, DEPTH)
    subscribe(two, DEPTH)
    book_one, book_two = snapshot_book(one), snapshot_book(two)
    decoded = Decoded(Venue.MEXC)
    for i in range(60):
        order = (one, two) if i % 3 else (two, one, one)
        for session in order:
            frames = [p.frame for p in session.push_slot(0)]
            book = book_one if session is one else book_two
            assert set(apply_all(book, updates(decoded, frames))) <= {ApplyResult.APPLIED}
    for session, book in ((one, book_one), (two, book_two)):
        apply_all(book, updates(decoded, [p.frame for p in session.push_slot(0)]))
    # one's last push may have stepped the market; two's then caught up with it.
    assert_same_book(book_two, market["BTCUSDT"].book())
    assert decoded.errors == []


def test_deltas_follow_a_late_snapshot():
    session = make_session(Venue.MEXC)
    subscribe(session, DEPTH)
    decoded = Decoded(Venue.MEXC)
    buffered = updates(decoded, [p.frame for _ in range(5) for p in session.push_slot(0)])
    book = snapshot_book(session)  # taken after 5 deltas were buffered
    results = apply_all(book, buffered)
    assert set(results) == {ApplyResult.STALE}
    for _ in range(30):
        assert apply_all(book, updates(decoded, [p.frame for p in session.push_slot(0)])) == [
            ApplyResult.APPLIED
        ]
    assert_same_book(book, session.market["BTCUSDT"].book())


def test_gap_skips_versions_that_are_never_sent():
    session = make_session(Venue.MEXC, faults=FaultConfig(gap_every=4))
    subscribe(session, DEPTH)
    book = snapshot_book(session)
    decoded = Decoded(Venue.MEXC)
    results = []
    for _ in range(4):
        results += apply_all(book, updates(decoded, [p.frame for p in session.push_slot(0)]))
    assert results == [ApplyResult.APPLIED] * 3 + [ApplyResult.GAP]
    assert book.last_gap.first_update_id > book.last_gap.expected
    assert session.stats.faults["gap"] == 1


def test_a_silenced_channel_sends_nothing_while_the_book_goes_on():
    session = make_session(Venue.MEXC, faults=FaultConfig(silence="trades"))
    subscribe(session, DEPTH, DEALS)
    book = snapshot_book(session)
    decoded = Decoded(Venue.MEXC)
    sent = []
    for _ in range(20):
        pushes = session.push_slot(0)
        sent += [push.stream for push in pushes]
        results = apply_all(book, updates(decoded, [push.frame for push in pushes]))
        assert set(results) <= {ApplyResult.APPLIED}
    assert set(sent) == {DEPTH} and len(sent) == 20
    assert_same_book(book, session.market["BTCUSDT"].book())
    assert session.stats.faults["silence"] >= 20  # every tick had at least one trade
    assert decoded.errors == []


def test_silence_ends_with_the_fault_and_the_channel_resumes_from_now():
    session = make_session(Venue.MEXC, faults=FaultConfig(silence="trades"))
    subscribe(session, DEPTH, DEALS)
    for _ in range(5):
        session.push_slot(0)
    session.plan = FaultPlan(FaultConfig())
    decoded = Decoded(Venue.MEXC)
    messages = [m for push in session.push_slot(0) for m in decoded.feed(push.frame)]
    trades = [m for m in messages if isinstance(m, Trade)]
    # Only this tick's step (one or two trades): the silent ticks' trades were lost, not
    # held back for later.
    assert 1 <= len(trades) <= 2


def test_malformed_delta_is_not_a_gap():
    session = make_session(Venue.MEXC, faults=FaultConfig(malformed_every=3))
    subscribe(session, DEPTH)
    book = snapshot_book(session)
    decoded = Decoded(Venue.MEXC)
    for _ in range(30):
        results = apply_all(book, updates(decoded, [p.frame for p in session.push_slot(0)]))
        assert set(results) <= {ApplyResult.APPLIED}
    assert len(decoded.errors) == 10
    # Push 30 was malformed: its versions go out with push 31.
    apply_all(book, updates(decoded, [p.frame for p in session.push_slot(0)]))
    assert_same_book(book, session.market["BTCUSDT"].book())


def test_per_event_depth_sends_one_frame_per_version():
    market = Market(["BTCUSDT"], seed=2)
    session = make_session(Venue.MEXC, market=market)
    subscribe(session, EVENT_DEPTH)
    start = market["BTCUSDT"].version
    for _ in range(3):
        market["BTCUSDT"].step(0)  # another connection moved the market
    decoded = Decoded(Venue.MEXC)
    got = updates(decoded, [p.frame for p in session.push_slot(0)])
    assert [u.last_update_id for u in got] == [start + 1, start + 2, start + 3]
    assert all(u.first_update_id == u.last_update_id for u in got)


def test_per_event_depth_gap():
    session = make_session(Venue.MEXC, faults=FaultConfig(gap_every=3))
    subscribe(session, EVENT_DEPTH)
    decoded = Decoded(Venue.MEXC)
    got = updates(decoded, [p.frame for _ in range(6) for p in session.push_slot(0)])
    versions = [u.last_update_id for u in got]
    assert len(versions) == 4
    assert versions[2] - versions[1] == 2
    assert session.stats.faults["gap"] == 2


def test_trades_batch_every_trade_once():
    session = make_session(Venue.MEXC, faults=FaultConfig(malformed_every=2))
    subscribe(session, DEALS)
    market = session.market["BTCUSDT"]
    start = market.version
    decoded = Decoded(Venue.MEXC)
    for _ in range(21):  # push 20 is malformed, push 21 carries its trades
        for push in session.push_slot(0):
            decoded.feed(push.frame)
    assert len(decoded.errors) == 10
    expected = [
        (float(t.price), float(t.size), t.side)
        for tick in market.ticks_after(start)
        for t in tick.trades
    ]
    got = [(t.price, t.size, t.side) for t in decoded.messages]
    assert got == expected


def test_no_pushes_without_subscriptions():
    session = make_session(Venue.MEXC)
    assert session.push_slot(0) == []


def test_replay_sends_the_frames_in_order_then_stops():
    frames = [b"\x0a\x01x", '{"a":1}', b"\x0a\x02yy"]
    session = make_session(Venue.GATEIO, replay=frames, replay_loops=2)
    assert session.push_slot(0) == []  # nothing before a subscription
    session.receive(gate_encoder.encode_subscribe_request("spot.trades", ["BTC_USDT"], 0), 0)
    sent = []
    for _ in range(10):
        sent += session.push_slot(0)
    assert [p.frame for p in sent] == frames * 2
    assert {p.stream for p in sent} == {REPLAY_STREAM}
    assert session.replay_done


def test_replay_with_malformed_frames_keeps_every_recorded_frame():
    frames = ["a", "b", "c"]
    session = make_session(Venue.GATEIO, replay=frames, faults=FaultConfig(malformed_every=2))
    session.receive(gate_encoder.encode_subscribe_request("spot.trades", ["BTC_USDT"], 0), 0)
    sent = [p.frame for _ in range(10) for p in session.push_slot(0)]
    assert [f for f in sent if f in frames] == frames
    assert session.stats.faults["malformed"] == len(sent) - 3
