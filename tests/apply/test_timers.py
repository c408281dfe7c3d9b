"""The pipeline's timers: due flights started earliest first across targets and operations,
and an operation out of tokens passed over whole, however many of its flights are due."""

from __future__ import annotations

from voxform.apply.flight import Flight
from voxform.apply.timers import Key, Timers
from voxform.plan.plan import Change
from voxform.providers.protocol import Operation


def flight(name: str, target: str = "ice", stage: str = "running") -> Flight:
    made = Flight(Change(name, "create", (), 1, target=target), target)
    made.stage = stage  # type: ignore[assignment]
    return made


class Run:
    """What one `start_due` started, and how often it asked each operation for a token."""

    def __init__(self, tokens: dict[Key, int], room: int = 1_000_000) -> None:
        self.tokens = tokens  # how many each operation has; one not named has no limit
        self.asked: dict[Key, int] = {}
        self.started: list[tuple[str, Operation]] = []
        self.room = room

    def take(self, key: Key) -> float:
        self.asked[key] = self.asked.get(key, 0) + 1
        if key not in self.tokens:
            return 0.0
        if self.tokens[key] == 0:
            return 0.25
        self.tokens[key] -= 1
        return 0.0

    def start(self, flight: Flight, role: Operation) -> None:
        self.started.append((flight.id, role))

    def __call__(self, timers: Timers, now: float) -> float:
        return timers.start_due(now, self.take, self.start, lambda: len(self.started) < self.room)


def test_due_flights_start_earliest_first_across_targets_and_operations() -> None:
    timers = Timers()
    timers.at(3.0, flight("c", "oss", stage="queued"))
    timers.at(1.0, flight("a"))
    timers.at(2.0, flight("b", "oss"))
    timers.at(9.0, flight("later"))
    run = Run({})
    assert run(timers, now=5.0) == 9.0  # when to look again: the next one due
    assert run.started == [("a", "check"), ("b", "check"), ("c", "submit")]


def test_an_operation_out_of_tokens_is_passed_over_whole() -> None:
    timers = Timers()
    for n in range(10_000):
        timers.at(float(n % 7), flight(f"check-{n}"))
    timers.at(50.0, flight("retry", stage="queued"))
    run = Run({("ice", "check"): 3})
    assert run(timers, now=100.0) == 100.25  # when a token is back
    checks = [("check-0", "check"), ("check-7", "check"), ("check-14", "check")]
    assert run.started == [*checks, ("retry", "submit")]
    assert run.asked[("ice", "check")] == 4  # three taken, one refused: no more asked
    assert sum(map(len, timers.heaps.values())) == 10_000 - 3  # none popped and pushed back


def test_a_submission_due_is_not_held_up_by_checks_out_of_tokens() -> None:
    timers = Timers()
    for n in range(100):
        timers.at(0.0, flight(f"check-{n}"))
    timers.at(1.0, flight("retry", stage="queued"))
    run = Run({("ice", "check"): 0})
    run(timers, now=2.0)
    assert run.started == [("retry", "submit")]


def test_a_flight_set_again_or_done_is_not_started_by_its_old_timer() -> None:
    timers = Timers()
    again, done, moved = flight("again"), flight("done"), flight("moved")
    for one in (again, done, moved):
        timers.at(1.0, one)
    timers.at(5.0, again)  # set again, later
    done.stage = "done"
    moved.stage = "queued"  # its check became a submission without a new timer
    run = Run({})
    assert run(timers, now=2.0) == 5.0
    assert run.started == [("moved", "submit")]


def test_no_room_starts_nothing_more() -> None:
    timers = Timers()
    for n in range(5):
        timers.at(0.0, flight(f"f{n}"))
    run = Run({}, room=2)
    run(timers, now=1.0)
    assert run.started == [("f0", "check"), ("f1", "check")]
    assert bool(timers)
