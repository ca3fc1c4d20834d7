"""Wall-clock timings of the command-line tool, start-up included (subprocesses).

    python bench/cli.py [--repeats 5]
    python bench/cli.py --before /tmp/before [--repeats 5]   # before/after, alternately

Rows: `imle-cli --help`; `imle-cli sample assets/map.png` (16x16, 100 draws); the same on a
128x128 map (assets/terrain.png at --grid 128); `gradients` with 100 draws on the 16x16 map;
`learn` with its defaults (the README map's winding path, 600 steps, 50 samples); `annotate`
with two waypoints. Median of the repeats, Markdown table. With ``--before TREE`` each repeat
runs the command on that source tree and then on this one (``python -m imle_cli`` with the tree
first on the import path: A, B, A, B ...), and the table gives both medians and the median of the
paired ratios after / before.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import subprocess
import tempfile
import time
from pathlib import Path
from _report import Report, add_publish_option  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

CASES = [
    ("imle-cli --help", ["imle-cli", "--help"]),
    ("imle-cli sample assets/map.png (16x16, 100 draws)", ["imle-cli", "sample", "assets/map.png", "--quiet"]),
    ("imle-cli sample assets/terrain.png --grid 128 (128x128, 100 draws)",
     ["imle-cli", "sample", "assets/terrain.png", "--grid", "128", "--quiet"]),
    ("imle-cli gradients assets/map.png --gold assets/gold.png (100 draws)",
     ["imle-cli", "gradients", "assets/map.png", "--gold", "assets/gold.png", "--quiet"]),
    ("imle-cli learn (defaults: 600 steps, 50 samples)", ["imle-cli", "learn", "--quiet"]),
    ("imle-cli annotate assets/map.png --via 6,14 --via 12,0",
     ["imle-cli", "annotate", "assets/map.png", "--via", "6,14", "--via", "12,0", "--quiet"]),
]


def wall_time(command: list, tree: Path = None) -> float:
    """Seconds of one run of ``command`` (imle-cli ARGS), from this tree or from ``tree``."""
    env = None
    if tree is not None:  # the same command from another source tree
        command = [sys.executable, "-m", "imle_cli", *command[1:]]
        env = dict(os.environ, PYTHONPATH=str(tree))
    with tempfile.TemporaryDirectory() as out:
        full = command + (["--out", out] if len(command) > 2 and "--help" not in command else [])
        start = time.perf_counter()
        subprocess.run(full, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", type=Path, help="another source tree (built in place) to compare with")
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("cli")
    if args.before is None:
        report.print("| command | median wall time |\n|---|---|")
    else:
        report.print("| command | before | after | after / before (median of pairs) |\n|---|---|---|---|")
    for label, command in CASES:
        if args.before is None:
            times = [wall_time(command) for _ in range(args.repeats)]
            report.print(f"| `{label}` | {statistics.median(times):.2f} s |")
            continue
        pairs = [(wall_time(command, args.before.resolve()), wall_time(command, ROOT)) for _ in range(args.repeats)]
        before, after = (statistics.median(times) for times in zip(*pairs))
        ratio = statistics.median(b / a for a, b in pairs)
        report.print(f"| `{label}` | {before:.2f} s | {after:.2f} s | {ratio:.2f} |")
    report.save()


if __name__ == "__main__":
    main()
