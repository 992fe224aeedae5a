"""Stubs of the compiled twin of the picows listener's frame callback."""

from collections.abc import Callable
from typing import Any

def receiver(
    listener: Any, binary: object, text: object, invalid_text: object, intake: int
) -> Callable[[Any, Any], None]: ...
