"""Reconnection policy (``ws_stack.reconnect``): computing the delay before a retry."""

from __future__ import annotations

import random

from .asv_support import CALLS, Batched, require
from .instructions import Counted


class Delay(Batched):
    """The jittered delay before retry ``retry`` (0: first retry; 30: long past the cap)."""

    version = 2
    params = [[0, 5, 30]]
    param_names = ["retry"]

    def setup(self, retry: int) -> None:
        reconnect = require("ws_stack.reconnect", "ReconnectionPolicy")
        self.policy = reconnect.ReconnectionPolicy(seed=1)
        self.rng = random.Random(1)

    def time_delay(self, retry: int) -> None:
        delay, rng = self.policy.delay, self.rng
        for _ in CALLS:
            delay(retry, rng)


class DelayInstructions(Counted):
    twin = Delay
    track_delay = Counted.of("time_delay")


class BackoffSequence(Batched):
    """A connection's backoff handing out the delays of ten failed attempts in a row."""

    version = 2

    def setup(self) -> None:
        reconnect = require("ws_stack.reconnect", "ReconnectionPolicy")
        self.policy = reconnect.ReconnectionPolicy(max_attempts=None, seed=1)

    def time_ten_failures(self) -> None:
        start_backoff = self.policy.backoff
        for _ in CALLS:
            backoff = start_backoff()
            for _ in range(10):
                backoff.failed()


class BackoffSequenceInstructions(Counted):
    twin = BackoffSequence
    track_ten_failures = Counted.of("time_ten_failures")
