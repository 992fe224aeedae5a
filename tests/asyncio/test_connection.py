"""The live connection against the venue simulator on loopback, through every fault the
simulator can inject (refused and slow handshakes, dropped connections, stalls,
malformed frames, sequence gaps) and a slow or failing consumer."""

import asyncio
import dataclasses
import ssl
import time
from collections import Counter
from itertools import islice

import pytest
from conftest import CLOSE_UNDER_LOAD, fast_config, pumped_deltas, wait_until

from ws_stack.asyncio.connection import Connection, ConnectionConfig
from ws_stack.asyncio.gateio import GateioConnection
from ws_stack.asyncio.mexc import MexcConnection
from ws_stack.asyncio.queue import OverflowPolicy
from ws_stack.exceptions import ConfigError, ConnectionFailed, InvalidStateTransition
from ws_stack.gateio.handler import GateioHandler
from ws_stack.messages import Venue, WebSocketMessageType
from ws_stack.mexc.handler import MexcHandler
from ws_stack.protocol import ChannelKind, ConnectOptions, Subscription
from ws_stack.reconnect import ReconnectionPolicy
from ws_stack.sim import FaultConfig, SimConfig, VenueSimulator
from ws_stack.state import ConnectionState

S = ConnectionState
T = WebSocketMessageType
KINDS = (ChannelKind.TRADES, ChannelKind.BOOK_TICKER, ChannelKind.DEPTH)

VENUES = {
    Venue.MEXC: (MexcConnection, MexcHandler, "BTCUSDT"),
    Venue.GATEIO: (GateioConnection, GateioHandler, "BTC_USDT"),
}


@pytest.fixture(params=list(VENUES), ids=lambda v: v.value)
def venue(request):
    return request.param


class Recorder:
    """Counts what a handler delivers, per message type."""

    def __init__(self, handler):
        self.counts: Counter[T] = Counter()
        for msg_type in T:
            handler.on(msg_type, lambda message, t=msg_type: self.counts.update([t]))


def setup(venue, transport, *, kinds=KINDS, config=None, url=None, **kwargs):
    cls, handler_cls, symbol = VENUES[venue]
    handler = handler_cls()
    subs = [cls.subscription(symbol, kind) for kind in kinds]
    config = dataclasses.replace(config or fast_config(), transport=transport)
    connection = cls(handler, subs, url=url, config=config, **kwargs)
    return connection, Recorder(handler), subs


def simulator(venue, rate_hz=100.0, **faults):
    symbol = VENUES[venue][2]
    return VenueSimulator(
        venue, SimConfig(symbols=(symbol,), rate_hz=rate_hz, faults=FaultConfig(**faults))
    )


def record_states(connection):
    states = []
    connection.on_state_change(lambda old, new: states.append(new))
    return states


def test_connect_subscribe_receive(run, venue, transport):
    async def test():
        async with simulator(venue) as sim:
            connection, seen, subs = setup(venue, transport, url=sim.ws_url)
            states = record_states(connection)
            await connection.start()
            assert connection.state is S.CONNECTED
            await wait_until(
                lambda: all(seen.counts[t] >= 3 for t in (T.TRADE, T.BOOK_TICKER, T.ORDER_BOOK))
            )
            await wait_until(lambda: connection.active_subscriptions == set(subs))
            metrics = connection.metrics()
            assert metrics.state == "connected" and metrics.uptime_s > 0
            assert metrics.frames > 0 and metrics.bytes > metrics.frames
            assert metrics.latency_p50_us is not None and metrics.latency_p99_us is not None
            assert metrics.subscriptions == 3 and metrics.reconnects == 0
            assert metrics.messages_by_type["trade"] >= 3
            await connection.close()
        assert connection.state is S.CLOSED
        assert states == [S.CONNECTING, S.CONNECTED, S.CLOSING, S.CLOSED]
        assert connection.metrics().uptime_s == 0

    run(test)


