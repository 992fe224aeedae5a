"""Stubs of the compiled twin of ``MessageHandler.handle`` (see ``_handler_core.pyx``)."""

from typing import Any

__all__ = ["HandlerCore"]

class HandlerCore:
    level_pool: Any
    _callbacks: Any
    _messages: Any
    _frames: Any
    def handle(self, frame: bytes | str) -> int: ...
