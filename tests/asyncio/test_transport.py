"""Choosing a transport: names, the optional picows extra, what picows cannot do.

Behaviour on a live socket is the same on both transports, and every connection, stream,
fault-run and reliability test runs on each (the ``transport`` fixture).
"""

import importlib.util

import pytest
from transports import SKIP_WITHOUT_PICOWS

from ws_stack.asyncio import transport as transport_module
from ws_stack.asyncio.connection import ConnectionConfig
from ws_stack.asyncio.mexc import MexcConnection
from ws_stack.asyncio.stream import MarketStream
from ws_stack.asyncio.transport import TRANSPORTS, transport_class
from ws_stack.exceptions import ConfigError
from ws_stack.messages import Venue
from ws_stack.mexc.handler import MexcHandler
from ws_stack.protocol import USER_AGENT, user_agent


def test_websockets_is_the_default():
    assert ConnectionConfig().transport == "websockets" == TRANSPORTS[0]
    assert MexcConnection(MexcHandler()).transport == "websockets"
    assert USER_AGENT == user_agent("websockets") == "ws_stack/0.1 (+websockets)"


def test_an_unknown_transport_is_a_config_error():
    with pytest.raises(ConfigError, match=r"transport must be one of 'websockets', 'picows'"):
        ConnectionConfig(transport="aiohttp")


def test_picows_missing_is_a_config_error_naming_the_extra(monkeypatch):
    real = importlib.util.find_spec

    def without_picows(name, *args):
        return None if name == "picows" else real(name, *args)

    monkeypatch.setattr(transport_module.importlib.util, "find_spec", without_picows)
    with pytest.raises(ConfigError, match=r"pip install 'ws_stack\[picows\]'"):
        ConnectionConfig(transport="picows")
    with pytest.raises(ConfigError, match=r"ws_stack\[picows\]"):
        MarketStream(Venue.MEXC, ["BTCUSDT"], transport="picows")
    ConnectionConfig(transport="websockets")  # unaffected


@SKIP_WITHOUT_PICOWS
def test_picows_is_chosen_per_connection_and_per_stream():
    config = ConnectionConfig(transport="picows")
    assert MexcConnection(MexcHandler(), config=config).transport == "picows"
    assert transport_class("picows").name == "picows"
    stream = MarketStream(Venue.MEXC, ["BTCUSDT"], config=ConnectionConfig(queue_size=7),
                          transport="picows")  # fmt: skip
    (connection,) = stream.group.connections
    assert connection.transport == "picows"
    assert connection.config.queue_size == 7  # the rest of the config is kept


@SKIP_WITHOUT_PICOWS
@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"compression": True}, "picows has no permessage-deflate"),
        ({"ws_ping_interval": 5.0, "ws_ping_timeout": 10.0}, "at most ws_ping_interval"),
        ({"ws_ping_interval": 5.0, "ws_ping_timeout": None}, "at most ws_ping_interval"),
    ],
)
def test_what_picows_cannot_do_is_refused_at_start_up(settings, message):
    with pytest.raises(ConfigError, match=message):
        ConnectionConfig(transport="picows", **settings)
    ConnectionConfig(transport="websockets", **settings)  # websockets can
