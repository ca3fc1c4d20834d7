"""Making gold paths: from waypoints, from a drawing, or the map's own shortest path. Pure
functions from arrays to a :class:`~imle_cli.gold_path.GoldPath` (no files); every refusal is a
UserError naming the cell.

* :func:`waypoint_path`: the shortest path from a start cell through each waypoint in order to
  an end cell, leg by leg with the grid solver (the same rules as every command).
* :func:`find_stroke`: the pen's pixels in a drawing. Over the map (the map image given) the
  stroke is what the drawing adds to it: a pixel is the pen's when it differs from the map there
  and is nearer the pen's colour than the map's. On a blank page or without a map image, the
  same against the page's colour, estimated locally.
* :func:`stroke_cells` and :func:`drawing_path`: the pen's pixels on the map's cells, and the path
  of cells that follows the stroke's centre line from one of its ends to the other: the shortest
  path on costs that are low deep inside the stroke and prohibitive off it.

Example:
    >>> import numpy as np
    >>> gold = waypoint_path(np.ones((4, 5)), [(0, 4)], neighbourhood=4)
    >>> gold.mask.astype(int).tolist()
    [[1, 1, 1, 1, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1]]
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import numpy as np

from imle_cli.errors import UserError
from imle_cli.gold_path import (NEIGHBOURS, Cell, GoldPath, check_path, nearer_the_top_left, neighbour_counts,
                                steps_from)

#: How much dearer a cell the stroke does not touch is than the dearest cell on the stroke: the
#: path leaves the stroke only where the stroke has a gap.
OFF_STROKE_FACTOR = 1000.0
#: The extra cost of a stroke cell per cell of depth it lacks against the stroke's deepest: the
#: path keeps to the stroke's centre line rather than hugging an edge or cutting a corner.
CENTRE_WEIGHT = 2.0
#: Among equally deep stroke cells, the map's dearer cells cost up to this much more: where the
#: pen is wider than a corridor, the path keeps to the corridor rather than a wall beside it.
MAP_TIE_BREAK = 0.5
#: Sub-cells per cell side on which the stroke's depth is measured (fewer when pixels are fewer).
DEPTH_SUBCELLS = 4


def parse_cell(text: str, shape: Tuple[int, int], option: str) -> Cell:
    """'3,4' -> (3, 4), a cell inside the map (0-based, row first)."""
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(part.isdigit() for part in parts):
        raise UserError(f"{option} must be ROW,COL (two whole numbers >= 0, row first, 0-based; e.g. {option} 3,12), "
                        f"got {text!r}")
    rows, cols = shape
    row, col = int(parts[0]), int(parts[1])
    if row >= rows or col >= cols:
        raise UserError(f"{option} {row},{col} is outside the {rows}x{cols}-cell map (rows 0 to {rows - 1}, "
                        f"columns 0 to {cols - 1})")
    return row, col


def waypoint_path(costs: np.ndarray, waypoints: Sequence[Cell], neighbourhood: int = 8, *,
                  start: Optional[Cell] = None, end: Optional[Cell] = None) -> GoldPath:
    """The shortest legs ``start`` -> waypoint 1 -> ... -> ``end`` on ``costs`` [H, W] (default
    ends: the top-left and the bottom-right cell).

    Each leg avoids the cells of the legs before it (they cost more than any path around them)
    and, where it can, their neighbours (so the legs join into one simple path); a leg that
    cannot avoid an earlier one is refused, naming both legs.
    """
    rows, cols = costs.shape
    start = (0, 0) if start is None else start
    end = (rows - 1, cols - 1) if end is None else end
    stops = [start, *waypoints, end]
    for index, (a, b) in enumerate(zip(stops[:-1], stops[1:])):
        if a == b:
            raise UserError(f"the path's stops {a} (stop {index + 1}) and {b} (stop {index + 2}) are the same cell; "
                            "give each stop once (--start, --via, --end)")
    path = np.zeros(costs.shape, dtype=bool)
    owner = np.full(costs.shape, -1)
    for leg, (a, b) in enumerate(zip(stops[:-1], stops[1:])):
        cells = _leg(costs, path, a, b, neighbourhood)
        clash = cells & path
        clash[a] = False
        if clash.any():
            r, c = np.argwhere(clash)[0]
            raise UserError(f"the path through the waypoints would visit cell ({r}, {c}) twice: the leg "
                            f"{_name(stops, leg)} cannot avoid the leg {_name(stops, owner[r, c])}; move or "
                            "reorder the waypoints (--via)")
        owner[cells & ~path] = leg
        path |= cells
    points = ", ".join(str(stop) for stop in stops)
    return check_path(path, neighbourhood, f"the path through {points}", start=start, end=end)


def _leg(costs: np.ndarray, path: np.ndarray, a: Cell, b: Cell, neighbourhood: int) -> np.ndarray:
    """One leg of :func:`waypoint_path` (bool [H, W]): the shortest path from ``a`` to ``b`` on
    costs that make the cells of ``path`` (the legs before, which end at ``a``) and their
    neighbours dearer than any way around them."""
    from imle.solvers import grid_shortest_path

    avoid = float(costs.sum()) * 4 + 1e6  # dearer than any path that goes around
    earlier = path.copy()
    earlier[a] = False
    near = (neighbour_counts(earlier, NEIGHBOURS[8]) > 0) & ~earlier
    routed = costs + np.where(earlier, avoid * 4, 0.0) + np.where(near, avoid, 0.0)
    return grid_shortest_path(routed, neighbourhood, source=a, target=b).astype(bool)


def waypoints_along(costs: np.ndarray, gold: GoldPath, neighbourhood: int = 8) -> list:
    """Waypoints through which :func:`waypoint_path` gives ``gold`` again between its ends: a
    gold read from a file, or drawn, made editable as waypoints.

    Leg by leg from the start, the next waypoint is the farthest cell along the gold to which
    the leg's shortest path is the gold itself (found by doubling, then halving, the distance);
    a gold that leaves the map's shortest paths gets more of them (at worst every cell: a leg
    between neighbours is the step between them).

    Example:
        >>> import numpy as np
        >>> costs = np.ones((5, 5)); costs[1:4, 1:4] = 9
        >>> gold = waypoint_path(costs, [(4, 0)], 4)   # down the left side, then along the bottom
        >>> waypoints_along(costs, gold, 4)            # the farthest cell the shortest leg follows it to
        [(4, 3)]
        >>> bool((waypoint_path(costs, [(4, 3)], 4).mask == gold.mask).all())
        True
    """
    cells = [tuple(map(int, cell)) for cell in gold.cells]
    path = np.zeros(costs.shape, dtype=bool)
    waypoints, here = [], 0

    def follows(there: int) -> bool:
        segment = np.zeros(costs.shape, dtype=bool)
        segment[tuple(np.array(cells[here:there + 1]).T)] = True
        return bool(np.array_equal(_leg(costs, path, cells[here], cells[there], neighbourhood), segment))

    last = len(cells) - 1
    while True:
        reach, step = here + 1, 1  # a step to the next cell is always its own shortest leg
        while reach + step <= last and follows(reach + step):
            reach, step = reach + step, step * 2
        high = min(last, reach + step) - 1  # follows(high + 1) failed (or high + 1 is past the end)
        while high > reach:  # the farthest followed cell in (reach, high]
            middle = (reach + high + 1) // 2
            reach, high = (middle, high) if follows(middle) else (reach, middle - 1)
        path[tuple(np.array(cells[here:reach + 1]).T)] = True
        if reach == last:
            return waypoints
        waypoints.append(cells[reach])
        here = reach


def _name(stops: Sequence[Cell], leg: int) -> str:
    return f"from {stops[leg]} to {stops[leg + 1]}"


def check_drawing_shape(drawing: Tuple[int, int], reference: Tuple[int, int], what: str) -> None:
    """Refuse a drawing whose aspect ratio is not the map's (``reference``: its image's pixels, or
    its cells): a drawing of the map covers the map; another size of the same shape is resampled."""
    height, width = drawing
    rows, cols = reference
    expected = width * rows / cols  # the height a drawing this wide would have
    if abs(height - expected) > max(1.5, 0.02 * height, height / rows):
        raise UserError(f"--drawing is {height}x{width} pixels but {what} is {rows}x{cols}: a drawing of the map "
                        f"must have the map's shape (aspect {width / height:.3g}:1 against {cols / rows:.3g}:1); "
                        "draw over the map image itself")


#: A drawing that differs from the map image in more than this share of its pixels (by more than
#: 0.2) was not drawn over it: it is read as a drawing on a blank page instead, when it differs
#: from the page's colour in fewer.
OVER_MAP_SHARE = 0.3


@dataclass(frozen=True)
class FoundStroke:
    """The pen's pixels in a drawing, and what they were measured against."""

    pixels: np.ndarray  # bool [h, w]
    over_map: bool      # against the map image (else against the page's colour)
    notice: str = ""


