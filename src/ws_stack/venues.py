"""Venue registry: from a :class:`~ws_stack.messages.Venue` to its handler, protocol and
connection class.

Each venue's modules are imported when that venue is first asked for, so that using one
venue never loads the other (``tests/test_venues.py`` checks it in a fresh interpreter).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ws_stack.exceptions import ConfigError
from ws_stack.handler import MessageHandler
from ws_stack.messages import Venue

if TYPE_CHECKING:
    from ws_stack.asyncio.connection import Connection
    from ws_stack.protocol import VenueProtocol

__all__ = ["connection_class", "make_handler", "parse_venue", "protocol_class"]


def parse_venue(name: str) -> Venue:
    """The venue called ``name`` (``mexc`` or ``gateio``); :class:`ConfigError` otherwise."""
    try:
        return Venue(name.lower())
    except ValueError:
        choices = ", ".join(v.value for v in Venue)
        raise ConfigError(f"unknown venue {name!r}: choose one of {choices}") from None


def make_handler(venue: Venue) -> MessageHandler:
    """A new message handler for ``venue`` with its default settings."""
    if venue is Venue.MEXC:
        from ws_stack.mexc.handler import MexcHandler

        return MexcHandler()
    from ws_stack.gateio.handler import GateioHandler

    return GateioHandler()


def protocol_class(venue: Venue) -> type[VenueProtocol]:
    """The pure connection protocol (mixin) of ``venue``."""
    if venue is Venue.MEXC:
        from ws_stack.mexc.protocol import MexcProtocol

        return MexcProtocol
    from ws_stack.gateio.protocol import GateioProtocol

    return GateioProtocol


def connection_class(venue: Venue) -> type[Connection]:
    """The asyncio connection class of ``venue``."""
    if venue is Venue.MEXC:
        from ws_stack.asyncio.mexc import MexcConnection

        return MexcConnection
    from ws_stack.asyncio.gateio import GateioConnection

    return GateioConnection
