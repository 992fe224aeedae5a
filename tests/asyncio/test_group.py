"""Sharding subscriptions over connections (MEXC: at most 30 per connection)."""

import pytest
from conftest import fast_config, wait_until

from ws_stack.asyncio.gateio import GateioConnection
from ws_stack.asyncio.group import ConnectionGroup
from ws_stack.asyncio.mexc import MexcConnection
from ws_stack.exceptions import ConfigError
from ws_stack.gateio.handler import GateioHandler
from ws_stack.messages import Venue, WebSocketMessageType
from ws_stack.mexc.handler import MexcHandler
from ws_stack.protocol import ChannelKind
from ws_stack.sim import SimConfig, VenueSimulator
from ws_stack.state import ConnectionState

S = ConnectionState
SYMBOLS = tuple(f"C{n:02d}USDT" for n in range(25))


def mexc_subscriptions(symbols=SYMBOLS):
    kinds = [kind for kind in ChannelKind if kind in MexcConnection.channel_kinds]
    return [MexcConnection.subscription(s, kind) for s in symbols for kind in kinds]


def test_100_mexc_subscriptions_over_4_connections(run, transport):
    async def test():
        subs = mexc_subscriptions()
        assert len(subs) == 100
        async with VenueSimulator(Venue.MEXC, SimConfig(symbols=SYMBOLS, rate_hz=10)) as sim:
            group = ConnectionGroup(
                MexcConnection,
                MexcHandler(),
                subs,
                url=sim.ws_url,
                config=fast_config(transport=transport),
            )
            assert [len(c.subscriptions) for c in group.connections] == [30, 30, 30, 10]
            async with group:
                assert group.state is S.CONNECTED
                await wait_until(
                    lambda: all(
                        c.active_subscriptions == set(c.subscriptions) for c in group.connections
                    )
                )
                await wait_until(lambda: all(c.counters.frames > 10 for c in group.connections))
                metrics = group.metrics()
                assert sim.stats.connections_accepted == 4
                assert sim.stats.subscriptions == 100 and sim.stats.subscription_errors == 0
            assert group.state is S.CLOSED
        assert metrics.connections == 4 and metrics.subscriptions == 100
        assert metrics.frames == sum(c.counters.frames for c in group.connections)
        # Every subscription lives on exactly one connection.
        owners = [group.connection_of(sub) for sub in subs]
        assert all(sub in owner.subscriptions for sub, owner in zip(subs, owners, strict=True))

    run(test)


def test_subscribing_later_fills_connections_then_opens_new_ones(run, transport):
    async def test():
        symbols = SYMBOLS[:9]
        subs = mexc_subscriptions(symbols)  # 36
        async with VenueSimulator(Venue.MEXC, SimConfig(symbols=symbols, rate_hz=10)) as sim:
            group = ConnectionGroup(
                MexcConnection,
                MexcHandler(),
                subs[:28],
                url=sim.ws_url,
                config=fast_config(transport=transport),
            )
            async with group:
                await group.subscribe(*subs[28:])  # 2 fit, 6 need a second connection
                assert [len(c.subscriptions) for c in group.connections] == [30, 6]
                await group.connections[1].wait_connected()
                await wait_until(lambda: sim.stats.subscriptions == 36)
                await wait_until(
                    lambda: all(
                        c.active_subscriptions == set(c.subscriptions) for c in group.connections
                    )
                )
                await group.unsubscribe(*subs[:5], subs[0])
                assert len(group.subscriptions) == 31
                await wait_until(lambda: sim.stats.unsubscriptions == 5)

    run(test)


def test_gateio_has_no_limit_one_connection(run, transport):
    async def test():
        pairs = ("BTC_USDT", "ETH_USDT", "SOL_USDT")
        subs = [GateioConnection.subscription(p, k) for p in pairs for k in ChannelKind]
        async with VenueSimulator(Venue.GATEIO, SimConfig(symbols=pairs, rate_hz=20)) as sim:
            handler = GateioHandler()
            trades = []
            handler.on(WebSocketMessageType.TRADE, trades.append)
            async with ConnectionGroup(
                GateioConnection,
                handler,
                subs,
                url=sim.ws_url,
                config=fast_config(transport=transport),
            ) as group:
                assert len(group.connections) == 1
                await wait_until(lambda: {t.symbol for t in trades} == set(pairs))

    run(test)


def test_per_connection_must_fit_the_venue_limit():
    with pytest.raises(ConfigError, match="at most 30"):
        ConnectionGroup(MexcConnection, MexcHandler(), per_connection=31)
    group = ConnectionGroup(
        MexcConnection, MexcHandler(), mexc_subscriptions(SYMBOLS[:3]), per_connection=5
    )
    assert [len(c.subscriptions) for c in group.connections] == [5, 5, 2]


def test_connections_of_a_group_get_their_own_jitter_seed():
    policy = fast_config().reconnect
    group = ConnectionGroup(
        MexcConnection, MexcHandler(), mexc_subscriptions(SYMBOLS[:20]), config=fast_config()
    )
    seeds = [c.config.reconnect.seed for c in group.connections]
    assert seeds == [policy.seed + n for n in range(3)]
