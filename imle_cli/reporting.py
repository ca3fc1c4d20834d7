"""Talking to the user: progress bars, the closing summary, and errors as one line."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import typer

from imle_cli.errors import UserError


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived (timeout, CI cancellation, docker stop, a closed terminal). A
    BaseException, like KeyboardInterrupt, so that it unwinds every `with` (temporaries removed)
    and no `except Exception` swallows it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


#: While a commit or a cleanup runs (``held``), signals wait: their handlers note them here and
#: return, and the first is raised once the block ends. ``written``: the folder this command's
#: files went to, once they have (what an interrupted run then says is true). ``ending``: the run
#: is ending on a signal (later ones are ignored). ``script``: set by the console script
#: (main.run), whose process ends with the command.
_STATE = {"held": 0, "pending": None, "written": None, "ending": False}


def _terminate(signum, frame) -> None:
    if _STATE["ending"]:  # the run is already ending on a signal: an impatient second one changes nothing
        return
    if _STATE["held"]:
        _STATE["pending"] = _STATE["pending"] or signum
        return
    raise Terminated(signum)


def _interrupt(signum, frame) -> None:
    """SIGINT while signals are held: noted (Python's own handler would raise at once)."""
    _STATE["pending"] = _STATE["pending"] or signum


def ctrl_c(signum, frame) -> None:
    """The console script's SIGINT handler: Python's (a KeyboardInterrupt), but not once the run
    is ending on a signal (nor while signals are held: then noted)."""
    if _STATE["ending"]:
        return
    if _STATE["held"]:
        _STATE["pending"] = _STATE["pending"] or signum
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP wait while the block runs (a commit's renames, a cleanup), then
    the first that came is raised: an impatient Ctrl-C (three, 1 ms apart) cannot cut a cleanup
    short, nor a SIGTERM a commit halfway. Main thread only (elsewhere the block just runs)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_int = signal.signal(signal.SIGINT, _interrupt) if _STATE["held"] == 0 else None
    _STATE["held"] += 1
    try:
        yield
    finally:
        _STATE["held"] -= 1
        if _STATE["held"] == 0:
            signal.signal(signal.SIGINT, previous_int)
            pending, _STATE["pending"] = _STATE["pending"], None
            if pending == signal.SIGINT:
                raise KeyboardInterrupt
            if pending is not None:
                raise Terminated(pending)


def note_written(folder: Path) -> None:
    """This command's files are in ``folder`` now: an interruption from here on says so."""
    _STATE["written"] = folder


def _what_was_written() -> str:
    folder = _STATE["written"]
    return "nothing was written" if folder is None else f"its files were written to {folder}/"


@contextlib.contextmanager
def _terminating_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Terminated while a command runs (main thread only)."""
    import signal

    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    try:
        previous = {number: signal.signal(number, _terminate) for number in wanted}
    except ValueError:  # not the main thread: leave the handlers alone
        previous = {}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into one line on stderr and exit code 2; Ctrl-C into exit code 130;
    SIGTERM and SIGHUP into 128 + the signal's number; a full disk into one line and exit 2.
    The Outputs being written remove their temporaries and the folders they created as the
    exception passes them."""
    import errno
    import signal

    _STATE.update(held=0, pending=None, written=None, ending=False)  # "script": set by main.run
    try:
        with _terminating_signals():
            with signals_held():  # a signal during an import would leave a C extension half set up
                _import_what_commands_use()
            yield
    except UserError as error:
        typer.echo(f"imle-cli: error: {error}", err=True)
        raise typer.Exit(UserError.exit_code) from None
    except KeyboardInterrupt:
        _STATE["ending"] = True  # first: a second Ctrl-C now is ignored by the handlers
        _ignore_further_signals(130)
        typer.echo(f"imle-cli: interrupted; {_what_was_written()}", err=True)
        raise typer.Exit(130) from None
    except Terminated as stop:
        _STATE["ending"] = True
        _ignore_further_signals(128 + stop.signum)
        typer.echo(f"imle-cli: terminated by {signal.Signals(stop.signum).name}; {_what_was_written()}", err=True)
        raise typer.Exit(128 + stop.signum) from None
    except BrokenPipeError:  # stdout closed by its reader (| head, | true): not the run's failure
        _silence_stdout()
        raise typer.Exit(0 if _STATE["written"] is not None else 1) from None
    except OSError as error:
        if error.errno not in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise
        where = f" writing {error.filename}" if error.filename else (
            " writing the summary to stdout" if _STATE["written"] is not None else "")
        _silence_stdout()
        typer.echo(f"imle-cli: error: no space left on device{where}; {_what_was_written()}", err=True)
        raise typer.Exit(UserError.exit_code) from None


def _import_what_commands_use() -> None:
    """Import the heavy modules every command uses (torch, numpy, matplotlib, Pillow, imageio,
    rich) before any file is written, with signals held: Python raises a signal's exception
    wherever the main thread is, and inside an import that aborts the process (torch's C++
    init: "terminate called after throwing ...", exit 134) or leaves matplotlib half imported.
    Afterwards the command's own lazy imports find them loaded. (--help imports none of them.)"""
    import importlib

    for name in ("numpy", "torch", "matplotlib", "matplotlib.figure", "PIL.Image", "imageio.v3", "rich.progress"):
        try:
            importlib.import_module(name)
        except ImportError:  # an optional one: the command says so if it needs it
            pass


#: Seconds the interpreter may take to shut down once a run ends on a signal (its files already
#: cleaned up): past them the process exits with the signal's code (a thread still busy in C code
#: must not keep a stopped run alive).
SHUTDOWN_GRACE = 10.0


def _ignore_further_signals(code: int) -> None:
    """The run is ending on a signal (its temporaries removed): another Ctrl-C or SIGTERM (an
    impatient user) must not interrupt the interpreter's own shutdown with a traceback, and the
    shutdown must not outlast SHUTDOWN_GRACE."""
    import os
    import signal
    import threading

    if _STATE.get("script") and threading.current_thread() is threading.main_thread():
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_IGN)
        deadline = threading.Timer(SHUTDOWN_GRACE, os._exit, args=(code,))
        deadline.daemon = True
        deadline.start()


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that the interpreter's last flush does not fail again."""
    import os
    import sys

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def plural(count: int, noun: str) -> str:
    """'1 cell', '2 cells'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Reporter:
    """Progress bars and the closing summary, or silence with --quiet."""

    def __init__(self, quiet: bool):
        from rich.console import Console

        self.quiet = quiet
        # markup off: file names and user text are printed as they are, never parsed ("[/b]")
        self.console = Console(stderr=False, highlight=False, markup=False)
        self.errors = Console(stderr=True, highlight=False, markup=False)
        # a closed stdout (| head, | true) is not the run's failure: rich would exit(1); carry on silently
        self.console.on_broken_pipe = _silence_stdout

    def notice(self, text: str) -> None:
        if not self.quiet:
            self.errors.print(f"note: {text}")

    @contextlib.contextmanager
    def progress(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if self.quiet:
            yield _SilentProgress()
            return
        with Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.console, transient=False) as progress:
            yield progress

    def summary(self, folder: Path, written, facts: str) -> None:
        if self.quiet:
            return
        from rich.table import Table

        table = Table(title=f"written to {folder}/", title_justify="left")
        for column, justify in (("file", "left"), ("frames", "right"), ("pixels", "right"), ("bytes", "right")):
            table.add_column(column, justify=justify)
        for item in written:
            pixels = f"{item.width}x{item.height}" if item.width else "-"
            table.add_row(item.name, str(item.frames or "-"), pixels, f"{item.bytes:,}")
        self.console.print(table)
        self.console.print(facts, soft_wrap=True)


class _SilentProgress:
    def add_task(self, *args, **kwargs) -> int:
        return 0

    def advance(self, *args, **kwargs) -> None:
        pass

    def update(self, *args, **kwargs) -> None:
        pass
