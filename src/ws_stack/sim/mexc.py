"""MEXC spot v3 as the simulator speaks it: channel names, control replies, pushes, REST.

Frames are built with :mod:`ws_stack.mexc.encoder`, so the simulator sends exactly what
ws_stack's own codec tests against.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

import msgspec

from ws_stack.messages import Venue
from ws_stack.mexc import encoder
from ws_stack.mexc.proto.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ws_stack.sim.market import LevelText, SimTrade, Tick
from ws_stack.sim.session import Frame, RestResponse, Session, SimulatedVenue, Stream, StreamKind

__all__ = [
    "CODE_INVALID_REQUEST",
    "CODE_LIMIT",
    "CODE_REFUSED",
    "MAX_SUBSCRIPTIONS",
    "MexcSession",
    "SimulatedMexc",
    "parse_channel",
]

#: Subscriptions one connection may hold.
MAX_SUBSCRIPTIONS = 30
#: Error codes of control replies (MEXC documents none; any non-zero code is an error).
CODE_INVALID_REQUEST = 1
CODE_REFUSED = 2
CODE_LIMIT = 3

_AGGRE_INTERVALS = ("100ms", "10ms")
_LIMIT_DEPTHS = (5, 10, 20)
_REST_MAX_LIMIT = 5000
_REST_DEFAULT_LIMIT = 100
#: Channel kind (between ``spot@public.`` and ``.v3.api``) -> how the stream pushes.
_KINDS: dict[str, StreamKind] = {
    "aggre.deals": StreamKind.TRADES,
    "aggre.depth": StreamKind.DEPTH_DELTA,
    "aggre.bookTicker": StreamKind.BOOK_TICKER,
    "limit.depth": StreamKind.DEPTH_SNAPSHOT,
    "deals": StreamKind.TRADES,
    "increase.depth": StreamKind.DEPTH_EVENT,
    "bookTicker": StreamKind.BOOK_TICKER,
}
#: Kinds that exist only as protobuf, and only as legacy JSON.
_PROTOBUF_ONLY = {"aggre.deals", "aggre.depth", "aggre.bookTicker"}
_JSON_ONLY = {"bookTicker"}


class _Request(msgspec.Struct):
    method: str | None = None
    params: list[str] | None = None
    id: int = 0


_decode_request = msgspec.json.Decoder(_Request).decode


def parse_channel(name: str, symbols: Sequence[str]) -> Stream | str:
    """The stream a channel name asks for, or why it cannot be served."""
    parts = name.split("@")
    if len(parts) < 3 or parts[0] != "spot" or not parts[1].startswith("public."):
        return "Invalid channel"
    topic = parts[1][len("public.") :]
    legacy = not topic.endswith(".v3.api.pb")
    kind_name = topic.removesuffix(".v3.api.pb" if not legacy else ".v3.api")
    if kind_name == topic or kind_name not in _KINDS:
        return "Invalid channel"
    if (legacy and kind_name in _PROTOBUF_ONLY) or (not legacy and kind_name in _JSON_ONLY):
        return "Invalid channel"
    kind = _KINDS[kind_name]
    interval = ""
    depth = 0
    if kind_name.startswith("aggre."):
        if len(parts) != 4 or parts[2] not in _AGGRE_INTERVALS:
            return "Invalid channel"
        interval, symbol = parts[2], parts[3]
    elif kind_name == "limit.depth":
        if len(parts) != 4 or not parts[3].isdigit() or int(parts[3]) not in _LIMIT_DEPTHS:
            return "Invalid channel"
        symbol, depth = parts[2], int(parts[3])
    else:
        if len(parts) != 3:
            return "Invalid channel"
        symbol = parts[2]
    if symbol not in symbols:
        return f"Invalid symbol {symbol}"
    return Stream(name, symbol, kind, depth=depth, interval=interval, legacy=legacy)


class MexcSession(Session):
    """One MEXC connection: ``SUBSCRIPTION``/``UNSUBSCRIPTION``/``PING`` and pushes."""

    venue = Venue.MEXC

    def receive(self, frame: Frame, now_ms: int) -> list[str]:
        try:
            request = _decode_request(frame)
        except msgspec.DecodeError:
            return [
                encoder.encode_error(
                    CODE_INVALID_REQUEST,
                    "Invalid request: not a JSON object with 'method' and 'params'",
                )
            ]
        method = (request.method or "").upper()
        if method == "PING":
            return [encoder.encode_pong(request.id)]
        if method not in ("SUBSCRIPTION", "UNSUBSCRIPTION"):
            return [
                encoder.encode_error(
                    CODE_INVALID_REQUEST, f"Invalid method {request.method!r}", request.id
                )
            ]
        if not request.params:
            return [
                encoder.encode_error(
                    CODE_INVALID_REQUEST, "Invalid request: 'params' is empty", request.id
                )
            ]
        if method == "SUBSCRIPTION":
            return self._subscribe(request.params, request.id)
        return self._unsubscribe(request.params, request.id)

    def _subscribe(self, channels: list[str], request_id: int) -> list[str]:
        accepted: list[str] = []
        refused: dict[tuple[int, str], list[str]] = {}
        symbols = tuple(self.market.symbols)
        for name in channels:
            stream = parse_channel(name, symbols)
            if isinstance(stream, str):
                refused.setdefault((CODE_REFUSED, stream), []).append(name)
            elif name in self.streams:
                accepted.append(name)
            elif len(self.streams) >= MAX_SUBSCRIPTIONS:
                reason = f"Reach the max subscription limit {MAX_SUBSCRIPTIONS}"
                refused.setdefault((CODE_LIMIT, reason), []).append(name)
            else:
                self._open(stream)
                accepted.append(name)
        replies = [encoder.encode_ack(",".join(accepted), request_id)] if accepted else []
        for (code, reason), names in refused.items():
            self.stats.subscription_errors += len(names)
            replies.append(encoder.encode_error(code, _refusal(names, reason), request_id))
        return replies

    def _unsubscribe(self, channels: list[str], request_id: int) -> list[str]:
        symbols = tuple(self.market.symbols)
        done: list[str] = []
        refused: dict[str, list[str]] = {}
        for name in channels:
            stream = parse_channel(name, symbols)
            if isinstance(stream, str):
                refused.setdefault(stream, []).append(name)
            else:
                self._close(name)
                done.append(name)
        replies = [encoder.encode_ack(",".join(done), request_id)] if done else []
        for reason, names in refused.items():
            replies.append(
                encoder.encode_error(
                    CODE_REFUSED,
                    f"Not Unsubscribed successfully! [{','.join(names)}].  Reason: {reason}",
                    request_id,
                )
            )
        return replies

    # -- pushes ----------------------------------------------------------------

    def render_trades(self, stream: Stream, trades: list[SimTrade], now_ms: int) -> Frame:
        deals = [encoder.Deal(t.price, t.size, t.side, t.time_ms, str(t.trade_id)) for t in trades]
        if stream.legacy:
            return encoder.encode_legacy_deals(stream.symbol, deals, time_ms=now_ms)
        return encoder.encode_deals(
            stream.symbol,
            deals,
            aggregated=bool(stream.interval),
            interval=stream.interval or "100ms",
            send_time_ms=now_ms,
        )

    def render_delta(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        first: int,
        last: int,
        now_ms: int,
    ) -> Frame:
        return encoder.encode_depth(
            stream.symbol, bids, asks, first, last, interval=stream.interval, send_time_ms=now_ms
        )

    def render_event(self, stream: Stream, tick: Tick, now_ms: int) -> Frame:
        if stream.legacy:
            return encoder.encode_legacy_depth(
                stream.symbol, tick.bids, tick.asks, tick.version, time_ms=now_ms
            )
        return encoder.encode_increase_depth(
            stream.symbol, tick.bids, tick.asks, tick.version, send_time_ms=now_ms
        )

    def render_snapshot(
        self,
        stream: Stream,
        bids: list[LevelText],
        asks: list[LevelText],
        version: int,
        now_ms: int,
    ) -> Frame:
        if stream.legacy:
            return encoder.encode_legacy_depth(
                stream.symbol, bids, asks, version, snapshot_depth=stream.depth, time_ms=now_ms
            )
        return encoder.encode_limit_depth(
            stream.symbol, bids, asks, version, depth=stream.depth, send_time_ms=now_ms
        )

    def render_ticker(
        self, stream: Stream, bid: LevelText, ask: LevelText, version: int, now_ms: int
    ) -> Frame:
        if stream.legacy:
            return encoder.encode_legacy_book_ticker(stream.symbol, *bid, *ask, time_ms=now_ms)
        return encoder.encode_book_ticker(
            stream.symbol,
            *bid,
            *ask,
            interval=stream.interval,
            send_time_ms=now_ms,
            version=str(version),
        )

    def malformed(self, symbol: str, number: int, now_ms: int) -> Frame:
        """Rotates: truncated protobuf, broken JSON, a push on an unknown channel."""
        market = self.market[symbol]
        bid, ask = market.best()
        push = encoder.encode_book_ticker(symbol, *bid, *ask, send_time_ms=now_ms)
        which = number % 3
        if which == 1:
            # Cut inside the body (the last field): its length prefix promises more bytes.
            return push[:-3]
        if which == 2:
            text = encoder.encode_legacy_book_ticker(symbol, *bid, *ask, time_ms=now_ms)
            return text[: len(text) // 2]
        wrapper = PushDataV3ApiWrapper.FromString(push)
        wrapper.channel = f"spot@public.unknown.v3.api.pb@100ms@{symbol}"
        return wrapper.SerializeToString()


class SimulatedMexc(SimulatedVenue):
    """MEXC's endpoint ``/ws`` and REST ``GET /api/v3/depth``."""

    venue = Venue.MEXC
    ws_path = "/ws"
    session_class = MexcSession

    @staticmethod
    def wire_symbol(symbol: str) -> str:
        return symbol.replace("_", "").upper()

    def rest(self, path: str, query: dict[str, str], now_ms: int) -> RestResponse:
        if urlsplit(path).path.rstrip("/") != "/api/v3/depth":
            return _rest_error(404, -1, f"Not found: {urlsplit(path).path}")
        symbol = query.get("symbol")
        if not symbol:
            return _rest_error(
                400,
                -1102,
                "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
            )
        if symbol not in self.market:
            return _rest_error(400, -1121, "Invalid symbol.")
        limit = query.get("limit", str(_REST_DEFAULT_LIMIT))
        if not limit.isdigit() or not 1 <= int(limit) <= _REST_MAX_LIMIT:
            return _rest_error(
                400,
                -1100,
                f"Illegal characters found in parameter 'limit'; "
                f"legal range is 1-{_REST_MAX_LIMIT}.",
            )
        market = self.market[symbol]
        bids, asks = market.top(int(limit))
        body = {"lastUpdateId": market.version, "bids": bids, "asks": asks, "timestamp": now_ms}
        return RestResponse(200, msgspec.json.encode(body))


def _refusal(names: list[str], reason: str) -> str:
    # The text MEXC uses when it refuses channels; the decoder reads the bracketed names.
    return f"Not Subscribed successfully! [{','.join(names)}].  Reason: {reason}"


def _rest_error(status: int, code: int, msg: str) -> RestResponse:
    return RestResponse(status, msgspec.json.encode({"code": code, "msg": msg}))
