"""Finding submissions whose answers were lost, by the token each carries in UserData.

A submission that was sent and got no answer (or an intent left by a crash) may or may not
have created a job. Before anything is sent again, a pass reads the service's job list, newest
first, until every token sought is found or the list reaches back past the oldest intent.
A token not found by then never arrived: that item is submitted again, once.

A page that could not be read is read again by itself, from the same NextToken, after a
backoff: the pages before it were read, and what they found is already on its way. Under a
flaky service a pass of P pages then costs about P / (1 - failure share) calls, where
starting over at the first page costs about (1 - share)^-P. A page the service refuses
outright (not a transient error: a token it no longer takes) starts the pass over.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voxform.apply.flight import Flight
from voxform.providers.protocol import JobPage

GRACE = 5.0  # seconds after an intent before "not found" means "never arrived"
MAX_PAGES = 200  # pages one pass reads at most (100 jobs each)
CLOCK_SLACK = 120.0  # seconds of clock difference tolerated when paging back in time


@dataclass
class Pass:
    """One reading of the job list."""

    wanted: dict[str, Flight]
    oldest: float  # wall-clock time of the oldest intent sought
    pages: int = 0
    next_page: str | None = None  # the page to read next (None: the first)
    reading: bool = False  # a page of this pass is being read


@dataclass
class PageResult:
    """What one page settled: flights found (with their job ids set), flights that never
    arrived, and the next page to read (None: the pass is over)."""

    found: list[Flight] = field(default_factory=list)
    missing: list[Flight] = field(default_factory=list)
    next_page: str | None = None


class Lookups:
    """The flights of one target whose fate is unknown, and the pass looking for them."""

    def __init__(self) -> None:
        self.sought: dict[str, Flight] = {}
        self.current: Pass | None = None
        self.failures = 0  # pages that could not be read, in a row
        self.first_failure: float | None = None  # monotonic
        self.not_before = 0.0  # monotonic: no page is read earlier (backoff)

    def seek(self, flight: Flight) -> None:
        flight.stage = "lookup"
        self.sought[flight.token] = flight

    def ready(self, wall: float, now: float) -> tuple[dict[str, Flight], float]:
        """The flights to look for now (a new pass, or the pass whose page failed, once
        its backoff is over), and (when none) seconds until there may be some."""
        if not self.sought or (self.current is not None and self.current.reading):
            return {}, 0.5
        if now < self.not_before:
            return {}, self.not_before - now
        if self.current is not None:
            if self.current.wanted:
                return self.current.wanted, 0.0
            self.current = None
        ready = {t: f for t, f in self.sought.items() if wall - f.intent_at >= GRACE}
        if ready:
            return ready, 0.0
        soonest = min(f.intent_at for f in self.sought.values()) + GRACE
        return {}, max(0.05, soonest - wall)

    def begin(self, ready: dict[str, Flight]) -> str | None:
        """Start reading: a new pass over `ready`, or the failed page again; the page to
        read (None: the first)."""
        if self.current is None:
            self.current = Pass(ready, min(f.intent_at for f in ready.values()))
        self.current.reading = True
        return self.current.next_page

    def failed(
        self, now: float, delay: float, deadline: float, *, restart: bool = False
    ) -> list[Flight]:
        """A page could not be read: read it again after `delay` (with `restart`, the pass
        starts over instead); after `deadline` seconds of failures give up, returning the
        flights whose fate stays unknown."""
        if self.current is not None:
            self.current.reading = False
            if restart:
                self.current = None
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = now
        if now - self.first_failure <= deadline:
            self.not_before = now + delay
            return []
        self.current = None
        given_up, self.sought = list(self.sought.values()), {}
        self.failures, self.first_failure = 0, None
        return given_up

    def page(self, page: JobPage) -> PageResult:
        """Take one page of the pass under way."""
        lookup = self.current
        assert lookup is not None
        lookup.pages += 1
        self.failures, self.first_failure = 0, None
        result = PageResult()
        for job in page.jobs:
            flight = self.sought.get(job.token or "")
            if flight is not None and flight.stage == "lookup":
                del self.sought[flight.token]
                lookup.wanted.pop(flight.token, None)
                flight.job_id = job.job_id
                result.found.append(flight)
        created = [j.created for j in page.jobs if j.created is not None]
        older = bool(created) and min(created) < lookup.oldest - CLOCK_SLACK
        if lookup.wanted and page.next_page and not older and lookup.pages < MAX_PAGES:
            result.next_page = lookup.next_page = page.next_page
            return result
        self.current = None
        for token, flight in lookup.wanted.items():
            self.sought.pop(token, None)
            result.missing.append(flight)
        return result
