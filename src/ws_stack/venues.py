"""Venue registry: from a :class:`~ws_stack.messages.Venue` to its handler."""

from __future__ import annotations

from ws_stack.exceptions import ConfigError
from ws_stack.handler import MessageHandler
from ws_stack.messages import Venue

__all__ = ["make_handler", "parse_venue"]


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
