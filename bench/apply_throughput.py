"""How much of the service's rate limit apply holds, against a sequential official-SDK loop.

    python bench/apply_throughput.py [--items 1500] [--submit-limit 30] [--get-limit 60]
        [--latency 1.0] [--synthesis silence|espeak] [--fail-requests 0.0]
        [--unknown-limits] [--sdk-items 20]

Starts `voxform emulator` with per-operation limits, applies a generated project of ITEMS
paragraphs (the manifest states the same limits unless --unknown-limits), then runs a
sequential loop over the official SDK (submit, poll every 0.5 s) against the same emulator.
Prints the share of the submit limit held, calls per item by operation, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from alibabacloud_ice20201109 import models
from alibabacloud_ice20201109.client import Client
from alibabacloud_tea_openapi import models as open_api

sys.path.insert(0, str(Path(__file__).parent))
from harness import emulator, make_project, rate_limit_options, table, voxform

SUBMIT, GET, LIST = "SubmitAudioProduceJob", "GetSmartHandleJob", "ListSmartJobs"


def sdk_loop(url: str, items: int) -> float:
    """Seconds per item of the simplest correct client: submit, poll every 0.5 s."""
    host = url.removeprefix("http://")
    config = open_api.Config(
        access_key_id="testid", access_key_secret="testsecret", endpoint=host, protocol="http"
    )
    client = Client(config)
    started = time.monotonic()
    for n in range(items):
        answer = client.submit_audio_produce_job(
            models.SubmitAudioProduceJobRequest(
                input_config=f"<speak>Sequential item number {n}.</speak>",
                editing_config=json.dumps({"voice": "siqi", "format": "MP3"}),
                output_config=json.dumps({"bucket": "bench-audio", "object": f"sdk/{n}"}),
            )
        )
        job_id = answer.body.job_id
        while True:
            time.sleep(0.5)
            state = client.get_smart_handle_job(
                models.GetSmartHandleJobRequest(job_id=job_id)
            ).body.state
            if state in ("Finished", "Failed"):
                break
    return (time.monotonic() - started) / items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1500)
    parser.add_argument("--submit-limit", type=float, default=30.0)
    parser.add_argument("--get-limit", type=float, default=60.0)
    parser.add_argument("--latency", type=float, default=1.0)
    parser.add_argument("--synthesis", choices=("silence", "espeak"), default="silence")
    parser.add_argument("--fail-requests", type=float, default=0.0)
    parser.add_argument("--unknown-limits", action="store_true")
    parser.add_argument("--sdk-items", type=int, default=20)
    args = parser.parse_args()

    limits = {SUBMIT: args.submit_limit, GET: args.get_limit}
    with tempfile.TemporaryDirectory(prefix="voxform-bench-") as scratch:
        root = make_project(
            Path(scratch) / "project", args.items, limits=None if args.unknown_limits else limits
        )
        with emulator(
            Path(scratch) / "oss",
            "--latency",
            str(args.latency),
            "--synthesis",
            args.synthesis,
            *rate_limit_options(limits),
            "--fail-requests",
            str(args.fail_requests),
            "--seed",
            "1",
        ) as emu:
            run = voxform(["-C", str(root), "apply", "--yes"], url=emu.url)
            stats = emu.stats()
            lock = json.loads((root / "voxform.lock").read_text())["items"]
            sdk = sdk_loop(emu.url, args.sdk_items) if args.sdk_items else float("nan")
    if run.code not in (0, 1):
        print(run.output[-3000:])
    states = {s: sum(1 for e in lock.values() if e["state"] == s) for s in ("finished", "failed")}
    ideal = args.items / args.submit_limit + args.latency
    held = args.items / args.submit_limit / run.seconds
    calls = stats.get("calls", {})
    throttled = stats.get("throttled", {})
    per_item = {op: calls.get(op, 0) / args.items for op in (SUBMIT, GET, LIST)}
    twice = sum(1 for n in stats["submissions"].values() if n > 1)
    print(
        f"{args.items} items, {args.latency:g} s jobs, emulator limits submit "
        f"{args.submit_limit:g}/s get {args.get_limit:g}/s, manifest limits "
        f"{'unknown' if args.unknown_limits else 'the same'}, fail-requests "
        f"{args.fail_requests:g}, synthesis {args.synthesis}"
    )
    print(
        table(
            [
                ["measure", "value"],
                ["apply exit code", run.code],
                ["finished / failed", f"{states['finished']} / {states['failed']}"],
                ["wall time", f"{run.seconds:.1f} s (ideal {ideal:.1f} s)"],
                ["share of the submit limit held", f"{held:.1%}"],
                ["client CPU", f"{run.cpu:.1f} s"],
                ["client peak memory", f"{run.peak_mb:.0f} MB"],
                *[[f"{op} calls per item", f"{per_item[op]:.2f}"] for op in per_item],
                ["throttled answers", sum(throttled.values())],
                ["objects submitted more than once", twice],
                ["official SDK loop, seconds per item", f"{sdk:.2f}"],
                ["voxform items/s over SDK items/s", f"{args.items / run.seconds * sdk:.1f}x"],
            ]
        )
    )


if __name__ == "__main__":
    main()