def test_venue_heartbeat_is_answered(run, venue, transport):
    async def test():
        async with simulator(venue) as sim:
            connection, seen, _ = setup(
                venue,
                transport,
                url=sim.ws_url,
                kinds=(ChannelKind.TRADES,),
                config=fast_config(heartbeat_interval=0.05),
            )
            async with connection:
                await wait_until(lambda: seen.counts[T.PONG] >= 2)

    run(test)


def test_reconnects_within_the_policy_and_resubscribes(run, venue, transport):
    async def test():
        async with simulator(venue, close_after_frames=15) as sim:
            config = fast_config()
            connection, seen, subs = setup(venue, transport, url=sim.ws_url, config=config)
            states = record_states(connection)
            async with connection:
                await wait_until(lambda: connection.counters.reconnects >= 2)
                await wait_until(
                    lambda: (
                        connection.state is S.CONNECTED
                        and connection.active_subscriptions == set(subs)
                    )
                )
                before = seen.counts[T.TRADE]
                await wait_until(lambda: seen.counts[T.TRADE] > before)
                # Every socket subscribed to everything again.
                assert sim.stats.subscriptions >= 3 * len(subs)
                delays = list(connection.reconnect_delays)
                metrics = connection.metrics()
        assert metrics.errors["connection_lost"] >= 2
        # A drop waits the policy's first (jittered) delay, drawn from the seeded policy.
        backoff = config.reconnect.backoff()
        assert delays == [backoff.dropped() for _ in delays]
        cycle = [S.CONNECTED, S.RECONNECTING, S.CONNECTING]
        assert states[:7] == [S.CONNECTING, *cycle * 2]

    run(test)


def test_malformed_frames_are_counted_and_later_frames_delivered(run, venue, transport):
    async def test():
        async with simulator(venue, malformed_every=4) as sim:
            connection, seen, _ = setup(venue, transport, url=sim.ws_url)
            async with connection:
                await wait_until(lambda: connection.handler.stats().failed_frames >= 3)
                delivered = sum(seen.counts.values())
                await wait_until(lambda: sum(seen.counts.values()) >= delivered + 10)
                metrics = connection.metrics()
                assert connection.state is S.CONNECTED
        assert metrics.reconnects == 0
        frame_errors = sum(
            n
            for reason, n in metrics.errors.items()
            if reason
            in ("malformed_json", "malformed_protobuf", "unknown_channel", "invalid_field")
        )
        assert frame_errors >= 3

    run(test)


def test_refused_connections_back_off_then_error(run, venue, transport):
    async def test():
        policy = ReconnectionPolicy(
            initial_delay=0.01, factor=2, max_delay=0.04, max_attempts=4, jitter=0.5, seed=11
        )
        async with simulator(venue, refuse_connections_for=60) as sim:
            connection, _, _ = setup(
                venue, transport, url=sim.ws_url, config=fast_config(reconnect=policy)
            )
            states = record_states(connection)
            with pytest.raises(ConnectionFailed, match=r"after 4 attempts.*503"):
                await connection.start()
            assert connection.state is S.ERROR
            assert sim.stats.connections_refused == 4
            with pytest.raises(ConnectionFailed):
                await connection.wait_closed()
            with pytest.raises(ConnectionFailed):
                await connection.subscribe(Subscription("X", ChannelKind.TRADES))
            assert list(connection.reconnect_delays) == list(policy.delays())
            assert connection.metrics().errors == {"connect_failed": 4}
            await connection.close()
        retry = [S.RECONNECTING, S.CONNECTING]
        assert states == [S.CONNECTING, *retry * 3, S.ERROR, S.CLOSING, S.CLOSED]

    run(test)


def test_refused_for_a_while_then_connected(run, venue, transport):
    async def test():
        policy = ReconnectionPolicy(
            initial_delay=0.02, factor=1.5, max_delay=0.1, max_attempts=None, jitter=0.2, seed=5
        )
        async with simulator(venue, refuse_connections_for=0.3) as sim:
            connection, seen, _ = setup(
                venue, transport, url=sim.ws_url, config=fast_config(reconnect=policy)
            )
            async with connection:
                await wait_until(lambda: seen.counts[T.TRADE] > 0)
                delays = list(connection.reconnect_delays)
                failures = connection.metrics().errors["connect_failed"]
        assert delays and failures == len(delays) == sim.stats.connections_refused
        assert delays == list(islice(policy.delays(), len(delays)))

    run(test)


