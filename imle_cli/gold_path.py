"""What a gold path is: a simple path of cells between two end cells, and the one check of it.

A :class:`GoldPath` is the mask of its cells with its two ends, ``start`` and ``end``: the cells
the solver is called with (``grid_shortest_path(costs, source=start, target=end)``) wherever
the gold is used, and the cells the figures ring when they are not the map's corners.
:func:`check_path` is the rule every command, ``annotate``'s waypoints and drawings use, with
the same messages naming the first offending cell; its ends are the path's two cells with one
path neighbour. A mask alone cannot say which end is the start, nor trace a path whose two ends
touch (it reads as a loop): the ordered cells can (``gold.json``, :func:`from_cells`).

Example:
    >>> import numpy as np
    >>> mask = np.zeros((3, 4), dtype=np.uint8)
    >>> mask[1, 1:] = 1
    >>> gold = check_path(mask, 8, "GOLD")
    >>> gold.start, gold.end, gold.length, gold.corner_to_corner
    ((1, 1), (1, 3), 3, False)
    >>> neighbour_counts(np.eye(3, dtype=bool), NEIGHBOURS[8]).tolist()
    [[1, 2, 1], [2, 2, 2], [1, 2, 1]]
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from imle_cli.errors import UserError

Cell = Tuple[int, int]

NEIGHBOURS = {
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
    4: ((-1, 0), (0, -1), (0, 1), (1, 0)),
}


@dataclass(frozen=True, eq=False)
class GoldPath:
    """A gold path: ``mask`` (uint8 [H, W], 1 on its cells, read-only) from ``start`` to ``end``,
    its ``cells`` in order from ``start``."""

    mask: np.ndarray
    start: Cell
    end: Cell
    cells: Tuple[Cell, ...]

    def __post_init__(self) -> None:
        self.mask.setflags(write=False)

    @property
    def shape(self) -> Tuple[int, int]:
        return self.mask.shape

    @property
    def length(self) -> int:
        return len(self.cells)

    @property
    def corner_to_corner(self) -> bool:
        """Whether the ends are the top-left and the bottom-right cell (the solver's default ends)."""
        rows, cols = self.shape
        return {self.start, self.end} == {(0, 0), (rows - 1, cols - 1)}

    @property
    def ends(self) -> Dict[str, Cell]:
        """The solver's end-cell arguments: ``grid_shortest_path(costs, **gold.ends)``."""
        return {"source": self.start, "target": self.end}

    @property
    def rings(self) -> Tuple[Cell, ...]:
        """The cells a figure rings: the two ends, unless they are the corners (where every path ends)."""
        return () if self.corner_to_corner else (self.start, self.end)

    def describe(self) -> str:
        """'from (r, c) to (r, c)'."""
        return f"from {self.start} to {self.end}"

    def to_json(self, neighbourhood: int) -> dict:
        """The ordered cells, ends and grid: what ``gold.json`` holds (:func:`from_json` reads it)."""
        return {"format": "imle-gold-path", "version": 1, "grid": list(self.shape), "neighbourhood": neighbourhood,
                "start": list(self.start), "end": list(self.end), "cells": [list(cell) for cell in self.cells]}


def neighbour_counts(mask: np.ndarray, offsets) -> np.ndarray:
    """How many of each cell's neighbours (under ``offsets``) are on."""
    padded = np.pad(mask.astype(np.int8), 1)
    rows, cols = mask.shape
    return sum(padded[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols] for dr, dc in offsets)


def first_cell(cells: np.ndarray) -> Cell:
    """The first True cell in reading order."""
    r, c = np.argwhere(cells)[0]
    return int(r), int(c)


def _neighbours(cell: Cell, shape: Tuple[int, int], neighbourhood: int):
    rows, cols = shape
    for dr, dc in NEIGHBOURS[neighbourhood]:
        r, c = cell[0] + dr, cell[1] + dc
        if 0 <= r < rows and 0 <= c < cols:
            yield r, c


def trace(mask: np.ndarray, start: Cell, neighbourhood: int) -> List[Cell]:
    """The cells of a simple path (a checked mask), in order from its end ``start``."""
    order, previous, cell = [start], None, start
    while True:
        following = [n for n in _neighbours(cell, mask.shape, neighbourhood) if mask[n] and n != previous]
        if not following:
            return order
        previous, cell = cell, following[0]
        order.append(cell)


def check_path(mask: np.ndarray, neighbourhood: int, what: str, *, invertible: bool = False,
               start: Optional[Cell] = None, end: Optional[Cell] = None) -> GoldPath:
    """The :class:`GoldPath` of ``mask``, or a UserError naming the first offending cell unless
    ``mask`` is one simple path of at least two cells under the neighbourhood.

    The rule: the cells are connected (through the neighbourhood's moves) without a loop; the two
    ends have exactly one path neighbour and every other cell exactly two; no 2x2 block is on.
    Under the 8-neighbourhood a diagonal step is a move, so an L-shaped corner (a cell whose two
    path neighbours touch each other diagonally) is a cell too many: a path that turns there takes
    the diagonal, and such a corner is refused by name. (Under the 4-neighbourhood it is how a
    path turns.) These are the paths a shortest-path solver returns. ``start`` and ``end``, when
    given, must be the path's ends; otherwise the start is the end nearer the top-left corner
    (:func:`nearer_the_top_left`; the top-left cell for a corner-to-corner path). With ``invertible`` and more than half
    the cells on, the message suggests --invert.
    """
    rows, cols = mask.shape
    mask = np.asarray(mask).astype(bool)
    hint = ("; bright cells mark the path: is the image inverted? try --invert"
            if invertible and mask.mean() > 0.5 else "")

    def refuse(problem: str) -> None:
        raise UserError(f"{what} {problem}{hint}")

    if not mask.any():
        refuse("has no path cells (bright cells mark the path)")
    if mask.sum() < 2:
        refuse(f"has one path cell, {first_cell(mask)}; a gold path runs between two cells")
    block = mask[:-1, :-1] & mask[1:, :-1] & mask[:-1, 1:] & mask[1:, 1:]
    if block.any():
        r, c = first_cell(block)
        refuse(f"has a block of path cells at ({r}, {c}) (2x2 cells from there); a gold path is a line "
               "one cell wide")
    offsets = NEIGHBOURS[neighbourhood]
    if neighbourhood == 8:
        # a cell with path neighbours both beside it and above/below it: those two touch diagonally,
        # so the path would step diagonally past the cell (an L corner), or it is a T (a branch)
        sides = neighbour_counts(mask, ((0, -1), (0, 1))) * mask
        ups = neighbour_counts(mask, ((-1, 0), (1, 0))) * mask
        crossing = (sides > 0) & (ups > 0)
        if crossing.any():
            r, c = first_cell(crossing)
            if sides[r, c] + ups[r, c] > 2:
                refuse(f"branches at ({r}, {c}): it has {sides[r, c] + ups[r, c]} path neighbours beside, above "
                       "and below it; a gold path is one line")
            refuse(f"turns a corner at ({r}, {c}) that a diagonal move cuts: under the 8-neighbourhood a "
                   "path steps diagonally there; remove the cell, or use --neighbourhood 4")
    first = first_cell(mask)
    reached = steps_from(mask, first, neighbourhood) >= 0
    stray = mask & ~reached
    if stray.any():
        r, c = first_cell(stray)
        refuse(f"is not one connected path ({neighbourhood}-neighbourhood): cell ({r}, {c}) is not joined to "
               f"the path through cell {first}; a gold path is one connected line of cells")
    degree = neighbour_counts(mask, offsets) * mask
    loop = mask.copy()  # peel off dead ends until only cycles are left
    while True:
        leaves = loop & (neighbour_counts(loop, offsets) <= 1)
        if not leaves.any():
            break
        loop &= ~leaves
    if loop.any() and not (degree == 1).any():
        r, c = first
        refuse(f"is a closed loop through cell ({r}, {c}): it has no ends; a gold path is one line between two "
               "cells (for a path whose ends touch, pass the gold.json that imle-cli annotate writes)")
    if loop.any():
        r, c = first_cell(loop)
        refuse(f"has a loop through cell ({r}, {c}); a gold path visits each cell once")
    if (degree > 2).any():
        r, c = first_cell(degree > 2)
        refuse(f"branches at ({r}, {c}): it has {degree[r, c]} path neighbours; a gold path is one line")
    ends = [tuple(int(i) for i in cell) for cell in np.argwhere(mask & (degree == 1))]
    for given, name in ((start, "start"), (end, "end")):
        if given is not None and tuple(given) not in ends:
            refuse(f"does not end at the {name} cell {tuple(given)}: its ends are {ends[0]} and {ends[-1]}")
    if start is not None:
        first_end = tuple(start)
    elif end is not None:
        first_end = ends[1] if ends[0] == tuple(end) else ends[0]
    else:
        first_end = min(ends, key=nearer_the_top_left)
    last_end = ends[1] if first_end == ends[0] else ends[0]
    return GoldPath(mask.astype(np.uint8), first_end, last_end, tuple(trace(mask, first_end, neighbourhood)))


def nearer_the_top_left(cell: Cell) -> Tuple[int, int]:
    """The sort key that puts first, of a path's two ends, the one nearer the top-left corner
    (fewest rows plus columns from it; then the higher): the start when nothing says otherwise."""
    return cell[0] + cell[1], cell[0]


def steps_from(mask: np.ndarray, seed: Cell, neighbourhood: int) -> np.ndarray:
    """Int [H, W]: the fewest moves (under the neighbourhood) from ``seed`` to each cell of
    ``mask`` through cells of ``mask``; -1 where none reaches. The one breadth-first search of
    the gold check, the solver's paths and the drawings' strokes."""
    steps = np.full(mask.shape, -1, dtype=np.int64)
    steps[seed] = 0
    queue = deque([seed])
    while queue:
        cell = queue.popleft()
        for n in _neighbours(cell, mask.shape, neighbourhood):
            if mask[n] and steps[n] < 0:
                steps[n] = steps[cell] + 1
                queue.append(n)
    return steps


def from_cells(cells: Sequence[Cell], shape: Tuple[int, int], neighbourhood: int, what: str) -> GoldPath:
    """The :class:`GoldPath` through ``cells`` in order (e.g. from ``gold.json``): each cell inside
    the grid, once, each a move (under the neighbourhood) from the one before, no other two cells
    neighbours except possibly the two ends (a path whose ends touch: unambiguous only in order)."""
    rows, cols = shape
    cells = [(int(r), int(c)) for r, c in cells]
    if len(cells) < 2:
        raise UserError(f"{what} has {len(cells)} cell{'s' if len(cells) != 1 else ''}; a gold path runs between "
                        "two cells")
    mask = np.zeros(shape, dtype=np.uint8)
    index = np.full(shape, -1)
    moves = set(NEIGHBOURS[neighbourhood])
    for i, (r, c) in enumerate(cells):
        if not (0 <= r < rows and 0 <= c < cols):
            raise UserError(f"{what}: cell ({r}, {c}) is outside the {rows}x{cols}-cell grid")
        if mask[r, c]:
            raise UserError(f"{what} visits cell ({r}, {c}) twice; a gold path visits each cell once")
        if i and (r - cells[i - 1][0], c - cells[i - 1][1]) not in moves:
            raise UserError(f"{what}: cell ({r}, {c}) does not follow {cells[i - 1]} ({neighbourhood}-neighbourhood)")
        mask[r, c], index[r, c] = 1, i
    last = len(cells) - 1
    for i, cell in enumerate(cells):
        for n in _neighbours(cell, shape, neighbourhood):
            j = index[n]
            if j > i + 1 and not (i == 0 and j == last):
                raise UserError(f"{what}: cells {cell} and {n} touch but are {j - i} steps apart on the path; a gold "
                                "path is a line that does not touch itself")
    return GoldPath(mask, cells[0], cells[-1], tuple(cells))


def solved(mask: np.ndarray, neighbourhood: int, start: Optional[Cell] = None, end: Optional[Cell] = None) -> GoldPath:
    """A solver's path (0/1 [H, W]) from ``start`` to ``end`` (default: the corners) as a GoldPath,
    without :func:`check_path` (a shortest path through cells of cost 0 may turn an L corner, which
    a gold drawn by hand may not); its cells ordered by their moves from ``start``."""
    rows, cols = mask.shape
    start = (0, 0) if start is None else tuple(start)
    end = (rows - 1, cols - 1) if end is None else tuple(end)
    on = np.asarray(mask).astype(bool)
    steps = steps_from(on, start, neighbourhood)
    cells = np.argwhere(steps >= 0)
    order = cells[np.argsort(steps[steps >= 0], kind="stable")]
    return GoldPath(on.astype(np.uint8), start, end, tuple((int(r), int(c)) for r, c in order))
