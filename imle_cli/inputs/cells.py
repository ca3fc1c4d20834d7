"""Pixels -> cells: how an image or an array becomes a grid of cells.

``--grid N`` or ``--grid HxW`` averages blocks of pixels into that many cells. Without it, an
image that is an integer upscale of a small grid (blocks of equal pixels, like assets/map.png at
16 pixels a cell) is recovered exactly; anything else larger than :data:`MAX_AUTO_CELLS` on its
longer side is averaged down to that (:func:`auto_cells`, the one rule, with a notice).

Example:
    >>> import numpy as np
    >>> block_means(np.arange(16.0).reshape(4, 4), 2, 2).tolist()
    [[2.5, 4.5], [10.5, 12.5]]
    >>> auto_cells(300, 150), auto_cells(100, 40)
    ((128, 64), None)
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from imle_cli.errors import UserError

MAX_AUTO_CELLS = 128


def parse_grid(text: Optional[str]) -> Optional[Tuple[int, int]]:
    """'32' -> (32, 32); '24x40' -> (24, 40); None -> None."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{1,9})\s*(?:[xX]\s*(\d{1,9})\s*)?", text)
    if not match:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise UserError(f"--grid must be N or HxW (for example 32 or 24x40), got {shown!r}")
    rows = int(match.group(1))
    cols = int(match.group(2)) if match.group(2) else rows
    if rows < 2 or cols < 2:
        raise UserError(f"--grid must be at least 2 cells on each side, got {text!r}")
    return rows, cols


def auto_cells(height: int, width: int) -> Optional[Tuple[int, int]]:
    """The grid that ``height`` x ``width`` values are averaged down to without ``--grid``: at most
    :data:`MAX_AUTO_CELLS` cells on the longer side, the aspect kept; None when they fit."""
    longer = max(height, width)
    if longer <= MAX_AUTO_CELLS:
        return None
    return max(2, round(height * MAX_AUTO_CELLS / longer)), max(2, round(width * MAX_AUTO_CELLS / longer))


def block_means(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Average [H, W] into [rows, cols] cells; cell i spans pixels floor(i H / rows) onwards."""
    row_starts = (np.arange(rows) * values.shape[0]) // rows
    col_starts = (np.arange(cols) * values.shape[1]) // cols
    sums = np.add.reduceat(np.add.reduceat(values, row_starts, axis=0), col_starts, axis=1)
    counts = np.outer(np.diff(np.append(row_starts, values.shape[0])),
                      np.diff(np.append(col_starts, values.shape[1])))
    return sums / counts


def upscale_factor(values: np.ndarray) -> Tuple[int, int]:
    """(bh, bw): the largest blocks of equal pixels the image is made of (1, 1 if none)."""
    def period(changes: np.ndarray, length: int) -> int:
        positions = np.nonzero(changes)[0] + 1
        return int(np.gcd.reduce(np.append(positions, length)))

    rows_differ = np.any(values[1:] != values[:-1], axis=1)
    cols_differ = np.any(values[:, 1:] != values[:, :-1], axis=0)
    return period(rows_differ, values.shape[0]), period(cols_differ, values.shape[1])


def image_to_cells(values: np.ndarray, grid: Optional[Tuple[int, int]], path: Path,
                   what: str = "MAP") -> Tuple[np.ndarray, List[str]]:
    """Per-cell values [rows, cols] of a per-pixel image, and any notices."""
    height, width = values.shape
    if grid is not None:
        rows, cols = grid
        if rows > height or cols > width:
            raise UserError(f"--grid {rows}x{cols} is larger than {what} {str(path)!r} "
                            f"({height}x{width} pixels); use at most {height}x{width}")
        return block_means(values, rows, cols), []
    bh, bw = upscale_factor(values)
    if (bh > 1 or bw > 1) and height // bh >= 2 and width // bw >= 2:
        return values[::bh, ::bw].copy(), []
    grid = auto_cells(height, width)
    if grid is None:
        return values, []
    notice = (f"{what} {path.name} is {height}x{width} pixels with no block structure: averaged to "
              f"{grid[0]}x{grid[1]} cells (use --grid to choose)")
    return block_means(values, *grid), [notice]


def block_max(values: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """The largest value of each of [rows, cols] cells of [H, W] (cells as in block_means; an
    image smaller than the grid is sampled at the cells' centres instead)."""
    height, width = values.shape
    if height < rows or width < cols:
        ys = ((np.arange(rows) + 0.5) * height / rows).astype(int)
        xs = ((np.arange(cols) + 0.5) * width / cols).astype(int)
        values = values[np.ix_(ys, xs)]
        height, width = rows, cols
    row_starts = (np.arange(rows) * height) // rows
    col_starts = (np.arange(cols) * width) // cols
    return np.maximum.reduceat(np.maximum.reduceat(values, row_starts, axis=0), col_starts, axis=1)
