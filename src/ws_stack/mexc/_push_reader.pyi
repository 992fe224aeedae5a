"""Stubs of the compiled twin of :mod:`ws_stack.mexc.push` (``_push_reader.pyx``)."""

from ws_stack.messages import Message
from ws_stack.pool import LevelPool

def read_push(frame: object) -> Message | list[Message] | None: ...
def parse_push(frame: bytes, pool: LevelPool | None = None) -> Message | list[Message]: ...