def test_connect_timeout(run, transport):
    async def test():
        policy = ReconnectionPolicy(initial_delay=0.01, max_delay=0.01, max_attempts=2)
        async with simulator(Venue.MEXC, handshake_delay=5) as sim:
            connection, _, _ = setup(
                Venue.MEXC,
                transport,
                url=sim.ws_url,
                config=fast_config(connect_timeout=0.1, reconnect=policy),
            )
            with pytest.raises(ConnectionFailed, match=r"after 2 attempts.*TimeoutError"):
                await connection.start()
            assert connection.metrics().errors == {"connect_timeout": 2}
            await connection.close()

    run(test)


def test_stall_is_detected_as_dead_peer_and_reconnected(run, venue, transport):
    async def test():
        async with simulator(venue, stall_after_frames=10, stall_seconds=10) as sim:
            config = fast_config(dead_peer_timeout=0.3, heartbeat_interval=0.1)
            connection, seen, _ = setup(venue, transport, url=sim.ws_url, config=config)
            async with connection:
                await wait_until(
                    lambda: connection.counters.reconnects >= 1 and connection.state is S.CONNECTED
                )
                before = seen.counts[T.TRADE]
                await wait_until(lambda: seen.counts[T.TRADE] > before)
                metrics = connection.metrics()
        assert metrics.errors["dead_peer"] >= 1
        assert sim.stats.faults["stall"] >= 1

    run(test)


def test_subscribe_and_unsubscribe_while_connected(run, venue, transport):
    async def test():
        async with simulator(venue) as sim:
            connection, seen, (trades,) = setup(
                venue, transport, url=sim.ws_url, kinds=(ChannelKind.TRADES,)
            )
            cls, _, symbol = VENUES[venue]
            ticker = cls.subscription(symbol, ChannelKind.BOOK_TICKER)
            async with connection:
                await wait_until(lambda: seen.counts[T.TRADE] > 0)
                assert seen.counts[T.BOOK_TICKER] == 0
                await connection.subscribe(ticker)
                await wait_until(lambda: seen.counts[T.BOOK_TICKER] > 0)
                await wait_until(lambda: ticker in connection.active_subscriptions)
                await connection.unsubscribe(trades)
                assert connection.subscriptions == (ticker,)
                await wait_until(lambda: sim.stats.unsubscriptions == 1)
                await asyncio.sleep(0.05)  # frames already on the wire
                after = seen.counts[T.TRADE]
                tickers = seen.counts[T.BOOK_TICKER]
                await wait_until(lambda: seen.counts[T.BOOK_TICKER] >= tickers + 10)
                assert seen.counts[T.TRADE] == after

    run(test)


@pytest.mark.parametrize("policy", [OverflowPolicy.DROP_OLDEST, OverflowPolicy.DROP_NEWEST])
def test_queue_overflow_is_counted(run, policy, transport):
    async def test():
        async with simulator(Venue.GATEIO, rate_hz=400) as sim:
            connection, _, _ = setup(
                Venue.GATEIO,
                transport,
                url=sim.ws_url,
                config=fast_config(queue_size=2, overflow=policy),
            )
            # A slow handler: the reader outpaces it and the queue overflows.
            connection.handler.on(T.TRADE, lambda trade: time.sleep(0.002))
            async with connection:
                await wait_until(lambda: connection.queue.dropped >= 5)
                metrics = connection.metrics()
                handled = connection.handler.stats().frames
                # Nothing is lost silently: every frame read was handled, dropped or queued.
                assert connection.counters.frames == handled + connection.queue.dropped + len(
                    connection.queue
                )
        assert metrics.queue_dropped >= 5 and metrics.queue_capacity == 2

    run(test)


