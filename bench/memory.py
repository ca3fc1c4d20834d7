"""Peak memory of the command-line tool on big jobs (issue: under 1 GB each).

    python bench/memory.py

Runs each command in its own process and reads its peak resident set (GNU time's %M): `sample --samples 2000` on a 128x128 map (assets/terrain.png at --grid
128), and `sample --samples 40` on a 1000x1000 cost array at its full resolution (--grid 1000),
whose frames are 1000x1000 pixels. GIF frames are streamed to disk as they are drawn, so the
peak does not grow with the number of frames. Prints a Markdown table.
"""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def peak(command: list) -> tuple:
    """(peak RSS in MB, seconds) of a command, measured by GNU time's %M for that process alone."""
    start = time.perf_counter()
    result = subprocess.run(["/usr/bin/time", "-f", "%M", *command], check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    return int(result.stderr.strip().splitlines()[-1]) / 1024, seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "big.npy"
        np.save(big, np.random.default_rng(0).uniform(1, 100, size=(1000, 1000)))
        cases = [
            ("sample --samples 2000, 128x128 map (assets/terrain.png --grid 128)",
             ["sample", "assets/terrain.png", "--grid", "128", "--samples", "2000", "--max-gif-mb", "500"]),
            ("sample --samples 40, 1000x1000 array at full resolution (--grid 1000)",
             ["sample", str(big), "--grid", "1000", "--samples", "40", "--max-gif-mb", "500"]),
        ]
        print("| job | peak memory | time |\n|---|---|---|")
        for label, args in cases:
            megabytes, seconds = peak([sys.executable, "-m", "imle_cli", *args, "--out", str(Path(folder) / "out"),
                                       "--quiet"])
            print(f"| `{label}` | {megabytes:,.0f} MB | {seconds:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
