"""Regenerate the example inputs in assets/ (deterministic: same bytes every run).

    python assets/make_assets.py

* map.png     the torch-imle README map, 16x16 cells at 16 px a cell (cost 1 white, walls of
              cost 100 black), so `imle-cli` recovers the 16x16 grid exactly;
* gold.png    the README's gold path: the diagonal (the shortest path on a flat 16x16 map),
              path cells white on black, 16 px a cell;
* terrain.png a 96x96-cell natural-looking terrain (fractal value noise with a river and a
              ridge), 4 px a cell, from a fixed seed.
"""
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent


def readme_map_image() -> np.ndarray:
    from imle_cli.inputs import readme_map

    costs = readme_map()
    luminance = 1.0 - (costs - 1.0) / 99.0  # cost 1 -> white, 100 -> black
    return np.kron((luminance * 255).round().astype(np.uint8), np.ones((16, 16), dtype=np.uint8))


def gold_image() -> np.ndarray:
    return np.kron(np.eye(16, dtype=np.uint8) * 255, np.ones((16, 16), dtype=np.uint8))


def terrain(cells: int = 96, seed: int = 7) -> np.ndarray:
    """Luminance [cells, cells] in [0, 1]: bright plains, dark hills, a dark ridge, a river."""
    rng = np.random.default_rng(seed)
    height = np.zeros((cells, cells))
    for octave in range(1, 6):
        size = 2 ** octave + 1
        coarse = rng.standard_normal((size, size))
        index = np.linspace(0, size - 1, cells)
        low = np.floor(index).astype(int).clip(0, size - 2)
        t = index - low
        t = t * t * (3 - 2 * t)  # smoothstep interpolation between lattice points
        rows = coarse[low] * (1 - t)[:, None] + coarse[low + 1] * t[:, None]
        smooth = rows[:, low] * (1 - t)[None, :] + rows[:, low + 1] * t[None, :]
        height += smooth / octave
    height = (height - height.min()) / (height.max() - height.min())
    r, c = np.mgrid[0:cells, 0:cells] / (cells - 1)
    river = np.exp(-((c - 0.55 - 0.15 * np.sin(6 * r)) / 0.03) ** 2)
    ridge = np.exp(-((r - 0.35 - 0.1 * np.cos(5 * c)) / 0.04) ** 2) * (c < 0.8)
    luminance = 1.0 - np.clip(0.85 * height ** 1.5 + 0.7 * river + 0.6 * ridge, 0, 1)
    return (luminance * 255).round().astype(np.uint8)


def main() -> None:
    Image.fromarray(readme_map_image()).save(HERE / "map.png", optimize=False)
    Image.fromarray(gold_image()).save(HERE / "gold.png", optimize=False)
    Image.fromarray(np.kron(terrain(), np.ones((4, 4), dtype=np.uint8))).save(HERE / "terrain.png", optimize=False)


if __name__ == "__main__":
    main()
