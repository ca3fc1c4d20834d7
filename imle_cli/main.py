"""imle-cli's entry point: the commands (imle_cli.commands) run with command-line mistakes worded
like the tool's own errors.

Example:
    >>> from typer.testing import CliRunner
    >>> CliRunner().invoke(app, ["--version"]).output.startswith("imle-cli ")
    True
"""
from __future__ import annotations

import sys

import typer

from imle_cli.commands import app

__all__ = ["app", "run"]


def run() -> None:
    """Console-script entry point: like ``app()``, but command-line mistakes (an unknown option,
    a value of the wrong type) are one line on stderr too, with exit code 2, like our own checks."""
    # click's exception types, wherever this Typer takes click from (newer ones vendor it)
    click_errors = sys.modules[typer.BadParameter.__module__]
    no_args_is_help = getattr(click_errors, "NoArgsIsHelpError", ())  # click >= 8.2
    from imle_cli import reporting

    reporting._STATE["script"] = True  # this process ends with the command: a last signal may be ignored
    command_group = typer.main.get_command(app)
    try:
        result = command_group.main(args=sys.argv[1:], prog_name="imle-cli", standalone_mode=False)
    except no_args_is_help as error:
        typer.echo(error.ctx.get_help())
        sys.exit(0)
    except click_errors.ClickException as error:  # UsageError and its kin: the user's command line
        context = getattr(error, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        typer.echo(f"imle-cli: error: {error.format_message()}{hint}", err=True)
        sys.exit(error.exit_code)
    except getattr(click_errors, "Abort", typer.Abort):  # Ctrl-C while click was still parsing
        typer.echo("imle-cli: interrupted", err=True)
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    run()
