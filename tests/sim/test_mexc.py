import msgspec
import pytest

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
from ws_stack.sim.market import Market
from ws_stack.sim.mexc import MAX_SUBSCRIPTIONS, SimulatedMexc, parse_channel
from ws_stack.sim.session import StreamKind

from .helpers import Decoded, make_session

SYMBOLS = ("BTCUSDT", "ETHUSDT")


def channels(symbol):
    """Every channel the simulator serves for ``symbol`` (17)."""
    out = []
    for interval in ("100ms", "10ms"):
        for kind in ("deals", "depth", "bookTicker"):
            out.append(f"spot@public.aggre.{kind}.v3.api.pb@{interval}@{symbol}")
    for depth in (5, 10, 20):
        out.append(f"spot@public.limit.depth.v3.api.pb@{symbol}@{depth}")
        out.append(f"spot@public.limit.depth.v3.api@{symbol}@{depth}")
    out += [
        f"spot@public.deals.v3.api.pb@{symbol}",
        f"spot@public.increase.depth.v3.api.pb@{symbol}",
        f"spot@public.deals.v3.api@{symbol}",
        f"spot@public.increase.depth.v3.api@{symbol}",
        f"spot@public.bookTicker.v3.api@{symbol}",
    ]
    return out


def request(method, *params, **extra):
    return msgspec.json.encode({"method": method, "params": list(params), **extra}).decode()


def control(reply):
    return msgspec.json.decode(reply)


@pytest.mark.parametrize("name", channels("BTCUSDT"))
def test_parse_channel_accepts_every_served_channel(name):
    stream = parse_channel(name, SYMBOLS)
    assert not isinstance(stream, str)
    assert stream.key == name
    assert stream.symbol == "BTCUSDT"
    assert stream.legacy == (".pb@" not in name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "spot@public.aggre.depth.v3.api.pb@BTCUSDT",
        "spot@public.aggre.depth.v3.api.pb@1s@BTCUSDT",
        "spot@public.aggre.depth.v3.api@100ms@BTCUSDT",
        "spot@public.bookTicker.v3.api.pb@BTCUSDT",
        "spot@public.limit.depth.v3.api.pb@BTCUSDT@7",
        "spot@public.limit.depth.v3.api.pb@BTCUSDT",
        "spot@public.kline.v3.api.pb@BTCUSDT@Min1",
        "spot@private.deals.v3.api.pb",
        "futures@public.aggre.depth.v3.api.pb@100ms@BTCUSDT",
    ],
)
def test_parse_channel_refuses_malformed_channels(name):
    assert parse_channel(name, SYMBOLS) == "Invalid channel"


def test_parse_channel_refuses_unknown_symbols():
    assert parse_channel("spot@public.aggre.depth.v3.api.pb@100ms@DOGEUSDT", SYMBOLS) == (
        "Invalid symbol DOGEUSDT"
    )


def test_stream_kinds():
    kinds = {name: parse_channel(name, SYMBOLS).kind for name in channels("BTCUSDT")}
    assert kinds["spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"] is StreamKind.DEPTH_DELTA
    assert kinds["spot@public.increase.depth.v3.api@BTCUSDT"] is StreamKind.DEPTH_EVENT
    assert kinds["spot@public.limit.depth.v3.api.pb@BTCUSDT@10"] is StreamKind.DEPTH_SNAPSHOT


def test_subscription_ack_joins_the_channels():
    session = make_session(Venue.MEXC)
    names = channels("BTCUSDT")[:3]
    replies = session.receive(request("SUBSCRIPTION", *names), 0)
    assert [control(r) for r in replies] == [{"id": 0, "code": 0, "msg": ",".join(names)}]
    assert list(session.streams) == names
    assert session.stats.subscriptions == 3


def test_subscribing_twice_is_acked_once_counted():
    session = make_session(Venue.MEXC)
    name = channels("BTCUSDT")[0]
    session.receive(request("SUBSCRIPTION", name), 0)
    assert control(session.receive(request("SUBSCRIPTION", name), 0)[0])["code"] == 0
    assert session.stats.subscriptions == 1


def test_refusals_are_errors_naming_the_channels():
    session = make_session(Venue.MEXC)
    good = "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
    unknown = "spot@public.aggre.deals.v3.api.pb@100ms@DOGEUSDT"
    replies = [control(r) for r in session.receive(request("SUBSCRIPTION", good, unknown), 0)]
    assert replies[0] == {"id": 0, "code": 0, "msg": good}
    assert replies[1]["code"] != 0
    assert f"[{unknown}]" in replies[1]["msg"]
    assert list(session.streams) == [good]
    assert session.stats.subscription_errors == 1
    decoded = Decoded(Venue.MEXC)
    (error,) = decoded.feed(session.receive(request("SUBSCRIPTION", unknown), 0)[0])
    assert isinstance(error, VenueError)
    assert error.channel == unknown


def test_more_than_30_subscriptions_are_refused():
    session = make_session(Venue.MEXC)
    names = channels("BTCUSDT") + channels("ETHUSDT")
    assert len(names) > MAX_SUBSCRIPTIONS
    ack, error = (control(r) for r in session.receive(request("SUBSCRIPTION", *names), 0))
    assert ack["msg"].split(",") == names[:MAX_SUBSCRIPTIONS]
    assert error["code"] != 0
    assert "limit" in error["msg"]
    assert error["msg"].split("[")[1].split("]")[0].split(",") == names[MAX_SUBSCRIPTIONS:]
    assert len(session.streams) == MAX_SUBSCRIPTIONS


