"""Stubs of the compiled twin of ``MessageHandler.handle`` (see ``_handler_core.pyx``)."""

from ws_stack.handler import MessageHandler

__all__ = ["handle"]

def handle(self: MessageHandler, frame: bytes | str) -> int: ...
