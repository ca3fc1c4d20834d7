"""Map files -> cost grids (float64 [H, W]); every check and its message lives here.

Images (anything imageio reads: PNG 8/16-bit, grey, RGB, RGBA, palette, JPEG, BMP, TIFF, the
first frame of a GIF) become luminance L in [0, 1], then costs: darker is costlier,
``cost = min_cost + (1 - L) * (max_cost - min_cost)``. Transparent pixels are composited over
white, so a fully transparent pixel is open ground (the cheapest cost), as it looks on a page.
Cost arrays (``.npy``, ``.npz``, ``.csv``) are taken as they are: finite, real, >= 0, 2-D.

Cells: ``--grid N`` or ``--grid HxW`` averages pixel blocks into that many cells. Without it, an
image that is an integer upscale of a small grid (blocks of equal pixels) is recovered exactly;
any other image is used at its pixel size, block-averaged down to at most 128 cells on its longer
side (with a notice).

Example:
    >>> costs = readme_map()
    >>> costs.shape, float(costs[0, 0]), float(costs[1, 0])
    ((16, 16), 1.0, 100.0)
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from imle_cli.errors import UserError

ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
MAX_AUTO_CELLS = 128


@dataclass
class LoadedMap:
    """A cost grid and how it was made."""

    costs: np.ndarray  # [H, W] float64, finite, >= 0
    source: str        # the file, or "built-in README map"
    notices: List[str] = field(default_factory=list)


def readme_map() -> np.ndarray:
    """The torch-imle README map: 16x16 cells of cost 1 with three walls of cost 100."""
    costs = np.ones((16, 16))
    costs[1:6, 0:12] = 100.0
    costs[8:12, 1:16] = 100.0
    costs[14:16, 6:10] = 100.0
    return costs


def parse_grid(text: Optional[str]) -> Optional[Tuple[int, int]]:
    """'32' -> (32, 32); '24x40' -> (24, 40); None -> None."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*(?:[xX]\s*(\d+)\s*)?", text)
    if not match:
        raise UserError(f"--grid must be N or HxW (for example 32 or 24x40), got {text!r}")
    rows = int(match.group(1))
    cols = int(match.group(2)) if match.group(2) else rows
    if rows < 2 or cols < 2:
        raise UserError(f"--grid must be at least 2 cells on each side, got {text!r}")
    return rows, cols


def check_cost_range(min_cost: float, max_cost: float) -> None:
    for name, value in (("--min-cost", min_cost), ("--max-cost", max_cost)):
        if not math.isfinite(value) or value < 0:
            raise UserError(f"{name} must be a finite number >= 0, got {value}")
    if max_cost < min_cost:
        raise UserError(f"--max-cost ({max_cost}) must not be below --min-cost ({min_cost})")


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise UserError(f"{what} {str(path)!r} does not exist; give the path of an image or a cost array")
    if path.is_dir():
        raise UserError(f"{what} {str(path)!r} is a folder; give the path of an image or a cost array")
    if path.stat().st_size == 0:
        raise UserError(f"{what} {str(path)!r} is empty")


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def read_luminance(path: Path, what: str = "MAP") -> np.ndarray:
    """Luminance in [0, 1], float64 [H, W], of any image imageio reads (first frame)."""
    import imageio.v3 as iio

    _check_file(path, what)
    try:
        with warnings.catch_warnings():  # imageio warns about legacy plugins it tries on bad files
            warnings.simplefilter("ignore", DeprecationWarning)
            pixels = np.asarray(iio.imread(path, index=0))
    except Exception as error:  # imageio raises many types for unreadable files
        raise UserError(f"{what} {str(path)!r} is not a readable image ({_first_line(error)})") from None
    return _luminance(pixels, path, what)


