"""The command line: parse options, make the examples' copies, run the cases in a pool of
forked workers, print the report and exit 1 on any failure."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .command import ADDRESS_SPACE
from .generate import make_templates
from .report import report
from .trial import Options, run_case

DESCRIPTION = (
    "Hostile inputs: random mutations of the examples, run through voxform as a user would."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds for validate, plan")
    parser.add_argument("--apply-timeout", type=float, default=60.0)
    parser.add_argument("--apply-every", type=int, default=10, help="0: never apply")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", type=int, default=None, help="replay one case and keep it")
    parser.add_argument("--results", type=Path, default=None, help="write every case as JSON")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"seed {seed}", flush=True)
    # A runaway allocation, ours or voxform's, fails there instead of waking the OOM killer.
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, hard))
    base = Path(tempfile.mkdtemp(prefix="voxform-fuzz-"))
    started = time.monotonic()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_", "VOXFORM_"))}
    options = Options(
        seed,
        args.timeout,
        args.apply_timeout,
        args.apply_every,
        base,
        make_templates(base, env),
        keep=args.only is not None,
        verbose=args.only is not None,
    )
    extra = "" if args.apply_every == 10 else f" --apply-every {args.apply_every}"
    extra += "" if args.timeout == 10 else f" --timeout {args.timeout:g}"
    if args.only is not None:
        result = run_case(args.only, options)
        print("mutations:\n  " + "\n  ".join(result["mutations"]))
        if result.get("error"):
            print(result["error"])
        print(f"kept: {result.get('root', base)}")
        sys.exit(report([result], options, time.monotonic() - started, extra))
    results: list[dict[str, Any]] = []
    try:
        # A case takes at most its commands' timeouts and some seconds of checks; a worker
        # that does not answer in that time is gone (imap would wait for it for ever).
        patience = 2 * args.timeout + args.apply_timeout + 120
        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            answers = pool.imap_unordered(
                _pool_case, [(n, options) for n in range(args.cases)], chunksize=1
            )
            while len(results) < args.cases:
                try:
                    results.append(answers.next(timeout=patience))
                except multiprocessing.TimeoutError:
                    lost = sorted(set(range(args.cases)) - {r["case"] for r in results})
                    results += [
                        {
                            "case": n,
                            "mutations": [],
                            "runs": [],
                            "error": "no answer: a worker was lost",
                        }
                        for n in lost
                    ]
                    break
                if len(results) % 50 == 0:
                    print(
                        f"  {len(results)}/{args.cases} cases, {time.monotonic() - started:.0f} s",
                        file=sys.stderr,
                        flush=True,
                    )
            pool.terminate()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results.sort(key=lambda r: r["case"])
    if args.results:
        args.results.write_text(json.dumps(results, indent=1))
    sys.exit(report(results, options, time.monotonic() - started, extra))


def _pool_case(job: tuple[int, Options]) -> dict[str, Any]:
    return run_case(*job)
