"""Talking to the user: progress bars, the closing summary, and errors as one line."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

import typer

from imle_cli.errors import UserError


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into one line on stderr and exit code 2; Ctrl-C into exit code 130."""
    try:
        yield
    except UserError as error:
        typer.echo(f"imle-cli: error: {error}", err=True)
        raise typer.Exit(UserError.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("imle-cli: interrupted; nothing was written", err=True)
        raise typer.Exit(130) from None


def plural(count: int, noun: str) -> str:
    """'1 cell', '2 cells'."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


class Reporter:
    """Progress bars and the closing summary, or silence with --quiet."""

    def __init__(self, quiet: bool):
        from rich.console import Console

        self.quiet = quiet
        self.console = Console(stderr=False, highlight=False)
        self.errors = Console(stderr=True, highlight=False)

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
