"""Making gold paths: from waypoints, from a drawing, or the map's own shortest path. Pure
functions from arrays to a path mask (no files); every refusal is a UserError naming the cell.

* :func:`waypoint_path`: the shortest path from the top-left cell through each waypoint in order
  to the bottom-right cell, leg by leg with the grid solver (the same rules as every command).
* :func:`stroke_mask` and :func:`drawing_path`: the pixels of a drawing that differ from its
  background, put on the map's cells, and the path of cells that follows them: the shortest
  path on a cost map that is cheap on the stroke's cells and dear off them.

Example:
    >>> import numpy as np
    >>> path = waypoint_path(np.ones((4, 5)), [(0, 4)], neighbourhood=4)
    >>> path.astype(int).tolist()
    [[1, 1, 1, 1, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence, Tuple

import numpy as np

from imle_cli.errors import UserError
from imle_cli.inputs.gold import NEIGHBOURS, check_path, neighbour_counts

Cell = Tuple[int, int]
#: The cost of a cell the stroke does not touch, against 1 on the stroke: the path leaves the
#: stroke only where the stroke has a gap.
OFF_STROKE_COST = 1000.0


def parse_via(text: str, shape: Tuple[int, int]) -> Cell:
    """'3,4' -> (3, 4), a cell inside the map (0-based, row first)."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise UserError(f"--via must be ROW,COL (two whole numbers >= 0, row first, 0-based; e.g. --via 3,12), "
                        f"got {text!r}")
    row, col = int(parts[0]), int(parts[1])
    rows, cols = shape
    if row >= rows or col >= cols:
        raise UserError(f"--via {row},{col} is outside the {rows}x{cols}-cell map (rows 0 to {rows - 1}, "
                        f"columns 0 to {cols - 1})")
    return row, col


def waypoint_path(costs: np.ndarray, waypoints: Sequence[Cell], neighbourhood: int = 8) -> np.ndarray:
    """Bool [H, W]: shortest legs (0, 0) -> waypoint 1 -> ... -> (H - 1, W - 1) on ``costs``.

    Each leg avoids the cells of the legs before it (they cost more than any path around them)
    and, where it can, their neighbours (so the legs join into one simple path); a leg that
    cannot avoid an earlier one is refused, naming both legs.
    """
    from imle.solvers import grid_shortest_path

    rows, cols = costs.shape
    stops = [(0, 0), *waypoints, (rows - 1, cols - 1)]
    path = np.zeros(costs.shape, dtype=bool)
    owner = np.full(costs.shape, -1)
    avoid = float(costs.sum()) * 4 + 1e6  # dearer than any path that goes around
    for leg, (start, end) in enumerate(zip(stops[:-1], stops[1:])):
        earlier = path.copy()
        earlier[start] = False
        near = (neighbour_counts(earlier, NEIGHBOURS[8]) > 0) & ~earlier
        routed = costs + np.where(earlier, avoid * 4, 0.0) + np.where(near, avoid, 0.0)
        cells = grid_shortest_path(routed, neighbourhood, source=start, target=end).astype(bool)
        clash = cells & earlier
        if clash.any():
            r, c = np.argwhere(clash)[0]
            raise UserError(f"the path through the waypoints would visit cell ({r}, {c}) twice: the leg "
                            f"{_name(stops, leg)} cannot avoid the leg {_name(stops, owner[r, c])}; move or "
                            "reorder the waypoints (--via)")
        owner[cells & ~path] = leg
        path |= cells
    points = ", ".join(str(stop) for stop in waypoints)
    check_path(path, neighbourhood, f"the path through the waypoints {points} (--via)")
    return path


def _name(stops: Sequence[Cell], leg: int) -> str:
    return f"from {stops[leg]} to {stops[leg + 1]}"


