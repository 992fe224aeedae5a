"""The parsers under test, and the venue handlers that drive them, looked up by name.

Everything here goes through :func:`require`, so that a commit that lacks a decoder
function or a handler makes its benchmarks n/a rather than failing them. The codec suites
call a decoder's functions directly (:func:`direct_parser`), with the level pool the
venue's default handler would use (:func:`default_pool`).
"""

from __future__ import annotations

from typing import Any

from .asv_support import require
from .venue_frames import check_combination


def make_handler(venue: str) -> Any:
    """The venue's handler with its default settings."""
    if venue == "mexc":
        return require("ws_stack.mexc.handler", "MexcHandler").MexcHandler()
    return require("ws_stack.gateio.handler", "GateioHandler").GateioHandler()


def direct_parser(venue: str, fmt: str, channel: str, pool: Any = None) -> Any:
    """``parse(frame)`` calling the venue decoder's function for ``channel`` directly.

    With a ``pool`` (MEXC), order-book levels go back to it after parsing, as the handler
    does after delivery, so that the pool does not drain.
    """
    check_combination(venue, fmt)
    if venue == "gateio":
        decoder = require(
            "ws_stack.gateio.decoder",
            "parse_trade",
            "parse_book_ticker",
            "parse_order_book_update",
            "parse_order_book",
            "parse_control",
        )
        return {
            "trade": decoder.parse_trade,
            "book_ticker": decoder.parse_book_ticker,
            "order_book": decoder.parse_order_book_update,
            "snapshot": decoder.parse_order_book,
            "pong": decoder.parse_control,
        }[channel]
    decoder = require("ws_stack.mexc.decoder", "parse_push", "parse_legacy", "parse_control")
    if channel == "pong":
        return decoder.parse_control
    parse = decoder.parse_push if fmt == "protobuf" else decoder.parse_legacy
    if pool is None:
        return lambda data: parse(data, None)
    give = pool.give
    if channel in ("order_book", "snapshot"):

        def parse_and_return(data: bytes | str) -> Any:
            update = parse(data, pool)
            give(update.bids)
            give(update.asks)
            return update

        return parse_and_return
    return lambda data: parse(data, pool)


def detector(venue: str) -> Any:
    """The venue decoder's ``detect_type``."""
    module = "ws_stack.mexc.decoder" if venue == "mexc" else "ws_stack.gateio.decoder"
    return require(module, "detect_type").detect_type


def default_pool(venue: str) -> Any:
    """The level pool the venue's default handler parses with (``None``: it does not pool).

    The codec suites parse as the handler does, so that their history follows the default:
    MEXC handlers used to pool levels by default, and no longer do.
    """
    if venue != "mexc":  # Gate.io never pooled
        return None
    return getattr(make_handler(venue), "level_pool", None)
