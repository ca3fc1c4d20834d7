"""The commands of imle-cli, one module each: thin, each names its options (imle_cli.options),
builds the specs of its experiments (imle_cli.specs) and runs its parts (imle_cli.commands._runner).

Each module registers its command on :data:`app` when imported, in the order of :data:`COMMANDS`
(the order ``imle-cli --help`` lists them). Heavy modules (torch, matplotlib, imageio, PIL) are
imported inside the parts so that ``imle-cli --help`` stays instant.
"""
import importlib

from imle_cli.commands._app import app

#: the command modules, in help order
COMMANDS = ("sample", "annotate", "studio", "gradients", "learn", "sweep", "noise", "all_figures", "compare")
for _module in COMMANDS:
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["app", "COMMANDS"]
