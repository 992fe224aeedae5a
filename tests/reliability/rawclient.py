"""The client side of the :mod:`rawws` tests: one MexcConnection, and scripts that
misbehave on a server's first connections only, so that recovery can be seen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ws_stack.asyncio.mexc import MexcConnection
from ws_stack.messages import WebSocketMessageType
from ws_stack.mexc.handler import MexcHandler
from ws_stack.protocol import ChannelKind
from ws_stack.state import ConnectionState

from .helpers import fast_config, wait_until
from .rawws import BINARY, RawConnection, Script, ticker

#: The clients' ``max_size``.
LIMIT = 64 << 10


class Client:
    """A MexcConnection subscribed to one book ticker, counting what it delivers."""

    def __init__(self, url: str, transport: str = "websockets", **config: object) -> None:
        self.handler = MexcHandler()
        self.tickers = 0
        #: Every message the handler delivered, in order.
        self.messages: list[object] = []
        self.handler.on(WebSocketMessageType.BOOK_TICKER, self._count)
        for kind in (WebSocketMessageType.PONG, WebSocketMessageType.SUBSCRIPTION):
            self.handler.on(kind, self.messages.append)
        sub = MexcConnection.subscription("BTCUSDT", ChannelKind.BOOK_TICKER)
        self.subscriptions = {sub}
        self.connection = MexcConnection(
            self.handler,
            [sub],
            url=url,
            config=fast_config(max_size=LIMIT, transport=transport, **config),
        )

    def _count(self, ticker: object) -> None:
        self.tickers += 1
        self.messages.append(ticker)

    @property
    def errors(self) -> dict[str, int]:
        return self.connection.metrics().errors

    async def recovered(self, tickers: int) -> None:
        """Wait until reconnected, resubscribed and receiving again."""
        connection = self.connection
        await wait_until(
            lambda: (
                connection.state is ConnectionState.CONNECTED
                and connection.active_subscriptions == self.subscriptions
                and self.tickers >= tickers
            ),
            "the connection to recover",
            state=lambda: (connection.state, self.tickers, self.errors),
        )


def bad_first(make_bad: Callable[[RawConnection], Awaitable[None]], times: int = 1) -> Script:
    """A script: the first ``times`` connections get ``make_bad``, later ones 5 tickers."""

    async def script(connection: RawConnection) -> None:
        if connection.index <= times:
            await make_bad(connection)
            return
        for number in range(5):
            await connection.send_message(BINARY, ticker(number))

    return script
