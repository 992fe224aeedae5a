"""The pure-Python references of ws_stack's compiled twins, assembled in one process.

A commit with compiled twins (``ws_stack.implementation``) runs them wherever they are
built, and a process cannot switch back. The benchmarks that pair compiled with pure in
one process (``bench_mix.RealisticMixCompiledOverPure`` and its socket twin) build the
pure side from the references the package keeps beside each twin:

* the handler's per-frame path: ``ws_stack.handler._reference_handle``;
* the venue handlers' detect, route and parse, where they have twins: each handler's
  ``_reference_parse`` (Gate.io's calls the decoder's reference ``parse_update``);
* the MEXC push reader: ``ws_stack.mexc.push.parse_push``;
* the book: ``ws_stack.book._PureLocalOrderBook``, on the pure sides;
* picows' frame callback, through a socket: the listener's ``_receiver`` closure
  (:func:`use_reference_receiver`).

Everything else (msgspec's decoding, callbacks) is the same code on both sides. Before
the twins existed, or where they are not built, these benchmarks are n/a.
"""

from __future__ import annotations

from typing import Any

from .asv_support import require


def require_compiled() -> None:
    """Raise ``NotImplementedError`` unless every compiled twin runs in this process."""
    implementation = require("ws_stack.implementation", "active")
    states = implementation.active()
    missing = [name for name, state in states.items() if state != "compiled"]
    if missing:
        raise NotImplementedError(f"not compiled here: {', '.join(missing)}")


def reference_handler(venue: str) -> Any:
    """The venue's default handler on the pure-Python references of the compiled twins."""
    require_compiled()
    reference_handle = require("ws_stack.handler", "_reference_handle")._reference_handle
    if venue == "mexc":
        base = require("ws_stack.mexc.handler", "MexcHandler").MexcHandler
        parse_push = require("ws_stack.mexc.push", "parse_push").parse_push

        class ReferenceMexcHandler(base):  # type: ignore[valid-type, misc]
            handle = reference_handle
            # Where the handler's _parse has a twin, its reference (else it is one).
            _parse = getattr(base, "_reference_parse", base._parse)

            def _parse_push(self, frame: Any) -> Any:
                return parse_push(frame, self.level_pool)

        return ReferenceMexcHandler()
    base = require("ws_stack.gateio.handler", "GateioHandler").GateioHandler

    class ReferenceGateioHandler(base):  # type: ignore[valid-type, misc]
        handle = reference_handle
        _parse = getattr(base, "_reference_parse", base._parse)

    return ReferenceGateioHandler()


def reference_book_class() -> Any:
    """The pure-Python ``LocalOrderBook``."""
    require_compiled()
    return require("ws_stack.book", "_PureLocalOrderBook")._PureLocalOrderBook


def use_reference_receiver(connection: Any) -> None:
    """Give ``connection``'s picows listener the reference frame callback (the closure
    ``_Listener._receiver``) in place of its compiled twin, from its next frame on; nothing
    on websockets, or at a commit whose listener has no twin."""
    listener: Any = getattr(getattr(connection, "_socket", None), "_listener", None)
    if callable(getattr(listener, "_receiver", None)):
        listener.on_ws_frame = listener._receiver()
