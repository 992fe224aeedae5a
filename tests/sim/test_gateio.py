import msgspec
import pytest

from ws_stack.book import ApplyResult, LocalOrderBook
from ws_stack.gateio import encoder
from ws_stack.messages import (
    BookTicker,
    OrderBookUpdate,
    Pong,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
)
from ws_stack.sim.config import FaultConfig
from ws_stack.sim.gateio import SimulatedGateio, parse_subscription
from ws_stack.sim.market import Market
from ws_stack.sim.session import StreamKind

from .helpers import Decoded, apply_all, assert_same_book, make_session

PAIRS = ("BTC_USDT", "ETH_USDT")

SUBSCRIPTIONS = [
    ("spot.trades", ["BTC_USDT", "ETH_USDT"]),
    ("spot.book_ticker", ["BTC_USDT"]),
    ("spot.order_book_update", ["BTC_USDT", "100ms"]),
    ("spot.order_book", ["BTC_USDT", "5", "100ms"]),
]


def subscribe(channel, payload, request_id=1, event="subscribe"):
    return encoder.encode_subscribe_request(
        channel, payload, 1_700_000_000, request_id, unsubscribe=event == "unsubscribe"
    )


def decode(reply):
    return msgspec.json.decode(reply)


def test_parse_subscription_kinds():
    kinds = [
        [s.kind for s in parse_subscription(channel, payload, PAIRS)]
        for channel, payload in SUBSCRIPTIONS
    ]
    assert kinds == [
        [StreamKind.TRADE_EACH, StreamKind.TRADE_EACH],
        [StreamKind.BOOK_TICKER],
        [StreamKind.DEPTH_DELTA],
        [StreamKind.DEPTH_SNAPSHOT],
    ]


@pytest.mark.parametrize(
    ("channel", "payload", "words"),
    [
        ("spot.trades", ["BTC_XXX"], "unknown currency pair BTC_XXX"),
        ("spot.trades", [], "at least one"),
        ("spot.order_book_update", ["BTC_USDT"], "interval"),
        ("spot.order_book_update", ["BTC_USDT", "1s"], "interval"),
        ("spot.order_book_update", ["DOGE_USDT", "100ms"], "unknown currency pair"),
        ("spot.order_book", ["BTC_USDT", "7", "100ms"], "level"),
        ("spot.order_book", ["DOGE_USDT", "5", "100ms"], "unknown currency pair"),
        ("spot.candlesticks", ["10s", "BTC_USDT"], "unknown channel"),
    ],
)
def test_parse_subscription_refusals(channel, payload, words):
    assert words in parse_subscription(channel, payload, PAIRS)


def test_ack_carries_the_live_extra_keys():
    session = make_session(Venue.GATEIO)
    (reply,) = session.receive(subscribe("spot.trades", ["BTC_USDT"], 42), 1_700_000_000_123)
    ack = decode(reply)
    assert ack["channel"] == "spot.trades"
    assert ack["event"] == "subscribe"
    assert ack["id"] == 42
    assert ack["error"] is None
    assert ack["result"] == {"status": "success"}
    assert ack["payload"] == ["BTC_USDT"]
    assert ack["time_ms"] == 1_700_000_000_123
    assert {"conn_id", "trace_id", "requestId"} <= ack.keys()
    (message,) = Decoded(Venue.GATEIO).feed(reply)
    assert isinstance(message, SubscriptionAck)
    assert message.request_id == 42


def test_unknown_pair_is_refused():
    session = make_session(Venue.GATEIO)
    (reply,) = session.receive(subscribe("spot.trades", ["BTC_XXX"]), 0)
    answer = decode(reply)
    assert answer["error"] == {"code": 2, "message": "unknown currency pair BTC_XXX"}
    assert answer["result"] == {"status": "fail"}
    assert not session.streams
    assert session.stats.subscription_errors == 1
    (error,) = Decoded(Venue.GATEIO).feed(reply)
    assert isinstance(error, VenueError)
    assert error.code == 2


def test_unsubscribe():
    session = make_session(Venue.GATEIO)
    session.receive(subscribe("spot.trades", ["BTC_USDT", "ETH_USDT"]), 0)
    (reply,) = session.receive(subscribe("spot.trades", ["BTC_USDT"], event="unsubscribe"), 0)
    assert decode(reply)["event"] == "unsubscribe"
    assert decode(reply)["result"] == {"status": "success"}
    assert list(session.streams) == ["spot.trades:ETH_USDT"]
    (message,) = Decoded(Venue.GATEIO).feed(reply)
    assert message.unsubscribe