def test_unsubscription():
    session = make_session(Venue.MEXC)
    names = channels("BTCUSDT")[:2]
    session.receive(request("SUBSCRIPTION", *names), 0)
    (reply,) = session.receive(request("UNSUBSCRIPTION", names[0]), 0)
    assert control(reply) == {"id": 0, "code": 0, "msg": names[0]}
    assert list(session.streams) == names[1:]
    assert session.stats.unsubscriptions == 1
    (reply,) = session.receive(request("UNSUBSCRIPTION", "nonsense"), 0)
    assert control(reply)["code"] != 0


def test_ping_gets_pong():
    session = make_session(Venue.MEXC)
    (reply,) = session.receive('{"method":"PING"}', 0)
    assert control(reply) == {"id": 0, "code": 0, "msg": "PONG"}
    assert isinstance(Decoded(Venue.MEXC).feed(reply)[0], Pong)


@pytest.mark.parametrize(
    "frame",
    [
        "not json",
        '{"method":"SUBSCRIPTION"}',
        '{"method":"SUBSCRIPTION","params":[]}',
        '{"method":"DANCE","params":["x"]}',
        '{"method":"SUBSCRIPTION","params":[1]}',
        b"\x00\x01",
    ],
)
def test_bad_requests_get_errors(frame):
    session = make_session(Venue.MEXC)
    (reply,) = session.receive(frame, 0)
    assert control(reply)["code"] != 0
    assert not session.streams


def test_every_channel_decodes_with_the_handler():
    session = make_session(Venue.MEXC)
    session.receive(request("SUBSCRIPTION", *channels("BTCUSDT")), 0)
    decoded = Decoded(Venue.MEXC)
    for slot in range(5):
        for push in session.push_slot(1_700_000_000_000 + slot):
            assert decoded.feed(push.frame), push.stream
    assert decoded.errors == []
    assert decoded.of(Trade) and decoded.of(BookTicker) and decoded.of(OrderBookUpdate)
    assert {m.symbol for m in decoded.of(Trade) + decoded.of(BookTicker)} == {"BTCUSDT"}
    frames_per_stream = {push.stream for push in session.push_slot(0)}
    assert frames_per_stream == set(channels("BTCUSDT"))


def test_book_ticker_matches_the_book():
    session = make_session(Venue.MEXC)
    session.receive(
        request("SUBSCRIPTION", "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT"), 0
    )
    decoded = Decoded(Venue.MEXC)
    for _ in range(10):
        (push,) = session.push_slot(0)
        (ticker,) = decoded.feed(push.frame)
        book = session.market["BTCUSDT"].book()
        assert (ticker.bid_price, ticker.bid_size) == book.best_bid()
        assert (ticker.ask_price, ticker.ask_size) == book.best_ask()


def test_malformed_frames_rotate_through_three_kinds():
    session = make_session(Venue.MEXC, faults=FaultConfig(malformed_every=1))
    session.receive(
        request("SUBSCRIPTION", "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT"), 0
    )
    decoded = Decoded(Venue.MEXC)
    for _ in range(6):
        for push in session.push_slot(0):
            decoded.feed(push.frame)
    assert decoded.messages == []
    assert decoded.error_reasons == ["malformed_protobuf", "malformed_json", "unknown_channel"] * 2
    assert session.stats.faults["malformed"] == 6


def test_rest_snapshot():
    market = Market(["BTCUSDT"], seed=1)
    rest = SimulatedMexc(market)
    answer = rest.rest(
        "/api/v3/depth?symbol=BTCUSDT&limit=1000", {"symbol": "BTCUSDT", "limit": "1000"}, 5
    )
    assert answer.status == 200
    body = msgspec.json.decode(answer.body)
    assert body["lastUpdateId"] == market["BTCUSDT"].version
    bids, asks = market["BTCUSDT"].top()
    assert body["bids"] == [list(level) for level in bids]
    assert body["asks"] == [list(level) for level in asks]
    limited = msgspec.json.decode(
        rest.rest("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "3"}, 5).body
    )
    assert len(limited["bids"]) == len(limited["asks"]) == 3


@pytest.mark.parametrize(
    ("path", "query", "status", "code"),
    [
        ("/api/v3/depth", {"symbol": "DOGEUSDT"}, 400, -1121),
        ("/api/v3/depth", {}, 400, -1102),
        ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "x"}, 400, -1100),
        ("/api/v3/ticker", {"symbol": "BTCUSDT"}, 404, -1),
    ],
)
def test_rest_errors(path, query, status, code):
    answer = SimulatedMexc(Market(["BTCUSDT"])).rest(path, query, 0)
    assert answer.status == status
    assert msgspec.json.decode(answer.body)["code"] == code


def test_wire_symbol():
    assert SimulatedMexc.wire_symbol("btc_usdt") == "BTCUSDT"


def test_subscription_ack_decodes():
    session = make_session(Venue.MEXC)
    (reply,) = session.receive(request("SUBSCRIPTION", channels("BTCUSDT")[0], id=7), 0)
    (ack,) = Decoded(Venue.MEXC).feed(reply)
    assert isinstance(ack, SubscriptionAck)
    assert ack.request_id == 7
