"""The original's full grid of learning runs with `imle-cli sweep` (issue target: under 4 minutes
on the 2-core machine; torch-imle's scripts take about 2 hours for the same grid).

    python bench/sweep.py

Runs `imle-cli sweep` with its defaults (input and target temperatures {0, 1, 2, 5}, 1, 10 and 100
samples: 48 runs of 600 steps on the README map's shortest path, 2 worker processes) into a
temporary folder, and prints the wall time, the learning time summed over runs, and how many
settings reached the gold; then the contact sheet is in the folder given by --keep (if any).
"""
import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from _report import Report, add_publish_option  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", type=Path, help="copy sweep.png, sweep.csv and sweep.md here")
    parser.add_argument("--workers", type=int, default=2)
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("sweep")
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "imle_cli", "sweep", "--workers", str(args.workers), "--out", folder,
                        "--quiet"], check=True)
        wall = time.perf_counter() - start
        rows = list(csv.DictReader(open(Path(folder) / "sweep.csv")))
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for name in ("sweep.png", "sweep.csv", "sweep.md"):
                shutil.copyfile(Path(folder) / name, args.keep / name)
    learning = sum(float(row["seconds"]) for row in rows)
    reached = sum(row["reached"] == "yes" for row in rows)
    report.print("| runs | workers | wall time | learning time (sum over runs) | settings reaching the gold |")
    report.print("|---|---|---|---|---|")
    report.print(f"| {len(rows)} | {args.workers} | {wall:.0f} s | {learning:.0f} s | {reached} of {len(rows)} |")
    report.save()


if __name__ == "__main__":
    main()
