"""Regenerate every figure of the README and the site (docs/figures/), by running the commands that
write them, from the repository's root:

    python docs/scripts/make_figures.py            # all of them (a few minutes: sweep is 48 runs)
    python docs/scripts/make_figures.py --no-sweep # all but sweep.png

The commands: `imle-cli all assets/map.png` (sample, gradients, learn and index.html), `noise`,
`compare` and `sweep` into docs/figures, then make_annotate_figures.py (a stroke drawn over the map
and the golds) and make_studio_screenshot.py (the studio in Chromium).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIGURES = "docs/figures"
#: written by the commands but not shown by the site: removed (sweep.md would be read as a page)
NOT_SHOWN = ("compare.gif", "sweep.csv", "sweep.md")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-sweep", action="store_true", help="leave sweep.png as it is")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "imle_cli"]
    steps = [cli + ["all", "assets/map.png", "--out", FIGURES], cli + ["noise", "--out", FIGURES],
             cli + ["compare", "--out", FIGURES]]
    if not args.no_sweep:
        steps.append(cli + ["sweep", "--out", FIGURES])
    steps += [[sys.executable, "docs/scripts/make_annotate_figures.py"],
              [sys.executable, "docs/scripts/make_studio_screenshot.py"]]
    for step in steps:
        print("+", " ".join(step[1:] if step[0] == sys.executable else step), flush=True)
        subprocess.run(step, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    for name in NOT_SHOWN:
        (ROOT / FIGURES / name).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