def test_ping_gets_pong():
    session = make_session(Venue.GATEIO)
    (reply,) = session.receive(encoder.encode_ping(1_700_000_000, 3), 1_700_000_000_500)
    assert decode(reply)["channel"] == "spot.pong"
    assert decode(reply)["id"] == 3
    (pong,) = Decoded(Venue.GATEIO).feed(reply)
    assert isinstance(pong, Pong)


@pytest.mark.parametrize(
    "frame",
    [
        "nope",
        '{"channel":"spot.trades","event":"dance","payload":["BTC_USDT"]}',
        '{"channel":"spot.trades","event":"subscribe","payload":"BTC_USDT"}',
    ],
)
def test_bad_requests_get_errors(frame):
    session = make_session(Venue.GATEIO)
    (reply,) = session.receive(frame, 0)
    assert decode(reply)["error"]["code"] in (1, 2)
    assert decode(reply)["result"] == {"status": "fail"}


def test_every_channel_decodes_with_the_handler():
    session = make_session(Venue.GATEIO)
    for channel, payload in SUBSCRIPTIONS:
        session.receive(subscribe(channel, payload), 0)
    decoded = Decoded(Venue.GATEIO)
    for slot in range(5):
        for push in session.push_slot(1_700_000_000_000 + slot):
            assert decoded.feed(push.frame), push.stream
    assert decoded.errors == []
    assert {t.symbol for t in decoded.of(Trade)} == {"BTC_USDT", "ETH_USDT"}
    assert decoded.of(BookTicker)
    updates = decoded.of(OrderBookUpdate)
    assert any(u.is_snapshot for u in updates) and any(not u.is_snapshot for u in updates)


def test_trades_are_one_per_frame_and_none_lost():
    session = make_session(Venue.GATEIO)
    session.receive(subscribe("spot.trades", ["BTC_USDT"]), 0)
    market = session.market["BTC_USDT"]
    first = market.last_trade_id
    decoded = Decoded(Venue.GATEIO)
    for _ in range(20):
        for push in session.push_slot(0):
            assert len(decoded.feed(push.frame)) == 1
    ids = [t.trade_id for t in decoded.of(Trade)]
    assert ids == list(range(first + 1, market.last_trade_id + 1))


def test_malformed_frames_rotate_and_lose_no_trade():
    session = make_session(Venue.GATEIO, faults=FaultConfig(malformed_every=2))
    session.receive(subscribe("spot.trades", ["BTC_USDT"]), 0)
    market = session.market["BTC_USDT"]
    first = market.last_trade_id
    decoded = Decoded(Venue.GATEIO)
    for _ in range(30):
        for push in session.push_slot(0):
            decoded.feed(push.frame)
    for _ in range(5):  # drain: no new step while the stream is behind
        for push in session.push_slot(0):
            decoded.feed(push.frame)
    reasons = decoded.error_reasons
    assert set(reasons[:3]) == {"malformed_json", "unknown_channel", "invalid_field"}
    ids = [t.trade_id for t in decoded.of(Trade)]
    assert ids == list(range(first + 1, first + 1 + len(ids)))
    assert session.stats.faults["malformed"] == len(reasons)


def test_rest_snapshot():
    market = Market(["BTC_USDT"], seed=1)
    answer = SimulatedGateio(market).rest(
        "/api/v4/spot/order_book",
        {"currency_pair": "BTC_USDT", "limit": "100", "with_id": "true"},
        1_700_000_000_000,
    )
    assert answer.status == 200
    body = decode(answer.body)
    assert body["id"] == market["BTC_USDT"].version
    assert body["current"] == 1_700_000_000_000
    bids, asks = market["BTC_USDT"].top()
    assert body["bids"] == [list(level) for level in bids]
    assert body["asks"] == [list(level) for level in asks]
    no_id = decode(
        SimulatedGateio(market)
        .rest("/api/v4/spot/order_book", {"currency_pair": "BTC_USDT"}, 0)
        .body
    )
    assert "id" not in no_id
    assert len(no_id["bids"]) == 10