def _luminance(pixels: np.ndarray, path: Path, what: str) -> np.ndarray:
    if pixels.dtype == bool:
        values = pixels.astype(np.float64)
    elif pixels.dtype.kind == "u":
        values = pixels.astype(np.float64) / np.iinfo(pixels.dtype).max
    elif pixels.dtype.kind == "i":
        values = pixels.astype(np.float64) / (65535.0 if pixels.max(initial=0) > 255 else 255.0)
    elif pixels.dtype.kind == "f":
        values = pixels.astype(np.float64)
    else:
        raise UserError(f"{what} {str(path)!r} has pixels of an unsupported type ({pixels.dtype})")
    if not np.isfinite(values).all():
        raise UserError(f"{what} {str(path)!r} has NaN or infinite pixels")
    values = np.clip(values, 0.0, 1.0)
    if values.ndim == 3 and values.shape[2] in (2, 4):  # grey+alpha or RGBA: over white
        alpha = values[..., -1:]
        values = values[..., :-1] * alpha + (1.0 - alpha)
    if values.ndim == 3 and values.shape[2] == 3:
        values = values @ np.array([0.2126, 0.7152, 0.0722])  # Rec. 709 luma
    elif values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    if values.ndim != 2:
        raise UserError(f"{what} {str(path)!r} has an unsupported pixel layout {pixels.shape}")
    if values.shape[0] < 2 or values.shape[1] < 2:
        raise UserError(f"{what} {str(path)!r} is {values.shape[0]}x{values.shape[1]} pixels; "
                        "a map needs at least 2x2 pixels")
    return values


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
    longer = max(height, width)
    if longer <= MAX_AUTO_CELLS:
        return values, []
    rows = max(2, round(height * MAX_AUTO_CELLS / longer))
    cols = max(2, round(width * MAX_AUTO_CELLS / longer))
    notice = (f"{what} {path.name} is {height}x{width} pixels with no block structure: averaged to "
              f"{rows}x{cols} cells (use --grid to choose)")
    return block_means(values, rows, cols), [notice]


def _read_cost_array(path: Path, key: Optional[str]) -> np.ndarray:
    name = repr(str(path))
    try:
        if path.suffix.lower() == ".npy":
            array = np.load(path, allow_pickle=False)
        elif path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                if key is None and len(keys) != 1:
                    raise UserError(f"MAP {name} holds {len(keys)} arrays ({', '.join(keys) or 'none'}); "
                                    "choose one with --key")
                chosen = key if key is not None else keys[0]
                if chosen not in keys:
                    raise UserError(f"--key {chosen!r} is not in MAP {name}; it holds: {', '.join(keys)}")
                array = archive[chosen]
        else:
            array = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except UserError:
        raise
    except Exception as error:
        raise UserError(f"MAP {name} is not a readable cost array ({_first_line(error)})") from None
    if array.dtype.kind == "c":
        raise UserError(f"MAP {name} holds complex values; costs must be real numbers")
    if array.dtype.kind not in "biuf":
        raise UserError(f"MAP {name} holds {array.dtype} values; costs must be real numbers")
    if array.ndim != 2:
        raise UserError(f"MAP {name} has {array.ndim} dimension(s) {array.shape}; a cost map is 2-D [H, W]")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise UserError(f"MAP {name} holds NaN or infinite costs; every cell needs a finite cost")
    if (array < 0).any():
        raise UserError(f"MAP {name} holds negative costs (min {array.min():g}); costs must be >= 0")
    if array.shape[0] < 2 or array.shape[1] < 2:
        raise UserError(f"MAP {name} is {array.shape[0]}x{array.shape[1]} cells; a map needs at least 2x2")
    return array


def load_map(path: Optional[Path], *, grid: Optional[str] = None, min_cost: float = 1.0,
             max_cost: float = 100.0, key: Optional[str] = None) -> LoadedMap:
    """Load MAP (or the built-in README map when ``path`` is None) as a cost grid."""
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
    if path.suffix.lower() in ARRAY_SUFFIXES:
        _check_file(path, "MAP")
        array = _read_cost_array(path, key)
        if cells is not None:
            if cells[0] > array.shape[0] or cells[1] > array.shape[1]:
                raise UserError(f"--grid {grid} is larger than MAP {str(path)!r} ({array.shape[0]}x{array.shape[1]} cells)")
            array = block_means(array, *cells)
        return LoadedMap(array, str(path))
    luminance = read_luminance(path)
    values, notices = image_to_cells(luminance, cells, path)
    return LoadedMap(min_cost + (1.0 - values) * (max_cost - min_cost), str(path), notices)


