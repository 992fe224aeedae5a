"""Which implementation of the hot path is running: compiled (Cython) or pure Python.

A few modules have a compiled twin, built from a ``.pyx`` file beside them when ws_stack
is installed with a C compiler. The pure-Python module is always the reference: it is
the behaviour the tests define, and the compiled twin is held to it (on every input, the
same messages and the same errors; where the compiled code is unsure of a frame it hands
the frame to the reference). The twins:

================================  ==============================  ==============================
compiled twin                     reference                       why
================================  ==============================  ==============================
``ws_stack.mexc._push_reader``    :mod:`ws_stack.mexc.push`       reads protobuf pushes in C
``ws_stack._book_side``           :mod:`ws_stack.book`            applies a delta in C: the
                                  (``_Side``,                     sequence rule, then sorted
                                  ``_PureLocalOrderBook``)        arrays and ``memmove``
``ws_stack._handler_core``        ``MessageHandler.handle``       the per-frame path in C
``ws_stack.gateio._updates``      ``decoder.parse_update``,       reads order-book deltas
                                  ``parse_order_book_update``,    from their JSON text, and
                                  ``GateioHandler._parse``        makes the other messages
                                                                  from msgspec's decode in C
``ws_stack.mexc._dispatch``       ``MexcHandler._parse``          detects, routes and parses
                                                                  a known channel's push in C
``ws_stack.asyncio._receiver``    ``_Listener._receiver`` in      picows' frame callback,
                                  ``asyncio.transport_picows``    compiled
``ws_stack._metrics``             ``metrics.LatencyWindow``       times each ``handle`` call
                                                                  and keeps the times in C
``ws_stack.asyncio._queue``       ``_PureQueueCore`` in           the receive queue's
                                  ``asyncio.queue``               ``put_nowait`` and the rest
                                                                  that does not await
================================  ==============================  ==============================

``WS_STACK_NO_EXTENSIONS=1`` (any value but ``0`` or empty) in the environment at import
runs pure Python everywhere. :func:`describe` (``ws-stack --version``) says which is active.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType

__all__ = ["NO_EXTENSIONS", "NO_EXTENSIONS_VARIABLE", "TWINS", "active", "compiled", "describe"]

NO_EXTENSIONS_VARIABLE = "WS_STACK_NO_EXTENSIONS"
#: Set at import: pure Python everywhere, whatever is installed.
NO_EXTENSIONS = os.environ.get(NO_EXTENSIONS_VARIABLE, "") not in ("", "0")

#: Each compiled twin and the reference it stands in for.
TWINS = {
    "ws_stack.mexc._push_reader": "ws_stack.mexc.push",
    "ws_stack._book_side": "ws_stack.book",
    "ws_stack._handler_core": "ws_stack.handler",
    "ws_stack.gateio._updates": "ws_stack.gateio.decoder",
    "ws_stack.mexc._dispatch": "ws_stack.mexc.handler",
    "ws_stack.asyncio._receiver": "ws_stack.asyncio.transport_picows",
    "ws_stack._metrics": "ws_stack.metrics",
    "ws_stack.asyncio._queue": "ws_stack.asyncio.queue",
}

#: Why a twin is not in use, by module name (filled as twins are asked for).
_missing: dict[str, str] = {}


def compiled(name: str) -> ModuleType | None:
    """The compiled twin ``name``, or ``None`` when pure Python runs in its place."""
    if name not in TWINS:
        raise ValueError(f"{name!r} is not one of ws_stack's compiled twins: {sorted(TWINS)}")
    if NO_EXTENSIONS:
        _missing[name] = f"{NO_EXTENSIONS_VARIABLE} is set"
        return None
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        _missing[name] = f"not built ({exc})"
        return None


def active() -> dict[str, str]:
    """Each twin's state: ``"compiled"``, or why its pure-Python reference runs."""
    states = {}
    for name in TWINS:
        states[name] = "compiled" if compiled(name) is not None else f"pure: {_missing[name]}"
    return states


def describe() -> str:
    """One line: ``compiled``, ``pure Python (why)``, or which twins are missing."""
    states = active()
    missing = {name: state for name, state in states.items() if state != "compiled"}
    if not missing:
        return "compiled (Cython): " + ", ".join(sorted(states))
    if len(missing) == len(states):
        reasons = sorted({state.removeprefix("pure: ") for state in missing.values()})
        return "pure Python (" + "; ".join(reasons) + ")"
    return "partly compiled; pure Python for " + ", ".join(
        f"{name} ({state.removeprefix('pure: ')})" for name, state in sorted(missing.items())
    )
