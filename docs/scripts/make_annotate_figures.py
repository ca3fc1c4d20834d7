"""Regenerate the annotate figures of the README and the docs: docs/figures/annotate_stroke.jpg (a
stroke drawn over the map), docs/figures/annotate_drawing.png (its gold) and
docs/figures/annotate_via.png (a gold through waypoints).

    python docs/scripts/make_annotate_figures.py

Draws as a paint program does: an anti-aliased red pen along the README map's corridors,
composited over assets/map.png itself and saved as JPEG; then runs `imle-cli annotate` on it and
with two waypoints, and copies each gold_preview.png.
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

FIGURES = Path(__file__).resolve().parents[1] / "figures"
MAP = FIGURES.parents[1] / "assets" / "map.png"
#: (row, col) in cells: along row 0, down column 13, back along row 6, down column 0, along row 12
STROKE = [(0.5, 0.6), (0.4, 13.3), (6.4, 13.6), (6.6, 0.5), (12.4, 0.6), (12.6, 14.5), (15.4, 15.4)]


def drawn_over_map(path: Path) -> None:
    """The map with a 7-pixel red pen stroke over it (drawn 4x larger, then reduced: anti-aliased)."""
    background = Image.open(MAP).convert("RGB")
    side = background.size[0]
    big = Image.new("L", (4 * side, 4 * side), 0)
    scale = 4 * side / 16
    ImageDraw.Draw(big).line([(c * scale, r * scale) for r, c in STROKE], fill=255, width=28, joint="curve")
    pen = np.asarray(big.resize((side, side), Image.LANCZOS), dtype=np.float32)[..., None] / 255
    drawn = np.asarray(background, dtype=np.float32) * (1 - pen) + np.array([215, 35, 35]) * pen
    Image.fromarray(drawn.clip(0, 255).astype(np.uint8)).save(path, quality=85)


def main() -> None:
    drawn_over_map(FIGURES / "annotate_stroke.jpg")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name, options in (("annotate_via.png", ["--via", "6,14", "--via", "12,0"]),
                              ("annotate_drawing.png", ["--drawing", str(FIGURES / "annotate_stroke.jpg")])):
            out = folder / name
            subprocess.run([sys.executable, "-m", "imle_cli", "annotate", str(MAP), *options, "--out", str(out),
                            "--quiet"], check=True)
            shutil.copyfile(out / "gold_preview.png", FIGURES / name)


if __name__ == "__main__":
    main()
