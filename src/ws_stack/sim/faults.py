"""Per-connection fault schedule: which push to corrupt, where to skip, when to drop or stall,
how late the event times are and which channel goes silent.

Pure bookkeeping over a :class:`~ws_stack.sim.config.FaultConfig`; the asyncio server
asks it before building each push (:meth:`FaultPlan.decide`) and tells it after sending
each one (:meth:`FaultPlan.sent`). Handshake faults (refusal, delay) are not per
connection and live in the server.
"""

from __future__ import annotations

import enum

from ws_stack.sim.config import FaultConfig

__all__ = ["ConnectionAction", "FaultPlan", "PushAction"]


class PushAction(enum.Enum):
    """What to do with the next push."""

    SEND = "send"
    #: Send a malformed frame instead; the data it would have carried is sent later.
    MALFORMED = "malformed"
    #: Skip the sequence numbers of this depth delta (never sent), then send the next.
    GAP = "gap"


class ConnectionAction(enum.Enum):
    """What to do with the connection after a push was sent."""

    NONE = "none"
    #: Drop the TCP connection without a close frame.
    CLOSE = "close"
    #: Go silent for ``FaultConfig.stall_seconds``.
    STALL = "stall"


class FaultPlan:
    """Counts one connection's pushes and says when each configured fault fires.

    ``malformed_every`` counts every push; ``gap_every`` counts the depth deltas that were
    not replaced by a malformed frame; ``close_after_frames`` and ``stall_after_frames``
    count pushes actually sent, and fire once.
    """

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.decided = 0
        self.deltas = 0
        self.pushes_sent = 0
        #: Malformed frames produced so far: picks the next malformed kind in rotation.
        self.malformed = 0

    def decide(self, is_delta: bool) -> PushAction:
        """The fate of the next push; ``is_delta`` for sequenced depth increments."""
        self.decided += 1
        every = self.config.malformed_every
        if every is not None and self.decided % every == 0:
            self.malformed += 1
            return PushAction.MALFORMED
        if is_delta:
            self.deltas += 1
            gap = self.config.gap_every
            if gap is not None and self.deltas % gap == 0:
                return PushAction.GAP
        return PushAction.SEND

    def lag_ms(self) -> int:
        """How far behind the clock the event times of the next pushes are, in ms: the
        configured lag, grown by ``lag_growth`` for every 1,000 pushes sent so far."""
        config = self.config
        seconds = config.lag_seconds + config.lag_growth * self.pushes_sent / 1000
        return round(seconds * 1000)

    def silenced(self, channel: str) -> bool:
        """Whether the pushes of ``channel`` (a ``ChannelKind`` value) are not to be sent."""
        return channel == self.config.silence

    def sent(self) -> ConnectionAction:
        """Record one push sent; say whether the connection must now drop or stall."""
        self.pushes_sent += 1
        if self.pushes_sent == self.config.close_after_frames:
            return ConnectionAction.CLOSE
        if self.pushes_sent == self.config.stall_after_frames:
            return ConnectionAction.STALL
        return ConnectionAction.NONE
