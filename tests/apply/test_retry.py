"""Backoff before retrying what the service may do later: exponential, capped, full jitter,
never sooner than the service asked."""

from __future__ import annotations

import random

import pytest

from voxform.apply.retry import RetryPolicy


class Constant(random.Random):
    """A generator whose `random()` is always `value`, to see the jitter's bounds."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 5.0), (10, 5.0)],
)
def test_backoff_doubles_with_each_attempt_up_to_the_cap(attempt: int, expected: float) -> None:
    policy = RetryPolicy(base=0.5, cap=5.0)
    at_most = policy.delay(attempt, None, Constant(1.0))
    assert at_most == pytest.approx(expected)
    assert policy.delay(attempt, None, Constant(0.5)) == pytest.approx(expected / 2)  # jitter
    assert policy.delay(attempt, None, Constant(0.0)) == 0.0


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(None, 0.5), (0.0, 0.5), (0.2, 0.5), (3.0, 3.0), (60.0, 60.0)],
)
def test_delay_is_never_below_the_services_retry_after(
    retry_after: float | None, expected: float
) -> None:
    policy = RetryPolicy(base=1.0, cap=30.0)
    assert policy.delay(0, retry_after, Constant(0.5)) == pytest.approx(expected)


def test_delays_are_full_jitter_and_repeat_for_the_same_seed() -> None:
    policy = RetryPolicy(base=0.5, cap=4.0)

    def delays(seed: int) -> list[float]:
        rng = random.Random(seed)
        return [policy.delay(attempt, None, rng) for attempt in range(8)]

    assert delays(7) == delays(7)
    assert delays(7) != delays(8)
    for attempt, delay in enumerate(delays(7)):
        assert 0.0 <= delay <= min(4.0, 0.5 * 2**attempt)