def test_block_policy_never_drops(run, transport):
    async def test():
        async with simulator(Venue.GATEIO, rate_hz=400) as sim:
            connection, seen, _ = setup(
                Venue.GATEIO,
                transport,
                url=sim.ws_url,
                config=fast_config(queue_size=2, overflow=OverflowPolicy.BLOCK),
            )
            trade_ids = []

            def slow(trade):
                time.sleep(0.001)
                trade_ids.append(trade.trade_id)

            connection.handler.on(T.TRADE, slow)
            async with connection:
                await wait_until(lambda: seen.counts[T.TRADE] >= 50)
                # The reader waited for room (the queue never held more than its size).
                assert len(connection.queue) <= 2
        assert connection.queue.dropped == 0
        # Nothing lost or reordered while the reader waited: one trade id after the other.
        assert trade_ids == list(range(trade_ids[0], trade_ids[0] + len(trade_ids)))

    run(test)


def test_frame_tap_sees_frames_exactly_as_received(run, transport):
    async def test():
        frames = []
        async with simulator(Venue.MEXC) as sim:
            connection, seen, _ = setup(
                Venue.MEXC, transport, url=sim.ws_url, frame_tap=frames.append
            )
            async with connection:
                await wait_until(lambda: seen.counts[T.ORDER_BOOK] > 2)
        assert any(isinstance(f, str) and '"code":0' in f for f in frames)  # ack: text
        assert any(isinstance(f, bytes) for f in frames)  # protobuf push: binary
        assert len(frames) == connection.counters.frames

    run(test)


def test_handler_exception_is_counted_and_the_loop_survives(run, transport):
    async def test():
        async with simulator(Venue.GATEIO) as sim:
            connection, _, _ = setup(Venue.GATEIO, transport, url=sim.ws_url)
            real = connection.handler.handle
            calls = Counter()

            def flaky(frame):
                calls["n"] += 1
                if calls["n"] % 3 == 0:
                    raise RuntimeError("handler bug")
                return real(frame)

            connection.handler.handle = flaky
            async with connection:
                await wait_until(lambda: calls["n"] >= 12)
                assert connection.state is S.CONNECTED
                assert connection.metrics().errors["handler_exception"] >= 4

    run(test)


def test_close_while_reconnecting_or_connecting_leaves_nothing_running(run, transport):
    async def test():
        slow = ReconnectionPolicy(initial_delay=10, max_delay=10, max_attempts=None)
        async with simulator(Venue.MEXC, refuse_connections_for=60) as sim:
            connection, _, _ = setup(
                Venue.MEXC, transport, url=sim.ws_url, config=fast_config(reconnect=slow)
            )
            await connection.start(wait=False)
            await connection.wait_for_state(S.RECONNECTING)
            await connection.close()
            assert connection.state is S.CLOSED
        async with simulator(Venue.MEXC, handshake_delay=10) as sim:
            connection, _, _ = setup(Venue.MEXC, transport, url=sim.ws_url)
            await connection.start(wait=False)
            await asyncio.sleep(0.05)
            assert connection.state is S.CONNECTING
            await connection.close()
            await connection.close()  # idempotent
            assert connection.state is S.CLOSED
            with pytest.raises(ConnectionFailed, match="closed"):
                await connection.wait_connected()

    run(test)


