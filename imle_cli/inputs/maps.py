"""Map files -> cost grids (float64 [H, W]): the load policy (which reader, which cells, which costs).

Images become luminance L in [0, 1], then costs: darker is costlier,
``cost = min_cost + (1 - L) * (max_cost - min_cost)``; transparent pixels are composited over
white, so a fully transparent pixel is open ground (the cheapest cost), as it looks on a page.
Cost arrays (``.npy``, ``.npz``, ``.csv``) are taken as they are (finite, real, >= 0, 2-D), or
with ``--rescale`` mapped linearly onto the cost range. Cells follow :mod:`imle_cli.inputs.cells`.

Example:
    >>> costs = readme_map()
    >>> costs.shape, float(costs[0, 0]), float(costs[1, 0])
    ((16, 16), 1.0, 100.0)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np

from imle_cli.errors import UserError
from imle_cli.inputs.arrays import is_array_file, read_cost_array
from imle_cli.inputs.cells import auto_cells, block_means, image_to_cells, parse_grid
from imle_cli.inputs.images import MAX_PIXELS, luminance_of, read_pixels, rgb_of


@dataclass
class LoadedMap:
    """A cost grid and how it was made."""

    costs: np.ndarray  # [H, W] float64, finite, >= 0
    source: str        # the file, or "built-in README map"
    notices: List[str] = field(default_factory=list)
    image: Optional[np.ndarray] = None  # RGB float32 [h, w, 3] of an image map, when asked for


def readme_map() -> np.ndarray:
    """The torch-imle README map: 16x16 cells of cost 1 with three walls of cost 100."""
    costs = np.ones((16, 16))
    costs[1:6, 0:12] = 100.0
    costs[8:12, 1:16] = 100.0
    costs[14:16, 6:10] = 100.0
    return costs


def check_cost_range(min_cost: float, max_cost: float) -> None:
    for name, value in (("--min-cost", min_cost), ("--max-cost", max_cost)):
        if not math.isfinite(value) or value < 0:
            raise UserError(f"{name} must be a finite number >= 0, got {value}")
    if max_cost < min_cost:
        raise UserError(f"--max-cost ({max_cost}) must not be below --min-cost ({min_cost})")


def load_map(path: Optional[Path], *, grid: Optional[str] = None, min_cost: float = 1.0,
             max_cost: float = 100.0, key: Optional[str] = None, rescale: bool = False,
             max_pixels: int = MAX_PIXELS, keep_image: bool = False) -> LoadedMap:
    """Load MAP (or the built-in README map when ``path`` is None) as a cost grid.

    Cost arrays are used as they are, or with ``rescale`` mapped linearly onto [min_cost,
    max_cost] (any finite real values, negatives included); without ``grid`` an array larger than
    128 cells on its longer side is block-averaged down to that, as images are (with a notice).
    With ``keep_image`` an image map's colours come back too (read once: a drawing over it).
    """
    cells = parse_grid(grid)
    check_cost_range(min_cost, max_cost)
    if path is None:
        costs = readme_map()
        if cells is not None:
            if cells[0] > costs.shape[0] or cells[1] > costs.shape[1]:
                raise UserError(f"--grid {grid} is larger than the built-in 16x16 map")
            costs = block_means(costs, *cells)
        return LoadedMap(costs, "built-in README map")
    if key is not None and path.suffix.lower() != ".npz":
        raise UserError(f"--key only applies to .npz files, not {str(path)!r}")
    if is_array_file(path):
        array = read_cost_array(path, key, rescale)
        if rescale:
            low, high = float(array.min()), float(array.max())
            if high == low:
                raise UserError(f"MAP {str(path)!r} has no range to rescale: every cell is {low:g}")
            # halves first: the range of values near +-1.8e308 would overflow float64
            array = min_cost + (array / 2 - low / 2) / (high / 2 - low / 2) * (max_cost - min_cost)
        notices = []
        if cells is not None:
            if cells[0] > array.shape[0] or cells[1] > array.shape[1]:
                raise UserError(f"--grid {grid} is larger than MAP {str(path)!r} ({array.shape[0]}x{array.shape[1]} cells)")
            array = block_means(array, *cells)
        elif auto_cells(*array.shape) is not None:
            rows, cols = auto_cells(*array.shape)
            notices.append(f"MAP {path.name} is {array.shape[0]}x{array.shape[1]} cells: averaged to {rows}x{cols} "
                           "cells (use --grid to choose)")
            array = block_means(array, rows, cols)
        return LoadedMap(array, str(path), notices)
    pixels, notices = read_pixels(path, "MAP", max_pixels)
    values, cell_notices = image_to_cells(luminance_of(pixels, path, "MAP"), cells, path)
    return LoadedMap(min_cost + (1.0 - values) * (max_cost - min_cost), str(path), notices + cell_notices,
                     rgb_of(pixels, path, "MAP") if keep_image else None)
