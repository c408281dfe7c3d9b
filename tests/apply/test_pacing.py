"""An operation's adaptive rate on a fake clock: a token bucket held to the configured limit,
and, when the limit is unknown, found by whole windows of answers, not single ones."""

from __future__ import annotations

import math
import random

import pytest

from voxform.apply.pacing import AdaptiveRate


def granted(rate: AdaptiveRate, seconds: float, *, start: float = 0.0) -> list[float]:
    """Times a greedy caller (asking every 0.1 ms at most) got a token over `seconds`,
    sleeping exactly as long as told."""
    times = []
    now = start
    while now < start + seconds:
        wait = rate.take(now)
        if wait == 0.0:
            times.append(now)
            now += 1e-4
        else:
            assert 0.0 < wait < math.inf
            now += max(wait, 1e-9)  # a wait below the float's step would not move `now`
    return times


def most_in_one_second(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def tokens_at(rate: AdaptiveRate, now: float) -> int:
    """How many tokens the bucket grants at once at `now`, before it refuses one."""
    for n in range(10_000):
        if rate.take(now) > 0.0:
            return n
    raise AssertionError("the bucket never refused a call")


def starve(rate: AdaptiveRate, now: float) -> None:
    """Ask for tokens until the bucket refuses one: the bucket holds calls back."""
    tokens_at(rate, now)


def window(rate: AdaptiveRate, start: float, answers: int, throttled: int) -> None:
    """`answers` answers spread over one window starting at `start`, the first `throttled`
    of them throttled; the last one closes the window."""
    for n in range(answers):
        rate.answered(start + n / (answers - 1), throttled=n < throttled)


@pytest.mark.parametrize("limit", [2.0, 20.0, 100.0])
def test_a_configured_limit_grants_its_rate_per_second_and_never_more(limit: float) -> None:
    rate = AdaptiveRate(limit)

    times = granted(rate, 5.0)

    assert limit * 5 - 1 <= len(times) <= limit * 5 + 1
    assert most_in_one_second(times) <= limit + 1


def test_a_caller_that_does_not_wait_is_refused_with_the_time_to_wait() -> None:
    rate = AdaptiveRate(20.0)
    assert rate.take(0.0) == 0.0
    assert rate.take(0.0) == pytest.approx(0.05)
    assert rate.take(0.01) == pytest.approx(0.04)  # the wait shrinks as time passes
    assert rate.take(0.05) == 0.0


def test_an_idle_bucket_saves_only_a_small_burst() -> None:
    rate = AdaptiveRate(20.0)
    rate.take(0.0)

    assert tokens_at(rate, 100.0) == 2  # 100 idle seconds later: a tenth of a second's worth


def test_an_unknown_limit_starts_at_ten_per_second() -> None:
    rate = AdaptiveRate(None)

    times = granted(rate, 3.0)

    assert rate.rate == 10.0
    assert 29 <= len(times) <= 31


def test_a_window_mostly_throttled_lowers_the_rate_to_what_passed() -> None:
    rate = AdaptiveRate(None)
    starve(rate, 0.0)

    window(rate, 0.0, answers=20, throttled=8)  # 40%: x 0.6 / 0.75

    assert rate.rate == pytest.approx(8.0)
    assert 15 <= len(granted(rate, 2.0, start=10.0)) <= 17  # the bucket follows


def test_a_window_just_over_a_quarter_throttled_takes_a_small_step() -> None:
    rate = AdaptiveRate(None)
    window(rate, 0.0, answers=20, throttled=6)  # 30%: x 0.93, but at most x 0.95
    assert rate.rate == pytest.approx(9.333, abs=1e-3)
    window(rate, 1.0, answers=20, throttled=20)  # all: at most halved
    assert rate.rate == pytest.approx(4.667, abs=1e-3)


def test_the_rate_changes_once_per_window_not_once_per_answer() -> None:
    rate = AdaptiveRate(None)

    window(rate, 0.0, answers=100, throttled=100)

    assert rate.rate == pytest.approx(5.0)  # halved once, not 100 times


def test_a_sprinkle_of_throttling_does_not_lower_the_rate() -> None:
    rate = AdaptiveRate(None)
    window(rate, 0.0, answers=20, throttled=2)  # 10%
    assert rate.rate == pytest.approx(10.0)
    window(rate, 1.0, answers=20, throttled=5)  # 25% exactly: still not "more than a quarter"
    assert rate.rate == pytest.approx(10.0)


def test_a_clean_window_raises_a_starved_rate_by_a_tenth() -> None:
    rate = AdaptiveRate(None)
    starve(rate, 0.0)

    window(rate, 0.0, answers=20, throttled=0)

    assert rate.rate == pytest.approx(11.0)


def test_a_rate_that_was_not_holding_calls_back_is_not_raised() -> None:
    rate = AdaptiveRate(None)
    rate.take(0.0)  # one call: the bucket never refused

    window(rate, 0.0, answers=20, throttled=0)

    assert rate.rate == pytest.approx(10.0)


def test_a_configured_limit_is_never_exceeded_when_raising_the_rate() -> None:
    rate = AdaptiveRate(20.0)
    starve(rate, 0.0)
    window(rate, 0.0, answers=20, throttled=0)
    assert rate.rate == pytest.approx(20.0)  # starved and clean, but already at the limit

    starve(rate, 1.0)
    window(rate, 1.0, answers=20, throttled=8)
    assert rate.rate == pytest.approx(16.0)  # throttled anyway: a neighbour shares the limit

    seen = []
    for second in range(2, 8):
        starve(rate, float(second))
        window(rate, float(second), answers=20, throttled=0)
        seen.append(rate.rate)
    assert seen[:2] == pytest.approx([17.6, 19.36])
    assert seen[2:] == pytest.approx([20.0] * 4)  # capped, not 21.3


def test_throttling_never_brings_the_rate_to_zero() -> None:
    rate = AdaptiveRate(None)
    for second in range(100):
        window(rate, float(second), answers=5, throttled=5)
    assert rate.rate == pytest.approx(0.5)
    assert 0.0 < rate.take(1000.0) + rate.take(1000.0) <= 2.0


@pytest.mark.parametrize("limit", [1e-300, 1e-9, 0.01])
def test_a_tiny_configured_limit_is_clamped_to_a_finite_wait(limit: float) -> None:
    rate = AdaptiveRate(limit)

    assert rate.take(0.0) == 0.0
    wait = rate.take(0.0)

    assert math.isfinite(wait) and 0.0 < wait <= 2.0


def test_an_unlimited_operation_is_never_held_back() -> None:
    rate = AdaptiveRate(None, unlimited=True)
    assert all(rate.take(0.0) == 0.0 for _ in range(10_000))
    window(rate, 0.0, answers=10, throttled=10)
    assert all(rate.take(0.0) == 0.0 for _ in range(100))


def test_a_refused_call_gives_its_token_back_up_to_half_a_windows_calls() -> None:
    rate = AdaptiveRate(10.0)
    starve(rate, 0.0)

    for n in range(4):
        rate.answered(0.1 * n, throttled=n % 2 == 0, refused=True)

    assert tokens_at(rate, 0.4) == 2  # two of the four refused calls refunded


def test_a_storm_of_failed_calls_leaves_the_answered_calls_at_the_full_rate() -> None:
    """A caller whose every third call is refused still gets the limit's worth of answered
    calls per second, and never more than half again as many calls in all."""
    rate = AdaptiveRate(10.0)
    now, calls, answered = 0.0, 0, 0
    while now < 10.0:
        wait = rate.take(now)
        if wait:
            now += max(wait, 1e-9)  # a wait below the float's step would not move `now`
            continue
        calls += 1
        refused = calls % 3 == 0
        answered += not refused
        rate.answered(now, throttled=False, refused=refused)
    assert 95 <= answered <= 102
    assert calls <= answered * 1.5 + 2


def test_a_window_of_few_answers_is_judged_only_when_it_has_enough_or_is_long() -> None:
    rate = AdaptiveRate(10.0)
    window(rate, 0.0, answers=10, throttled=5)  # half throttled, but only ten answers
    assert rate.rate == pytest.approx(10.0)
    rate.answered(11.0, throttled=True)  # ten seconds on: judged whatever its size
    assert rate.rate == pytest.approx(10.0 * 5 / 11 / 0.75)


def test_a_fifth_of_calls_failing_at_random_does_not_walk_the_rate_down() -> None:
    """A storm of random throttling answers (a fifth of all calls, the limit not reached)
    leaves a starved rate at its limit most of the time."""
    rng = random.Random(4)
    rate = AdaptiveRate(10.0)
    now, rates = 0.0, []
    while now < 120.0:
        wait = rate.take(now)
        if wait:
            now += max(wait, 1e-9)
            continue
        rate.answered(now, throttled=rng.random() < 0.2)
        rates.append(rate.rate)
        now += 1e-4
    assert sum(rates) / len(rates) >= 8.5  # the mean rate (it was 6.6)
