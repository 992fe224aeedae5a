import json

import pytest

from ws_stack.exceptions import ConfigError, FrameError, FrameErrorReason
from ws_stack.gateio import encoder
from ws_stack.gateio.protocol import GateioProtocol
from ws_stack.messages import Pong, SubscriptionAck, Venue, VenueError
from ws_stack.protocol import Subscription

P = GateioProtocol


def sub(kind, symbol="BTC_USDT"):
    return P.subscription(symbol, kind)


@pytest.mark.parametrize("raw", ["BTC_USDT", "btc_usdt", "BTC-USDT", "BTC/USDT", "BTCUSDT"])
def test_pairs_are_normalised(raw):
    assert P.normalize_symbol(raw) == "BTC_USDT"


def test_pair_without_a_known_quote_is_a_config_error():
    with pytest.raises(ConfigError, match="BASE_QUOTE"):
        P.normalize_symbol("FOOBAR")


def test_channels_and_payloads():
    assert P.channel(sub("trades")) == "spot.trades:BTC_USDT"
    assert P.channel(sub("book_ticker")) == "spot.book_ticker:BTC_USDT"
    assert P.channel(sub("depth")) == "spot.order_book_update:BTC_USDT,100ms"
    assert P.channel(sub("depth_snapshot")) == "spot.order_book:BTC_USDT,20,100ms"
    assert P.channel(sub("obu")) == "spot.obu:ob.BTC_USDT.50"


def test_obu_request():
    (request,) = P.subscribe_requests([sub("obu")])
    body = json.loads(request.text)
    assert (body["channel"], body["event"], body["payload"]) == (
        "spot.obu",
        "subscribe",
        ["ob.BTC_USDT.50"],
    )


def test_one_request_per_subscription_with_unique_ids():
    subs = [sub("trades"), sub("depth")]
    requests = P.subscribe_requests(subs)
    assert len(requests) == 2
    first, second = (json.loads(r.text) for r in requests)
    assert first["channel"] == "spot.trades" and first["payload"] == ["BTC_USDT"]
    assert first["event"] == "subscribe" and isinstance(first["time"], int)
    assert second["channel"] == "spot.order_book_update"
    assert second["payload"] == ["BTC_USDT", "100ms"]
    assert first["id"] != second["id"]
    assert [r.request_id for r in requests] == [first["id"], second["id"]]
    (request,) = P.unsubscribe_requests(subs[:1])
    assert json.loads(request.text)["event"] == "unsubscribe" and request.unsubscribe


def test_heartbeat_and_pong():
    ping = json.loads(P.heartbeat_message())
    assert ping["channel"] == "spot.ping" and isinstance(ping["time"], int)
    assert isinstance(P.parse_control(encoder.encode_pong(1_700_000_000_000)), Pong)


def test_answers_are_matched_by_request_id():
    (request,) = P.subscribe_requests([sub("trades")])
    ack = P.parse_control(
        encoder.encode_ack(
            "spot.trades",
            "subscribe",
            request.request_id,
            time_ms=1,
            payload=["BTC_USDT"],
            conn_id="c",
        )
    )
    assert isinstance(ack, SubscriptionAck)
    assert P.answered(request, ack) == request.subscriptions
    other = P.parse_control(
        encoder.encode_ack("spot.trades", "subscribe", request.request_id + 1000, time_ms=1)
    )
    assert P.answered(request, other) == ()
    error = P.parse_control(
        encoder.encode_error(
            "spot.trades", "subscribe", 2, "unknown pair", request.request_id, time_ms=1
        )
    )
    assert isinstance(error, VenueError)
    assert P.answered(request, error) == request.subscriptions


def test_no_documented_subscription_limit():
    assert P.max_subscriptions is None
    P.check_subscription_count(10_000)


def test_snapshot_url_and_parse():
    assert (
        P.snapshot_url("https://api.gateio.ws", "BTCUSDT")
        == "https://api.gateio.ws/api/v4/spot/order_book"
        "?currency_pair=BTC_USDT&limit=100&with_id=true"
    )
    body = (
        b'{"id": 123456, "current": 1623898993123, "update": 1623898993121,'
        b' "asks": [["1.52", "1.151"], ["1.53", "1.218"]], "bids": [["1.17", "201.863"]]}'
    )
    snapshot = P.parse_snapshot(body, "BTC_USDT")
    assert snapshot.is_snapshot and snapshot.venue is Venue.GATEIO
    assert snapshot.last_update_id == 123456 and snapshot.time_ms == 1623898993123
    assert snapshot.symbol == "BTC_USDT"
    assert [(lv.price, lv.size) for lv in snapshot.asks] == [(1.52, 1.151), (1.53, 1.218)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        # Without with_id=true Gate leaves out "id": the book could not be sequenced.
        (b'{"current": 1, "update": 1, "asks": [], "bids": []}', FrameErrorReason.INVALID_FIELD),
        (b'{"id": 1, "asks": [["1", "-2"]], "bids": []}', FrameErrorReason.INVALID_FIELD),
        (b'{"id": 1, "asks": [', FrameErrorReason.MALFORMED_JSON),
    ],
)
def test_bad_snapshot_is_a_frame_error(body, reason):
    with pytest.raises(FrameError) as info:
        P.parse_snapshot(body, "BTC_USDT")
    assert info.value.reason is reason and info.value.venue is Venue.GATEIO


def test_subscriptions_are_hashable_values():
    assert sub("trades") == Subscription("BTC_USDT", sub("trades").kind)
    assert len({sub("trades"), sub("trades"), sub("depth")}) == 2


@pytest.mark.parametrize("bomb", [b"[" * 100_000, b'{"a":' * 100_000])
def test_snapshot_nesting_bomb_is_malformed_json(bomb):
    body = b'{"id":1,"x":' + bomb
    with pytest.raises(FrameError) as info:
        P.parse_snapshot(body, "BTC_USDT")
    assert info.value.reason is FrameErrorReason.MALFORMED_JSON
