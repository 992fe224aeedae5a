"""API credentials: a typed place for a key and secret that never shows up in text.

ws_stack reads public market data only, but a configuration may carry credentials for a
private channel. :class:`Credentials` keeps them out of everything that ends up in logs,
exception messages and reprs: ``repr``, ``str`` and ``format`` print a redacted form, the
object refuses to be pickled (into a file or another process) by accident, and
:meth:`Credentials.redact` scrubs both values out of a text before it is logged.
"""

from __future__ import annotations

import hmac
from typing import NoReturn

from ws_stack.exceptions import ConfigError

__all__ = ["REDACTED", "Credentials"]

#: What a credential looks like wherever it would otherwise be printed.
REDACTED = "<redacted>"


class Credentials:
    """An API key and its secret; neither is ever part of ``repr``, ``str`` or a log line."""

    __slots__ = ("_api_key", "_api_secret")

    def __init__(self, api_key: str, api_secret: str) -> None:
        for name, value in (("api_key", api_key), ("api_secret", api_secret)):
            if not isinstance(value, str) or not value.strip():
                # Never echo the value: a misplaced secret must not land in the traceback.
                raise ConfigError(f"Credentials.{name} must be a non-empty string")
        self._api_key = api_key
        self._api_secret = api_secret

    @property
    def api_key(self) -> str:
        """The key itself, for the request that needs it; do not log it."""
        return self._api_key

    @property
    def api_secret(self) -> str:
        """The secret itself, for signing; do not log it."""
        return self._api_secret

    def redact(self, text: str) -> str:
        """``text`` with the key and the secret replaced by :data:`REDACTED`."""
        for value in (self._api_secret, self._api_key):
            text = text.replace(value, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Credentials(api_key={REDACTED!r}, api_secret={REDACTED!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(repr(self), spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        # Constant time: equality must not leak how much of a secret matched.
        mine = (self._api_key + "\0" + self._api_secret).encode()
        theirs = (other._api_key + "\0" + other._api_secret).encode()
        return hmac.compare_digest(mine, theirs)

    def __hash__(self) -> int:
        return hash((Credentials, self._api_key))

    def __copy__(self) -> Credentials:
        return self  # immutable: copies (and deep copies of configs) share it

    def __deepcopy__(self, memo: dict[int, object]) -> Credentials:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError("Credentials cannot be pickled: pass them to the process that needs them")