def find_stroke(drawing: np.ndarray, map_image: Optional[np.ndarray] = None) -> FoundStroke:
    """The pen's pixels in ``drawing`` (RGB in [0, 1], float32 [h, w, 3]).

    ``map_image`` is the map's image (RGB [H', W', 3] of the same aspect, resampled to the
    drawing's size), or None (a map without an image). The stroke is measured against what the
    drawing was drawn over: the map image, or a blank page when the drawing differs from the map
    in most of its pixels (:data:`OVER_MAP_SHARE`) and from a page less; the page's colour is
    estimated locally (the median colour of each tile of a coarse grid, blended between tile
    centres, so an unevenly lit photo works). See :func:`pen_pixels` for the rule.
    """
    height, width = drawing.shape[:2]
    if map_image is not None:
        if map_image.shape[:2] != (height, width):
            map_image = _resized(map_image, height, width)
        over_map = _squared_distance(drawing, map_image)
        share = float((over_map > 0.2 ** 2).mean())
        if share <= OVER_MAP_SHARE:
            return FoundStroke(pen_pixels(drawing, map_image, over_map), True)
    page = _page_colour(drawing)
    over_page = _squared_distance(drawing, page)
    if map_image is None:
        return FoundStroke(pen_pixels(drawing, page, over_page), False)
    page_share = float((over_page > 0.2 ** 2).mean())
    if page_share >= share:
        return FoundStroke(pen_pixels(drawing, map_image, over_map), True)
    return FoundStroke(pen_pixels(drawing, page, over_page), False,
                       f"--drawing differs from MAP in {share:.0%} of its pixels: read as a drawing on a blank page")


