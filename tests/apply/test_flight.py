"""When to take the first look at a job, learnt from the looks that find it still running (and
from probes that find it done early) and eased down by the clock."""

from __future__ import annotations

import itertools

import pytest

from voxform.apply.flight import Latency


def test_before_anything_is_learnt_the_first_look_probes_down_fast_from_the_first_submission() -> (
    None
):
    """Every look so far found its job done: a first look held at the starting estimate would
    cap the apply at its parallelism over that estimate, however fast the service is."""
    latency = Latency(estimate=1.0)
    assert latency.first_look(500.0) == 1.0  # the first submission starts the clock
    assert latency.first_look(505.0) == pytest.approx(0.8**5)
    assert latency.first_look(1000.0) == latency.floor

    latency.learn(0.35, now=505.0)  # an early look: from now on, the slow probing down
    assert latency.first_look(505.0) == pytest.approx(0.385)
    assert latency.first_look(515.0) == pytest.approx(0.385 * 0.98**10)


def test_a_run_of_early_looks_at_the_same_age_does_not_blow_the_estimate_up() -> None:
    latency = Latency(estimate=1.0)

    for n in range(50):
        latency.learn(1.0, now=10.0 + n * 0.01)

    assert latency.first_look(10.49) == pytest.approx(1.1)  # not 1.2**50


def test_an_early_look_moves_the_estimate_just_past_what_it_proved() -> None:
    latency = Latency(estimate=1.0)

    latency.learn(4.0, now=0.0)
    assert latency.first_look(0.0) == pytest.approx(4.4)

    latency.learn(2.0, now=0.0)  # a younger running job proves nothing new
    assert latency.first_look(0.0) == pytest.approx(4.4)


def test_the_estimate_probes_down_by_the_clock_not_by_the_number_of_jobs() -> None:
    latency = Latency(estimate=1.0)
    latency.learn(4.0, now=100.0)

    for _ in range(1000):  # asking does not lower it
        latency.first_look(100.0)

    assert latency.first_look(100.0) == pytest.approx(4.4)
    assert latency.first_look(110.0) == pytest.approx(4.4 * 0.98**10)
    assert latency.first_look(99.0) == pytest.approx(4.4)  # never above the last raise


def test_an_early_look_after_a_long_quiet_raises_from_where_the_estimate_had_come_down() -> None:
    latency = Latency(estimate=1.0)
    latency.learn(4.0, now=0.0)
    eased = latency.first_look(50.0)
    assert eased == pytest.approx(4.4 * 0.98**50)

    latency.learn(1.0, now=50.0)  # proves less than what the estimate still says

    assert latency.first_look(50.0) == pytest.approx(eased)
    assert latency.first_look(60.0) == pytest.approx(eased * 0.98**10)


def test_the_estimate_stays_between_its_floor_and_ceiling() -> None:
    latency = Latency(estimate=1.0)
    latency.learn(10_000.0, now=0.0)
    assert latency.first_look(0.0) == pytest.approx(600.0)
    assert latency.first_look(1_000_000.0) == pytest.approx(0.05)


def test_later_looks_back_off_from_a_quarter_of_the_estimate_up_to_half_a_minute() -> None:
    latency = Latency(estimate=4.0)

    pauses = [latency.next_look(looks) for looks in range(1, 12)]

    assert pauses[0] == pytest.approx(1.0)
    assert pauses[1] == pytest.approx(1.5)
    assert all(later >= earlier for earlier, later in itertools.pairwise(pauses))
    assert pauses[-1] == 30.0
    assert Latency(estimate=0.05).next_look(1) == pytest.approx(0.2)  # never a busy loop


def test_one_job_in_sixteen_is_a_probe_looked_at_after_half_the_estimate() -> None:
    latency = Latency(estimate=1.0)
    latency.learn(2.0, now=0.0)  # estimate 2.2

    looks = [latency.plan_look(0.0) for _ in range(32)]

    probes = [n for n, (_, probe) in enumerate(looks, start=1) if probe]
    assert probes == [16, 32]
    assert looks[15][0] == pytest.approx(1.1)
    assert all(wait == pytest.approx(2.2) for wait, probe in looks if not probe)


def test_a_probe_found_done_brings_one_slow_jobs_estimate_down_at_once() -> None:
    """One slow job (the service's first) raised the estimate to 1.1 s; jobs take 0.3 s.
    Before probes, 2% a second took a minute to come back down."""
    latency = Latency(estimate=1.0)
    latency.learn(1.0, now=0.0)
    assert latency.first_look(0.0) == pytest.approx(1.1)

    latency.done(0.56, now=0.6)  # a probe looked at after 0.55 s found its job done

    assert latency.first_look(0.6) == pytest.approx(0.616)
    latency.done(0.9, now=0.7)  # a later probe proves less: nothing changes
    assert latency.first_look(0.7) == pytest.approx(0.616 * 0.98**0.1)


def test_probes_grow_rare_once_one_finds_its_job_running_and_frequent_when_one_pays() -> None:
    latency = Latency(estimate=0.33)
    latency.learn(0.3, now=0.0)

    latency.learn(0.17, now=1.0, probe=True)  # a probe at half the estimate was early

    assert latency.first_look(1.0) == pytest.approx(0.33 * 0.98)  # it raised nothing
    probes = [n for n in range(1, 129) if latency.plan_look(1.0)[1]]
    assert probes == [64, 128]

    latency.done(0.2, now=2.0)  # the latency fell: a probe found its job done

    assert latency.first_look(2.0) == pytest.approx(0.22)
    probes = [n for n in range(1, 33) if latency.plan_look(2.0)[1]]
    assert len(probes) == 2


def test_no_probe_is_planned_below_the_floor() -> None:
    latency = Latency(estimate=0.06)
    latency.learn(0.05, now=0.0)

    assert not any(latency.plan_look(0.0)[1] for _ in range(64))


def test_a_probe_found_running_is_looked_at_again_when_its_first_look_was_due() -> None:
    """Jobs of 1 s, the estimate 1.1 s: a probe looked at after 0.55 s is running; backing
    off from there (0.275 s, then 0.41 s) would spend two more reads, not one."""
    latency = Latency(estimate=1.0)
    latency.learn(1.0, now=0.0)

    assert latency.after_probe(10.0, now=10.6) == pytest.approx(10.0 + 1.1 * 0.98**10.6)
    # A probe answered after its regular look was due is looked at after the usual pause.
    assert latency.after_probe(10.0, now=12.0) == pytest.approx(12.0 + latency.next_look(1))
