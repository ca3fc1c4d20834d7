"""Gold path files -> path masks, and the one check of what counts as a gold path.

A gold path marks its cells: bright image cells (dark ones with ``--invert``) or the non-zero cells
of an array. :func:`check_path` is the rule every command, ``annotate``'s waypoints and the
drawings use, with the same messages naming the first offending cell.

Example:
    >>> import numpy as np
    >>> check_path(np.eye(4, dtype=bool), 8, "GOLD")   # the diagonal: a path from corner to corner
    >>> neighbour_counts(np.eye(3, dtype=bool), NEIGHBOURS[8]).tolist()
    [[1, 2, 1], [2, 2, 2], [1, 2, 1]]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from imle_cli.errors import UserError
from imle_cli.inputs.arrays import is_array_file, read_array
from imle_cli.inputs.cells import MAX_AUTO_CELLS, auto_cells, block_max, upscale_factor
from imle_cli.inputs.images import MAX_PIXELS, read_luminance

NEIGHBOURS = {
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
    4: ((-1, 0), (0, -1), (0, 1), (1, 0)),
}


@dataclass
class LoadedGold:
    """A gold path mask and how it was read."""

    mask: np.ndarray  # [H, W] uint8, 1 on the path
    notices: List[str] = field(default_factory=list)


def load_gold(path: Path, shape: Optional[Tuple[int, int]], neighbourhood: int = 8, *,
              invert: bool = False, max_pixels: int = MAX_PIXELS) -> LoadedGold:
    """A gold path file -> its uint8 mask (with the reading's notices): bright image cells (dark
    ones with ``invert``), or the non-zero cells of an array (the zero ones with ``invert``).

    With a map's ``shape`` the gold is put on that cell grid: an image that is the grid itself
    or an exact upscale of it is read cell for cell; any other size is resampled with block
    maxima (a cell is on when any of its pixels is bright, so a 1-pixel line survives), with a
    notice. Without ``shape`` the gold's own grid is detected as for maps. The mask must pass
    :func:`check_path`.
    """
    path = Path(path)
    name = repr(str(path))
    notices: List[str] = []
    if is_array_file(path):
        values = _read_gold_array(path)
        shape = values.shape if shape is None else shape
        rows, cols = shape
        if values.shape != shape:
            raise UserError(f"GOLD {name} is {values.shape[0]}x{values.shape[1]} cells but the map is "
                            f"{rows}x{cols} cells; they must match")
        mask = (values == 0) if invert else (values != 0)
    else:
        luminance, notices = read_luminance(path, "GOLD", max_pixels)
        height, width = luminance.shape
        if invert:
            luminance = 1.0 - luminance
        cells, notice = gold_cells(luminance, shape, path.name)
        if notice:
            notices.append(notice)
        mask = cells > 0.5
        if notice:  # a drawing rather than gold data, most likely: say what turns one into a path
            try:
                check_path(mask, neighbourhood, f"GOLD {name}", invertible=not invert)
            except UserError as error:
                raise UserError(f"{error} (resampled from {height}x{width} pixels; to turn a drawing of the "
                                "path into a gold path, use imle-cli annotate --drawing)") from None
    check_path(mask, neighbourhood, f"GOLD {name}", invertible=not invert)
    return LoadedGold(mask.astype(np.uint8), notices)


def gold_cells(luminance: np.ndarray, shape: Optional[Tuple[int, int]], name: str) -> Tuple[np.ndarray, str]:
    """Per-cell brightness of a gold image on the map's grid (or its own), and a notice when resampled."""
    height, width = luminance.shape
    bh, bw = upscale_factor(luminance)
    own = (height // bh, width // bw)
    if shape is None:
        if max(own) <= MAX_AUTO_CELLS:
            return luminance[::bh, ::bw], ""
        shape = auto_cells(height, width)
    rows, cols = shape
    if own == shape:
        return luminance[::bh, ::bw], ""
    if height % rows == 0 and width % cols == 0 and bh % (height // rows) == 0 and bw % (width // cols) == 0:
        return luminance[::height // rows, ::width // cols], ""  # blocks of equal pixels, one per cell
    return block_max(luminance, rows, cols), (f"GOLD {name} is {height}x{width} pixels, not the {rows}x{cols} "
                                             "cell grid: resampled (a cell is on the path when any of its "
                                             "pixels is bright)")


def _read_gold_array(path: Path) -> np.ndarray:
    array = read_array(path, "GOLD", "array", keyed=False)
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise UserError(f"GOLD {str(path)!r} must be a 2-D array of 0/1 cells, got {array.dtype} {array.shape}")
    return array


def neighbour_counts(mask: np.ndarray, offsets) -> np.ndarray:
    """How many of each cell's neighbours (under ``offsets``) are on."""
    padded = np.pad(mask.astype(np.int8), 1)
    rows, cols = mask.shape
    return sum(padded[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols] for dr, dc in offsets)


def first_cell(cells: np.ndarray) -> Tuple[int, int]:
    """The first True cell in reading order."""
    r, c = np.argwhere(cells)[0]
    return int(r), int(c)


def check_path(mask: np.ndarray, neighbourhood: int, what: str, *, invertible: bool = False) -> None:
    """Raise a UserError naming the first offending cell unless ``mask`` is one simple path of cells
    from the top-left to the bottom-right cell under the neighbourhood.

    The rule: the cells are connected (through the neighbourhood's moves) and contain both
    corners; the two corners have exactly one path neighbour and every other cell exactly two;
    no 2x2 block of cells is on. Under the 8-neighbourhood a diagonal step is a move, so an
    L-shaped corner (a cell whose two path neighbours touch each other diagonally) is a cell too
    many: a path that turns there takes the diagonal, and such a corner is refused by name. (Under
    the 4-neighbourhood it is how a path turns.) These are the paths a shortest-path solver
    returns. With ``invertible`` and more than half the cells on, the message suggests --invert.
    """
    rows, cols = mask.shape
    mask = mask.astype(bool)
    hint = ("; bright cells mark the path: is the image inverted? try --invert"
            if invertible and mask.mean() > 0.5 else "")

    def refuse(problem: str) -> None:
        raise UserError(f"{what} {problem}{hint}")

    if not mask.any():
        refuse("has no path cells (bright cells mark the path)")
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
    for cell, name in (((0, 0), "top-left"), ((rows - 1, cols - 1), "bottom-right")):
        if not mask[cell]:
            refuse(f"does not reach the {name} cell {cell}; a gold path runs from (0, 0) to "
                   f"({rows - 1}, {cols - 1})")
    reached = np.zeros_like(mask)
    reached[0, 0] = True
    stack = [(0, 0)]
    while stack:
        r, c = stack.pop()
        for dr, dc in offsets:
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols and mask[rr, cc] and not reached[rr, cc]:
                reached[rr, cc] = True
                stack.append((rr, cc))
    if not reached[-1, -1]:
        # the cell of the connected part that got furthest towards the bottom-right corner
        cells = np.argwhere(reached)
        r, c = cells[np.lexsort((cells[:, 0], -(cells[:, 0] + cells[:, 1])))[0]]
        refuse(f"is not a connected path from the top-left to the bottom-right cell ({neighbourhood}-neighbourhood): "
               f"it breaks after cell ({r}, {c})")
    degree = neighbour_counts(reached, offsets) * reached
    loop = reached.copy()  # peel off dead ends until only cycles are left
    while True:
        leaves = loop & (neighbour_counts(loop, offsets) <= 1)
        if not leaves.any():
            break
        loop &= ~leaves
    if loop.any():
        r, c = first_cell(loop)
        refuse(f"has a loop through cell ({r}, {c}); a gold path visits each cell once")
    if (degree > 2).any():
        r, c = first_cell(degree > 2)
        refuse(f"branches at ({r}, {c}): it has {degree[r, c]} path neighbours; a gold path is one line")
    ends = reached & (degree <= 1)
    ends[0, 0] = ends[-1, -1] = False
    if ends.any():
        r, c = first_cell(ends)
        refuse(f"has a dead end at ({r}, {c}); a gold path is one line from corner to corner")
    stray = mask & ~reached
    if stray.any():
        r, c = first_cell(stray)
        refuse(f"has path cells off the path, the first at cell ({r}, {c}); a gold path is one connected "
               "line of cells")
