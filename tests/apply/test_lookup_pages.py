"""A pass over the job list survives a failed page by reading that page again, not page 1.

Under a flaky service, starting a pass over at every failed page costs (1 - share)^-P calls
for P pages and may never end (a rate limit that lets one page through per retry); reading
the failed page again costs about P / (1 - share).
"""

from __future__ import annotations

from voxform.apply.flight import Flight
from voxform.apply.lookup import Lookups
from voxform.plan.plan import Change
from voxform.providers.protocol import JobPage, ListedJob

WALL = 1_000_000.0  # seconds since the epoch of the test's "now"


def sought(lookups: Lookups, name: str, token: str, age: float = 60.0) -> Flight:
    flight = Flight(Change(name, "resume", (), 1, target="oss"), "oss", token=token)
    flight.intent_at = WALL - age
    lookups.seek(flight)
    return flight


def page(next_page: str | None, *tokens: str) -> JobPage:
    jobs = tuple(ListedJob(f"job-{t}", t, WALL - 10) for t in tokens)
    return JobPage(jobs, next_page)


def test_a_failed_page_is_read_again_from_its_own_token_after_the_backoff() -> None:
    lookups = Lookups()
    first = sought(lookups, "a", "a" * 20)
    last = sought(lookups, "b", "b" * 20)
    ready, _ = lookups.ready(WALL, 0.0)
    assert lookups.begin(ready) is None  # a pass starts at the first page
    result = lookups.page(page("page-2", first.token, "other"))
    assert result.found == [first] and first.job_id == f"job-{first.token}"
    assert result.next_page == "page-2"

    assert lookups.failed(10.0, 2.0, deadline=900.0) == []
    assert lookups.ready(WALL, 11.0) == ({}, 1.0)  # the backoff holds
    ready, wait = lookups.ready(WALL, 12.0)
    assert (ready, wait) == ({last.token: last}, 0.0)
    assert lookups.begin(ready) == "page-2"  # that page again, not the first
    assert lookups.ready(WALL, 12.0) == ({}, 0.5)  # while it is read, nothing else starts

    result = lookups.page(page(None, last.token))
    assert result.found == [last] and result.missing == []
    assert lookups.current is None and not lookups.sought and lookups.failures == 0


def test_a_page_the_service_refuses_starts_the_pass_over() -> None:
    lookups = Lookups()
    flight = sought(lookups, "a", "a" * 20)
    lookups.begin(lookups.ready(WALL, 0.0)[0])
    lookups.page(page("stale-token"))
    lookups.begin(lookups.ready(WALL, 0.0)[0])
    lookups.failed(1.0, 0.5, deadline=900.0, restart=True)
    ready, _ = lookups.ready(WALL, 2.0)
    assert ready == {flight.token: flight}
    assert lookups.begin(ready) is None


def test_pages_failing_past_the_deadline_leave_the_flights_unresolved() -> None:
    lookups = Lookups()
    flight = sought(lookups, "a", "a" * 20)
    lookups.begin(lookups.ready(WALL, 0.0)[0])
    assert lookups.failed(0.0, 1.0, deadline=5.0) == []
    lookups.begin(lookups.ready(WALL, 1.0)[0])
    assert lookups.failed(6.0, 1.0, deadline=5.0) == [flight]
    assert lookups.current is None and not lookups.sought


def test_a_token_not_listed_back_to_the_oldest_intent_never_arrived() -> None:
    lookups = Lookups()
    flight = sought(lookups, "a", "a" * 20)
    lookups.begin(lookups.ready(WALL, 0.0)[0])
    lookups.failed(0.0, 0.1, deadline=900.0)
    lookups.begin(lookups.ready(WALL, 1.0)[0])
    result = lookups.page(page(None, "someone-else"))
    assert result.missing == [flight] and result.next_page is None
