import math
import random
from itertools import islice

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_stack.exceptions import ConfigError
from ws_stack.reconnect import ReconnectionPolicy


def test_exponential_delays_capped_without_jitter():
    policy = ReconnectionPolicy(
        initial_delay=0.1, factor=2, max_delay=1.0, jitter=0, max_attempts=None
    )
    assert list(islice(policy.delays(), 7)) == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0])


def test_huge_retry_numbers_stay_at_the_cap():
    policy = ReconnectionPolicy(initial_delay=1, factor=10, max_delay=60, jitter=0)
    assert policy.base_delay(10_000) == 60


def test_seeded_jitter_is_deterministic_and_matches_the_formula():
    policy = ReconnectionPolicy(
        initial_delay=0.5, factor=2, max_delay=4, jitter=0.3, seed=42, max_attempts=6
    )
    delays = list(policy.delays())
    assert delays == list(policy.delays())  # same seed, same delays
    rng = random.Random(42)
    expected = [min(4, 0.5 * 2**n) * (1 - 0.3 * rng.random()) for n in range(5)]
    assert delays == pytest.approx(expected)


def test_different_seeds_give_different_delays():
    a = ReconnectionPolicy(seed=1, max_attempts=5)
    b = ReconnectionPolicy(seed=2, max_attempts=5)
    assert list(a.delays()) != list(b.delays())


def test_max_attempts_counts_failed_attempts_in_a_row():
    backoff = ReconnectionPolicy(max_attempts=3, jitter=0).backoff()
    assert backoff.failed() is not None  # attempt 1 failed: retry
    assert backoff.failed() is not None  # attempt 2 failed: retry
    assert not backoff.exhausted
    assert backoff.failed() is None  # attempt 3 failed: give up
    assert backoff.exhausted


def test_one_attempt_means_no_retry():
    assert list(ReconnectionPolicy(max_attempts=1).delays()) == []


def test_success_resets_the_count_and_the_delay():
    backoff = ReconnectionPolicy(
        initial_delay=1, factor=3, max_delay=100, jitter=0, max_attempts=3
    ).backoff()
    assert [backoff.failed(), backoff.failed()] == [1, 3]
    backoff.succeeded()
    assert backoff.failures == 0
    assert backoff.failed() == 1


def test_a_dropped_connection_waits_the_initial_delay():
    backoff = ReconnectionPolicy(initial_delay=0.25, jitter=0).backoff()
    backoff.failed()
    assert backoff.dropped() == 0.25
    assert backoff.failures == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"initial_delay": -1}, "initial_delay"),
        ({"factor": 0.5}, "factor"),
        ({"initial_delay": 5, "max_delay": 1}, "max_delay"),
        ({"jitter": 1.5}, "jitter"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"initial_delay": math.nan}, "initial_delay"),
        ({"max_delay": math.inf}, "max_delay"),
    ],
)
def test_invalid_policy_is_a_config_error_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        ReconnectionPolicy(**kwargs)


@given(
    initial=st.floats(0, 10),
    factor=st.floats(1, 5),
    extra=st.floats(0, 100),
    jitter=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_delays_are_within_bounds(initial, factor, extra, jitter, seed):
    policy = ReconnectionPolicy(
        initial_delay=initial,
        factor=factor,
        max_delay=initial + extra,
        jitter=jitter,
        seed=seed,
        max_attempts=20,
    )
    for n, delay in enumerate(policy.delays()):
        base = policy.base_delay(n)
        assert base * (1 - jitter) - 1e-9 <= delay <= base <= policy.max_delay
