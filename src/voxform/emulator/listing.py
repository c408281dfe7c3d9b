"""ListSmartJobs: its parameters, checked the way ICE checks them, and pages that hold still.

A client that lost a submission's answer finds the job by walking this list, so pages must
neither repeat nor skip a job while new ones arrive. Jobs are kept in creation order and a
page is a walk from a position: down from the newest (the default) or up from the oldest.
NextToken is that position, signed so that a made-up token is refused. New jobs only come
at the top, so a walk downwards never meets them and a walk upwards meets them at its end.
A walk costs the page it returns, plus the jobs a filter passes over, never a sort.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from voxform.emulator.submission import ApiError, invalid

DEFAULT_PAGE_SIZE = 10
PAGE_SIZES = (1, 100)
# SortBy values; True: newest first.
SORT_ORDERS = {"CreationTime:Desc": True, "CreationTime:Asc": False}
# The JobType values the API reference names; the emulator's jobs are all TextToSpeech.
JOB_TYPES = ("ASR", "DynamicChart", "VideoTranslation", "TextToSpeech")

_WHOLE = re.compile(r"\d{1,9}")
_MAC_BYTES = 8

T = TypeVar("T")


@dataclass(frozen=True)
class ListQuery:
    """A ListSmartJobs call whose parameters passed every check."""

    job_type: str | None
    job_state: str | None
    size: int  # jobs per page
    descending: bool
    position: int | None  # where the walk resumes (from NextToken); None: from the start
    skip: int = 0  # matching jobs to pass over first (PageNo without NextToken)


class PageTokens:
    """Makes and reads NextToken values; each emulator signs its own with a random key."""

    def __init__(self) -> None:
        self._key = os.urandom(16)

    def encode(self, descending: bool, position: int) -> str:
        """The token of a walk that resumes at `position`."""
        payload = f"{'d' if descending else 'a'}{position}".encode("ascii")
        raw = payload + b"." + self._mac(payload)
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def decode(self, token: str) -> tuple[bool, int]:
        """(newest first?, position) of a token this emulator made; ApiError otherwise."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError):
            raise _bad_token(token) from None
        payload, _, mac = raw.partition(b".")
        text = payload.decode("ascii", "replace")
        if (
            not hmac.compare_digest(mac, self._mac(payload))
            or text[:1] not in ("a", "d")
            or not _WHOLE.fullmatch(text[1:])
        ):
            raise _bad_token(token)
        return text[0] == "d", int(text[1:])

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def parse_listing(
    params: Mapping[str, str], tokens: PageTokens, states: Collection[str]
) -> ListQuery:
    """Check ListSmartJobs' parameters (all optional); ApiError names the first problem."""
    job_type = params.get("JobType") or None
    if job_type is not None and job_type not in JOB_TYPES:
        raise invalid(f"JobType must be one of {', '.join(JOB_TYPES)}, not {job_type!r}.")
    job_state = params.get("JobState") or None
    if job_state is not None and job_state not in states:
        raise invalid(f"JobState must be one of {', '.join(states)}, not {job_state!r}.")
    sort_by = params.get("SortBy") or "CreationTime:Desc"
    if sort_by not in SORT_ORDERS:
        raise invalid(f"SortBy must be one of {', '.join(SORT_ORDERS)}, not {sort_by!r}.")
    descending = SORT_ORDERS[sort_by]
    max_results = _whole(params, "MaxResults", PAGE_SIZES)
    page_size = _whole(params, "PageSize", PAGE_SIZES)
    page_no = _whole(params, "PageNo", (1, 10**9))
    size = max_results or page_size or DEFAULT_PAGE_SIZE
    token = params.get("NextToken", "")
    if token:
        token_descending, position = tokens.decode(token)
        if token_descending != descending:
            raise invalid(f"NextToken belongs to a listing with another SortBy than {sort_by}.")
        return ListQuery(job_type, job_state, size, descending, position)
    skip = (page_no - 1) * size if page_no else 0
    return ListQuery(job_type, job_state, size, descending, None, skip)


def walk(
    jobs: Sequence[T], query: ListQuery, matches: Callable[[T], bool] | None
) -> tuple[list[T], int | None]:
    """One page of `jobs` (in creation order) and the position of the next (None: last page)."""
    count = len(jobs)
    start = query.position
    if start is None:
        start = count if query.descending else 0
    elif not 0 <= start <= count:  # only a token of another emulator with the same key
        raise invalid("NextToken is not valid for this account.")
    indexes = range(start - 1, -1, -1) if query.descending else range(start, count)
    hits = iter(indexes) if matches is None else (i for i in indexes if matches(jobs[i]))
    page = list(islice(hits, query.skip, query.skip + query.size))
    following = None
    if len(page) == query.size and next(hits, None) is not None:
        following = page[-1] if query.descending else page[-1] + 1
    return [jobs[i] for i in page], following


def _whole(params: Mapping[str, str], name: str, bounds: tuple[int, int]) -> int | None:
    value = params.get(name, "")
    if not value:
        return None
    if not _WHOLE.fullmatch(value.strip()) or not bounds[0] <= int(value) <= bounds[1]:
        raise invalid(
            f"{name} must be a whole number from {bounds[0]} to {bounds[1]}, not {value!r}."
        )
    return int(value)


def _bad_token(token: str) -> ApiError:
    shown = token if len(token) <= 64 else token[:61] + "..."
    return invalid(f"NextToken {shown!r} is not valid: pass the one the previous page returned.")
