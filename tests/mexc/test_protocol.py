import json

import pytest

from ws_stack.exceptions import ConfigError, FrameError, FrameErrorReason
from ws_stack.messages import Pong, SubscriptionAck, Venue, VenueError
from ws_stack.mexc import encoder
from ws_stack.mexc.protocol import MAX_SUBSCRIPTIONS, MexcProtocol
from ws_stack.protocol import ChannelKind, Subscription

P = MexcProtocol


def sub(kind, symbol="BTCUSDT"):
    return P.subscription(symbol, kind)


@pytest.mark.parametrize("raw", ["BTCUSDT", "btcusdt", "BTC_USDT", "btc-usdt", "BTC/USDT"])
def test_symbols_are_normalised(raw):
    assert P.normalize_symbol(raw) == "BTCUSDT"


def test_channel_names_per_kind():
    assert P.channel(sub("trades")) == "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT"
    assert P.channel(sub("book_ticker")) == "spot@public.aggre.bookTicker.v3.api.pb@100ms@BTCUSDT"
    assert P.channel(sub("depth")) == "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
    assert P.channel(sub("depth_snapshot")) == "spot@public.limit.depth.v3.api.pb@BTCUSDT@20"


def test_unknown_channel_kind_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown channel kind 'candles'"):
        P.subscription("BTCUSDT", "candles")


def test_subscribe_and_unsubscribe_messages():
    subs = [sub("trades"), sub("depth")]
    (request,) = P.subscribe_requests(subs)
    assert json.loads(request.text) == {
        "method": "SUBSCRIPTION",
        "params": [P.channel(subs[0]), P.channel(subs[1])],
    }
    assert request.subscriptions == tuple(subs) and not request.unsubscribe
    (request,) = P.unsubscribe_requests(subs[:1])
    assert json.loads(request.text) == {"method": "UNSUBSCRIPTION", "params": [P.channel(subs[0])]}
    assert request.unsubscribe


def test_subscriptions_are_batched_within_the_limit():
    subs = [Subscription(f"S{n}USDT", ChannelKind.TRADES) for n in range(2 * MAX_SUBSCRIPTIONS + 1)]
    requests = P.subscribe_requests(subs)
    assert [len(r.subscriptions) for r in requests] == [30, 30, 1]


def test_heartbeat_and_pong():
    assert json.loads(P.heartbeat_message()) == {"method": "PING"}
    assert isinstance(P.parse_control(encoder.encode_pong()), Pong)


def test_ack_answers_the_channels_it_names():
    subs = [sub("trades"), sub("depth"), sub("book_ticker")]
    (request,) = P.subscribe_requests(subs)
    ack = P.parse_control(encoder.encode_ack(f"{P.channel(subs[0])},{P.channel(subs[2])}"))
    assert isinstance(ack, SubscriptionAck)
    assert P.answered(request, ack) == (subs[0], subs[2])
    other = P.parse_control(encoder.encode_ack(P.channel(sub("trades", "ETHUSDT"))))
    assert P.answered(request, other) == ()


def test_refusal_answers_the_bracketed_channels():
    subs = [sub("trades"), sub("depth")]
    (request,) = P.subscribe_requests(subs)
    frame = encoder.encode_error(
        2, f"Not Subscribed successfully! [{P.channel(subs[1])}].  Reason: Invalid symbol"
    )
    error = P.parse_control(frame)
    assert isinstance(error, VenueError)
    assert P.answered(request, error) == (subs[1],)


def test_limit_of_thirty_subscriptions_per_connection():
    P.check_subscription_count(30)
    with pytest.raises(ConfigError, match=r"at most 30 subscriptions.*ConnectionGroup"):
        P.check_subscription_count(31)


def test_snapshot_url_and_parse():
    assert (
        P.snapshot_url("http://127.0.0.1:9/", "btc_usdt")
        == "http://127.0.0.1:9/api/v3/depth?symbol=BTCUSDT&limit=1000"
    )
    body = (
        b'{"lastUpdateId": 1027024, "bids": [["4.00000000", "431.00000000"]],'
        b' "asks": [["4.00000200", "12.00000000"], ["4.1", "1"]], "timestamp": 1}'
    )
    snapshot = P.parse_snapshot(body, "BTCUSDT")
    assert snapshot.is_snapshot and snapshot.venue is Venue.MEXC
    assert snapshot.last_update_id == 1027024
    assert [(lv.price, lv.size) for lv in snapshot.bids] == [(4.0, 431.0)]
    assert [(lv.price, lv.size) for lv in snapshot.asks] == [(4.000002, 12.0), (4.1, 1.0)]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"lastUpdateId": 1, "bids": [["x", "1"]], "asks": []}', FrameErrorReason.INVALID_FIELD),
        (b'{"code": -1121, "msg": "Invalid symbol."}', FrameErrorReason.INVALID_FIELD),
        (b"<html>", FrameErrorReason.MALFORMED_JSON),
    ],
)
def test_bad_snapshot_is_a_frame_error(body, reason):
    with pytest.raises(FrameError) as info:
        P.parse_snapshot(body, "BTCUSDT")
    assert info.value.reason is reason and info.value.venue is Venue.MEXC


@pytest.mark.parametrize("bomb", [b"[" * 100_000, b'{"a":' * 100_000])
def test_snapshot_nesting_bomb_is_malformed_json(bomb):
    body = b'{"lastUpdateId":1,"x":' + bomb
    with pytest.raises(FrameError) as info:
        P.parse_snapshot(body, "BTCUSDT")
    assert info.value.reason is FrameErrorReason.MALFORMED_JSON


def test_order_book_v2_is_not_a_mexc_channel():
    with pytest.raises(ConfigError, match="mexc has no obu channel: choose from trades, "):
        P.subscription("BTCUSDT", "obu")
