"""Counters of what a venue simulator did, for tests and the ``ws-stack sim`` summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["SimStats"]


@dataclass(slots=True)
class SimStats:
    """Live counters; read them at any time, they only grow (except ``connections_open``).

    ``frames_sent`` is keyed by stream: the MEXC channel name, ``"<channel>:<pair>"`` on
    Gate.io, or ``"replay"``. ``faults`` is keyed by fault: ``close``, ``stall``,
    ``malformed``, ``gap``, ``refused``, ``handshake_delay``, ``silence`` (pushes not sent).
    """

    connections_accepted: int = 0
    connections_refused: int = 0
    connections_open: int = 0
    rest_requests: int = 0
    subscriptions: int = 0
    subscription_errors: int = 0
    unsubscriptions: int = 0
    control_replies: int = 0
    frames_sent: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    @property
    def pushes(self) -> int:
        """Market-data frames sent, all streams together."""
        return self.frames_sent.total()

    def summary(self) -> str:
        """One line for logs and the command line."""
        faults = ",".join(f"{name}={count}" for name, count in sorted(self.faults.items()))
        return (
            f"connections accepted={self.connections_accepted} "
            f"refused={self.connections_refused} open={self.connections_open} "
            f"subscriptions={self.subscriptions} errors={self.subscription_errors} "
            f"pushes={self.pushes} rest={self.rest_requests} faults=[{faults}]"
        )
