"""The connection state machine: which states exist and which changes are allowed.

Pure: no clock, no I/O. The asyncio connection drives it; anything that watches a
connection (metrics, a UI, a test) subscribes to its changes. The allowed transitions::

    DISCONNECTED -> CONNECTING                      start()
    CONNECTING   -> CONNECTED                       handshake done
    CONNECTING   -> RECONNECTING                    attempt failed, the policy allows another
    CONNECTED    -> RECONNECTING                    peer closed, dead peer, socket error
    RECONNECTING -> CONNECTING                      backoff delay elapsed
    CONNECTING, RECONNECTING -> ERROR               reconnection attempts exhausted
    CONNECTED    -> ERROR                           unrecoverable (a frame tap failed...)
    any but CLOSED/CLOSING -> CLOSING               close()
    CLOSING -> CLOSED                               tasks and socket gone
    DISCONNECTED, ERROR -> CLOSED                   close() when nothing runs

``CLOSED`` is final. Any other change is a bug in the caller and raises
:class:`~ws_stack.exceptions.InvalidStateTransition` instead of leaving the connection in
a state nobody planned for.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping

from ws_stack.exceptions import InvalidStateTransition

__all__ = ["TRANSITIONS", "ConnectionState", "StateCallback", "StateMachine"]

logger = logging.getLogger(__name__)


class ConnectionState(enum.Enum):
    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    CLOSING = "closing"
    CLOSED = "closed"
    ERROR = "error"


#: Every allowed change, by the state it starts from.
TRANSITIONS: Mapping[ConnectionState, frozenset[ConnectionState]] = {
    ConnectionState.DISCONNECTED: frozenset(
        {ConnectionState.CONNECTING, ConnectionState.CLOSING, ConnectionState.CLOSED}
    ),
    ConnectionState.CONNECTING: frozenset(
        {
            ConnectionState.CONNECTED,
            ConnectionState.RECONNECTING,
            ConnectionState.ERROR,
            ConnectionState.CLOSING,
        }
    ),
    ConnectionState.CONNECTED: frozenset(
        {ConnectionState.RECONNECTING, ConnectionState.ERROR, ConnectionState.CLOSING}
    ),
    ConnectionState.RECONNECTING: frozenset(
        {ConnectionState.CONNECTING, ConnectionState.ERROR, ConnectionState.CLOSING}
    ),
    ConnectionState.CLOSING: frozenset({ConnectionState.CLOSED}),
    ConnectionState.CLOSED: frozenset(),
    ConnectionState.ERROR: frozenset({ConnectionState.CLOSING, ConnectionState.CLOSED}),
}

#: ``callback(old, new)``, called after every change.
StateCallback = Callable[[ConnectionState, ConnectionState], None]


class StateMachine:
    """The current :class:`ConnectionState` of one connection, changed only along
    :data:`TRANSITIONS`, with change callbacks."""

    __slots__ = ("_callbacks", "_name", "_state", "transitions")

    def __init__(self, name: str = "connection") -> None:
        self._name = name
        self._state = ConnectionState.DISCONNECTED
        self._callbacks: list[StateCallback] = []
        #: Changes made so far, oldest first.
        self.transitions = 0

    @property
    def state(self) -> ConnectionState:
        return self._state

    def on_change(self, callback: StateCallback) -> None:
        """Call ``callback(old, new)`` after every state change."""
        self._callbacks.append(callback)

    def can_become(self, new: ConnectionState) -> bool:
        return new in TRANSITIONS[self._state]

    def become(self, new: ConnectionState) -> None:
        """Change to ``new``; raise :class:`InvalidStateTransition` if not allowed.

        A callback that raises is logged and does not stop the others: the state has
        changed either way, and a watcher must not break the connection it watches.
        """
        old = self._state
        if new not in TRANSITIONS[old]:
            raise InvalidStateTransition(
                f"{self._name}: {old.value} -> {new.value} is not an allowed transition"
            )
        self._state = new
        self.transitions += 1
        for callback in self._callbacks:
            try:
                callback(old, new)
            except Exception:
                logger.exception("%s: state callback %r raised", self._name, callback)

    def __repr__(self) -> str:
        return f"<StateMachine {self._name} {self._state.value}>"
