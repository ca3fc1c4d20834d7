"""How long `imle-cli annotate --drawing` takes on a big drawing over a map (issue 22: within
0.5 s of work above the import floor at 2000x2000).

    python bench/annotate.py --repeats 5

Makes a 2000x2000 map image (the README map, assets/map.png, scaled up) and two 2000x2000
drawings of it: a 12-pixel anti-aliased red stroke along its corridors composited over the map
(as a paint program does) and saved as JPEG, and the same stroke on an unevenly lit blank page
(the slower case: the drawing is measured against the map, then against the page). Times,
alternating in rounds, each whole command (`imle-cli annotate MAP --drawing D --quiet`) and the
floor every CLI run pays: a Python process importing what the command imports (torch,
matplotlib, imageio, PIL and imle-cli's modules) and running `imle-cli annotate --help` (so the
CLI framework's lazy imports are in it). Prints the medians of both and of the command's own
work, timed inside fresh processes: each imports the floor, runs `--help`, then runs the command
(cold: its lazy imports and first-use costs count) and prints how long that took. (The whole
commands' wall times differ from the floor's by the same, give or take the 1-3 s noise of
importing torch on this machine, which is why the work is timed inside the process.)
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
from _report import Report, add_publish_option  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FLOOR = ("import sys, time, torch, matplotlib, imageio.v3, PIL.Image, imle.solvers, imle_cli.main, imle_cli.commands, "
         "imle_cli.annotation, imle_cli.figures, imle_cli.render\n"
         "def run(argv):\n"
         "    sys.argv = argv\n"
         "    try:\n"
         "        imle_cli.main.run()\n"
         "    except SystemExit as exit:\n"
         "        assert not exit.code, exit.code\n"
         "run(['imle-cli', 'annotate', '--help'])\n")
#: The floor, then the command given as argv[1:], timed: prints its seconds.
TIMED = ("import sys\nARGV = sys.argv[1:]\n" + FLOOR
         + "start = time.perf_counter()\nrun(['imle-cli'] + ARGV)\nprint(time.perf_counter() - start)\n")
#: The README map's corridors, (row, col) in cells of 16x16.
CORRIDORS = [(0.5, 0.5), (0.5, 13.5), (6.5, 13.5), (6.5, 0.5), (12.5, 0.5), (12.5, 14.5), (15.5, 15.5)]


def stroke(side: int, width: int) -> np.ndarray:
    """Float [side, side]: an anti-aliased pen along the corridors (drawn at 2x, then reduced)."""
    big = Image.new("L", (2 * side, 2 * side), 0)
    scale = 2 * side / 16
    ImageDraw.Draw(big).line([(c * scale, r * scale) for r, c in CORRIDORS], fill=255, width=2 * width,
                             joint="curve")
    return np.asarray(big.resize((side, side), Image.BOX), dtype=np.float32)[..., None] / 255


def inputs(folder: Path, side: int = 2000) -> dict:
    """{case: (map path, drawing path)}: the drawings of a 2000x2000 map, and the one over it as a
    drawing of assets/map.png (256x256 pixels) made zoomed in."""
    map_path = folder / "map2000.png"
    background = Image.open(ROOT / "assets" / "map.png").convert("RGB").resize((side, side), Image.NEAREST)
    background.save(map_path)
    pen, red = stroke(side, 12), np.array([220, 30, 30], dtype=np.float32)
    y, x = np.mgrid[0:side, 0:side]
    page = (200 + 40 * x / side)[..., None] * np.array([1.0, 0.98, 0.93], dtype=np.float32)
    cases = {}
    for case, under in (("over the 2000x2000 map", np.asarray(background, dtype=np.float32)),
                        ("on a blank page, 2000x2000 map", page)):
        drawn = (under * (1 - pen) + red * pen).clip(0, 255).astype(np.uint8)
        path = folder / f"{case.split(',')[0].replace(' ', '_')}.jpg"
        Image.fromarray(drawn).save(path, quality=85)
        cases[case] = (map_path, path)
    cases["over assets/map.png (256x256), drawn zoomed in"] = (ROOT / "assets" / "map.png",
                                                               cases["over the 2000x2000 map"][1])
    return cases


def seconds(command: list) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start


def work(arguments: list) -> float:
    """The command's own seconds, timed in a fresh process after the floor."""
    done = subprocess.run([sys.executable, "-c", TIMED, *arguments], check=True, cwd=ROOT, capture_output=True,
                          text=True)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("annotate")
    with tempfile.TemporaryDirectory() as folder:
        arguments = {case: ["annotate", str(map_path), "--drawing", str(drawing), "--out", str(Path(folder) / "out"),
                            "--quiet"] for case, (map_path, drawing) in inputs(Path(folder)).items()}
        floor = [sys.executable, "-c", FLOOR]
        seconds(floor)  # warm the file cache
        floors, walls, works = [], {case: [] for case in arguments}, {case: [] for case in arguments}
        for _ in range(args.repeats):
            floors.append(seconds(floor))
            for case, argv in arguments.items():
                walls[case].append(seconds([sys.executable, "-m", "imle_cli", *argv]))
                works[case].append(work(argv))
    report.print(f"import floor (start, imports, `annotate --help`): {statistics.median(floors):.2f} s\n")
    report.print("| 2000x2000 drawing | whole command | the command's own work (above the floor) |\n|---|---|---|")
    for case in arguments:
        report.print(f"| annotate --drawing, {case} | {statistics.median(walls[case]):.2f} s | "
                     f"{statistics.median(works[case]):.2f} s |")
    report.save()


if __name__ == "__main__":
    main()
