"""`voxform emulator`: a local stand-in for Alibaba Cloud ICE, until SIGINT or SIGTERM."""

from __future__ import annotations

import math
import os
import signal
import tempfile
import threading
from pathlib import Path
from types import FrameType

import click

from voxform.emulator.faults import FaultRates
from voxform.emulator.service import (
    DEFAULT_KEYS,
    OPERATIONS,
    Emulator,
    EmulatorConfig,
    log_to_stderr,
)
from voxform.emulator.synthesis import SYNTHESIS_MODES, SynthesisMode
from voxform.errors import VoxformError
from voxform.reading import read_regular

SHARE = click.FloatRange(0.0, 1.0)
SECONDS = click.FloatRange(0.0)
RateLimitOptions = tuple[float | None, dict[str, float]]  # (every operation, per operation)


KEYS_ENV = "VOXFORM_EMULATOR_KEYS"
MAX_KEY_FILE = 1 << 20


def _add_pair(keys: dict[str, str], text: str, where: str) -> None:
    """Add one `ID:SECRET` to `keys`; a refusal names where it was, never the secret."""
    key_id, sep, secret = text.strip().partition(":")
    if not sep or not key_id or not secret or not all(_fit(part) for part in (key_id, secret)):
        raise click.BadParameter(f"{where}: expected ID:SECRET (printable, no spaces)")
    if keys.get(key_id, secret) != secret:
        raise click.BadParameter(f"{where}: key id {key_id!r} is given twice, with two secrets")
    keys[key_id] = secret


def _fit(part: str) -> bool:
    return part.isprintable() and not any(c.isspace() for c in part)


