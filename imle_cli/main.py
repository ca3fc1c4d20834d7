"""imle-cli's entry point: the commands (imle_cli.commands) run with command-line mistakes worded
like the tool's own errors.

Example:
    >>> from typer.testing import CliRunner
    >>> from imle_cli.main import app
    >>> CliRunner().invoke(app, ["--version"]).output.startswith("imle-cli ")
    True
"""
from __future__ import annotations

import sys

__all__ = ["run"]  # and `app`, the commands, imported when asked for (module __getattr__)


def __getattr__(name: str):
    # the commands are imported when asked for, so that run() can catch a Ctrl-C while they load
    if name == "app":
        from imle_cli.commands import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def interrupted_while_loading() -> None:
    """A Ctrl-C before the command ran: one line and exit 130, at once (nothing is written yet,
    and the interpreter's shutdown has nothing to do). Needs nothing of imle_cli imported."""
    import os

    sys.stderr.write("imle-cli: interrupted; nothing was written\n")
    sys.stderr.flush()
    os._exit(130)


def run() -> None:
    """Console-script entry point: like ``app()``, but command-line mistakes (an unknown option,
    a value of the wrong type) are one line on stderr too, with exit code 2, like our own checks;
    a Ctrl-C while the tool itself is still loading is the same one line as later."""
    try:
        import signal

        # While the tool loads a Ctrl-C waits (noted) and ends the run once it has loaded: raised
        # inside an import it could surface as another exception (a RuntimeError from a class
        # body's __set_name__) or be swallowed (in importlib's weakref callbacks, "Exception ignored").
        noted = []
        signal.signal(signal.SIGINT, lambda signum, frame: noted.append(signum))
    except KeyboardInterrupt:  # before even that handler was set
        interrupted_while_loading()
    from imle_cli import reporting
    import typer

    from imle_cli.commands import app

    # click's exception types, wherever this Typer takes click from (newer ones vendor it)
    click_errors = sys.modules[typer.BadParameter.__module__]
    no_args_is_help = getattr(click_errors, "NoArgsIsHelpError", ())  # click >= 8.2
    command_group = typer.main.get_command(app)
    try:  # from here a Ctrl-C raises as Python's would, until the run ends on one (then ignored)
        signal.signal(signal.SIGINT, reporting.ctrl_c)
        reporting._STATE["script"] = True  # this process ends with the command: a last signal may be ignored
        if noted:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        interrupted_while_loading()
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
    except (getattr(click_errors, "Abort", typer.Abort), KeyboardInterrupt):  # Ctrl-C while click was still parsing
        interrupted_while_loading()
    if result == 130 and not reporting._STATE["ending"]:  # a Ctrl-C while typer parsed: its silent Exit(130)
        interrupted_while_loading()
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    run()
