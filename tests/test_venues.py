"""The venue registry, and its promise that using one venue never loads the other."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ws_stack
from ws_stack.exceptions import ConfigError
from ws_stack.messages import Venue
from ws_stack.venues import connection_class, make_handler, parse_venue, protocol_class

FIXTURES = Path(__file__).parent / "fixtures"
SYMBOLS = {Venue.MEXC: "BTCUSDT", Venue.GATEIO: "BTC_USDT"}

# Run in a fresh interpreter: this one has long loaded both venues. Uses the venue as far
# as it goes without a network: decodes the recorded frames, builds a connection through
# each public path to it, and a MarketStream (none of them started), then prints every
# ws_stack module loaded.
_ONE_VENUE = """
import json, sys
from ws_stack.frames import read_frames
from ws_stack.messages import WebSocketMessageType
from ws_stack.venues import connection_class, make_handler, parse_venue, protocol_class
from ws_stack.asyncio import ConnectionConfig, MarketStream
import ws_stack.asyncio
import ws_stack.asyncio.connection

venue = parse_venue(sys.argv[1])
symbol, fixture = sys.argv[2:4]
handler = make_handler(venue)
books = []
handler.on(WebSocketMessageType.ORDER_BOOK, books.append)
for recorded in read_frames(fixture):
    handler.handle(recorded.data)
assert books, "no order book decoded from the fixtures"
assert protocol_class(venue).normalize_symbol(symbol) == symbol
name = f"{type(handler).__name__.removesuffix('Handler')}Connection"
classes = {
    connection_class(venue),
    getattr(ws_stack.asyncio, name),
    getattr(ws_stack.asyncio.connection, name),
}
assert len(classes) == 1, classes
(cls,) = classes
connection = cls(handler, [cls.subscription(symbol, "depth")], config=ConnectionConfig())
cls.connection_context(connection.url, connection.config.connect_options())
MarketStream(venue, [symbol])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("ws_stack"))))
"""


def modules_loaded_using(venue: Venue) -> list[str]:
    # The child imports ws_stack from where this process did (a worktree's src, say).
    src = str(Path(ws_stack.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _ONE_VENUE,
            venue.value,
            SYMBOLS[venue],
            str(FIXTURES / f"{venue.value}_frames.jsonl"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(("used", "other"), [(Venue.MEXC, "gateio"), (Venue.GATEIO, "mexc")])
def test_using_one_venue_loads_nothing_of_the_other(used, other):
    loaded = modules_loaded_using(used)
    assert f"ws_stack.{used.value}.handler" in loaded  # the child did use its venue
    prefix = f"ws_stack.{other}"
    assert [
        module for module in loaded if module == prefix or module.startswith(prefix + ".")
    ] == []


@pytest.mark.parametrize("venue", list(Venue))
def test_registry_gives_the_venue_s_handler_protocol_and_connection(venue):
    assert make_handler(venue).venue is venue
    assert protocol_class(venue).venue is venue
    connection = connection_class(venue)
    assert connection.venue is venue
    assert issubclass(connection, protocol_class(venue))


def test_parse_venue():
    assert parse_venue("MEXC") is Venue.MEXC
    assert parse_venue("gateio") is Venue.GATEIO
    with pytest.raises(ConfigError, match="mexc, gateio"):
        parse_venue("binance")
