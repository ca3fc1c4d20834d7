"""Regenerate the command outputs the docs show (docs/outputs/NAME.txt): each command is run for
real, from a scratch folder holding the repository's assets/, and what it prints on standard output
is written beside the command line, less its progress bars (their times vary from run to run) and
trailing spaces. The pages include these files; a test runs this script with
``--check`` and fails when a file is not what its command prints now.

    python docs/scripts/make_outputs.py            # rewrite docs/outputs/
    python docs/scripts/make_outputs.py --check    # exit 1 naming the files that differ
"""
from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = ROOT / "docs" / "outputs"
#: name -> the command whose output docs/outputs/NAME.txt shows
COMMANDS = {
    "sample": "imle-cli sample",
    "annotate": "imle-cli annotate assets/map.png --via 6,14 --via 12,0",
    "gradients": "imle-cli gradients assets/map.png --gold assets/gold.png",
    "learn": "imle-cli learn",
    "noise": "imle-cli noise",
}

#: a progress bar's last state: its bar, then a count and an elapsed time
PROGRESS = re.compile(r"━.* \d+/\d+ +\d+:\d\d:\d\d$")


def output(command: str) -> str:
    """``$ COMMAND`` and what it prints on standard output, run in a scratch folder with assets/."""
    with tempfile.TemporaryDirectory() as folder:
        os.symlink(ROOT / "assets", Path(folder) / "assets")
        argv = shlex.split(command)
        # python -m imle_cli is the console script's code, found on this interpreter's path
        result = subprocess.run([sys.executable, "-m", "imle_cli", *argv[1:]], cwd=folder, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                env=dict(os.environ, COLUMNS="100", NO_COLOR="1", TERM="dumb"))
        if result.returncode != 0:
            sys.exit(f"{command!r} exited with {result.returncode}")
        lines = [line.rstrip() for line in result.stdout.splitlines() if not PROGRESS.search(line)]
        return f"$ {command}\n" + "\n".join(lines).strip("\n") + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with docs/outputs/ instead of writing")
    args = parser.parse_args()
    stale = []
    for name, command in COMMANDS.items():
        path = OUTPUTS / f"{name}.txt"
        text = output(command)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(f"{path.relative_to(ROOT)} is not what `{command}` prints now")
            continue
        OUTPUTS.mkdir(exist_ok=True)
        path.write_text(text)
    if stale:
        sys.exit("\n".join(stale) + "\nrun: python docs/scripts/make_outputs.py")


if __name__ == "__main__":
    main()
