"""How long `imle-cli learn` takes on annotated golds (issue 24's targets on the 2-core machine:
64x64 under 30 s, 128x128 under 90 s, whole process), against the floor: the steps it runs times
the unavoidable work of one step that does not depend on the costs, its Sum-of-Gamma noise (50
draws of the map, --iterations terms each: the same numbers for a seed need the same draws).

    python bench/learn_speed.py                     # 64x64 and 128x128, learn's defaults (100 terms)
    python bench/learn_speed.py --iterations 100 10  # and with torch-imle's 10 noise terms

Each gold is made by `imle-cli annotate assets/terrain.png --grid N` as a user makes one: the
shortest path on the map (annotate's default), through one waypoint, and through two waypoints
in opposite corners, which sends the gold there and back in lanes two cells apart (a gold the
defaults do not learn in 600 steps: the worst case, every step run).
A run is `imle-cli learn --gold gold.png` as a user types it (--patience 50 by default: it stops
50 steps after it has learned); its time is the whole process; "the rest" subtracts the import
floor (`python -c "import torch, matplotlib, imle_cli.experiments"`) and steps x the noise,
measured in this process: what is left is the solves (two batches of 50 a step), the backward
pass, Adam and the figures.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _report import Report, add_publish_option  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GOLDS = {64: {"the map's shortest path": [], "one waypoint": ["--via", "40,20"],
              "two waypoints, there and back": ["--via", "20,50", "--via", "50,20"]},
         128: {"the map's shortest path": [], "one waypoint": ["--via", "80,40"],
               "two waypoints, there and back": ["--via", "40,100", "--via", "100,40"]}}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "imle_cli", *args], capture_output=True, text=True, cwd=ROOT,
                          check=True)


def noise_per_step(gold_path: Path, iterations: int, samples: int = 50) -> float:
    """Seconds of one learning step's Sum-of-Gamma noise on this gold ([samples, H, W] draws,
    k = the gold's length): the median of 5. The noise is the same work whatever the costs."""
    import statistics

    import torch

    from imle.noise import SumOfGammaNoiseDistribution
    from imle_cli.inputs import load_gold

    gold = load_gold(gold_path, None, 8).gold
    noise = SumOfGammaNoiseDistribution(k=float(gold.length), nb_iterations=iterations)
    generator = torch.Generator().manual_seed(0)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        noise.sample([samples, 1, *gold.shape], dtype=torch.float64, generator=generator)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, nargs="*", default=[100])
    parser.add_argument("--sizes", type=int, nargs="*", default=[64, 128])
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("learn_speed")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch, matplotlib, imle_cli.experiments"], check=True)
    imports = time.perf_counter() - started
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for size in args.sizes:
            for number, (kind, via) in enumerate(GOLDS[size].items()):
                gold = Path(folder) / f"gold{size}-{number}"
                cli("annotate", "assets/terrain.png", "--grid", str(size), *via, "--out", str(gold), "--quiet")
                length = int(np.load(gold / "gold.npy").sum())
                for iterations in args.iterations:
                    started = time.perf_counter()
                    run = cli("learn", "--gold", str(gold / "gold.png"), "--iterations", str(iterations), "--out",
                              str(Path(folder) / f"learn{size}-{number}-{iterations}"))
                    seconds = time.perf_counter() - started
                    stopped = re.search(r"stopped at step (\d+) of", run.stdout)
                    steps = int(stopped.group(1)) if stopped else 600
                    learned = "learned" if "equals the gold path" in run.stdout else "not learned"
                    noise = noise_per_step(gold / "gold.png", iterations)
                    floor = steps * noise
                    target = 30 if size <= 64 else 90
                    rows.append(f"| {size}x{size}, {kind} ({length} cells) | {iterations} | {steps} ({learned}) | "
                                f"{seconds:.1f} s ({'under' if seconds < target else 'over'} {target} s) | "
                                f"{noise * 1000:.0f} ms | {floor:.1f} s ({floor / seconds:.0%}) | "
                                f"{seconds - imports - floor:.1f} s |")
    report.print(f"import floor (torch, matplotlib): {imports:.1f} s\n")
    report.print("| gold | noise terms | steps run | whole process | a step's noise | noise floor (steps x that) "
                 "| the rest: solves, backward, Adam, figures |\n|---|---|---|---|---|---|---|")
    report.print("\n".join(rows))
    report.save()


if __name__ == "__main__":
    main()
