"""When to try connecting again: exponential backoff with jitter, bounded in delay and count.

Pure: the policy computes delays, it never sleeps. Jitter comes from a ``random.Random``
seeded by the policy, so a test (or an incident replay) gets the same delays every time.

The delay before retry ``n`` (0-based) is ``min(max_delay, initial_delay * factor**n)``,
shortened by a random fraction of at most ``jitter``: jitter spreads the reconnects of
many clients after an outage, and never makes a delay longer than ``max_delay``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from ws_stack.exceptions import ConfigError

__all__ = ["Backoff", "ReconnectionPolicy"]


@dataclass(frozen=True, slots=True)
class ReconnectionPolicy:
    """How a connection retries: delays and how many failed attempts in a row it accepts."""

    #: Delay before the first retry, in seconds.
    initial_delay: float = 0.5
    #: Each further retry waits this many times longer.
    factor: float = 2.0
    #: No delay is longer than this, in seconds.
    max_delay: float = 30.0
    #: Connection attempts in a row that may fail before the connection gives up
    #: (enters ``ERROR``); ``None`` retries forever. A successful handshake resets the count.
    max_attempts: int | None = 10
    #: Up to this fraction of each delay is randomly taken off (0 disables jitter).
    jitter: float = 0.2
    #: Seed of the jitter; ``None`` seeds from the OS (different delays every run).
    seed: int | None = None

    def __post_init__(self) -> None:
        _check_finite("initial_delay", self.initial_delay)
        _check_finite("factor", self.factor)
        _check_finite("max_delay", self.max_delay)
        _check_finite("jitter", self.jitter)
        if self.initial_delay < 0:
            raise ConfigError(
                f"ReconnectionPolicy.initial_delay must be >= 0 s, got {self.initial_delay}"
            )
        if self.factor < 1:
            raise ConfigError(f"ReconnectionPolicy.factor must be >= 1, got {self.factor}")
        if self.max_delay < self.initial_delay:
            raise ConfigError(
                f"ReconnectionPolicy.max_delay ({self.max_delay} s) must be >= "
                f"initial_delay ({self.initial_delay} s)"
            )
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"ReconnectionPolicy.jitter must be in [0, 1], got {self.jitter}")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ConfigError(
                "ReconnectionPolicy.max_attempts must be >= 1 (or None to retry forever), "
                f"got {self.max_attempts}"
            )

    def base_delay(self, retry: int) -> float:
        """The delay before retry ``retry`` (0-based), before jitter."""
        if retry < 0:
            raise ValueError(f"retry must be >= 0, got {retry}")
        try:
            delay = self.initial_delay * self.factor**retry
        except OverflowError:  # far past the cap
            return self.max_delay
        return min(self.max_delay, delay)

    def delay(self, retry: int, rng: random.Random) -> float:
        """The jittered delay before retry ``retry``, drawing from ``rng``."""
        base = self.base_delay(retry)
        if self.jitter:
            return base * (1.0 - self.jitter * rng.random())
        return base

    def delays(self) -> Iterator[float]:
        """The delays a fresh :meth:`backoff` hands out when every attempt fails."""
        backoff = self.backoff()
        while (delay := backoff.failed()) is not None:
            yield delay

    def backoff(self) -> Backoff:
        """A new retry counter following this policy (one per connection)."""
        return Backoff(self)


def _check_finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"ReconnectionPolicy.{name} must be a finite number, got {value}")


class Backoff:
    """Counts failed connection attempts in a row and hands out the delays between them."""

    __slots__ = ("_rng", "failures", "policy")

    def __init__(self, policy: ReconnectionPolicy) -> None:
        self.policy = policy
        self._rng = random.Random(policy.seed)
        #: Failed attempts since the last success.
        self.failures = 0

    def failed(self) -> float | None:
        """Record a failed attempt: the delay before the next one, or ``None`` to give up."""
        self.failures += 1
        limit = self.policy.max_attempts
        if limit is not None and self.failures >= limit:
            return None
        return self.policy.delay(self.failures - 1, self._rng)

    def dropped(self) -> float:
        """The delay before reconnecting after an established connection dropped.

        It is the first retry's delay: a server that accepts and then drops every
        connection at once must not be hammered in a tight loop.
        """
        self.failures = 0
        return self.policy.delay(0, self._rng)

    def succeeded(self) -> None:
        """A connection was established: the next failure starts the count afresh."""
        self.failures = 0

    @property
    def exhausted(self) -> bool:
        limit = self.policy.max_attempts
        return limit is not None and self.failures >= limit
