"""Stubs of the compiled twin of ``MexcHandler._parse`` (``_dispatch.pyx``)."""

from ws_stack.messages import Message

def handler_parse(self: object, frame: bytes | str) -> Message | list[Message]: ...