def stroke_mask(rgb: np.ndarray) -> np.ndarray:
    """Bool [h, w]: the pixels of a drawing (RGB in [0, 1], [h, w, 3]) that differ from its
    background, whatever the colours: the background is estimated locally (the median colour of
    each tile of a coarse grid, blended between tile centres, so an unevenly lit photo works), and
    a pixel belongs to the stroke when its colour is far from the background there (Otsu's
    threshold on the distances, at least 0.1)."""
    height, width = rgb.shape[:2]
    tiles_y, tiles_x = max(1, min(8, height // 16)), max(1, min(8, width // 16))
    step = max(1, min(height, width) // 256)  # medians on a subsample: the background is smooth
    sample = rgb[::step, ::step]
    ys = np.linspace(0, sample.shape[0], tiles_y + 1).astype(int)
    xs = np.linspace(0, sample.shape[1], tiles_x + 1).astype(int)
    medians = np.array([[np.median(sample[ys[i]:ys[i + 1], xs[j]:xs[j + 1]].reshape(-1, 3), axis=0)
                         for j in range(tiles_x)] for i in range(tiles_y)])  # [ty, tx, 3]
    # bilinear blend between tile centres: background[:, :, k] = Wy @ medians[:, :, k] @ Wx^T
    blend_y = _interpolation_weights(height, tiles_y)
    blend_x = _interpolation_weights(width, tiles_x)
    background = np.einsum("yi,ijk,xj->yxk", blend_y, medians, blend_x, optimize=True)
    distance = np.sqrt(((rgb - background) ** 2).sum(-1))
    return distance > max(0.1, _otsu(distance))


def _interpolation_weights(length: int, tiles: int) -> np.ndarray:
    """[length, tiles]: linear interpolation between tile centres (constant beyond the outer ones)."""
    centres = (np.arange(tiles) + 0.5) * length / tiles
    return np.stack([np.interp(np.arange(length), centres, np.eye(tiles)[i]) for i in range(tiles)], 1).astype(np.float32)


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of values in [0, sqrt 3]: the cut that best separates two classes."""
    counts, edges = np.histogram(values, bins=256, range=(0.0, float(np.sqrt(3.0))))
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(counts)
    mean = np.cumsum(counts * centres)
    total, total_mean = weight[-1], mean[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (total_mean * weight / total - mean) ** 2 / (weight * (total - weight))
    between[~np.isfinite(between)] = 0
    return float(centres[int(np.argmax(between))])


@dataclass
class DrawnPath:
    """A gold path made from a drawing, and how well it follows the stroke."""

    path: np.ndarray     # bool [H, W]
    touched: np.ndarray  # bool [H, W]: cells the stroke touches
    strays: int          # path cells the stroke does not touch

    @property
    def stray_share(self) -> float:
        return self.strays / int(self.path.sum())


def stroke_cells(stroke: np.ndarray, shape: Tuple[int, int]) -> np.ndarray:
    """Bool [H, W]: the map cells the stroke touches (the drawing covers the whole map). A cell
    counts when it holds at least a quarter as many stroke pixels as a typical stroke cell, so
    specks of noise do not count but a 1-pixel line through a big cell does."""
    rows, cols = shape
    height, width = stroke.shape
    if height < rows or width < cols:  # a drawing smaller than the grid: sample cell centres
        ys = ((np.arange(rows) + 0.5) * height / rows).astype(int)
        xs = ((np.arange(cols) + 0.5) * width / cols).astype(int)
        return stroke[np.ix_(ys, xs)]
    row_starts = (np.arange(rows) * height) // rows
    col_starts = (np.arange(cols) * width) // cols
    counts = np.add.reduceat(np.add.reduceat(stroke.astype(np.int64), row_starts, axis=0), col_starts, axis=1)
    if not counts.any():
        return counts > 0
    return counts >= max(1.0, 0.25 * float(np.median(counts[counts > 0])))


def drawing_path(touched: np.ndarray, neighbourhood: int = 8) -> DrawnPath:
    """The path of cells from the top-left to the bottom-right cell that follows the touched
    cells: the shortest path on costs 1 on the stroke and :data:`OFF_STROKE_COST` off it.
    Refused when the stroke does not join the corners: when the path must leave the stroke for
    more than max(2, a tenth of its cells) cells in a row."""
    from imle.solvers import grid_shortest_path

    rows, cols = touched.shape
    if not touched.any():
        raise UserError("--drawing has no stroke: no pixel differs from the background colour")
    costs = np.where(touched, 1.0, OFF_STROKE_COST)
    path = grid_shortest_path(costs, neighbourhood).astype(bool)
    order = _path_order(path, neighbourhood)
    off = [not touched[cell] for cell in order]
    longest, run, start = 0, 0, None
    for index, is_off in enumerate(off):
        run = run + 1 if is_off else 0
        if run > longest:
            longest, start = run, index - run + 1
    if longest > max(2, len(order) // 10):
        before = order[start - 1] if start > 0 else None
        where = (f"the stroke stops at cell {before}" if before is not None
                 else "the stroke does not start at the top-left cell (0, 0)")
        raise UserError(f"--drawing's stroke does not join the top-left and the bottom-right cell: {where}, and "
                        f"the path would run {longest} cells off it; draw one line from corner to corner")
    return DrawnPath(path, touched, int(sum(off)))


def _path_order(path: np.ndarray, neighbourhood: int) -> List[Cell]:
    """The cells of a simple corner-to-corner path, from the top-left cell on."""
    rows, cols = path.shape
    order, previous, cell = [(0, 0)], None, (0, 0)
    while cell != (rows - 1, cols - 1):
        following = [(cell[0] + dr, cell[1] + dc) for dr, dc in NEIGHBOURS[neighbourhood]
                     if 0 <= cell[0] + dr < rows and 0 <= cell[1] + dc < cols and path[cell[0] + dr, cell[1] + dc]
                     and (cell[0] + dr, cell[1] + dc) != previous]
        previous, cell = cell, following[0]
        order.append(cell)
    return order
