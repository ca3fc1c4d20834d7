"""Typer commands from option names: :func:`command` declares a command by naming the options of
:data:`imle_cli.options.OPTIONS` it takes (with its own defaults where they differ) and hands the
body one checked :class:`~imle_cli.options.Settings`.

Help looks like the rest of the table through Typer's public API: a switch (``--quiet/--no-quiet``,
``--help``) takes no value, so its row shows no type (``metavar=""``; for ``--help``, through the
command classes below).
"""
from __future__ import annotations

import inspect
from typing import Any, Callable

import typer

from imle_cli.options import OPTIONS, Option, Settings, check_together
from imle_cli.reporting import user_errors


class _BareHelpOption:
    """--help takes no value: its row shows no type."""

    def get_help_option(self, ctx):
        option = super().get_help_option(ctx)
        if option is not None:
            option.metavar = ""
        return option


class Command(_BareHelpOption, typer.core.TyperCommand):
    """A command of imle-cli."""


class Group(_BareHelpOption, typer.core.TyperGroup):
    """imle-cli itself, the group of commands."""


def parameter(name: str, option: Option, default: Any) -> inspect.Parameter:
    """The Typer parameter of a command function for ``option`` with this command's ``default``."""
    if option.argument:
        info = typer.Argument(default, metavar=option.metavar, help=option.help, show_default=False)
    else:
        shown = option.show_default and default is not None and not option.is_switch
        info = typer.Option(default, option.flags, help=option.help, show_default=shown,
                            metavar="" if option.is_switch else option.metavar)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=option.type)


def command(app: typer.Typer, name: str, options: str, **defaults: Any) -> Callable:
    """Declare the command ``name`` taking the named options (space-separated keys of
    :data:`OPTIONS`, in help order), with per-command ``defaults``. The decorated body receives
    the checked :class:`Settings`; user errors become one line and exit code 2."""
    names = options.split()
    unknown = [n for n in [*names, *defaults] if n not in OPTIONS]
    assert not unknown, f"unknown options {unknown}"
    assert len(set(names)) == len(names), f"{name}: an option named twice"

    def decorate(body: Callable[[Settings], None]) -> Callable[[Settings], None]:
        def callback(**values: Any) -> None:
            with user_errors():
                settings = Settings(**{key: OPTIONS[key].setting(value) for key, value in values.items()},
                                    given=frozenset(values))
                check_together(settings)
                body(settings)

        parameters = [parameter(n, OPTIONS[n], defaults.get(n, OPTIONS[n].default)) for n in names]
        callback.__signature__ = inspect.Signature(parameters)
        callback.__annotations__ = {p.name: p.annotation for p in parameters}
        callback.__doc__, callback.__name__ = body.__doc__, body.__name__
        app.command(name, cls=Command)(callback)
        return body

    return decorate
