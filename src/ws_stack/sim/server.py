"""The venue simulator's asyncio layer: a ``websockets`` server on 127.0.0.1.

It only moves frames: each connection gets a :class:`~ws_stack.sim.session.Session` (one
connection's side of the venue, sans I/O) and a :class:`~ws_stack.sim.faults.FaultPlan`;
a receive loop feeds the client's frames to the session and sends its replies, and one
push task per connection sends the session's pushes at ``rate_hz``. The REST snapshot is
answered on the same port from ``process_request``; connection-level faults (abrupt
close, stall, refusal, handshake delay) are carried out here.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import email.utils
import http
import itertools
import logging
import time
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from ws_stack.book import LocalOrderBook
from ws_stack.exceptions import ConfigError
from ws_stack.frames import FramesFileError, read_frames
from ws_stack.messages import Venue
from ws_stack.sim.config import FaultConfig, SimConfig
from ws_stack.sim.faults import ConnectionAction, FaultPlan
from ws_stack.sim.gateio import SimulatedGateio
from ws_stack.sim.market import BookState, Market
from ws_stack.sim.mexc import SimulatedMexc
from ws_stack.sim.session import Frame, Session, SimulatedVenue
from ws_stack.sim.stats import SimStats
from ws_stack.venues import parse_venue

__all__ = ["HOST", "VenueSimulator"]

logger = logging.getLogger(__name__)

#: The only address the simulator binds: it is a test fixture, never a public server.
HOST = "127.0.0.1"
#: Shortest sleep of a push loop; above ``1 / MIN_SLEEP`` Hz pushes go out in batches.
MIN_SLEEP = 0.001
#: Most rate ticks a push loop catches up on after falling behind, in seconds of pushes.
MAX_CATCH_UP = 0.1
#: Frames a push loop sends at most before it lets the event loop run other work: at
#: saturating rates, sends rarely wait for the socket, and without this one connection
#: would starve the others, control replies and REST snapshots. Counted in frames, not
#: ticks or streams: a replay tick is one frame whatever the streams, a market tick one
#: or more per stream.
PUSHES_PER_YIELD = 256
#: Seconds to wait for a client's closing handshake at stop() before dropping it.
CLOSE_TIMEOUT = 2.0

_SIMULATED_VENUES: dict[Venue, type[SimulatedVenue]] = {
    Venue.MEXC: SimulatedMexc,
    Venue.GATEIO: SimulatedGateio,
}


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class _Connection:
    """What the server keeps per accepted connection."""

    __slots__ = ("awake", "plan", "session", "subscribed", "unyielded", "ws")

    def __init__(self, ws: ServerConnection, session: Session, plan: FaultPlan) -> None:
        self.ws = ws
        self.session = session
        self.plan = plan
        #: Set while the session has streams to push.
        self.subscribed = asyncio.Event()
        #: Cleared during a stall: the receive loop holds its replies.
        self.awake = asyncio.Event()
        self.awake.set()
        #: Frames pushed since the push loop last let the event loop run other work.
        self.unyielded = 0

    def wake(self) -> None:
        """End a stall: read the socket again and let replies through."""
        transport = self.ws.transport
        if not transport.is_closing():
            transport.resume_reading()
        self.awake.set()


class VenueSimulator:
    """A local MEXC or Gate.io market-data server with a seeded market and injectable faults.

    Use as ``async with VenueSimulator(Venue.MEXC, SimConfig(...)) as sim:``; connect a
    client to :attr:`ws_url`, take REST snapshots from :attr:`rest_url`, and compare its
    order book with :meth:`book`.

    The market moves only while someone is subscribed: a connection's push tick advances
    a symbol by one version when that connection has already sent the latest one, so the
    book stands still between tests and every subscriber sees every version in order.
    """

    def __init__(
        self,
        venue: Venue | str,
        config: SimConfig | None = None,
        *,
        port: int = 0,
        host: str = HOST,
    ) -> None:
        if isinstance(venue, str):
            venue = parse_venue(venue)
        if not isinstance(venue, Venue):
            raise ConfigError(f"unknown venue {venue!r}: use Venue.MEXC or Venue.GATEIO")
        if host != HOST:
            raise ConfigError(f"the simulator binds {HOST} only, not {host!r}")
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError(
                f"port must be an integer in [0, 65535] (0: any free port), got {port!r}"
            )
        self.venue = venue
        self.config = config if config is not None else SimConfig()
        venue_class = _SIMULATED_VENUES[venue]
        symbols = [venue_class.wire_symbol(s) for s in self.config.symbols]
        if venue is Venue.GATEIO:
            for original, pair in zip(self.config.symbols, symbols, strict=True):
                if "_" not in pair:
                    raise ConfigError(
                        f"cannot tell base from quote in {original!r}: "
                        f"write it as BASE_QUOTE, e.g. BTC_USDT"
                    )
        self.symbols: tuple[str, ...] = tuple(symbols)
        self.stats = SimStats()
        self._market = Market(
            symbols,
            depth_levels=self.config.depth_levels,
            seed=self.config.seed,
            keep_books=self.config.keep_books,
        )
        self._simulated_venue: SimulatedVenue = venue_class(self._market)
        self._requested_port = port
        self._port: int | None = None
        self._server: Server | None = None
        self._connections: set[_Connection] = set()
        self._replay: list[Frame] | None = None
        self._refuse_until = 0.0
        self._stopping = asyncio.Event()
        self._ids = itertools.count(1)

    # -- public API ------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port (known once started)."""
        if self._port is None:
            raise RuntimeError("the simulator is not running: start() it first")
        return self._port

    @property
    def ws_url(self) -> str:
        """WebSocket endpoint, e.g. ``ws://127.0.0.1:PORT/ws`` (MEXC)."""
        return f"ws://{HOST}:{self.port}{self._simulated_venue.ws_path}"

    @property
    def rest_url(self) -> str:
        """Base URL of the REST snapshot endpoint (same port)."""
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def stalled_connections(self) -> int:
        """Connections in the middle of a stall (silent, their socket not read)."""
        return sum(not connection.awake.is_set() for connection in self._connections)

    def book_at(self, symbol: str, version: int) -> BookState | None:
        """The true book of ``symbol`` (either spelling) at ``version``: ``None`` unless
        it is among the latest ``SimConfig.keep_books`` versions."""
        return self._market[self._simulated_venue.wire_symbol(symbol)].book_at(version)

    def version(self, symbol: str) -> int:
        """The current version of ``symbol``'s book (either spelling)."""
        return self._market[self._simulated_venue.wire_symbol(symbol)].version

    def book(self, symbol: str) -> LocalOrderBook:
        """A copy of the simulator's current order book of ``symbol`` (either spelling)."""
        wire = self._simulated_venue.wire_symbol(symbol)
        if wire not in self._market:
            raise KeyError(f"{symbol!r} is not simulated; symbols: {', '.join(self.symbols)}")
        return self._market[wire].book(self.venue)

    def set_faults(self, faults: FaultConfig) -> None:
        """Inject ``faults`` from now on, on the open connections too.

        ``set_faults(FaultConfig())`` ends fault injection, e.g. to let a client settle
        before its state is compared with the simulator's. Open connections count their
        pushes afresh (``close_after_frames=1`` drops each after its next push); a stall
        under way runs its course; a refusal window starts now.
        """
        if not isinstance(faults, FaultConfig):
            raise ConfigError(f"set_faults() takes a FaultConfig, got {faults!r}")
        self.config = dataclasses.replace(self.config, faults=faults)
        for connection in self._connections:
            connection.plan = connection.session.plan = FaultPlan(faults)
        if self._server is not None:
            loop = asyncio.get_running_loop()
            self._refuse_until = loop.time() + faults.refuse_connections_for

    async def start(self) -> None:
        """Serve on 127.0.0.1; load the replay file first, if any."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        if self.config.replay is not None:
            self._replay = self._load_replay(Path(self.config.replay))
        faults = self.config.faults
        loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._refuse_until = loop.time() + faults.refuse_connections_for
        self._server = await serve(
            self._handle,
            HOST,
            self._requested_port,
            process_request=self._process_request,
            compression=None,  # neither venue negotiates permessage-deflate
            ping_interval=None,  # the venues expect the client to ping
            close_timeout=CLOSE_TIMEOUT,
            open_timeout=10 + faults.handshake_delay,
            server_header="ws_stack-sim",
        )
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info("%s simulator listening on %s", self.venue.value, self.ws_url)

    async def stop(self) -> None:
        """Close every connection and the listening socket; return when all tasks ended."""
        server = self._server
        if server is None:
            return
        self._server = None
        self._stopping.set()  # ends stalls and handshake delays now
        for connection in list(self._connections):
            connection.wake()
        server.close()
        await server.wait_closed()

    async def __aenter__(self) -> VenueSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- handshake and REST ----------------------------------------------------

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        if "websocket" not in request.headers.get("Upgrade", "").lower():
            self.stats.rest_requests += 1
            query = dict(parse_qsl(urlsplit(request.path).query))
            answer = self._simulated_venue.rest(request.path, query, _now_ms())
            return _json_response(answer.status, answer.body)
        if asyncio.get_running_loop().time() < self._refuse_until:
            self.stats.connections_refused += 1
            self.stats.faults["refused"] += 1
            return connection.respond(
                http.HTTPStatus.SERVICE_UNAVAILABLE, "Service Unavailable (simulated refusal)\n"
            )
        path = urlsplit(request.path).path
        if path.rstrip("/") != self._simulated_venue.ws_path.rstrip("/"):
            self.stats.connections_refused += 1
            return connection.respond(
                http.HTTPStatus.NOT_FOUND,
                f"No WebSocket endpoint at {path}; use {self._simulated_venue.ws_path}\n",
            )
        delay = self.config.faults.handshake_delay
        if delay > 0:
            self.stats.faults["handshake_delay"] += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stopping.wait()
        return None

    # -- connections -----------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        stats = self.stats
        stats.connections_accepted += 1
        stats.connections_open += 1
        plan = FaultPlan(self.config.faults)
        session = self._simulated_venue.session(
            plan,
            stats,
            conn_id=next(self._ids),
            replay=self._replay,
            replay_loops=self.config.replay_loops,
        )
        connection = _Connection(ws, session, plan)
        self._connections.add(connection)
        pusher = asyncio.create_task(self._push(connection), name=f"sim-push-{session.conn_id}")
        try:
            async for message in ws:
                await connection.awake.wait()
                for reply in session.receive(message, _now_ms()):
                    await ws.send(reply)
                    stats.control_replies += 1
                if session.streams:
                    connection.subscribed.set()
        except ConnectionClosed:
            pass
        finally:
            pusher.cancel()
            for result in await asyncio.gather(pusher, return_exceptions=True):
                if isinstance(result, Exception):
                    logger.error(
                        "push loop of connection %d failed", session.conn_id, exc_info=result
                    )
            self._connections.discard(connection)
            stats.connections_open -= 1

    async def _push(self, connection: _Connection) -> None:
        """Send the session's pushes at ``rate_hz`` until the connection ends."""
        loop = asyncio.get_running_loop()
        rate = self.config.rate_hz
        session = connection.session
        credit, last = 1.0, loop.time()
        try:
            while True:
                if not session.streams or session.replay_done:
                    connection.subscribed.clear()
                    await connection.subscribed.wait()
                    credit, last = 1.0, loop.time()  # first push right after subscribing
                    continue
                now = loop.time()
                credit = min(credit + (now - last) * rate, max(1.0, rate * MAX_CATCH_UP))
                last = now
                while credit >= 1.0:
                    credit -= 1.0
                    if connection.unyielded >= PUSHES_PER_YIELD:
                        connection.unyielded = 0
                        await asyncio.sleep(0)
                    action = await self._send_slot(connection)
                    if action is ConnectionAction.CLOSE:
                        return
                    if action is ConnectionAction.STALL:
                        credit, last = 0.0, loop.time()
                        break
                connection.unyielded = 0
                await asyncio.sleep(max(MIN_SLEEP, (1.0 - credit) / rate))
        except ConnectionClosed:
            pass

    async def _send_slot(self, connection: _Connection) -> ConnectionAction:
        ws, plan, stats = connection.ws, connection.plan, self.stats
        for push in connection.session.push_slot(_now_ms() - plan.lag_ms()):
            await ws.send(push.frame)
            connection.unyielded += 1
            stats.frames_sent[push.stream] += 1
            action = plan.sent()
            if action is ConnectionAction.CLOSE:
                stats.faults["close"] += 1
                ws.transport.abort()  # no close frame: the peer sees the TCP connection drop
                return action
            if action is ConnectionAction.STALL:
                await self._stall(connection)
                return action
        return ConnectionAction.NONE

    async def _stall(self, connection: _Connection) -> None:
        """Go silent: no pushes, no replies, and no pongs since the socket is not read."""
        self.stats.faults["stall"] += 1
        connection.awake.clear()
        connection.ws.transport.pause_reading()
        try:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.faults.stall_seconds):
                    await self._stopping.wait()
        finally:
            connection.wake()

    @staticmethod
    def _load_replay(path: Path) -> list[Frame]:
        try:
            return [frame.data for frame in read_frames(path)]
        except (OSError, FramesFileError) as exc:
            raise ConfigError(f"cannot replay {str(path)!r}: {exc}") from None


def _json_response(status: int, body: bytes) -> Response:
    code = http.HTTPStatus(status)
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", "application/json"),
        ]
    )
    return Response(code.value, code.phrase, headers, body)
