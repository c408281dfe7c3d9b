"""ListSmartJobs: the one way to find a job whose JobId never arrived, so pages must hold still."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from alibabacloud_ice20201109 import models as ice_models

from emulator.calls import EDITING, SSML, all_pages, call, list_jobs, poll, sdk, submit
from voxform.emulator.service import Emulator

StartEmulator = Callable[..., Emulator]


@pytest.fixture
def emulator_options() -> dict[str, object]:
    return {"synthesis": "silence", "latency": 0}


def _submitter(emulator: Emulator) -> Callable[[], int]:
    """Submits job 1, 2, 3, ... (its number in UserData) and returns the number."""
    numbers = itertools.count(1)

    def submit_next() -> int:
        n = next(numbers)
        answer = submit(emulator, UserData=json.dumps({"n": n}))
        assert answer.status_code == 200, answer.text
        return n

    return submit_next


def _numbers(pages: list[list[dict[str, Any]]]) -> list[list[int]]:
    return [[json.loads(job["UserData"])["n"] for job in page] for page in pages]


def test_pages_go_newest_first_without_repeats_or_gaps_while_jobs_arrive(
    emulator: Emulator,
) -> None:
    submit_next = _submitter(emulator)
    for _ in range(25):
        submit_next()
    first = list_jobs(emulator, MaxResults="10")
    assert (first["MaxResults"], first["TotalCount"]) == (10, 25)

    def two_more() -> None:
        submit_next()
        submit_next()

    pages = _numbers(all_pages(emulator, between=two_more, MaxResults="10"))
    assert pages == [list(range(25, 15, -1)), list(range(15, 5, -1)), list(range(5, 0, -1))]
    # The newest jobs wait at the top for the next walk.
    assert _numbers([list_jobs(emulator, MaxResults="4")["SmartJobList"]]) == [[29, 28, 27, 26]]


def test_pages_oldest_first_reach_the_jobs_that_arrive_meanwhile(emulator: Emulator) -> None:
    submit_next = _submitter(emulator)
    for _ in range(25):
        submit_next()
    pages = _numbers(
        all_pages(emulator, between=submit_next, MaxResults="10", SortBy="CreationTime:Asc")
    )
    assert [n for page in pages for n in page] == list(range(1, 28))
    assert [len(page) for page in pages] == [10, 10, 7]


def test_a_full_last_page_carries_no_token_and_page_numbers_work_too(emulator: Emulator) -> None:
    submit_next = _submitter(emulator)
    for _ in range(4):
        submit_next()
    assert _numbers(all_pages(emulator, MaxResults="2")) == [[4, 3], [2, 1]]
    assert _numbers(all_pages(emulator)) == [[4, 3, 2, 1]]
    second = list_jobs(emulator, PageSize="3", PageNo="2")
    assert (_numbers([second["SmartJobList"]]), second["NextToken"]) == ([[1]], "")


def test_entries_describe_the_job_and_give_user_data_back_unchanged(emulator: Emulator) -> None:
    user_data = '{"voxform": "0123456789abcdef0123", "NotifyAddress": "https://x.test/cb"}'
    job_id = submit(emulator, UserData=user_data, Title="Intro", Description="d").json()["JobId"]
    (entry,) = list_jobs(emulator)["SmartJobList"]
    assert entry["JobId"] == job_id
    assert entry["UserData"] == user_data
    assert (entry["JobType"], entry["Title"]) == ("TextToSpeech", "Intro")
    assert entry["Description"] == "d"
    assert entry["JobState"] in ("Created", "Executing", "Finished")
    assert entry["InputConfig"] == {"InputFile": SSML}
    assert entry["EditingConfig"] == EDITING
    assert entry["OutputConfig"] == {"Bucket": "narration", "Object": "intro/hello"}
    assert entry["CreateTime"] and entry["ModifiedTime"]
    assert "MediaUrl" not in json.dumps(entry) and "AiResult" not in entry


def test_job_state_and_type_filter_the_list_and_the_total(start_emulator: StartEmulator) -> None:
    emulator = start_emulator(synthesis="silence", latency=0, fail_jobs=0.5, seed=4)
    submit_next = _submitter(emulator)
    for _ in range(12):
        submit_next()
    poll(lambda: emulator.stats()["jobs"]["Finished"] + emulator.stats()["jobs"]["Failed"] == 12)
    failed = []
    for job in list_jobs(emulator, MaxResults="100")["SmartJobList"]:
        answer = call(emulator, "GetSmartHandleJob", {"JobId": job["JobId"]}).json()
        if answer["State"] == "Failed":
            failed.append(json.loads(job["UserData"])["n"])
    assert 0 < len(failed) < 12
    pages = all_pages(emulator, JobState="Failed", MaxResults="2")
    assert [n for page in _numbers(pages) for n in page] == failed
    assert {job["JobState"] for page in pages for job in page} == {"Failed"}
    assert list_jobs(emulator, JobState="Failed")["TotalCount"] == len(failed)
    executing = list_jobs(emulator, JobState="Executing")
    assert (executing["SmartJobList"], executing["TotalCount"]) == ([], 0)
    other = list_jobs(emulator, JobType="ASR")
    assert (other["SmartJobList"], other["TotalCount"], other["NextToken"]) == ([], 0, "")
    assert list_jobs(emulator, JobType="TextToSpeech")["TotalCount"] == 12


@pytest.mark.parametrize(
    ("params", "hint"),
    [
        ({"MaxResults": "0"}, "MaxResults"),
        ({"MaxResults": "101"}, "MaxResults"),
        ({"MaxResults": "ten"}, "MaxResults"),
        ({"PageSize": "0"}, "PageSize"),
        ({"NextToken": "garbage"}, "NextToken"),
        ({"NextToken": "ZDEwLgAAAAAAAAAA"}, "NextToken"),
        ({"SortBy": "Title:Asc"}, "SortBy"),
        ({"JobState": "Done"}, "JobState"),
        ({"JobType": "Podcast"}, "JobType"),
    ],
)
def test_bad_list_parameters_are_invalid(
    emulator: Emulator, params: dict[str, str], hint: str
) -> None:
    answer = call(emulator, "ListSmartJobs", params)
    assert (answer.status_code, answer.json()["Code"]) == (400, "InvalidParameter")
    assert hint in answer.json()["Message"]


def test_a_token_works_only_where_and_how_it_was_made(
    emulator: Emulator, start_emulator: StartEmulator
) -> None:
    submit_next = _submitter(emulator)
    for _ in range(3):
        submit_next()
    token = list_jobs(emulator, MaxResults="1")["NextToken"]
    assert token
    elsewhere = start_emulator(synthesis="silence", latency=0)
    other_order = {"NextToken": token, "SortBy": "CreationTime:Asc"}
    for target, params in ((elsewhere, {"NextToken": token}), (emulator, other_order)):
        answer = call(target, "ListSmartJobs", params)
        assert answer.json()["Code"] == "InvalidParameter"


def test_the_official_sdk_lists_jobs(emulator: Emulator) -> None:
    submit_next = _submitter(emulator)
    for _ in range(3):
        submit_next()
    client = sdk(emulator)
    request = ice_models.ListSmartJobsRequest(job_type="TextToSpeech", max_results=2)
    first = client.list_smart_jobs(request).body
    assert (first.total_count, first.max_results, len(first.smart_job_list)) == (3, 2, 2)
    request.next_token = first.next_token
    second = client.list_smart_jobs(request).body
    assert not second.next_token
    jobs = [*first.smart_job_list, *second.smart_job_list]
    assert [json.loads(job.user_data)["n"] for job in jobs] == [3, 2, 1]
    assert jobs[0].output_config.bucket == "narration"
    assert jobs[0].input_config.input_file == SSML
    assert emulator.stats()["calls"]["ListSmartJobs"] == 2
