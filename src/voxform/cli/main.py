"""The `voxform` console command: Ctrl-C is taken over first, then the command group runs.

A Ctrl-C can come at any moment, also while Python is still importing the commands (a few
hundred milliseconds): each is one line and exit 130, never a traceback. So the entry
point takes SIGINT over before anything heavy is imported, and the top of this module
imports only the standard library. The click group lives in `voxform.cli.group`;
`from voxform.cli.main import cli` still finds it (loaded on first use).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys

# typing.TYPE_CHECKING without importing typing, which alone would add 4 ms to the time
# before main() can take SIGINT over (mypy reads the name, whatever its value).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType

    import click

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130: what a shell reports for a command Ctrl-C ended
INTERRUPTED = b"Interrupted.\n"


class Interrupted(BaseException):
    """Ctrl-C, raised by our handler in place of KeyboardInterrupt: click turns that into a
    blank line, "Aborted!" and exit 1, while this passes through it to `main`; the `finally`
    clauses on the way (the lease, a reporter's last document) run as for any exception."""


_signalled = False  # a Ctrl-C came: whatever the command ends with, it ends with that
_running = False  # the command runs (it has not returned yet)
_told = False
# What a command made to use until it ends (keep): left to the process's end, not freed.
_kept: list[object] = []


def keep(value: object) -> None:
    """Keep `value` to the end when voxform runs as a command (main): a project loaded with
    100,000 items is millions of objects, and freeing them one by one as the command
    returns and as the interpreter shuts down costs a third of a second, which `_leave`
    skips. In a process that runs commands from Python (a test), nothing is kept."""
    if _running:
        _kept.append(value)


def _tell_interrupted() -> None:
    """The one line, once, however many Ctrl-Cs come."""
    global _told
    if _told:
        return
    _told = True
    try:
        sys.stderr.flush()  # what was said before goes before it
        os.write(2, INTERRUPTED)
    except (OSError, ValueError):  # standard error is closed: nowhere to say it
        pass


def _exit_at_once(signum: int, frame: FrameType | None) -> None:
    """A Ctrl-C once the command is over (or a second one): leave now, saying so once."""
    _tell_interrupted()
    os._exit(EXIT_INTERRUPTED)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    """The first Ctrl-C: unwind, so that what is held is let go; the next leaves at once."""
    global _signalled
    _signalled = True
    signal.signal(signal.SIGINT, _exit_at_once)
    raise Interrupted


def _unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """Python prints, and then drops, an exception raised in a weakref callback or a
    `__del__`; a Ctrl-C that lands there is left unprinted, and the next Ctrl-C unwinds the
    command as the first would have (the exit is 130 and one line in any case)."""
    if not isinstance(unraisable.exc_value, Interrupted | KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)
    elif _running:
        signal.signal(signal.SIGINT, _interrupt)


def quiet_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so that nothing more (nor the
    interpreter's final flush) fails on the broken pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _ignore_late_interrupts() -> None:
    """The last exit handler: Python resets a handler it ran to the default as it shuts down,
    and a Ctrl-C then would end the process silently; ignored instead, the command's own
    exit code stands (everything it had to say is said)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def main() -> None:
    """Console-script entry point: the command's exit code, or 130 and one line on Ctrl-C."""
    code: int | str | None = 1
    try:  # the whole body: a Ctrl-C before the handler is in place is caught here too
        # A shell that starts us with SIGINT ignored (`cmd &` in a script, nohup) keeps it.
        ours = signal.getsignal(signal.SIGINT) is signal.default_int_handler
        try:
            if ours:
                signal.signal(signal.SIGINT, _interrupt)
                atexit.register(_ignore_late_interrupts)  # registered first, so run last
                sys.unraisablehook = _unraisable
            code = _run()
        finally:
            # From here on, interpreter shutdown included, Ctrl-C cannot raise any more.
            if ours:
                signal.signal(signal.SIGINT, _exit_at_once)
    except BaseException as exc:
        # Raised in the middle of C code, Interrupted can come out as another exception
        # (type() turns it into a RuntimeError from __set_name__): the cause is the Ctrl-C.
        if not (_signalled or isinstance(exc, KeyboardInterrupt)):
            raise
        code = EXIT_INTERRUPTED
    if _signalled or code == EXIT_INTERRUPTED:
        _tell_interrupted()
        code = EXIT_INTERRUPTED
    elif _kept:
        _leave(code)
    sys.exit(code)


def _leave(code: int | str | None) -> None:
    """Exit as sys.exit(code) would, exit handlers run and output flushed, but without the
    interpreter's shutdown, which frees every object left (what `keep` kept); return, to
    exit the ordinary way, when another thread runs (the shutdown waits for it), a profiler
    or tracer watches (`python -m cProfile -o F`, coverage: they write when `main` returns),
    or standard output or error cannot be flushed (the ordinary exit tells or quiets that)."""
    import threading

    if threading.active_count() > 1 or sys.getprofile() or sys.gettrace():
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        if code is not None and not isinstance(code, int):  # sys.exit prints it, exits 1
            print(code, file=sys.stderr, flush=True)
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)


def _run() -> int | str | None:
    """Run the command group; its exit code. Click's own messages (usage errors) go out
    through the same escaping as voxform's, so they cannot forge a CI log line either."""
    global _running
    _running = True
    try:
        return _run_group()
    finally:
        _running = False


def _run_group() -> int | str | None:
    import click

    from voxform.cli.group import cli

    try:
        result = cli.main(standalone_mode=False)
    except SystemExit as exc:
        return exc.code
    except BrokenPipeError:
        quiet_stdout()
        return 1
    except click.ClickException as exc:
        _show(exc)
        return exc.exit_code
    except click.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        sys.stderr.write("Aborted!\n")  # click's word for input that ended (EOF at a prompt)
        return 1
    return result if isinstance(result, int) else 0


def _show(exc: click.ClickException) -> None:
    """What click would print for `exc`, on standard error, each line escaped."""
    import io

    from voxform.report.base import printable

    buffer = io.StringIO()
    exc.show(file=buffer)
    lines = buffer.getvalue().splitlines()
    sys.stderr.write("".join(printable(line) + "\n" for line in lines))


def __getattr__(name: str) -> click.Group:
    """`cli`, the command group, imported when first asked for (PEP 562)."""
    if name == "cli":
        from voxform.cli.group import cli

        return cli
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
