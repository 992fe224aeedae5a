"""Connection state machine (``ws_stack.state``): the cost of allowed transitions."""

from __future__ import annotations

from typing import Any

from .asv_support import CALLS, Batched, require
from .instructions import Counted


def _ignore(old: Any, new: Any) -> None:
    """A watcher that does nothing: what is measured is the notification."""


class Transitions(Batched):
    """One drop-and-reconnect cycle: CONNECTED -> RECONNECTING -> CONNECTING -> CONNECTED.

    Three transitions per call, each checked against the transition table and announced
    to ``watchers`` callbacks (a connection has one of its own).
    """

    version = 2
    params = [[0, 1, 4]]
    param_names = ["watchers"]

    def setup(self, watchers: int) -> None:
        state = require("ws_stack.state", "StateMachine", "ConnectionState")
        s = state.ConnectionState
        self.machine = state.StateMachine("bench")
        for _ in range(watchers):
            self.machine.on_change(_ignore)
        for step in (s.CONNECTING, s.CONNECTED):
            self.machine.become(step)
        self.cycle = (s.RECONNECTING, s.CONNECTING, s.CONNECTED)

    def time_reconnect_cycle(self, watchers: int) -> None:
        become, cycle = self.machine.become, self.cycle
        for _ in CALLS:
            for step in cycle:
                become(step)


class TransitionsInstructions(Counted):
    twin = Transitions
    track_reconnect_cycle = Counted.of("time_reconnect_cycle")
