"""Jobs in flight when `--parallelism` is not given: enough for the submit rates the targets
state (Little's law), never fewer than the old fixed default, never without bound."""

from __future__ import annotations

from voxform.apply.run import DEFAULT_PARALLELISM, MOST_IN_FLIGHT, default_parallelism
from voxform.ice.wire import SUBMIT


def test_targets_that_state_no_fast_submit_rate_keep_the_fixed_default() -> None:
    assert default_parallelism([]) == DEFAULT_PARALLELISM == 200
    assert default_parallelism([{}]) == 200
    assert default_parallelism([{SUBMIT: 30.0}]) == 200
    # Other operations' limits say nothing of how many jobs start each second.
    assert default_parallelism([{"GetSmartHandleJob": 5000.0, "ListSmartJobs": 900.0}]) == 200


def test_a_fast_submit_rate_gets_the_jobs_in_flight_that_keep_it_busy() -> None:
    assert default_parallelism([{SUBMIT: 500.0}]) == 300
    assert default_parallelism([{SUBMIT: 2000.0}]) == 1200
    assert default_parallelism([{SUBMIT: 500.0}, {SUBMIT: 1000.0}, {}]) == 900  # summed


def test_the_default_has_a_ceiling_however_fast_the_rates_stated() -> None:
    assert default_parallelism([{SUBMIT: 1e9}]) == MOST_IN_FLIGHT == 2000
