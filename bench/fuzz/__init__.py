"""Hostile inputs: random mutations of the examples, run through voxform as a user would.

    python bench/fuzz [--cases 1000] [--seed N] [--timeout 10] [--apply-every 10]
        [--apply-timeout 60] [--jobs 2] [--only N] [--results FILE]

(`python bench/fuzz.py ...` and, from bench/, `python -m fuzz ...` run the same.)

Each case copies an example (the files git tracks; the quickstart with the lockfile and audio
of one real `voxform apply --yes`, made once per run), applies one to three mutations drawn
from `random.Random(seed + case)`: YAML-aware and byte-level edits of voxform.yaml, hostile
Jinja in templates, hostile text sources, JSON-aware and byte-level edits of voxform.lock and
its journal, and symlinks, hard links, FIFOs and directories planted where outputs go. Then
it runs `validate`, `plan --json` and, every Nth case, `apply --yes` (every other time with
`--prune`), each in its own process group with stdin closed, no credentials and proxies
pointing at a trap socket, under a timeout, measuring wall time and peak RSS (`os.wait4`).

A case lives in ROOT/p/q/project beside ROOT/p/q/sentinel, with victim files at each level
up to ROOT; hostile paths never climb above ROOT, and symlinks point into the sentinel.
After each command every file under ROOT except the project's outputs (build/, subtitles/,
.voxform/, voxform.lock and its temporary files, new audio or subtitle files) is compared
with its state before the run: any difference counts as "changed outside outputs".

Prints the seed first and a table last; exits 1 when any command printed a traceback, hung,
went over 500 MB, exited with another code than 0, 1 or 2, reached for the network during
validate or plan, or changed a file outside the outputs. `--only N` replays case N, prints
each command's output and keeps the case's directory.

The modules, in the order a case meets them:

    hostile.py         hostile values: numbers, strings, paths, ids, raw YAML/JSON, Jinja, texts
    documents.py       walking parsed YAML/JSON documents and dumping them with raw values
    case.py            a case on disk (project, sentinel) and writing over planted files
    mutate_project.py  mutations of voxform.yaml, include: patterns, templates, texts
    mutate_state.py    mutations of the lockfile and journal; links, FIFOs, dirs planted
    generate.py        the examples' copies and build_case: the same seed, the same cases
    command.py         one voxform command under a timeout and memory and output limits
    judge.py           tracebacks, log injection, bad JSON, files changed outside outputs
    trial.py           one case end to end: its commands run against a trap, each judged
    report.py          the table and the failing cases with the command that replays them
    cli.py             options, the pool of workers, the exit code
"""
