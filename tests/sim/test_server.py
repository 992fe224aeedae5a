"""The simulator over real sockets on 127.0.0.1, seen from a plain websockets client."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus

from ws_stack.book import ApplyResult, LocalOrderBook
from ws_stack.exceptions import ConfigError
from ws_stack.frames import write_frames
from ws_stack.gateio import encoder as gate_encoder
from ws_stack.messages import (
    BookTicker,
    Level,
    OrderBookUpdate,
    Pong,
    SubscriptionAck,
    Trade,
    Venue,
    VenueError,
)
from ws_stack.mexc import encoder as mexc_encoder
from ws_stack.sim import FaultConfig, SimConfig, VenueSimulator, server
from ws_stack.sim.faults import FaultPlan
from ws_stack.sim.server import _Connection

from .helpers import Decoded, assert_same_book, run

MEXC_DEPTH = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
MEXC_CHANNELS = [
    "spot@public.aggre.deals.v3.api.pb@100ms@BTCUSDT",
    MEXC_DEPTH,
    "spot@public.limit.depth.v3.api.pb@BTCUSDT@5",
    "spot@public.aggre.bookTicker.v3.api.pb@10ms@BTCUSDT",
    "spot@public.deals.v3.api@BTCUSDT",
    "spot@public.increase.depth.v3.api@BTCUSDT",
    "spot@public.bookTicker.v3.api@BTCUSDT",
]
GATE_SUBSCRIPTIONS = [
    ("spot.trades", ["BTC_USDT"]),
    ("spot.book_ticker", ["BTC_USDT"]),
    ("spot.order_book_update", ["BTC_USDT", "100ms"]),
    ("spot.order_book", ["BTC_USDT", "5", "100ms"]),
]


def sim_for(venue: Venue, **config) -> VenueSimulator:
    config.setdefault("rate_hz", 100.0)
    config.setdefault("seed", 1)
    return VenueSimulator(venue, SimConfig(symbols=("BTCUSDT",), **config))


def mexc_request(method: str, *params: str) -> str:
    return json.dumps({"method": method, "params": list(params)})


def gate_request(channel: str, payload: list[str], event: str = "subscribe") -> str:
    return gate_encoder.encode_subscribe_request(
        channel, payload, 1_700_000_000, 1, unsubscribe=event == "unsubscribe"
    )


def depth_request(venue: Venue) -> str:
    if venue is Venue.MEXC:
        return mexc_request("SUBSCRIPTION", MEXC_DEPTH)
    return gate_request("spot.order_book_update", ["BTC_USDT", "100ms"])


def snapshot_url(sim: VenueSimulator) -> str:
    if sim.venue is Venue.MEXC:
        return f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=1000"
    return f"{sim.rest_url}/api/v4/spot/order_book?currency_pair=BTC_USDT&limit=100&with_id=true"


def http_get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers["Content-Type"]
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers["Content-Type"]


async def fetch_snapshot(sim: VenueSimulator) -> OrderBookUpdate:
    status, body, _ = await asyncio.to_thread(http_get, snapshot_url(sim))
    assert status == 200
    data = json.loads(body)
    last_id = data["lastUpdateId"] if sim.venue is Venue.MEXC else data["id"]
    return OrderBookUpdate(
        sim.venue,
        "BTCUSDT",
        [Level(float(p), float(s)) for p, s in data["bids"]],
        [Level(float(p), float(s)) for p, s in data["asks"]],
        True,
        last_update_id=last_id,
    )


async def receive(ws: ClientConnection, decoded: Decoded, count: int) -> list:
    out = []
    for _ in range(count):
        out += decoded.feed(await ws.recv())
    return out


# -- construction -------------------------------------------------------------------


def test_refuses_other_hosts():
    with pytest.raises(ConfigError, match=r"127\.0\.0\.1"):
        VenueSimulator(Venue.MEXC, host="0.0.0.0")


def test_unknown_venue_and_bad_port():
    with pytest.raises(ConfigError, match="unknown venue"):
        VenueSimulator("binance")
    with pytest.raises(ConfigError, match="port"):
        VenueSimulator(Venue.MEXC, port=70_000)


def test_gate_symbols_need_a_known_quote():
    with pytest.raises(ConfigError, match="BASE_QUOTE"):
        VenueSimulator(Venue.GATEIO, SimConfig(symbols=("FOOBAR",)))


def test_urls_need_a_running_simulator():
    sim = VenueSimulator("mexc")
    with pytest.raises(RuntimeError, match="start"):
        _ = sim.ws_url


def test_book_before_start_and_unknown_symbol():
    sim = VenueSimulator(Venue.GATEIO, SimConfig(symbols=("BTCUSDT",), seed=4))
    assert sim.symbols == ("BTC_USDT",)
    assert sim.book("BTC_USDT").bids() == sim.book("BTCUSDT").bids()
    with pytest.raises(KeyError, match="DOGE"):
        sim.book("DOGE_USDT")


# -- protocol over the wire -----------------------------------------------------------


def test_mexc_pushes_decode_without_errors():
    async def scenario():
        async with sim_for(Venue.MEXC, rate_hz=200.0) as sim, connect(sim.ws_url) as ws:
            assert sim.ws_url == f"ws://127.0.0.1:{sim.port}/ws"
            assert sim.rest_url == f"http://127.0.0.1:{sim.port}"
            await ws.send(mexc_request("SUBSCRIPTION", *MEXC_CHANNELS))
            decoded = Decoded(Venue.MEXC)
            frames = [await ws.recv() for _ in range(60)]
            for frame in frames:
                decoded.feed(frame)
            assert decoded.errors == []
            assert any(isinstance(f, bytes) for f in frames)
            assert any(isinstance(f, str) and f.startswith('{"c"') for f in frames)
            assert decoded.of(SubscriptionAck)[0].channel == ",".join(MEXC_CHANNELS)
            assert decoded.of(Trade) and decoded.of(BookTicker) and decoded.of(OrderBookUpdate)
            assert set(sim.stats.frames_sent) <= set(MEXC_CHANNELS)
            assert sim.stats.subscriptions == len(MEXC_CHANNELS)
            assert sim.stats.connections_accepted == 1

    run(scenario())


def test_gateio_pushes_decode_without_errors():
    async def scenario():
        async with sim_for(Venue.GATEIO, rate_hz=200.0) as sim, connect(sim.ws_url) as ws:
            assert sim.ws_url == f"ws://127.0.0.1:{sim.port}/ws/v4/"
            for channel, payload in GATE_SUBSCRIPTIONS:
                await ws.send(gate_request(channel, payload))
            decoded = Decoded(Venue.GATEIO)
            await receive(ws, decoded, 60)
            assert decoded.errors == []
            assert len(decoded.of(SubscriptionAck)) == 4
            assert decoded.of(Trade) and decoded.of(BookTicker)
            assert {u.is_snapshot for u in decoded.of(OrderBookUpdate)} == {True, False}

    run(scenario())


def test_mexc_control_replies():
    async def scenario():
        async with sim_for(Venue.MEXC, rate_hz=1.0) as sim, connect(sim.ws_url) as ws:
            await ws.send(
                mexc_request("SUBSCRIPTION", "spot@public.aggre.deals.v3.api.pb@100ms@DOGEUSDT")
            )
            error = json.loads(await ws.recv())
            assert error["code"] != 0
            await ws.send('{"method":"PING"}')
            assert json.loads(await ws.recv()) == {"id": 0, "code": 0, "msg": "PONG"}
            many = [f"spot@public.limit.depth.v3.api.pb@BTCUSDT@{n}" for n in (5, 10, 20)]
            many += [f"spot@public.limit.depth.v3.api@BTCUSDT@{n}" for n in (5, 10, 20)]
            many += [
                f"spot@public.aggre.{k}.v3.api.pb@{i}@BTCUSDT"
                for k in ("deals", "depth", "bookTicker")
                for i in ("100ms", "10ms")
            ]
            await ws.send(mexc_request("UNSUBSCRIPTION", *many))
            assert json.loads(await ws.recv())["msg"] == ",".join(many)

    run(scenario())


def test_mexc_subscription_limit():
    async def scenario():
        symbols = tuple(f"C{n}USDT" for n in range(31))
        config = SimConfig(symbols=symbols, rate_hz=0.1, depth_levels=2)
        async with VenueSimulator(Venue.MEXC, config) as sim, connect(sim.ws_url) as ws:
            names = [f"spot@public.aggre.depth.v3.api.pb@100ms@{s}" for s in symbols]
            await ws.send(mexc_request("SUBSCRIPTION", *names))
            decoded = Decoded(Venue.MEXC)
            replies = []
            while len(replies) < 2:
                replies += [
                    m
                    for m in decoded.feed(await ws.recv())
                    if isinstance(m, SubscriptionAck | VenueError)
                ]
            ack, error = replies
            assert ack.channel.split(",") == names[:30]
            assert isinstance(error, VenueError)
            assert error.channel == names[30]
            assert sim.stats.subscription_errors == 1

    run(scenario())


def test_gateio_control_replies():
    async def scenario():
        async with sim_for(Venue.GATEIO, rate_hz=1.0) as sim, connect(sim.ws_url) as ws:
            await ws.send(gate_request("spot.trades", ["BTC_XXX"]))
            error = json.loads(await ws.recv())
            assert error["error"]["code"] == 2
            assert "unknown currency pair" in error["error"]["message"]
            await ws.send(gate_request("spot.book_ticker", ["BTC_USDT"]))
            ack = json.loads(await ws.recv())
            assert {"conn_id", "trace_id", "requestId"} <= ack.keys()
            await ws.send(gate_request("spot.book_ticker", ["BTC_USDT"], "unsubscribe"))
            await ws.send(gate_encoder.encode_ping(1_700_000_000))
            decoded = Decoded(Venue.GATEIO)
            seen: list = []
            while not any(isinstance(m, Pong) for m in seen):
                seen += decoded.feed(await ws.recv())
            assert any(isinstance(m, SubscriptionAck) and m.unsubscribe for m in seen)
            assert sim.stats.unsubscriptions == 1

    run(scenario())


@pytest.mark.parametrize("venue", [Venue.MEXC, Venue.GATEIO])
def test_rest_snapshot_and_errors(venue):
    async def scenario():
        async with sim_for(venue) as sim:
            status, body, content_type = await asyncio.to_thread(http_get, snapshot_url(sim))
            assert status == 200
            assert content_type == "application/json"
            data = json.loads(body)
            book = sim.book("BTCUSDT")
            assert (data["lastUpdateId"] if venue is Venue.MEXC else data["id"]) == (
                book.last_update_id
            )
            assert [(float(p), float(s)) for p, s in data["bids"]] == book.bids()
            bad = snapshot_url(sim).replace("BTC", "DOGE")
            status, body, _ = await asyncio.to_thread(http_get, bad)
            assert status == 400
            assert json.loads(body)  # the venue's error JSON
            assert sim.stats.rest_requests == 2

    run(scenario())


def test_wrong_path_is_not_found():
    async def scenario():
        async with sim_for(Venue.MEXC) as sim:
            with pytest.raises(InvalidStatus) as info:
                async with connect(f"ws://127.0.0.1:{sim.port}/nope"):
                    pass
            assert info.value.response.status_code == 404
            assert sim.stats.connections_refused == 1

    run(scenario())


@pytest.mark.parametrize("venue", [Venue.MEXC, Venue.GATEIO])
def test_snapshot_plus_deltas_equals_the_simulator_book(venue):
    async def scenario():
        async with sim_for(venue, rate_hz=50.0) as sim, connect(sim.ws_url) as ws:
            await ws.send(depth_request(venue))
            decoded = Decoded(venue)
            buffered = [m for m in await receive(ws, decoded, 4) if isinstance(m, OrderBookUpdate)]
            book = LocalOrderBook(venue, "BTCUSDT")
            book.apply(await fetch_snapshot(sim))
            results = [book.apply(update) for update in buffered]
            compared = 0
            while compared < 3:
                for update in await receive(ws, decoded, 1):
                    results.append(book.apply(update))
                    if book.last_update_id == sim.book("BTCUSDT").last_update_id:
                        assert_same_book(book, sim.book("BTCUSDT"))
                        compared += 1
            assert ApplyResult.GAP not in results
            assert ApplyResult.APPLIED in results

    run(scenario())


def test_two_clients_get_continuous_deltas():
    async def scenario():
        async with sim_for(Venue.MEXC, rate_hz=200.0) as sim:
            async with connect(sim.ws_url) as one, connect(sim.ws_url) as two:
                clients = (one, two)
                for ws in clients:
                    await ws.send(depth_request(Venue.MEXC))
                for ws in clients:
                    decoded = Decoded(Venue.MEXC)
                    updates = [
                        m for m in await receive(ws, decoded, 40) if isinstance(m, OrderBookUpdate)
                    ]
                    for before, after in itertools.pairwise(updates):
                        assert after.first_update_id == before.last_update_id + 1
            assert sim.stats.connections_accepted == 2

    run(scenario())


def test_high_rate_sends_batches_in_sequence():
    async def scenario():
        async with sim_for(Venue.GATEIO, rate_hz=5000.0) as sim, connect(sim.ws_url) as ws:
            await ws.send(depth_request(Venue.GATEIO))
            decoded = Decoded(Venue.GATEIO)
            updates = [m for m in await receive(ws, decoded, 500) if isinstance(m, OrderBookUpdate)]
            assert len(updates) == 499
            for before, after in itertools.pairwise(updates):
                assert after.first_update_id == before.last_update_id + 1
            assert sim.stats.pushes >= 499

    run(scenario())


# -- faults ---------------------------------------------------------------------------


@pytest.mark.parametrize("venue", [Venue.MEXC, Venue.GATEIO])
def test_close_after_frames_drops_the_connection_without_close_frame(venue):
    async def scenario():
        async with sim_for(venue, faults=FaultConfig(close_after_frames=5)) as sim:
            async with connect(sim.ws_url) as ws:
                await ws.send(depth_request(venue))
                await ws.recv()  # ack
                pushes = 0
                with pytest.raises(ConnectionClosedError) as info:
                    while True:
                        await ws.recv()
                        pushes += 1
                assert pushes == 5
                assert info.value.rcvd is None  # no close frame: the TCP connection dropped
            assert sim.stats.faults["close"] == 1

    run(scenario())


@pytest.mark.parametrize("venue", [Venue.MEXC, Venue.GATEIO])
def test_stall_answers_no_ping_until_it_ends(venue):
    venue_ping = (
        '{"method":"PING"}' if venue is Venue.MEXC else gate_encoder.encode_ping(1_700_000_000)
    )

    async def scenario():
        faults = FaultConfig(stall_after_frames=3, stall_seconds=1.5)
        async with sim_for(venue, faults=faults) as sim, connect(sim.ws_url) as ws:
            await ws.send(depth_request(venue))
            for _ in range(4):  # ack + 3 pushes: the server is now stalled
                await ws.recv()
            await ws.send(venue_ping)
            pong_waiter = await ws.ping()
            done, _ = await asyncio.wait([pong_waiter], timeout=0.5)
            assert not done, "a stalled server must not answer WebSocket pings"
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.1):
                    await ws.recv()
            await pong_waiter  # the stall ends: the pong arrives
            decoded = Decoded(venue)
            seen: list = []
            while not any(isinstance(m, Pong) for m in seen):
                seen += decoded.feed(await ws.recv())
            assert sim.stats.faults["stall"] == 1

    run(scenario())


@pytest.mark.parametrize(
    ("venue", "reasons"),
    [
        (Venue.MEXC, {"malformed_protobuf", "malformed_json", "unknown_channel"}),
        (Venue.GATEIO, {"malformed_json", "unknown_channel", "invalid_field"}),
    ],
)
def test_malformed_frames_are_counted_by_the_handler(venue, reasons):
    async def scenario():
        async with sim_for(venue, faults=FaultConfig(malformed_every=2)) as sim:
            async with connect(sim.ws_url) as ws:
                await ws.send(depth_request(venue))
                decoded = Decoded(venue)
                await receive(ws, decoded, 13)  # ack + 12 pushes
            errors = decoded.handler.stats().errors
            assert sum(errors.values()) == 6
            assert set(errors) == reasons
            assert sim.stats.faults["malformed"] >= 6

    run(scenario())


@pytest.mark.parametrize("venue", [Venue.MEXC, Venue.GATEIO])
def test_gap_is_reported_by_the_local_order_book(venue):
    async def scenario():
        async with sim_for(venue, faults=FaultConfig(gap_every=5)) as sim:
            async with connect(sim.ws_url) as ws:
                await ws.send(depth_request(venue))
                decoded = Decoded(venue)
                await receive(ws, decoded, 1)
                book = LocalOrderBook(venue, "BTCUSDT")
                book.apply(await fetch_snapshot(sim))
                results = []
                while ApplyResult.GAP not in results:
                    results += [book.apply(m) for m in await receive(ws, decoded, 1)]
            assert book.gaps == 1
            assert not book.in_sync
            assert sim.stats.faults["gap"] >= 1

    run(scenario())


def _delays_ms(messages: list) -> list[float]:
    """How far behind this process's clock each message's event time is, in ms."""
    now = time.time_ns() / 1e6
    return [now - m.time_ms for m in messages if getattr(m, "time_ms", None) is not None]


def test_lag_puts_event_times_behind_until_the_fault_ends():
    async def scenario():
        async with (
            sim_for(Venue.GATEIO, faults=FaultConfig(lag_seconds=0.5)) as sim,
            connect(sim.ws_url) as ws,
        ):
            await ws.send(gate_request("spot.book_ticker", ["BTC_USDT"]))
            decoded = Decoded(Venue.GATEIO)
            lagged = _delays_ms(await receive(ws, decoded, 10))
            sim.set_faults(FaultConfig())
            await receive(ws, decoded, 3)  # what was on its way
            on_time = _delays_ms(await receive(ws, decoded, 10))
        assert len(lagged) >= 9 and min(lagged) >= 490, lagged  # 1 ms of rounding down
        assert len(on_time) == 10 and max(on_time) < 400, on_time
        assert decoded.errors == []

    run(scenario())


def test_lag_grows_with_the_pushes_sent():
    async def scenario():
        faults = FaultConfig(lag_seconds=0.0, lag_growth=10.0)  # +10 ms a push
        async with (
            sim_for(Venue.GATEIO, faults=faults, rate_hz=200.0) as sim,
            connect(sim.ws_url) as ws,
        ):
            await ws.send(gate_request("spot.book_ticker", ["BTC_USDT"]))
            decoded = Decoded(Venue.GATEIO)
            first = _delays_ms(await receive(ws, decoded, 5))
            await receive(ws, decoded, 40)
            later = _delays_ms(await receive(ws, decoded, 5))
        assert max(first) < min(later) - 300, (first, later)  # 40 pushes: 400 ms more

    run(scenario())


@pytest.mark.parametrize("venue", [Venue.MEXC, Venue.GATEIO])
def test_silence_stops_one_channel_and_the_others_go_on(venue):
    async def scenario():
        async with (
            sim_for(venue, faults=FaultConfig(silence="trades")) as sim,
            connect(sim.ws_url) as ws,
        ):
            if venue is Venue.MEXC:
                await ws.send(mexc_request("SUBSCRIPTION", *MEXC_CHANNELS))
            else:
                for channel, payload in GATE_SUBSCRIPTIONS:
                    await ws.send(gate_request(channel, payload))
            decoded = Decoded(venue)
            await receive(ws, decoded, 80)
            silenced = sim.stats.faults["silence"]
            sim.set_faults(FaultConfig())
            trades = []
            while not trades:
                trades = [m for m in await receive(ws, decoded, 1) if isinstance(m, Trade)]
        assert decoded.errors == []
        # While silenced: tickers and book updates, not one trade, but trades made and lost.
        before = decoded.messages[: -len(trades)]
        assert decoded.of(BookTicker) and decoded.of(OrderBookUpdate)
        assert not [m for m in before if isinstance(m, Trade)]
        assert silenced > 0

    run(scenario())


def test_refused_connections_get_503_then_succeed():
    async def scenario():
        faults = FaultConfig(refuse_connections_for=0.5)
        async with sim_for(Venue.MEXC, faults=faults) as sim:
            with pytest.raises(InvalidStatus) as info:
                async with connect(sim.ws_url):
                    pass
            assert info.value.response.status_code == 503
            while True:  # the refusal window ends; the test timeout bounds the wait
                try:
                    async with connect(sim.ws_url) as ws:
                        await ws.send('{"method":"PING"}')
                        assert "PONG" in await ws.recv()
                        break
                except InvalidStatus:
                    await asyncio.sleep(0.05)
            assert sim.stats.faults["refused"] >= 1
            assert sim.stats.connections_refused == sim.stats.faults["refused"]
            assert sim.stats.connections_accepted == 1

    run(scenario())


def test_handshake_delay():
    async def scenario():
        async with sim_for(Venue.GATEIO, faults=FaultConfig(handshake_delay=1.0)) as sim:
            with pytest.raises(TimeoutError):
                async with connect(sim.ws_url, open_timeout=0.1):
                    pass
            async with connect(sim.ws_url) as ws:
                await ws.send(gate_encoder.encode_ping(1_700_000_000))
                assert "spot.pong" in await ws.recv()
            assert sim.stats.faults["handshake_delay"] == 2

    run(scenario())


# -- replay and shutdown -------------------------------------------------------------


def test_replay_sends_the_recorded_frames(tmp_path: Path):
    frames: list[bytes | str] = [
        mexc_encoder.encode_book_ticker("BTCUSDT", "1.5", "2", "1.6", "3", send_time_ms=1),
        mexc_encoder.encode_legacy_book_ticker("BTCUSDT", "1.5", "2", "1.6", "3", time_ms=2),
        mexc_encoder.encode_depth("BTCUSDT", [("1.5", "0")], [], 10, 11),
    ]
    path = tmp_path / "frames.jsonl"
    with open(path, "wb") as out:
        write_frames(out, frames)

    async def scenario():
        config = SimConfig(symbols=("BTCUSDT",), rate_hz=500.0, replay=path, replay_loops=2)
        async with VenueSimulator(Venue.MEXC, config) as sim, connect(sim.ws_url) as ws:
            await ws.send(mexc_request("SUBSCRIPTION", MEXC_DEPTH))
            await ws.recv()  # ack
            got = [await ws.recv() for _ in range(6)]
            assert got == frames * 2
            with pytest.raises(TimeoutError):  # replay is over: nothing more comes
                async with asyncio.timeout(0.2):
                    await ws.recv()
            assert sim.stats.frames_sent["replay"] == 6

    run(scenario())


def test_bad_replay_file_is_a_config_error(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text("not a frames file\n")

    async def scenario():
        sim = VenueSimulator(Venue.MEXC, SimConfig(replay=path))
        with pytest.raises(ConfigError, match=r"bad\.jsonl"):
            await sim.start()
        assert not sim.running

    run(scenario())


def test_stop_leaves_no_task_and_closes_every_socket():
    async def scenario():
        faults = FaultConfig(stall_after_frames=5, stall_seconds=30.0)
        sim = sim_for(Venue.MEXC, rate_hz=1000.0, faults=faults)
        await sim.start()
        busy = await connect(sim.ws_url)
        stalled = await connect(sim.ws_url)
        idle = await connect(sim.ws_url)
        await busy.send(depth_request(Venue.MEXC))
        await stalled.send(depth_request(Venue.MEXC))
        for _ in range(6):
            await stalled.recv()  # ack + 5 pushes: stalled for 30 s unless stopped
        await busy.recv()
        assert sim.stats.connections_open == 3
        await sim.stop()
        assert asyncio.all_tasks() == {asyncio.current_task()}
        assert sim.stats.connections_open == 0
        assert sim.stats.faults["stall"] >= 1
        for ws in (busy, stalled, idle):
            with pytest.raises((ConnectionClosedOK, ConnectionClosedError)):
                while True:
                    await ws.recv()
            await ws.close()
        await sim.stop()  # idempotent

    run(scenario())


def test_restart_on_the_same_port():
    async def scenario():
        sim = sim_for(Venue.GATEIO)
        async with sim:
            port = sim.port
        restarted = VenueSimulator(Venue.GATEIO, sim.config, port=port)
        async with restarted, connect(restarted.ws_url) as ws:
            await ws.send(gate_encoder.encode_ping(0))
            assert "spot.pong" in await ws.recv()
        assert asyncio.all_tasks() == {asyncio.current_task()}

    run(scenario())


def test_set_faults_applies_to_open_connections_and_can_end_them():
    async def scenario():
        async with sim_for(Venue.MEXC, faults=FaultConfig(malformed_every=2)) as sim:
            async with connect(sim.ws_url) as ws:
                await ws.send(depth_request(Venue.MEXC))
                decoded = Decoded(Venue.MEXC)
                await receive(ws, decoded, 5)
                assert decoded.errors
                sim.set_faults(FaultConfig())  # no more faults, on this connection too
                await asyncio.sleep(0.05)  # pushes already under way
                errors = len(decoded.errors)
                await receive(ws, decoded, 10)
                assert len(decoded.errors) == errors
                # Counts start afresh: the next push drops the connection.
                sim.set_faults(FaultConfig(close_after_frames=1))
                with pytest.raises(ConnectionClosedError):
                    while True:
                        await ws.recv()
            assert sim.stats.faults["close"] == 1
            with pytest.raises(ConfigError, match="FaultConfig"):
                sim.set_faults({"close_after_frames": 1})  # type: ignore[arg-type]

    run(scenario())


def test_stalled_connections_are_counted():
    async def scenario():
        faults = FaultConfig(stall_after_frames=2, stall_seconds=0.3)
        async with sim_for(Venue.GATEIO, faults=faults) as sim, connect(sim.ws_url) as ws:
            assert sim.stalled_connections == 0
            await ws.send(depth_request(Venue.GATEIO))
            for _ in range(3):  # ack + 2 pushes
                await ws.recv()
            while not sim.stalled_connections:
                await asyncio.sleep(0.01)
            while sim.stalled_connections:  # the stall ends by itself
                await asyncio.sleep(0.01)
            await ws.recv()

    run(scenario())


@pytest.mark.parametrize("replay", [False, True], ids=["market", "replay"])
def test_push_loops_yield_to_other_work_every_so_many_frames(
    monkeypatch: pytest.MonkeyPatch, replay: bool
):
    """A push loop whose sends never wait (a fast reader) still lets the event loop run
    other work (other connections, control replies, REST) after PUSHES_PER_YIELD frames,
    counted as frames whatever the streams: a replay tick is one frame for all of them,
    and the loop must not yield after every few either. (A small bound here, so that the
    loop reaches it between the sleeps its rate makes.)"""
    per_yield = 8
    monkeypatch.setattr(server, "PUSHES_PER_YIELD", per_yield)

    class NeverWaits:
        """A socket that takes every frame at once."""

        transport = None

        async def send(self, frame: bytes | str) -> None:
            pass

    frames = None
    if replay:
        frames = [mexc_encoder.encode_depth("BTCUSDT", [("1.5", "0")], [], n, n + 1)
                  for n in range(10)]  # fmt: skip
    sim = sim_for(Venue.MEXC, rate_hz=100_000.0)
    yields: list[tuple[float, int]] = []  # (delay, frames pushed before) per push loop yield
    real_sleep = asyncio.sleep

    async def recording_sleep(delay: float, result: object = None) -> object:
        if pusher and asyncio.current_task() is pusher[0]:
            yields.append((delay, sim.stats.pushes))
        return await real_sleep(delay, result)

    async def scenario():
        session = sim._simulated_venue.session(
            FaultPlan(FaultConfig()), sim.stats, conn_id=1, replay=frames, replay_loops=10_000
        )
        session.receive(mexc_request("SUBSCRIPTION", *MEXC_CHANNELS[:4]), 0)
        connection = _Connection(NeverWaits(), session, FaultPlan(FaultConfig()))  # type: ignore[arg-type]
        connection.subscribed.set()
        monkeypatch.setattr(asyncio, "sleep", recording_sleep)
        pusher.append(asyncio.create_task(sim._push(connection)))
        while sim.stats.pushes < 5_000:
            await real_sleep(0)  # runs whenever the push loop lets it
        pusher[0].cancel()
        await asyncio.gather(pusher[0], return_exceptions=True)
        return len(session.streams)

    pusher: list[asyncio.Task[None]] = []
    streams = run(scenario())
    runs = [(delay, b - a) for (_, a), (delay, b) in itertools.pairwise(yields)]
    assert all(frames <= per_yield + streams for _, frames in runs)  # a tick may cross it
    forced = [frames for delay, frames in runs if delay == 0]  # not waiting for the rate
    assert len(forced) > 100 and all(frames >= per_yield for frames in forced)
