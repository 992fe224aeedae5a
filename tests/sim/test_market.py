from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ws_stack.book import ApplyResult, LocalOrderBook
from ws_stack.messages import Level, OrderBookUpdate, Venue
from ws_stack.sim.market import Market, SymbolMarket, merge_ticks, split_symbol


def levels(pairs):
    return [Level(float(p), float(s)) for p, s in pairs]


def follow(market: SymbolMarket, steps: int, *, merge: int = 1) -> LocalOrderBook:
    """A client book built from a snapshot plus the market's deltas, ``merge`` at a time."""
    bids, asks = market.top()
    book = LocalOrderBook(Venue.MEXC, market.symbol)
    book.apply(
        OrderBookUpdate(
            Venue.MEXC,
            market.symbol,
            levels(bids),
            levels(asks),
            True,
            last_update_id=market.version,
        )
    )
    cursor = market.version
    for _ in range(steps // merge):
        for _ in range(merge):
            market.step(0)
        ticks = market.ticks_after(cursor)
        cursor = market.version
        bids, asks = merge_ticks(ticks)
        result = book.apply(
            OrderBookUpdate(
                Venue.MEXC,
                market.symbol,
                levels(bids),
                levels(asks),
                False,
                ticks[0].version,
                ticks[-1].version,
            )
        )
        assert result is ApplyResult.APPLIED
    return book


def assert_same_book(a: LocalOrderBook, b: LocalOrderBook) -> None:
    assert a.last_update_id == b.last_update_id
    assert a.bids() == b.bids()
    assert a.asks() == b.asks()


def test_same_seed_same_ticks():
    one = SymbolMarket("BTCUSDT", seed=7)
    two = SymbolMarket("BTCUSDT", seed=7)
    assert [one.step(i) for i in range(200)] == [two.step(i) for i in range(200)]


def test_other_seed_other_ticks():
    one = SymbolMarket("BTCUSDT", seed=1)
    two = SymbolMarket("BTCUSDT", seed=2)
    assert [one.step(0) for _ in range(20)] != [two.step(0) for _ in range(20)]


def test_both_spellings_give_the_same_market():
    mexc = SymbolMarket("BTCUSDT", seed=3)
    gate = SymbolMarket("BTC_USDT", seed=3)
    assert mexc.top() == gate.top()
    assert mexc.version == gate.version


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(1, 30))
def test_book_stays_sane(seed, depth):
    market = SymbolMarket("ETHUSDT", depth_levels=depth, seed=seed)
    for step in range(150):
        tick = market.step(step)
        assert tick.version == market.version
        assert tick.trades, "every step trades"
        bids, asks = market.top()
        assert len(bids) == depth
        assert len(asks) == depth
        assert float(bids[0][0]) < float(asks[0][0]), "book crossed"
        assert [float(p) for p, _ in bids] == sorted((float(p) for p, _ in bids), reverse=True)
        assert all(float(s) > 0 for _, s in bids + asks)


def test_ticks_carry_inserts_updates_and_deletes():
    market = SymbolMarket("BTCUSDT", seed=5)
    known = {p for p, _ in market.top()[0] + market.top()[1]}
    inserts = deletes = updates = 0
    for _ in range(200):
        tick = market.step(0)
        for price, size in tick.bids + tick.asks:
            if size == "0":
                deletes += 1
            elif price in known:
                updates += 1
            else:
                inserts += 1
        known = {p for p, _ in market.top()[0] + market.top()[1]}
    assert inserts and deletes and updates


def test_prices_and_sizes_round_trip_exactly():
    market = SymbolMarket("XRPUSDT", seed=9)
    for _ in range(50):
        tick = market.step(0)
        for text in [p for p, _ in tick.bids + tick.asks] + [t.price for t in tick.trades]:
            assert "e" not in text.lower()
            assert Decimal(repr(float(text))) == Decimal(text)


def test_deltas_rebuild_the_book():
    market = SymbolMarket("BTCUSDT", seed=11)
    assert_same_book(follow(market, 300), market.book())


def test_merged_deltas_rebuild_the_book():
    market = SymbolMarket("BTCUSDT", seed=12, depth_levels=5)
    assert_same_book(follow(market, 300, merge=7), market.book())


def test_trades_have_increasing_ids_and_match_the_book_side():
    market = SymbolMarket("BTCUSDT", seed=4)
    last = market.last_trade_id
    for _ in range(100):
        best_bid, best_ask = market.best()
        tick = market.step(0)
        first = tick.trades[0]
        expected = best_ask[0] if first.side.value == "buy" else best_bid[0]
        assert first.price == expected
        for trade in tick.trades:
            assert trade.trade_id == last + 1
            last = trade.trade_id
    assert market.last_trade_id == last


def test_history_is_bounded():
    market = SymbolMarket("BTCUSDT", history=10)
    start = market.version
    for _ in range(25):
        market.step(0)
    ticks = market.ticks_after(start)
    assert len(ticks) == 10
    assert ticks[-1].version == market.version
    assert market.ticks_after(market.version) == []


def test_market_of_several_symbols():
    market = Market(["BTCUSDT", "ETHUSDT"], seed=1)
    assert "BTCUSDT" in market and "DOGEUSDT" not in market
    assert market["BTCUSDT"].best()[0][0] != market["ETHUSDT"].best()[0][0]


def test_split_symbol():
    assert split_symbol("BTC_USDT") == ("BTC", "USDT")
    assert split_symbol("ethbtc") == ("ETH", "BTC")
    assert split_symbol("FOO") == ("FOO", "")


@pytest.mark.parametrize(("keep", "steps"), [(5, 8), (150, 300), (64, 64)])
def test_kept_books_are_the_whole_book_at_each_of_the_latest_versions(keep, steps):
    market = SymbolMarket("BTCUSDT", seed=4, keep_books=keep)
    first = market.version
    seen = {}
    for n in range(steps):
        book = market.book()
        seen[market.version] = (book.bids(), book.asks())
        market.step(n)
    book = market.book()
    seen[market.version] = (book.bids(), book.asks())
    assert market.book_at(market.version - keep) is None  # beyond the kept ones
    assert market.book_at(market.version + 1) is None
    for version in range(max(first, market.version - keep + 1), market.version + 1):
        state = market.book_at(version)
        assert state is not None and state.version == version
        assert (list(state.bids), list(state.asks)) == seen[version], version
    for version in range(market.version, max(first, market.version - keep + 1) - 1, -1):
        state = market.book_at(version)
        assert state is not None and (list(state.bids), list(state.asks)) == seen[version]
    assert SymbolMarket("BTCUSDT", seed=4).book_at(first) is None  # none kept by default