def _key_pairs(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """`--key ID:SECRET` pairs as a mapping."""
    keys: dict[str, str] = {}
    for value in values:
        _add_pair(keys, value, "--key")
    return keys


def _key_file(ctx: click.Context, param: click.Parameter, path: Path | None) -> dict[str, str]:
    """The pairs of a key file: one ID:SECRET a line; blank lines and # comments skipped."""
    keys: dict[str, str] = {}
    if path is None:
        return keys
    try:
        text = read_regular(path, MAX_KEY_FILE, "key file").decode("utf-8")
    except (OSError, VoxformError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise click.BadParameter(f"cannot read {path}: {reason}", ctx=ctx, param=param) from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            _add_pair(keys, line, f"{path}:{number}")
    return keys


def _accepted_keys(*sources: dict[str, str]) -> dict[str, str]:
    """The pairs of --key, --key-file and $VOXFORM_EMULATOR_KEYS together; none: the test
    pair."""
    keys: dict[str, str] = {}
    env = os.environ.get(KEYS_ENV, "")
    for value in env.replace(",", " ").split():
        _add_pair(keys, value, f"${KEYS_ENV}")
    for source in sources:
        for key_id, secret in source.items():
            _add_pair(keys, f"{key_id}:{secret}", "--key and --key-file")
    return keys or dict(DEFAULT_KEYS)


def _rate_limits(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> RateLimitOptions:
    """`N` (every operation) and `ACTION=N` (one operation) as (default, per operation)."""
    default: float | None = None
    per_action: dict[str, float] = {}
    for value in values:
        action, sep, number = value.rpartition("=")
        try:
            rate = float(number)
        except ValueError:
            rate = 0.0
        if not (rate > 0 and math.isfinite(rate)):
            raise click.BadParameter(
                f"{value!r}: expected a positive number of calls per second", ctx=ctx, param=param
            )
        if not sep:
            if default is not None:
                raise click.BadParameter("a plain PER_SECOND is given twice", ctx=ctx, param=param)
            default = rate
        elif action not in OPERATIONS:
            raise click.BadParameter(
                f"{action!r} is not an operation; expected one of {', '.join(OPERATIONS)}",
                ctx=ctx,
                param=param,
            )
        elif action in per_action:
            raise click.BadParameter(f"{action} is given twice", ctx=ctx, param=param)
        else:
            per_action[action] = rate
    return default, per_action


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to bind (0: any free port).",
)
@click.option(
    "--key",
    "keys",
    multiple=True,
    callback=_key_pairs,
    metavar="ID:SECRET",
    help="Accepted access key pair, repeatable. Visible to every user in `ps`: for a real"
    " secret prefer --key-file or $VOXFORM_EMULATOR_KEYS (ID:SECRET pairs separated by commas"
    " or spaces). Keys from all three are accepted; with none, testid:testsecret.",
)
@click.option(
    "--key-file",
    "key_file",
    type=click.Path(dir_okay=False, path_type=Path),
    callback=_key_file,
    default=None,
    metavar="PATH",
    help="File of accepted key pairs: one ID:SECRET a line, blank lines and # comments skipped.",
)
@click.option(
    "--storage",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory standing in for OSS (default: a temporary one, removed at exit).",
)
@click.option(
    "--latency",
    type=SECONDS,
    default=0.2,
    show_default=True,
    help="Seconds from submission to the job's end.",
)
@click.option(
    "--rate-limit",
    "rate_limits",
    multiple=True,
    callback=_rate_limits,
    metavar="PER_SECOND|ACTION=PER_SECOND",
    help="Calls per second before Throttling.User, each operation in its own bucket: N for"
    " every operation, ACTION=N for one (e.g. SubmitAudioProduceJob=30); repeatable, and an"
    " operation named wins over N; OSS operations are named as OSS names them"
    " (HeadObject=100). Default: no limit.",
)
@click.option(
    "--synthesis",
    type=click.Choice(SYNTHESIS_MODES),
    default="espeak",
    show_default=True,
    help="espeak: real speech from the local engine. silence: silent audio as long as the"
    " text would take (15 characters a second), without starting the engine, for load tests.",
)
@click.option(
    "--max-input-chars",
    type=click.IntRange(1),
    default=2000,
    show_default=True,
    help="Longest InputConfig accepted, markup included.",
)
@click.option(
    "--fail-jobs",
    type=SHARE,
    default=0.0,
    metavar="SHARE",
    help="Share of jobs that end Failed (TTS.SynthesisFailed).",
)
@click.option(
    "--fail-requests",
    type=SHARE,
    default=0.0,
    metavar="SHARE",
    help="Share of calls answered 503 ServiceUnavailable or Throttling (with a retry hint).",
)
@click.option(
    "--drop-connections",
    type=SHARE,
    default=0.0,
    metavar="SHARE",
    help="Share of calls whose connection is closed before they are handled (no job).",
)
@click.option(
    "--drop-responses",
    type=SHARE,
    default=0.0,
    metavar="SHARE",
    help="Share of calls that are handled (a submission creates its job) and whose"
    " connection is then closed without an answer, as a proxy losing the response.",
)
@click.option(
    "--slow-requests",
    type=SHARE,
    default=0.0,
    metavar="SHARE",
    help="Share of calls held for --slow-seconds before they are handled.",
)
@click.option(
    "--slow-seconds",
    type=SECONDS,
    default=2.0,
    show_default=True,
    help="How long a slow call is held.",
)
@click.option(
    "--corrupt-reads",
    type=SHARE,
    default=0.0,
    metavar="SHARE",
    help="Share of OSS GetObject answers served with one byte of the body changed (headers"
    " unchanged), so that clients prove they verify what they download.",
)
@click.option("--seed", type=int, default=None, help="Seed of the fault generator.")
@click.option(
    "--clock-offset",
    type=float,
    default=0.0,
    hidden=True,
    help="Seconds added to the server's clock (to test clock skew).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log one line per API call to stderr.")
def emulator(
    host: str,
    port: int,
    keys: dict[str, str],
    key_file: dict[str, str],
    storage: Path | None,
    latency: float,
    rate_limits: RateLimitOptions,
    synthesis: SynthesisMode,
    max_input_chars: int,
    fail_jobs: float,
    fail_requests: float,
    drop_connections: float,
    drop_responses: float,
    slow_requests: float,
    slow_seconds: float,
    corrupt_reads: float,
    seed: int | None,
    clock_offset: float,
    verbose: bool,
) -> None:
    """Serve ICE's audio jobs and OSS's objects locally, as the real services do.

    ICE: SubmitAudioProduceJob, GetSmartHandleJob and ListSmartJobs; OSS: path-style
    /BUCKET/KEY, V4-signed, over the objects the jobs write into --storage.

    Injected request faults happen before a call is handled, so a dropped or failed
    submission (or a slow one whose client hung up) creates no job; --drop-responses is
    the exception: the call is handled and only its answer is lost.
    GET /_emulator/stats counts submissions per object, jobs per state, and calls and
    throttled calls per operation.
    """
    keys = _accepted_keys(keys, key_file)
    with tempfile.TemporaryDirectory(prefix="voxform-emulator-") as scratch:
        config = EmulatorConfig(
            storage=storage if storage is not None else Path(scratch),
            host=host,
            port=port,
            keys=keys,
            latency=latency,
            rate_limit=rate_limits[0],
            rate_limits=rate_limits[1],
            synthesis=synthesis,
            max_input_chars=max_input_chars,
            faults=FaultRates(
                fail_requests=fail_requests,
                drop_connections=drop_connections,
                drop_responses=drop_responses,
                slow_requests=slow_requests,
                slow_seconds=slow_seconds,
                fail_jobs=fail_jobs,
                corrupt_reads=corrupt_reads,
            ),
            seed=seed,
            clock_offset=clock_offset,
            log=log_to_stderr if verbose else None,
        )
        try:
            server = Emulator(config)
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
        stop = threading.Event()

        def on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            with server:
                click.echo(f"listening on {server.url}")
                click.echo(f"storage: {server.storage}")
                while not stop.wait(0.5):
                    pass
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
