"""The table printed last: outcomes per command, failure and note classes per case, the
slowest and heaviest runs, and the command that replays each failing case."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from .judge import last_line

if TYPE_CHECKING:
    from .trial import Options

FAILURES = ("traceback", "hang", "memory", "crash", "outside", "network", "fuzzer error")
NOTES = ("log injection", "bad json", "left running")
OUTCOMES = ("exit 0", "exit 1", "exit 2", "crash", "traceback", "hang", "memory")
LABELS = {
    "crash": "crash (exit not 0/1/2)",
    "hang": "hang (timeout)",
    "memory": "memory over 500 MB",
    "outside": "changed outside outputs",
    "network": "network in validate/plan",
    "fuzzer error": "fuzzer error",
    "log injection": "log injection (note)",
    "bad json": "plan --json not JSON (note)",
    "left running": "processes left running (note)",
}


def classes(result: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """For one case: failure or note class -> [(command, one line)]."""
    found: dict[str, list[tuple[str, str]]] = {}
    if result.get("error"):
        found["fuzzer error"] = [("-", last_line(result["error"]))]
    for run in result["runs"]:
        if run["outcome"] in ("traceback", "hang", "memory", "crash"):
            found.setdefault(run["outcome"], []).append((run["command"], run["problem"]))
        if run["outside"]:
            found.setdefault("outside", []).append((run["command"], ", ".join(run["outside"][:4])))
        for note in run["notes"]:
            kind = note.split(":", 1)[0]
            if kind == "network" and run["command"] == "apply":
                kind = "network (apply)"  # the service is ICE's: a note, not a failure
            found.setdefault(kind, []).append((run["command"], note))
    return found


def report(results: list[dict[str, Any]], options: Options, elapsed: float, argv_extra: str) -> int:
    by_command: dict[str, Counter[str]] = {c: Counter() for c in ("validate", "plan", "apply")}
    slowest = (0.0, -1, "")
    peak = (0, -1, "")
    finished: dict[str, tuple[float, int, int, int]] = {}  # command -> (s, case, KB, case)
    for result in results:
        for run in result["runs"]:
            by_command[run["command"]][run["outcome"]] += 1
            slowest = max(slowest, (run["seconds"], result["case"], run["command"]))
            peak = max(peak, (run["max_rss_kb"], result["case"], run["command"]))
            if run["outcome"].startswith("exit"):
                s, s_case, kb, kb_case = finished.get(run["command"], (0.0, -1, 0, -1))
                if run["seconds"] > s:
                    s, s_case = run["seconds"], result["case"]
                if run["max_rss_kb"] > kb:
                    kb, kb_case = run["max_rss_kb"], result["case"]
                finished[run["command"]] = (s, s_case, kb, kb_case)
    per_case = [(r, classes(r)) for r in results]
    case_counts = Counter(kind for _, found in per_case for kind in found)
    print(f"\n{'outcome':<32}{'validate':>9}{'plan':>7}{'apply':>7}{'cases':>7}")
    for outcome in (*OUTCOMES, "skipped"):
        row = [by_command[c][outcome] for c in ("validate", "plan", "apply")]
        print(
            f"{LABELS.get(outcome, outcome):<32}{row[0]:>9}{row[1]:>7}{row[2]:>7}"
            f"{case_counts.get(outcome, '') if outcome in FAILURES else '':>7}"
        )
    for kind in ("outside", "network", "network (apply)", "fuzzer error", *NOTES):
        print(f"{LABELS.get(kind, kind):<32}{'':>23}{case_counts.get(kind, 0):>7}")
    print(f"\ncases: {len(results)} (apply on {sum(1 for r in results if r.get('apply'))})")
    print(f"slowest: {slowest[0]:.2f} s, case {slowest[1]} {slowest[2]}")
    print(f"peak RSS: {peak[0] / 1024:.0f} MB, case {peak[1]} {peak[2]}")
    for command, (s, s_case, kb, kb_case) in sorted(finished.items()):
        print(
            f"  {command} that exited: slowest {s:.2f} s (case {s_case}), "
            f"peak RSS {kb / 1024:.0f} MB (case {kb_case})"
        )
    print(f"run time: {elapsed:.0f} s")
    for kind in (*FAILURES, "network (apply)", *NOTES):
        hits = [(r, found[kind]) for r, found in per_case if kind in found]
        if not hits:
            continue
        print(f"\n{LABELS.get(kind, kind)}: {len(hits)} case(s)")
        for result, lines in hits[:5]:
            command, line = lines[0]
            print(f"  case {result['case']} {command}: {line[:300]}")
            print(f"    mutations: {'; '.join(result['mutations'])[:300]}")
            print(
                f"    python bench/fuzz.py --seed {options.seed} --only {result['case']}"
                f"{argv_extra}"
            )
    failed = {k: case_counts.get(k, 0) for k in FAILURES}
    print(
        f"\nfuzz: {len(results)} cases, seed {options.seed}: {failed['traceback']} tracebacks, "
        f"{failed['hang']} hangs, {failed['memory']} over 500 MB, {failed['crash']} crashes, "
        f"{failed['outside']} with files changed outside outputs, {failed['network']} reaching "
        f"for the network, {failed['fuzzer error']} fuzzer errors"
    )
    return 1 if any(failed.values()) else 0