def _squared_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Float32 [...]: the squared Euclidean distance between RGB colours (the last axis)."""
    difference = a - b
    return np.einsum("...k,...k->...", difference, difference)


def pen_pixels(drawing: np.ndarray, background: np.ndarray, squared: np.ndarray) -> np.ndarray:
    """Bool [h, w]: the pixels of ``drawing`` that the pen made over ``background`` (both RGB
    [h, w, 3]; ``squared`` their squared colour distance). The pen's colour is the median colour
    of the pixels that differ most (Otsu's threshold on the distances, at least 0.2); a pixel is
    the pen's when it differs from the background by more than JPEG noise (0.1) and is nearer the
    pen's colour than the background's there (so anti-aliased edges count, and JPEG ringing
    around the map's walls does not)."""
    step = max(1, int(np.sqrt(squared.size / 250_000)))  # the threshold and the pen's colour from a sample
    sample = squared[::step, ::step]
    strong = sample > max(0.2, _otsu(np.sqrt(sample))) ** 2
    if not strong.any():
        return np.zeros(squared.shape, dtype=bool)
    pen = np.median(drawing[::step, ::step][strong], axis=0).astype(np.float32)
    candidates = np.flatnonzero(squared > 0.1 ** 2)  # only these can be the pen's: a few per cent
    stroke = np.zeros(squared.size, dtype=bool)
    stroke[candidates] = _squared_distance(drawing.reshape(-1, 3)[candidates], pen) < squared.reshape(-1)[candidates]
    return stroke.reshape(squared.shape)


def _resized(rgb: np.ndarray, height: int, width: int) -> np.ndarray:
    """RGB [h, w, 3] in [0, 1] -> [height, width, 3], bilinear (a map image under a drawing of
    another size), on 8-bit colours: one fast resampling, and the map's colours were 8-bit."""
    from PIL import Image

    image = Image.fromarray(np.round(rgb * 255).astype(np.uint8), mode="RGB")
    return np.asarray(image.resize((width, height), Image.BILINEAR), dtype=np.float32) * np.float32(1 / 255)


def _page_colour(rgb: np.ndarray) -> np.ndarray:
    """RGB [h, w, 3]: the colour of the page under a drawing, the median of each tile of a coarse
    grid blended between tile centres (an unevenly lit photo of a page works); a tile whose median
    is far from the tiles' typical colour (under a thick stroke) takes the typical colour."""
    height, width = rgb.shape[:2]
    tiles_y, tiles_x = max(1, min(8, height // 16)), max(1, min(8, width // 16))
    step = max(1, min(height, width) // 256)  # medians on a subsample: the page is smooth
    sample = rgb[::step, ::step]
    ys = np.linspace(0, sample.shape[0], tiles_y + 1).astype(int)
    xs = np.linspace(0, sample.shape[1], tiles_x + 1).astype(int)
    medians = np.array([[np.median(sample[ys[i]:ys[i + 1], xs[j]:xs[j + 1]].reshape(-1, 3), axis=0)
                         for j in range(tiles_x)] for i in range(tiles_y)])  # [ty, tx, 3]
    # a tile under a thick stroke has the pen's colour: far from the page's typical colour, it takes that
    typical = np.median(medians.reshape(-1, 3), axis=0)
    under_pen = np.sqrt(((medians - typical) ** 2).sum(-1)) > 0.2
    medians[under_pen] = typical
    # bilinear blend between tile centres: page[:, :, k] = Wy @ medians[:, :, k] @ Wx^T
    blend_y = _interpolation_weights(height, tiles_y)
    blend_x = _interpolation_weights(width, tiles_x)
    return np.einsum("yi,ijk,xj->yxk", blend_y, medians.astype(np.float32), blend_x, optimize=True)


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


@dataclass(frozen=True)
class StrokeCells:
    """A stroke on the map's cells."""

    touched: np.ndarray  # bool [H, W]: cells the pen touches
    depth: np.ndarray    # float [H, W]: how deep inside the stroke each cell reaches, in cells


def stroke_cells(stroke: np.ndarray, shape: Tuple[int, int]) -> StrokeCells:
    """The map cells the stroke (bool [h, w], covering the whole map) touches, and their depth.

    A cell is touched when it holds at least a quarter as many stroke pixels as a typical stroke
    cell, so specks of noise do not count but a 1-pixel line through a big cell does. Depth is the
    chessboard distance to the stroke's edge, measured on :data:`DEPTH_SUBCELLS` sub-cells per
    cell side (a sub-cell is the pen's when half its pixels are) and averaged over each cell's."""
    rows, cols = shape
    height, width = stroke.shape
    if height < rows or width < cols:  # a drawing smaller than the grid: sample cell centres
        ys = ((np.arange(rows) + 0.5) * height / rows).astype(int)
        xs = ((np.arange(cols) + 0.5) * width / cols).astype(int)
        touched = stroke[np.ix_(ys, xs)]
        return StrokeCells(touched, _chessboard_depth(touched))
    sub = max(1, min(DEPTH_SUBCELLS, height // rows, width // cols))
    fine, area = _block_counts(stroke, rows * sub, cols * sub)  # one pass; cells are sub x sub fine blocks
    counts = fine.reshape(rows, sub, cols, sub).sum(axis=(1, 3))
    if not counts.any():
        return StrokeCells(counts > 0, np.zeros(shape))
    touched = counts >= max(1.0, 0.25 * float(np.median(counts[counts > 0])))
    depth = _chessboard_depth(fine * 2 >= area)
    depth = depth.reshape(rows, sub, cols, sub).mean(axis=(1, 3)) / sub
    return StrokeCells(touched, depth)


def _block_counts(mask: np.ndarray, rows: int, cols: int) -> Tuple[np.ndarray, np.ndarray]:
    """(int [rows, cols]: the on pixels of each of rows x cols near-equal blocks of ``mask``, and
    each block's pixels). Block i spans pixels (i * height) // rows up to the next block's start,
    so the blocks of rows * k fine rows nest exactly in those of ``rows``."""
    height, width = mask.shape
    row_starts = (np.arange(rows) * height) // rows
    col_starts = (np.arange(cols) * width) // cols
    counts = np.add.reduceat(np.add.reduceat(mask.view(np.uint8), row_starts, axis=0, dtype=np.int32),
                             col_starts, axis=1, dtype=np.int32)
    area = np.outer(np.diff(np.append(row_starts, height)), np.diff(np.append(col_starts, width)))
    return counts, area


def _chessboard_depth(mask: np.ndarray) -> np.ndarray:
    """Int [H, W]: for each on cell, 1 + its chessboard distance to the nearest off cell (0 off);
    beyond the grid's edge counts as on, so a stroke along the edge is not thinned there."""
    depth = np.zeros(mask.shape, dtype=np.int32)
    current = mask.copy()
    level = 0
    while current.any():
        level += 1
        depth[current] = level
        padded = np.pad(current, 1, mode="edge")
        rows, cols = current.shape
        eroded = current.copy()
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                eroded &= padded[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols]
        if (eroded == current).all():  # the whole grid is on: no edge to measure from
            break
        current = eroded
    return depth


@dataclass
class DrawnPath:
    """A gold path made from a drawing, and how well it follows the stroke."""

    gold: GoldPath
    touched: np.ndarray  # bool [H, W]: cells the stroke touches
    strays: int          # gold cells the stroke does not touch
    far: int             # stroke cells more than ``reach`` cells from the gold (other strokes, specks, loops)
    reach: int           # one cell more than the pen's half-width (the stroke's 90th-percentile depth)

    @property
    def stray_share(self) -> float:
        return self.strays / self.gold.length

    @property
    def far_share(self) -> float:
        return self.far / max(1, int(self.touched.sum()))


def drawing_path(stroke: StrokeCells, neighbourhood: int = 8, *, costs: Optional[np.ndarray] = None,
                 start: Optional[Cell] = None, end: Optional[Cell] = None) -> DrawnPath:
    """The path of cells that follows the stroke's centre line between its two ends (``start`` /
    ``end`` where given): the shortest path on costs 1 on the stroke's deepest cells, dearer by
    :data:`CENTRE_WEIGHT` per cell of depth less, by up to :data:`MAP_TIE_BREAK` on the map's
    dearer cells, and prohibitive off the stroke. The stroke's ends are the two cells furthest
    apart along it (of its largest part), each moved to the deepest cell near it.

    Refused when the stroke is not one line: when the path must leave the stroke for more than
    max(2, a tenth of its cells) cells in a row, or when a second stroke holds a tenth of the pen."""
    from imle.solvers import grid_shortest_path

    touched, depth = stroke.touched, stroke.depth
    if not touched.any():
        raise UserError("--drawing has no stroke: no pixel differs from the map (or the page) in the pen's colour")
    part = _largest_part(touched)
    others = int((touched & ~part).sum())
    if others >= max(3, 0.1 * touched.sum()):
        r, c = np.argwhere(touched & ~part)[0]
        raise UserError(f"--drawing has more than one stroke: {others} of {int(touched.sum())} stroke cells (the first "
                        f"at cell ({r}, {c})) are apart from the longest stroke; draw one line, or erase the rest")
    if start is None or end is None:
        a, b = _stroke_ends(part, depth)
        if start is None and end is None:
            start, end = sorted((a, b), key=nearer_the_top_left)
        elif start is None:
            start = a if _chebyshev(b, end) <= _chebyshev(a, end) else b
        else:
            end = b if _chebyshev(a, start) <= _chebyshev(b, start) else a
    if start == end:
        raise UserError(f"--drawing's stroke starts and ends at cell {start}: draw a line between two cells")
    deepest = float(depth.max()) if depth.max() > 0 else 1.0
    on_stroke = 1.0 + CENTRE_WEIGHT * (deepest - np.minimum(depth, deepest))
    if costs is not None and np.ptp(costs) > 0:
        on_stroke = on_stroke + MAP_TIE_BREAK * (costs - costs.min()) / np.ptp(costs)
    routed = np.where(touched, on_stroke, OFF_STROKE_FACTOR * float(on_stroke.max()))
    mask = grid_shortest_path(routed, neighbourhood, source=start, target=end).astype(bool)
    gold = check_path(mask, neighbourhood, "the path along the drawing", start=start, end=end)
    off = [not touched[cell] for cell in gold.cells]
    longest, run, begin = 0, 0, 0
    for index, is_off in enumerate(off):
        run = run + 1 if is_off else 0
        if run > longest:
            longest, begin = run, index - run + 1
    if longest > max(2, gold.length // 10):
        before = gold.cells[begin - 1] if begin > 0 else gold.cells[0]
        raise UserError(f"--drawing's stroke does not join {gold.start} and {gold.end}: it stops at cell {before}, and "
                        f"the path would run {longest} cells off it; draw one line between the ends")
    reach = 1 + int(np.ceil(np.percentile(depth[touched], 90)))  # a cell beyond the pen's half-width
    near = mask.copy()
    for _ in range(reach):
        near |= neighbour_counts(near, NEIGHBOURS[8]) > 0
    return DrawnPath(gold, touched, int(sum(off)), int((touched & ~near).sum()), reach)


def _chebyshev(a: Cell, b: Cell) -> int:
    return max(abs(a[0] - b[0]), abs(a[1] - b[1]))


def _bridged(mask: np.ndarray) -> np.ndarray:
    """The mask grown by one cell (8-neighbourhood): a stroke with a one- or two-cell gap stays one part."""
    return (neighbour_counts(mask, NEIGHBOURS[8]) > 0) | mask


def _largest_part(touched: np.ndarray) -> np.ndarray:
    """Bool [H, W]: the touched cells of the connected part (gaps of two cells bridged) that holds most of them."""
    bridged = _bridged(touched)
    seen = np.zeros(touched.shape, dtype=bool)
    best, best_count = None, -1
    for seed in map(tuple, np.argwhere(touched)):
        if seen[seed]:
            continue
        part = steps_from(bridged, seed, 8) >= 0
        seen |= part
        count = int((part & touched).sum())
        if count > best_count:
            best, best_count = part, count
    return touched & best


def _stroke_ends(part: np.ndarray, depth: np.ndarray) -> Tuple[Cell, Cell]:
    """The two ends of a stroke (bool [H, W], one part): the cells furthest apart along it (the
    furthest from any cell, then the furthest from that), each moved to the deepest stroke cell
    within the stroke's half-width of it, so that a thick stroke's ends lie on its centre line."""
    bridged = _bridged(part)
    seed = tuple(int(i) for i in np.argwhere(part)[0])
    ends = []
    for _ in range(2):
        # steps of the 4-neighbourhood: under the 8-neighbourhood's a stroke's tip ties with the cells beside it
        distance = np.where(part, steps_from(bridged, seed, 4), -1)
        seed = tuple(int(i) for i in np.unravel_index(int(np.argmax(distance)), distance.shape))
        ends.append((seed, distance))
    (a, _), (b, from_a) = ends
    from_b = np.where(part, steps_from(bridged, b, 4), -1)
    return _deepest_near(a, part, depth, from_b), _deepest_near(b, part, depth, from_a)


def _deepest_near(cell: Cell, part: np.ndarray, depth: np.ndarray, from_other: np.ndarray) -> Cell:
    """The deepest stroke cell within the stroke's half-width (whole cells) of ``cell`` (ties: the
    one furthest along the stroke from the other end)."""
    rows, cols = part.shape
    # a stroke thinner than two cells has its ends where it ends; a thicker one, half its width in
    reach = int(depth[max(0, cell[0] - 2):cell[0] + 3, max(0, cell[1] - 2):cell[1] + 3].max())
    r0, r1 = max(0, cell[0] - reach), min(rows, cell[0] + reach + 1)
    c0, c1 = max(0, cell[1] - reach), min(cols, cell[1] + reach + 1)
    window = np.where(part[r0:r1, c0:c1], depth[r0:r1, c0:c1], -1.0)
    score = window * 1e6 + from_other[r0:r1, c0:c1]
    r, c = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(r0 + r), int(c0 + c)
