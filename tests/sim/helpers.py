"""Shared helpers of the simulator tests (sessions without sockets, handlers, books)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from ws_stack.book import ApplyResult, LocalOrderBook
from ws_stack.messages import Message, OrderBookUpdate, Venue, WebSocketMessageType
from ws_stack.sim.config import FaultConfig
from ws_stack.sim.faults import FaultPlan
from ws_stack.sim.gateio import SimulatedGateio
from ws_stack.sim.market import Market
from ws_stack.sim.mexc import SimulatedMexc
from ws_stack.sim.session import Session
from ws_stack.sim.stats import SimStats
from ws_stack.venues import make_handler

#: Upper bound of any single network test: generous, it only stops a hung test.
TEST_TIMEOUT = 20.0


def run(coro: Coroutine[Any, Any, Any], timeout: float = TEST_TIMEOUT) -> Any:
    """Run ``coro`` in a fresh event loop, failing if it takes longer than ``timeout``."""

    async def bounded() -> Any:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())


def make_session(
    venue: Venue,
    *,
    faults: FaultConfig | None = None,
    market: Market | None = None,
    stats: SimStats | None = None,
    replay: list[bytes | str] | None = None,
    replay_loops: int = 1,
    conn_id: int = 1,
) -> Session:
    if market is None:
        symbols = ["BTCUSDT", "ETHUSDT"] if venue is Venue.MEXC else ["BTC_USDT", "ETH_USDT"]
        market = Market(symbols, seed=1)
    simulated = (SimulatedMexc if venue is Venue.MEXC else SimulatedGateio)(market)
    return simulated.session(
        FaultPlan(faults or FaultConfig()),
        stats or SimStats(),
        conn_id=conn_id,
        replay=replay,
        replay_loops=replay_loops,
    )


class Decoded:
    """A venue handler that keeps copies of everything it decodes, and its errors."""

    def __init__(self, venue: Venue) -> None:
        self.handler = make_handler(venue)
        self.messages: list[Message] = []
        self.errors: list[Any] = []
        for msg_type in WebSocketMessageType:
            self.handler.on(msg_type, self._keep)
        self.handler.on_error(self.errors.append)

    def _keep(self, message: Message) -> None:
        # Pooled order-book levels are on loan until the callback returns.
        self.messages.append(message.copy() if isinstance(message, OrderBookUpdate) else message)

    def feed(self, frame: bytes | str) -> list[Message]:
        start = len(self.messages)
        self.handler.handle(frame)
        return self.messages[start:]

    def of(self, cls: type) -> list[Any]:
        return [m for m in self.messages if isinstance(m, cls)]

    @property
    def error_reasons(self) -> list[str]:
        return [error.reason.value for error in self.errors]


def apply_all(book: LocalOrderBook, updates: list[OrderBookUpdate]) -> list[ApplyResult]:
    return [book.apply(update) for update in updates]


def assert_same_book(client: LocalOrderBook, sim: LocalOrderBook, depth: int | None = None) -> None:
    assert client.last_update_id == sim.last_update_id
    assert client.bids(depth) == sim.bids(depth)
    assert client.asks(depth) == sim.asks(depth)
