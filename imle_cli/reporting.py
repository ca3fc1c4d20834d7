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


def _terminate(signum, frame) -> None:
    raise Terminated(signum)


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

    try:
        with _terminating_signals():
            yield
    except UserError as error:
        typer.echo(f"imle-cli: error: {error}", err=True)
        raise typer.Exit(UserError.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("imle-cli: interrupted; nothing was written", err=True)
        raise typer.Exit(130) from None
    except Terminated as stop:
        typer.echo(f"imle-cli: terminated by {signal.Signals(stop.signum).name}; nothing was written", err=True)
        raise typer.Exit(128 + stop.signum) from None
    except OSError as error:
        if error.errno not in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise
        where = f" writing {error.filename}" if error.filename else ""
        typer.echo(f"imle-cli: error: no space left on device{where}; nothing was written", err=True)
        raise typer.Exit(UserError.exit_code) from None


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
