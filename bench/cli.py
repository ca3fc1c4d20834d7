"""Wall-clock timings of the command-line tool, start-up included (subprocesses).

    python bench/cli.py [--repeats 5]

Rows: `imle-cli --help`; `imle-cli sample assets/map.png` (16x16, 100 draws); the same on a
128x128 map (assets/terrain.png at --grid 128); `gradients` with 100 draws on the 16x16 map;
`learn` with its defaults (the README map's winding path, 600 steps, 50 samples); `annotate`
with two waypoints. Median of the repeats, Markdown table.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("| command | median wall time |\n|---|---|")
    for label, command in CASES:
        times = []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as out:
                full = command + (["--out", out] if len(command) > 2 else [])
                start = time.perf_counter()
                subprocess.run(full, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - start)
        print(f"| `{label}` | {statistics.median(times):.2f} s |", flush=True)


if __name__ == "__main__":
    main()