def test_lifecycle_misuse_raises(run, transport):
    async def test():
        async with simulator(Venue.MEXC) as sim:
            connection, _, _ = setup(Venue.MEXC, transport, url=sim.ws_url)
            async with connection:
                with pytest.raises(InvalidStateTransition):
                    await connection.start()
            with pytest.raises(ConnectionFailed, match="closed"):
                await connection.subscribe(Subscription("ETHUSDT", ChannelKind.TRADES))
        never_started, _, _ = setup(Venue.MEXC, transport)
        await never_started.close()
        assert never_started.state is S.CLOSED

    run(test)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"close_timeout": float("nan")}, "close_timeout"),
        ({"dead_peer_timeout": -1}, "dead_peer_timeout"),
        ({"queue_size": 0}, "queue_size"),
        ({"overflow": "drop"}, "overflow"),
        ({"max_size": 0}, "max_size"),
        ({"reconnect": None}, "reconnect"),
        ({"latency_window": 0}, "latency_window"),
        ({"compression": 1}, "compression"),
        ({"insecure_skip_tls_verify": "no"}, "insecure_skip_tls_verify"),
        ({"credentials": ("key", "secret")}, "credentials"),
    ],
)
def test_invalid_config_is_a_config_error(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        ConnectionConfig(**kwargs)


def test_invalid_connection_setup_is_a_config_error():
    with pytest.raises(ConfigError, match="longer than the heartbeat interval"):
        MexcConnection(MexcHandler(), config=ConnectionConfig(dead_peer_timeout=5))
    MexcConnection(MexcHandler(), config=ConnectionConfig(dead_peer_timeout=5, heartbeat=False))
    with pytest.raises(ConfigError, match="bad WebSocket URL"):
        MexcConnection(MexcHandler(), url="http://example.com")
    with pytest.raises(ConfigError, match="credentials in the WebSocket URL") as info:
        MexcConnection(MexcHandler(), url="wss://key:hush@example.com/ws")
    assert "hush" not in str(info.value)
    with pytest.raises(ConfigError, match="gateio handler"):
        MexcConnection(GateioHandler())
    subs = [Subscription(f"S{n}USDT", ChannelKind.TRADES) for n in range(31)]
    with pytest.raises(ConfigError, match="at most 30"):
        MexcConnection(MexcHandler(), subs)
    with pytest.raises(TypeError):
        Connection(MexcHandler())  # the venue-neutral engine needs a protocol mixin


def test_connection_context_applies_the_options(venue):
    cls = VENUES[venue][0]
    options = ConnectOptions(
        open_timeout=1.5, close_timeout=0.5, ping_interval=5, ping_timeout=None, max_size=1234
    )
    kwargs = cls.connect_kwargs(options)
    assert kwargs["open_timeout"] == 1.5 and kwargs["close_timeout"] == 0.5
    assert kwargs["ping_interval"] == 5 and kwargs["ping_timeout"] is None
    assert kwargs["max_size"] == 1234
    assert kwargs["compression"] is None and kwargs["proxy"] is None
    context = cls.connection_context("ws://127.0.0.1:1/ws/v4/", options)
    assert context.uri == "ws://127.0.0.1:1/ws/v4/"  # not opened: nothing to clean up


def test_config_becomes_the_client_options():
    config = ConnectionConfig(connect_timeout=3, ws_ping_interval=None, max_size=None)
    kwargs = MexcConnection.connect_kwargs(config.connect_options())
    assert kwargs["open_timeout"] == 3 and kwargs["close_timeout"] == config.close_timeout
    assert kwargs["ping_interval"] is None and kwargs["max_size"] is None


def test_compression_and_tls_options():
    """Compression is opt-in; TLS is verified unless the loud insecure option is set."""
    plain = ConnectOptions(
        open_timeout=1, close_timeout=1, ping_interval=None, ping_timeout=None, max_size=1 << 20
    )
    kwargs = MexcConnection.connect_kwargs
    assert kwargs(plain)["compression"] is None
    assert kwargs(plain._replace(compression=True))["compression"] == "deflate"
    assert "ssl" not in kwargs(plain._replace(insecure_skip_tls_verify=True))
    context = MexcConnection.connection_context
    secure = context("wss://127.0.0.1:1/ws", plain)
    # Python's default, verifying context (ws_stack.asyncio.tls), on either transport.
    verified = secure.create_connection_kwargs["ssl"]
    assert verified.verify_mode == ssl.CERT_REQUIRED and verified.check_hostname
    insecure = context("wss://127.0.0.1:1/ws", plain._replace(insecure_skip_tls_verify=True))
    tls = insecure.create_connection_kwargs["ssl"]
    assert tls.verify_mode == ssl.CERT_NONE and not tls.check_hostname
    # A plain ws:// URL gets no TLS context at all (websockets would refuse one).
    plain_url = context("ws://127.0.0.1:1/ws", plain._replace(insecure_skip_tls_verify=True))
    assert plain_url.create_connection_kwargs.get("ssl") is None


def test_unexpected_error_in_the_receive_path_ends_in_error(run, transport):
    async def test():
        def broken_tap(frame):
            raise OSError("disk full")

        async with simulator(Venue.MEXC) as sim:
            connection, _, _ = setup(Venue.MEXC, transport, url=sim.ws_url, frame_tap=broken_tap)
            await connection.start()
            with pytest.raises(ConnectionFailed, match=r"unexpected error.*disk full"):
                await connection.wait_closed()
            assert connection.state is S.ERROR
            await connection.close()

    run(test)


def test_refused_subscription_is_reported_and_counted(run, venue, transport):
    async def test():
        async with simulator(venue) as sim:
            connection, seen, (trades,) = setup(
                venue, transport, url=sim.ws_url, kinds=(ChannelKind.TRADES,)
            )
            cls = VENUES[venue][0]
            unknown = cls.subscription("NOPE_USDT", ChannelKind.TRADES)
            async with connection:
                await connection.subscribe(unknown)
                await wait_until(lambda: unknown in connection.refused_subscriptions)
                await wait_until(lambda: trades in connection.active_subscriptions)
                assert unknown not in connection.active_subscriptions
                assert connection.metrics().errors["venue_error"] == 1
                assert seen.counts[T.ERROR] == 1
                assert connection.state is S.CONNECTED

    run(test)


@pytest.mark.parametrize("policy", [OverflowPolicy.DROP_OLDEST, OverflowPolicy.DROP_NEWEST])
def test_frames_dropped_callbacks_see_every_drop(run, policy, transport):
    async def test():
        async with simulator(Venue.GATEIO, rate_hz=400) as sim:
            connection, _, _ = setup(
                Venue.GATEIO,
                transport,
                url=sim.ws_url,
                config=fast_config(queue_size=2, overflow=policy),
            )
            reported = []
            connection.on_frames_dropped(reported.append)
            connection.on_frames_dropped(lambda count: 1 / 0)  # logged, others still called
            connection.handler.on(T.TRADE, lambda trade: time.sleep(0.002))
            async with connection:
                await wait_until(lambda: connection.queue.dropped >= 5 and sum(reported) >= 5)
            # Drops after the last batch, as the connection closes, need no report.
            assert 5 <= sum(reported) <= connection.queue.dropped
            assert all(count > 0 for count in reported)

    run(test)


# -- closing under load ------------------------------------------------------------


def test_close_under_load_takes_no_close_timeout(run, transport):
    """The peer never stops streaming and its answer to the close frame waits behind
    megabytes of deltas: close() sends its close frame, discards what still comes for a
    short while, then drops the connection, instead of waiting out close_timeout with
    reading paused (where the peer's close frame can never be seen)."""
    pump = pumped_deltas()
    try:

        async def test():
            handler = GateioHandler()
            recorder = Recorder(handler)
            sub = GateioConnection.subscription("BTC_USDT", ChannelKind.DEPTH)
            config = ConnectionConfig(transport=transport)
            assert config.close_timeout == 2.0
            connection = GateioConnection(handler, [sub], url=pump.ws_url, config=config)
            await connection.start()
            # Well into the stream: the socket's buffers are full behind the client.
            await wait_until(lambda: recorder.counts[T.ORDER_BOOK] >= 20_000)
            started = time.monotonic()
            await connection.close()
            elapsed = time.monotonic() - started
            assert connection.state is S.CLOSED
            assert elapsed < CLOSE_UNDER_LOAD, f"close() took {elapsed * 1000:.0f} ms"

        run(test)
    finally:
        pump.close(at_once=True)
