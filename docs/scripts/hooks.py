"""MkDocs hooks of the documentation site (mkdocs.yml: ``hooks``).

Three markers in a page's Markdown are replaced with text generated from the code, so the site
cannot drift from it:

* ``<!-- imle-cli options: COMMAND -->``: the table of COMMAND's options, read from the command
  imle-cli builds out of the one options declaration (``imle_cli.options.OPTIONS``), with this
  command's defaults;
* ``<!-- imle-cli commands -->``: the list of commands with the first paragraph of their help;
* ``<!-- api: MODULE -->``: a mkdocstrings entry for every name in ``MODULE.__all__``.

Before the build, every public name of ``imle`` and ``imle.solvers`` (and of the public modules
among them) must have a docstring, read as the API page reads it (griffe): a missing one fails
the build, naming it.
"""
from __future__ import annotations

import enum
import importlib
import re
from pathlib import Path
from typing import Dict, List

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
#: the modules whose ``__all__`` the API page covers
API_MODULES = ("imle", "imle.solvers")
MARKER = re.compile(r"<!-- (imle-cli options|imle-cli commands|api)(?:: ([\w.-]+))? -->")


def _commands() -> Dict[str, object]:
    import typer

    from imle_cli.commands import app

    return typer.main.get_command(app).commands


def _default(parameter) -> str:
    """A parameter's default as the table shows it."""
    if getattr(parameter, "is_flag", False) and parameter.secondary_opts:
        if parameter.default is None:
            return ""
        return "on" if parameter.default else "off"
    if not parameter.show_default or parameter.default is None:
        return ""
    value = parameter.default
    if isinstance(value, enum.Enum):
        value = value.value
    return f"`{value}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def options_table(command: str) -> str:
    """The Markdown table of ``imle-cli COMMAND``'s options: flag, default, meaning."""
    from imle_cli.options import OPTIONS

    commands = _commands()
    if command not in commands:
        raise PluginError(f"docs: no imle-cli command {command!r} (known: {', '.join(commands)})")
    rows = ["| option | default | meaning |", "|---|---|---|"]
    for parameter in commands[command].params:
        if parameter.param_type_name == "argument":
            flag = parameter.metavar or parameter.name.upper()
        else:
            flag = "/".join(f"`{f}`" for f in [*parameter.opts, *parameter.secondary_opts])
        meaning = parameter.help or ""
        kind = OPTIONS[parameter.name].type
        if isinstance(kind, type) and issubclass(kind, enum.Enum):
            meaning += " One of: " + ", ".join(f"`{member.value}`" for member in kind) + "."
        rows.append(f"| {flag if flag.startswith('`') else f'`{flag}`'} | {_default(parameter)} | {_cell(meaning)} |")
    return "\n".join(rows)


def commands_list(folder: str) -> str:
    """One line per command: its name (linked to its page, from a page in ``folder``) and the
    first paragraph of its help."""
    prefix = "" if folder == "cli" else "../" * len(Path(folder).parts) + "cli/"
    lines = []
    for name, command in _commands().items():
        summary = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        lines.append(f"* [`imle-cli {name}`]({prefix}{name}.md): {summary}")
    return "\n".join(lines)


def public_names(module: str) -> List[str]:
    names = getattr(importlib.import_module(module), "__all__", None)
    if names is None:
        raise PluginError(f"docs: {module} has no __all__: the API page cannot know its public names")
    return list(names)


def api_entries(module: str, own_sections=()) -> str:
    """The module's own docstring, then a mkdocstrings entry (``::: module.name``) for every public
    name of ``module``, less the modules in ``own_sections`` (documented in a section of their own
    on the page)."""
    names = [f"{module}.{name}" for name in public_names(module)]
    entries = [f"::: {module}\n    options:\n      members: false\n      show_root_heading: false"]
    entries += [f"::: {name}" for name in names if name not in own_sections]
    return "\n\n".join(entries) + "\n"


def missing_docstrings() -> List[str]:
    """Public names of the API modules (and of the public modules among them) without a docstring."""
    import griffe

    # not "imle" relative to the working directory: the copy under ROOT (a test points ROOT elsewhere)
    package = griffe.load("imle", search_paths=[str(ROOT)], try_relative_path=False)
    missing = []
    for module in API_MODULES:
        node = package if module == "imle" else package[module.split(".", 1)[1]]
        for name in public_names(module):
            member = node[name]
            if not (member.docstring and member.docstring.value.strip()):
                missing.append(f"{module}.{name}")
            if member.is_module:
                inner = getattr(importlib.import_module(f"{module}.{name}"), "__all__", [])
                missing += [f"{module}.{name}.{sub}" for sub in inner
                            if not (member[sub].docstring and member[sub].docstring.value.strip())]
    return missing


def on_pre_build(config) -> None:
    missing = missing_docstrings()
    if missing:
        raise PluginError(f"docs: public names without a docstring: {', '.join(missing)}")


def on_page_markdown(markdown: str, page, config, files) -> str:
    own_sections = {argument for kind, argument in MARKER.findall(markdown) if kind == "api"}

    def replace(match: re.Match) -> str:
        kind, argument = match.group(1), match.group(2)
        if kind == "imle-cli options":
            return options_table(argument)
        if kind == "imle-cli commands":
            return commands_list(str(Path(page.file.src_uri).parent).strip("."))
        return api_entries(argument, own_sections)

    return MARKER.sub(replace, markdown)
