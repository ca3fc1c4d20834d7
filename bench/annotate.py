"""How long `imle-cli annotate --drawing` takes on a big drawing (issue: under 2 s at 2000x2000).

    python bench/annotate.py --repeats 5

Draws a 2000x2000 RGB drawing (a 6-pixel red polyline on an unevenly lit page, saved as PNG),
then times, alternating in rounds, the whole command (`imle-cli annotate assets/map.png
--drawing D --quiet`) and the floor every CLI run pays: a Python process importing what the
command imports (torch, matplotlib, imageio, PIL and imle-cli's modules) and doing nothing
else. Prints the medians and the difference, the time the command itself needs.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ("import torch, matplotlib, imageio.v3, PIL.Image, imle.solvers, imle_cli.main, imle_cli.commands, "
         "imle_cli.annotation, imle_cli.figures, imle_cli.render")


def drawing(folder: Path, side: int = 2000) -> Path:
    y, x = np.mgrid[0:side, 0:side]
    page = (200 + 40 * x / side)[..., None] * np.array([1.0, 0.98, 0.93])
    image = Image.fromarray(page.clip(0, 255).astype(np.uint8))
    points = [(10, 10), (side * 0.9, side * 0.1), (side * 0.85, side * 0.45), (side * 0.1, side * 0.4),
              (side * 0.12, side * 0.9), (side - 10, side - 10)]
    ImageDraw.Draw(image).line(points, fill=(200, 30, 30), width=6)
    path = folder / "drawing.png"
    image.save(path)
    return path


def seconds(command: list) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        source = drawing(Path(folder))
        command = [sys.executable, "-m", "imle_cli", "annotate", "assets/map.png", "--drawing", str(source),
                   "--out", str(Path(folder) / "out"), "--quiet"]
        floor = [sys.executable, "-c", FLOOR]
        seconds(command)  # warm the file cache
        times = {"annotate": [], "floor": []}
        for _ in range(args.repeats):
            times["annotate"].append(seconds(command))
            times["floor"].append(seconds(floor))
    whole, base = statistics.median(times["annotate"]), statistics.median(times["floor"])
    print("| 2000x2000 drawing | whole command | import floor | the command's own work |\n|---|---|---|---|")
    print(f"| imle-cli annotate --drawing | {whole:.2f} s | {base:.2f} s | {whole - base:.2f} s |")


if __name__ == "__main__":
    main()
