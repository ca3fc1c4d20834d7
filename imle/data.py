"""Warcraft-like maps: the I-MLE paper's shortest-path experiment, generated in seconds at any size.

The experiment (Vlastelica et al., ICLR 2020; Niepert et al., NeurIPS 2021): a CNN sees a map
image, predicts the cost of every cell, and is trained through a shortest-path layer so that the
path on its costs is the true shortest path. `warcraft_maps` generates such data, seeded:

* terrain: a smooth random field cut into five terrain types (`TERRAINS`, each with a true
  cell cost), with roads carved across it (cheap corridors that make paths wind);
* images: every cell drawn as a ``tile`` x ``tile`` RGB tile of its terrain's texture (colour,
  pattern, per-tile jitter and pixel noise, and a lighting gradient per map), so the costs have to
  be read from pixels;
* the shortest paths on the true costs, top-left to bottom-right (`imle.solvers.grid_shortest_path`).

Examples:
    >>> maps = warcraft_maps(4, grid=6, tile=4, seed=0)
    >>> maps.images.shape, maps.costs.shape, maps.paths.shape
    (torch.Size([4, 3, 24, 24]), torch.Size([4, 6, 6]), torch.Size([4, 6, 6]))
    >>> image, costs, path = maps[0]                   # a torch Dataset: (image, costs, path)
    >>> bool(path[0, 0] == 1 and path[-1, -1] == 1)
    True
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

import numpy as np
import torch

#: (name, true cell cost, base colour in RGB) of the five terrain types, cheapest first
TERRAINS = (("road", 1.0, (0.80, 0.70, 0.52)), ("grass", 2.0, (0.40, 0.66, 0.28)),
            ("forest", 4.0, (0.12, 0.38, 0.14)), ("hills", 8.0, (0.55, 0.40, 0.26)),
            ("water", 16.0, (0.16, 0.36, 0.72)))
COSTS = np.array([cost for _, cost, _ in TERRAINS])


@dataclass(frozen=True)
class WarcraftMaps(torch.utils.data.Dataset):
    """Generated maps, instance first: a torch ``Dataset`` of (image, costs, path)."""

    images: torch.Tensor   # [N, 3, H * tile, W * tile] float32 in [0, 1]
    terrain: torch.Tensor  # [N, H, W] int64: indices into TERRAINS
    costs: torch.Tensor    # [N, H, W] float32: the true cell costs
    paths: torch.Tensor    # [N, H, W] float32: 0/1 shortest paths on the true costs

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return self.images[index], self.costs[index], self.paths[index]


def _check_count(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _grid(grid: object) -> Tuple[int, int]:
    if isinstance(grid, (tuple, list)) and len(grid) == 2:
        return _check_count("grid's rows", grid[0], 2), _check_count("grid's columns", grid[1], 2)
    side = _check_count("grid", grid, 2)
    return side, side


def _terrain(rng: np.random.Generator, count: int, rows: int, cols: int) -> np.ndarray:
    """[N, H, W] terrain indices: a bilinearly smoothed field in five levels, roads carved on top."""
    coarse = rng.normal(size=(count, max(2, rows // 3), max(2, cols // 3)))
    ys, xs = np.linspace(0, coarse.shape[1] - 1, rows), np.linspace(0, coarse.shape[2] - 1, cols)
    y0, x0 = np.floor(ys).astype(int).clip(0, coarse.shape[1] - 2), np.floor(xs).astype(int).clip(0, coarse.shape[2] - 2)
    ty, tx = (ys - y0)[None, :, None], (xs - x0)[None, None, :]
    top = coarse[:, y0][:, :, x0] * (1 - tx) + coarse[:, y0][:, :, x0 + 1] * tx
    bottom = coarse[:, y0 + 1][:, :, x0] * (1 - tx) + coarse[:, y0 + 1][:, :, x0 + 1] * tx
    field = top * (1 - ty) + bottom * ty + 0.3 * rng.normal(size=(count, rows, cols))
    terrain = np.digitize(field, np.quantile(field, [0.25, 0.5, 0.72, 0.88])).clip(1, 4)  # no road yet
    for index in range(count):  # one or two roads, each a random walk across the map
        for _ in range(int(rng.integers(1, 3))):
            if rng.random() < 0.5:
                r, along = int(rng.integers(0, rows)), range(cols)
                for c in along:
                    terrain[index, r, c] = 0
                    r = int(np.clip(r + rng.integers(-1, 2), 0, rows - 1))
            else:
                c, along = int(rng.integers(0, cols)), range(rows)
                for r in along:
                    terrain[index, r, c] = 0
                    c = int(np.clip(c + rng.integers(-1, 2), 0, cols - 1))
    return terrain


def _textures(tile: int) -> np.ndarray:
    """[5, tile, tile] brightness patterns: road speckle, grass, forest dots, hill stripes, water waves."""
    y, x = np.mgrid[0:tile, 0:tile] / max(tile, 1)
    dots = ((np.sin(2 * np.pi * 2 * x) * np.sin(2 * np.pi * 2 * y)) > 0.5).astype(float)
    return np.stack([np.full((tile, tile), 1.0),
                     1.0 + 0.08 * np.sin(2 * np.pi * 3 * x),
                     1.0 - 0.35 * dots,
                     1.0 + 0.18 * np.sin(2 * np.pi * 2 * (x + y)),
                     1.0 + 0.15 * np.sin(2 * np.pi * 2 * y)])


def warcraft_maps(count: int, grid=12, *, tile: int = 8, seed: int = 0, neighbourhood: int = 8) -> WarcraftMaps:
    """``count`` seeded Warcraft-like maps of ``grid`` cells (N or (H, W)), each cell a ``tile``
    x ``tile`` image tile, with true costs and shortest paths (see the module notes).

    The same seed gives the same maps; about 1 ms a 12x12 map here.
    """
    from imle.solvers import grid_shortest_path

    count, tile = _check_count("count", count, 1), _check_count("tile", tile, 1)
    rows, cols = _grid(grid)
    rng = np.random.default_rng(seed)
    terrain = _terrain(rng, count, rows, cols)
    colours = np.array([colour for _, _, colour in TERRAINS])               # [5, 3]
    textures = _textures(tile)                                             # [5, t, t]
    # per tile: its terrain's colour (jittered) times its texture; then a lighting gradient and noise
    jitter = 1.0 + 0.08 * rng.normal(size=(count, rows, cols, 1))
    cell_colour = colours[terrain] * jitter                                # [N, H, W, 3]
    pattern = textures[terrain]                                            # [N, H, W, t, t]
    pixels = cell_colour[:, :, :, None, None, :] * pattern[..., None]      # [N, H, W, t, t, 3]
    pixels = pixels.transpose(0, 1, 3, 2, 4, 5).reshape(count, rows * tile, cols * tile, 3)
    light = 1.0 + 0.15 * np.linspace(-1, 1, cols * tile)[None, None, :, None] * rng.uniform(-1, 1, (count, 1, 1, 1))
    pixels = pixels * light + 0.03 * rng.normal(size=pixels.shape)
    images = torch.from_numpy(pixels.clip(0.0, 1.0).transpose(0, 3, 1, 2).astype(np.float32))
    costs = torch.from_numpy(COSTS[terrain].astype(np.float32))
    paths = grid_shortest_path(costs, neighbourhood)
    return WarcraftMaps(images=images, terrain=torch.from_numpy(terrain.astype(np.int64)), costs=costs, paths=paths)
