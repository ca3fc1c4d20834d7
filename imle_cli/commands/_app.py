"""The Typer application every command module registers itself on."""
from __future__ import annotations

import typer

from imle_cli.commands._declare import Group

app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="I-MLE on maps: sample shortest paths with perturb-and-MAP and render the figures.",
)


def _version(value: bool) -> None:
    if value:
        from imle_cli import __version__

        typer.echo(f"imle-cli {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, metavar="",
                                      help="Print the version and exit.")) -> None:
    """I-MLE on maps: sample shortest paths with perturb-and-MAP and render the figures."""
