"""Regenerate docs/annotate_via.png and docs/annotate_drawing.png, the README's annotate figures.

    python docs/make_annotate_figures.py

Runs `imle-cli annotate` on the README map with two waypoints, and with a drawing made here (a
hand-like red polyline on an unevenly lit page, saved as JPEG), and copies each gold_preview.png.
"""
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

DOCS = Path(__file__).resolve().parent
MAP = DOCS.parent / "assets" / "map.png"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        y, x = np.mgrid[0:640, 0:640]
        page = (215 + 35 * x / 640 - 15 * y / 640)[..., None] * np.array([1.0, 0.98, 0.92])
        drawing = Image.fromarray(page.clip(0, 255).astype(np.uint8))
        ImageDraw.Draw(drawing).line([(12, 12), (590, 40), (600, 290), (40, 285), (30, 600), (628, 628)],
                                     fill=(200, 35, 35), width=7)
        drawing.filter(ImageFilter.GaussianBlur(1.5)).save(folder / "drawing.jpg", quality=70)
        for name, options in (("annotate_via.png", ["--via", "6,14", "--via", "12,0"]),
                              ("annotate_drawing.png", ["--drawing", str(folder / "drawing.jpg")])):
            out = folder / name
            subprocess.run([sys.executable, "-m", "imle_cli", "annotate", str(MAP), *options, "--out", str(out),
                            "--quiet"], check=True)
            shutil.copyfile(out / "gold_preview.png", DOCS / name)


if __name__ == "__main__":
    main()