NEIGHBOURS = {
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
    4: ((-1, 0), (0, -1), (0, 1), (1, 0)),
}


def load_gold(path: Path, shape: Optional[Tuple[int, int]], neighbourhood: int = 8) -> np.ndarray:
    """A gold path file -> uint8 mask: bright image cells (or non-zero array cells).

    With a map's ``shape`` the file must have that cell grid: an image whose pixel size is a
    multiple of the grid is block-averaged onto it; otherwise its own grid (detected as for
    maps) must equal the map's. Without ``shape`` the gold's own grid is used. The mask must be
    a connected path from the top-left to the bottom-right cell.
    """
    path = Path(path)
    name = repr(str(path))
    if path.suffix.lower() in ARRAY_SUFFIXES:
        _check_file(path, "GOLD")
        values = _read_gold_array(path)
        shape = values.shape if shape is None else shape
        rows, cols = shape
        if values.shape != shape:
            raise UserError(f"GOLD {name} is {values.shape[0]}x{values.shape[1]} cells but the map is "
                            f"{rows}x{cols} cells; they must match")
        mask = values != 0
    else:
        luminance = read_luminance(path, "GOLD")
        height, width = luminance.shape
        if shape is None:
            shape = image_to_cells(luminance, None, path, "GOLD")[0].shape
        rows, cols = shape
        if height % rows == 0 and width % cols == 0:
            cells = block_means(luminance, rows, cols)
        else:
            cells, _ = image_to_cells(luminance, None, path, "GOLD")
            if cells.shape != shape:
                raise UserError(f"GOLD {name} is {cells.shape[0]}x{cells.shape[1]} cells ({height}x{width} "
                                f"pixels) but the map is {rows}x{cols} cells; they must match")
        mask = cells > 0.5
    check_path(mask, neighbourhood, f"GOLD {name}")
    return mask.astype(np.uint8)


def _read_gold_array(path: Path) -> np.ndarray:
    try:
        if path.suffix.lower() == ".csv":
            array = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        elif path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                if len(archive.files) != 1:
                    raise UserError(f"GOLD {str(path)!r} must hold one array, it holds {len(archive.files)}")
                array = archive[archive.files[0]]
        else:
            array = np.load(path, allow_pickle=False)
    except UserError:
        raise
    except Exception as error:
        raise UserError(f"GOLD {str(path)!r} is not a readable array ({_first_line(error)})") from None
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise UserError(f"GOLD {str(path)!r} must be a 2-D array of 0/1 cells, got {array.dtype} {array.shape}")
    return array


def check_path(mask: np.ndarray, neighbourhood: int, what: str) -> None:
    """Raise a UserError unless ``mask`` is one connected path from the first to the last cell."""
    rows, cols = mask.shape
    if not mask.any():
        raise UserError(f"{what} has no path cells (bright cells mark the path)")
    if not mask[0, 0]:
        raise UserError(f"{what} is not a path from the top-left to the bottom-right cell: "
                        "it breaks at cell (0, 0), which is not on it")
    reached = np.zeros_like(mask, dtype=bool)
    reached[0, 0] = True
    stack = [(0, 0)]
    while stack:
        r, c = stack.pop()
        for dr, dc in NEIGHBOURS[neighbourhood]:
            rr, cc = r + dr, c + dc
            if 0 <= rr < rows and 0 <= cc < cols and mask[rr, cc] and not reached[rr, cc]:
                reached[rr, cc] = True
                stack.append((rr, cc))
    if not reached[-1, -1]:
        # the cell of the connected part that got furthest towards the bottom-right corner
        cells = np.argwhere(reached)
        r, c = cells[np.lexsort((cells[:, 0], -(cells[:, 0] + cells[:, 1])))[0]]
        raise UserError(f"{what} is not a connected path from the top-left to the bottom-right cell "
                        f"({neighbourhood}-neighbourhood): it breaks after cell ({r}, {c})")
    stray = np.argwhere(mask & ~reached)
    if len(stray):
        r, c = stray[0]
        raise UserError(f"{what} has path cells off the path, the first at cell ({r}, {c}); "
                        "a gold path is one connected line of cells")
