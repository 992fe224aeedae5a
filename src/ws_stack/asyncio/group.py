"""Any number of subscriptions over as many connections as the venue requires.

MEXC accepts at most 30 subscriptions per connection. A :class:`ConnectionGroup` takes
any number and shards them: each new subscription goes to the first connection with room,
and a new connection opens when none has any. To the caller the group looks like one
connection: subscribe, unsubscribe, metrics, close.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterable

from ws_stack.exceptions import ConfigError, InvalidStateTransition
from ws_stack.handler import MessageHandler
from ws_stack.metrics import MetricsSnapshot, merge_snapshots
from ws_stack.protocol import Subscription
from ws_stack.state import ConnectionState, StateCallback

from .connection import Connection, ConnectionConfig, FrameTap

__all__ = ["ConnectionGroup"]

#: From most to least worrying: a group is as well as its worst connection.
_SEVERITY = (
    ConnectionState.ERROR,
    ConnectionState.RECONNECTING,
    ConnectionState.CONNECTING,
    ConnectionState.CLOSING,
    ConnectionState.DISCONNECTED,
    ConnectionState.CONNECTED,
    ConnectionState.CLOSED,
)


class ConnectionGroup:
    """Shards subscriptions of one venue over connections of ``connection_class``.

    All connections share ``handler`` (and so one set of callbacks and statistics).
    ``per_connection`` defaults to the venue's limit (one connection when it has none).
    """

    def __init__(
        self,
        connection_class: type[Connection],
        handler: MessageHandler,
        subscriptions: Iterable[Subscription] = (),
        *,
        url: str | None = None,
        config: ConnectionConfig | None = None,
        per_connection: int | None = None,
        frame_tap: FrameTap | None = None,
    ) -> None:
        limit = connection_class.max_subscriptions
        if per_connection is None:
            per_connection = limit
        elif per_connection < 1 or (limit is not None and per_connection > limit):
            most = f"at most {limit}" if limit is not None else "any number"
            raise ConfigError(
                f"per_connection must be between 1 and the venue's limit "
                f"({most}), got {per_connection}"
            )
        self.connection_class = connection_class
        self.handler = handler
        self.url = url
        self.config = ConnectionConfig() if config is None else config
        self.per_connection = per_connection
        self._frame_tap = frame_tap
        self._connections: list[Connection] = []
        self._owner: dict[Subscription, Connection] = {}
        self._state_callbacks: list[StateCallback] = []
        self._started = False
        self._closed = False
        for subscription in dict.fromkeys(subscriptions):
            self._place(subscription)

    @property
    def connections(self) -> tuple[Connection, ...]:
        return tuple(self._connections)

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return tuple(self._owner)

    def connection_of(self, subscription: Subscription) -> Connection | None:
        """The connection carrying ``subscription``."""
        return self._owner.get(subscription)

    @property
    def state(self) -> ConnectionState:
        """The most worrying state among the connections (``DISCONNECTED`` when none)."""
        states = {connection.state for connection in self._connections}
        for state in _SEVERITY:
            if state in states:
                return state
        return ConnectionState.CLOSED if self._closed else ConnectionState.DISCONNECTED

    def on_state_change(self, callback: StateCallback) -> None:
        """Call ``callback(old, new)`` on every state change of any connection."""
        self._state_callbacks.append(callback)
        for connection in self._connections:
            connection.on_state_change(callback)

    def _place(self, subscription: Subscription) -> tuple[Connection, bool]:
        """Assign ``subscription`` to a connection: ``(connection, opened_for_it)``."""
        limit = self.per_connection
        for connection in self._connections:
            if limit is None or len(connection.subscriptions) < limit:
                connection._add_subscriptions([subscription])
                self._owner[subscription] = connection
                return connection, False
        connection = self.connection_class(
            self.handler,
            [subscription],
            url=self.url,
            config=self._config_for(len(self._connections)),
            name=f"{self.connection_class.venue.value}-{len(self._connections)}",
            frame_tap=self._frame_tap,
        )
        for callback in self._state_callbacks:
            connection.on_state_change(callback)
        self._connections.append(connection)
        self._owner[subscription] = connection
        return connection, True

    def _config_for(self, index: int) -> ConnectionConfig:
        """Connection ``index``'s config: a seeded policy gets seed + index, so that the
        connections' jitter differs (and stays reproducible)."""
        policy = self.config.reconnect
        if policy.seed is None or index == 0:
            return self.config
        return dataclasses.replace(
            self.config, reconnect=dataclasses.replace(policy, seed=policy.seed + index)
        )

    async def start(self, *, wait: bool = True) -> None:
        """Start every connection; with ``wait``, return once all are connected."""
        if self._started:
            raise InvalidStateTransition("this ConnectionGroup was already started")
        self._started = True
        await asyncio.gather(*(c.start(wait=False) for c in self._connections))
        if wait:
            await self.wait_connected()

    async def wait_connected(self) -> None:
        """Wait until every connection is connected; raise the first failure."""
        await asyncio.gather(*(c.wait_connected() for c in self._connections))

    async def subscribe(self, *subscriptions: Subscription) -> None:
        """Add subscriptions, opening connections as needed."""
        fresh: list[Connection] = []
        to_send: dict[Connection, list[Subscription]] = {}
        for subscription in dict.fromkeys(subscriptions):
            if subscription in self._owner:
                continue
            connection, opened = self._place(subscription)
            if opened:
                fresh.append(connection)
            elif connection.state is ConnectionState.CONNECTED:
                # Added after its (re)subscribe batch was built: send it ourselves. A
                # connection not connected yet sends it with its batch when it connects.
                to_send.setdefault(connection, []).append(subscription)
        for connection, subs in to_send.items():
            await connection._send_subscribe(subs)
        if self._started and fresh:
            await asyncio.gather(*(c.start(wait=False) for c in fresh))

    async def unsubscribe(self, *subscriptions: Subscription) -> None:
        """Drop subscriptions; a connection left with none stays open for later ones."""
        by_connection: dict[Connection, list[Subscription]] = {}
        for subscription in dict.fromkeys(subscriptions):
            connection = self._owner.pop(subscription, None)
            if connection is not None:
                by_connection.setdefault(connection, []).append(subscription)
        for connection, subs in by_connection.items():
            await connection.unsubscribe(*subs)

    async def resubscribe(self, *subscriptions: Subscription) -> None:
        """Unsubscribe and subscribe again, on the connections that carry them."""
        by_connection: dict[Connection, list[Subscription]] = {}
        for subscription in dict.fromkeys(subscriptions):
            connection = self._owner.get(subscription)
            if connection is not None:
                by_connection.setdefault(connection, []).append(subscription)
        for connection, subs in by_connection.items():
            await connection.resubscribe(*subs)

    async def wait_closed(self) -> None:
        """Wait until every connection stops; raise as soon as one fails."""
        waiters = [asyncio.create_task(c.wait_closed()) for c in self._connections]
        if not waiters:
            return
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in waiters:
                task.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)

    async def close(self) -> None:
        """Close every connection (concurrently)."""
        self._closed = True
        await asyncio.gather(*(c.close() for c in self._connections))

    async def __aenter__(self) -> ConnectionGroup:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def metrics(self) -> MetricsSnapshot:
        """One snapshot for the whole group (counters summed, percentiles pooled)."""
        samples: list[int] = []
        for connection in self._connections:
            samples.extend(connection.counters.latency.samples())
        return merge_snapshots(
            (connection.metrics() for connection in self._connections),
            state=self.state.value,
            latency_samples=samples,
            handler_stats=[self.handler.stats()],
        )
