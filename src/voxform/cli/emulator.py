"""`voxform emulator`: a local stand-in for Alibaba Cloud ICE, until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import tempfile
import threading
from pathlib import Path
from types import FrameType

import click

from voxform.emulator.faults import FaultRates
from voxform.emulator.service import DEFAULT_KEYS, Emulator, EmulatorConfig, log_to_stderr

SHARE = click.FloatRange(0.0, 1.0)
SECONDS = click.FloatRange(0.0)


def _key_pairs(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """`ID:SECRET` pairs as a mapping; without any, the test pair."""
    keys: dict[str, str] = {}
    for value in values:
        key_id, sep, secret = value.partition(":")
        if not sep or not key_id or not secret:
            raise click.BadParameter("expected ID:SECRET", ctx=ctx, param=param)
        keys[key_id] = secret
    return keys or dict(DEFAULT_KEYS)


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
    help="Accepted access key pair, repeatable (default: testid:testsecret).",
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
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    metavar="PER_SECOND",
    help="Requests per second before Throttling.User.",
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
    help="Share of calls answered 503 ServiceUnavailable or Throttling.",
)
@click.option(
    "--drop-connections",
    type=SHARE,
    default=0.0,
    metavar="SHARE",
    help="Share of calls whose connection is closed without an answer.",
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
    storage: Path | None,
    latency: float,
    rate_limit: float | None,
    max_input_chars: int,
    fail_jobs: float,
    fail_requests: float,
    drop_connections: float,
    slow_requests: float,
    slow_seconds: float,
    seed: int | None,
    clock_offset: float,
    verbose: bool,
) -> None:
    """Serve SubmitAudioProduceJob and GetSmartHandleJob locally, with real audio.

    Injected request faults happen before a call is handled, so a dropped or failed
    submission (or a slow one whose client hung up) creates no job.
    """
    with tempfile.TemporaryDirectory(prefix="voxform-emulator-") as scratch:
        config = EmulatorConfig(
            storage=storage if storage is not None else Path(scratch),
            host=host,
            port=port,
            keys=keys,
            latency=latency,
            rate_limit=rate_limit,
            max_input_chars=max_input_chars,
            faults=FaultRates(
                fail_requests=fail_requests,
                drop_connections=drop_connections,
                slow_requests=slow_requests,
                slow_seconds=slow_seconds,
                fail_jobs=fail_jobs,
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