@pytest.mark.parametrize(
    ("path", "query", "status", "label"),
    [
        ("/api/v4/spot/order_book", {"currency_pair": "BTC_XXX"}, 400, "INVALID_CURRENCY_PAIR"),
        ("/api/v4/spot/order_book", {}, 400, "MISSING_REQUIRED_PARAM"),
        (
            "/api/v4/spot/order_book",
            {"currency_pair": "BTC_USDT", "limit": "1000"},
            400,
            "INVALID_PARAM_VALUE",
        ),
        ("/api/v4/spot/tickers", {}, 404, "NOT_FOUND"),
    ],
)
def test_rest_errors(path, query, status, label):
    answer = SimulatedGateio(Market(["BTC_USDT"])).rest(path, query, 0)
    assert answer.status == status
    assert decode(answer.body)["label"] == label


def test_wire_symbol():
    assert SimulatedGateio.wire_symbol("BTCUSDT") == "BTC_USDT"
    assert SimulatedGateio.wire_symbol("eth_btc") == "ETH_BTC"


@pytest.mark.parametrize("depth", [50, 400])
def test_obu_opens_with_a_full_book_then_deltas_follow_on(depth):
    session = make_session(Venue.GATEIO)
    (ack,) = session.receive(subscribe("spot.obu", [f"ob.BTC_USDT.{depth}"]), 0)
    assert decode(ack)["result"] == {"status": "success"}
    decoded = Decoded(Venue.GATEIO)
    for slot in range(30):
        for push in session.push_slot(1_700_000_000_000 + slot):
            decoded.feed(push.frame)
    assert decoded.errors == []
    first, *deltas = decoded.of(OrderBookUpdate)
    assert first.is_snapshot and first.first_update_id is None
    assert deltas and not any(u.is_snapshot for u in deltas)
    previous = first.last_update_id
    for delta in deltas:
        assert delta.first_update_id == previous + 1
        previous = delta.last_update_id
    book = LocalOrderBook(Venue.GATEIO, "BTC_USDT")
    assert apply_all(book, [first, *deltas]) == [ApplyResult.SNAPSHOT] + [
        ApplyResult.APPLIED
    ] * len(deltas)
    assert_same_book(book, session.market["BTC_USDT"].book(Venue.GATEIO))


def test_obu_duplicate_subscription_is_refused_and_resubscribing_sends_a_new_full_book():
    session = make_session(Venue.GATEIO)
    session.receive(subscribe("spot.obu", ["ob.BTC_USDT.50"], 1), 0)
    (refusal,) = session.receive(subscribe("spot.obu", ["ob.BTC_USDT.50"], 2), 0)
    assert decode(refusal)["error"] == {"code": 2, "message": "Alert sub ob.BTC_USDT.50"}
    decoded = Decoded(Venue.GATEIO)
    for _ in range(3):
        for push in session.push_slot(0):
            decoded.feed(push.frame)
    session.receive(subscribe("spot.obu", ["ob.BTC_USDT.50"], 3, event="unsubscribe"), 0)
    session.receive(subscribe("spot.obu", ["ob.BTC_USDT.50"], 4), 0)
    for push in session.push_slot(0):
        decoded.feed(push.frame)
    snapshots = [u.is_snapshot for u in decoded.of(OrderBookUpdate)]
    assert snapshots[0] and snapshots[-1] and snapshots.count(True) == 2


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (["BTC_USDT"], "ob.<pair>.<depth>"),
        (["ob.BTC_USDT.100"], "depth in"),
        (["ob.BTC_XXX.50"], "unknown currency pair BTC_XXX"),
        (["ob.BTC_USDT.50", "ob.ETH_USDT.50"], "ob.<pair>.<depth>"),
    ],
)
def test_obu_bad_payloads(payload, words):
    assert words in parse_subscription("spot.obu", payload, PAIRS)


def test_obu_gap_fault_skips_ids():
    session = make_session(Venue.GATEIO, faults=FaultConfig(gap_every=3))
    session.receive(subscribe("spot.obu", ["ob.BTC_USDT.50"]), 0)
    decoded = Decoded(Venue.GATEIO)
    for _ in range(12):
        for push in session.push_slot(0):
            decoded.feed(push.frame)
    book = LocalOrderBook(Venue.GATEIO, "BTC_USDT")
    assert ApplyResult.GAP in apply_all(book, decoded.of(OrderBookUpdate))
