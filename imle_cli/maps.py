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
#: Largest image (width x height) read without --max-pixels: checked from the header, before decoding.
MAX_PIXELS = 50_000_000
#: Notices (Pillow's warnings among them) gathered while reading inputs; the command prints them
#: (or not, with --quiet).
NOTICES: List[str] = []


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
    match = re.fullmatch(r"\s*(\d{1,9})\s*(?:[xX]\s*(\d{1,9})\s*)?", text)
    if not match:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise UserError(f"--grid must be N or HxW (for example 32 or 24x40), got {shown!r}")
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


def _read_pixels(path: Path, what: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The first frame of any image imageio reads, as its raw pixel array: refused before decoding
    when its header declares more than ``max_pixels`` pixels, and when it is truncated (Pillow
    would fill the missing part with black). Pillow's warnings become notices."""
    import imageio.v3 as iio
    from PIL import Image, ImageFile

    _check_file(path, what)
    name = repr(str(path))
    try:
        with Image.open(path) as header:  # reads the header only
            width, height = header.size
            is_png = header.format == "PNG"
    except Exception:
        width = height = 0  # not an image Pillow knows: let imageio try and explain
        is_png = False
    if width * height > max_pixels:
        raise UserError(f"{what} {name} is {width}x{height} = {width * height:,} pixels, above the budget of "
                        f"{max_pixels:,} (--max-pixels); shrink the image or raise --max-pixels")
    if is_png:
        _check_png_data(path, what)
    previous = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = max(max_pixels, 1) * 2, False  # ours is the budget
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pixels = np.asarray(iio.imread(path, index=0))
    except Exception as error:  # imageio raises many types for unreadable files
        raise UserError(f"{what} {name} is not a readable image ({_first_line(error)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = previous
    for warning in caught:
        if not issubclass(warning.category, DeprecationWarning):  # imageio's own plugin notes
            NOTICES.append(f"{what} {path.name}: {_first_line(warning.message)}")
    return pixels


def _check_png_data(path: Path, what: str) -> None:
    """Refuse a PNG whose image data is shorter than its header says (a cut download, a broken
    writer): Pillow decodes such a file without complaint and leaves the missing rows black."""
    import struct
    import zlib

    data = path.read_bytes()
    position, idat, header = 8, [], None
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR" and len(body) >= 13:
            header = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"IDAT":
            idat.append(body)
        position += 12 + length
    if header is None:
        return  # Pillow will say what is wrong
    width, height, depth, colour, _, _, interlace = header
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 1)
    row_bytes = lambda w: 1 + -(-w * channels * depth // 8) if w else 0  # noqa: E731 (filter byte + pixels)
    if interlace:  # Adam7: seven reduced images
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        expected = sum(row_bytes(-(-(width - x) // dx) if width > x else 0) * (-(-(height - y) // dy) if height > y
                                                                                else 0)
                       for x, y, dx, dy in passes)
    else:
        expected = row_bytes(width) * height
    decoder, got = zlib.decompressobj(), 0
    try:
        for piece in idat:
            got += len(decoder.decompress(piece))
            if got >= expected:
                return
        got += len(decoder.flush())
    except zlib.error:
        pass  # Pillow will say what is wrong
    if got < expected and not interlace:
        rows = got // max(row_bytes(width), 1)
        raise UserError(f"{what} {str(path)!r} is truncated: its header says {width}x{height} pixels but its data "
                        f"holds {rows} of the {height} rows")
    if got < expected:
        raise UserError(f"{what} {str(path)!r} is truncated: its data holds {got:,} of the {expected:,} bytes its "
                        "header promises")


def read_luminance(path: Path, what: str = "MAP", max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Luminance in [0, 1], float64 [H, W], of any image imageio reads (first frame)."""
    values = _unit_rgb(_read_pixels(path, what, max_pixels), path, what)
    return values @ np.array([0.2126, 0.7152, 0.0722]) if values.ndim == 3 else values  # Rec. 709 luma


def read_rgb(path: Path, what: str, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Colours in [0, 1], float32 [H, W, 3], of any image (grey repeated; alpha over white)."""
    values = _unit_rgb(_read_pixels(path, what, max_pixels), path, what, np.float32)
    return values if values.ndim == 3 else np.repeat(values[..., None], 3, axis=2)


def _unit_rgb(pixels: np.ndarray, path: Path, what: str, dtype=np.float64) -> np.ndarray:
    """Pixels -> [H, W] grey or [H, W, 3] RGB in [0, 1] of ``dtype``, transparency composited over white."""
    if pixels.dtype == bool:
        values = pixels.astype(dtype)
    elif pixels.dtype.kind == "u":
        values = pixels.astype(dtype) * dtype(1.0 / np.iinfo(pixels.dtype).max)
    elif pixels.dtype.kind == "i":
        values = pixels.astype(dtype) / dtype(65535.0 if pixels.max(initial=0) > 255 else 255.0)
    elif pixels.dtype.kind == "f":
        values = pixels.astype(dtype)
    else:
        raise UserError(f"{what} {str(path)!r} has pixels of an unsupported type ({pixels.dtype})")
    if not np.isfinite(values).all():
        raise UserError(f"{what} {str(path)!r} has NaN or infinite pixels")
    np.clip(values, 0.0, 1.0, out=values)
    if values.ndim == 3 and values.shape[2] in (2, 4):  # grey+alpha or RGBA: over white
        alpha = values[..., -1:]
        values = values[..., :-1] * alpha + (1.0 - alpha)
    if values.ndim == 3 and values.shape[2] == 1:
        values = values[..., 0]
    if values.ndim not in (2, 3) or (values.ndim == 3 and values.shape[2] != 3):
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


def _read_cost_array(path: Path, key: Optional[str], rescale: bool = False) -> np.ndarray:
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
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # numpy only warns about a file with no numbers
                array = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except UserError:
        raise
    except Exception as error:
        raise UserError(f"MAP {name} is not a readable cost array ({_first_line(error)})") from None
    if not isinstance(array, np.ndarray):  # an .npz member that is no .npy file comes back as bytes
        raise UserError(f"MAP {name} holds a member that is not a .npy array; save it with numpy.savez")
    if array.dtype.kind == "c":
        raise UserError(f"MAP {name} holds complex values; costs must be real numbers")
    if array.dtype.kind not in "biuf":
        raise UserError(f"MAP {name} holds {array.dtype} values; costs must be real numbers")
    if array.ndim != 2:
        raise UserError(f"MAP {name} has {array.ndim} dimension(s) {array.shape}; a cost map is 2-D [H, W]")
    array = array.astype(np.float64)
    if not np.isfinite(array).all():
        raise UserError(f"MAP {name} holds NaN or infinite costs; every cell needs a finite cost")
    if (array < 0).any() and not rescale:
        raise UserError(f"MAP {name} holds negative costs (min {array.min():.3g}); costs must be >= 0, or "
                        "use --rescale to map the values onto --min-cost..--max-cost")
    if array.shape[0] < 2 or array.shape[1] < 2:
        raise UserError(f"MAP {name} is {array.shape[0]}x{array.shape[1]} cells; a map needs at least 2x2")
    return array


def load_map(path: Optional[Path], *, grid: Optional[str] = None, min_cost: float = 1.0,
             max_cost: float = 100.0, key: Optional[str] = None, rescale: bool = False,
             max_pixels: int = MAX_PIXELS) -> LoadedMap:
    """Load MAP (or the built-in README map when ``path`` is None) as a cost grid.

    Cost arrays are used as they are, or with ``rescale`` mapped linearly onto [min_cost,
    max_cost] (any finite real values, negatives included); without ``grid`` an array larger than
    128 cells on its longer side is block-averaged down to that, as images are (with a notice).
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
    if path.suffix.lower() in ARRAY_SUFFIXES:
        _check_file(path, "MAP")
        array = _read_cost_array(path, key, rescale)
        if rescale:
            low, high = float(array.min()), float(array.max())
            if high == low:
                raise UserError(f"MAP {str(path)!r} has no range to rescale: every cell is {low:g}")
            array = min_cost + (array - low) / (high - low) * (max_cost - min_cost)
        notices = []
        if cells is not None:
            if cells[0] > array.shape[0] or cells[1] > array.shape[1]:
                raise UserError(f"--grid {grid} is larger than MAP {str(path)!r} ({array.shape[0]}x{array.shape[1]} cells)")
            array = block_means(array, *cells)
        elif max(array.shape) > MAX_AUTO_CELLS:
            height, width = array.shape
            rows = max(2, round(height * MAX_AUTO_CELLS / max(height, width)))
            cols = max(2, round(width * MAX_AUTO_CELLS / max(height, width)))
            notices.append(f"MAP {path.name} is {height}x{width} cells: averaged to {rows}x{cols} cells "
                           "(use --grid to choose)")
            array = block_means(array, rows, cols)
        return LoadedMap(array, str(path), notices)
    luminance = read_luminance(path, "MAP", max_pixels)
    values, notices = image_to_cells(luminance, cells, path)
    return LoadedMap(min_cost + (1.0 - values) * (max_cost - min_cost), str(path), notices)


NEIGHBOURS = {
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
    4: ((-1, 0), (0, -1), (0, 1), (1, 0)),
}


def load_gold(path: Path, shape: Optional[Tuple[int, int]], neighbourhood: int = 8, *,
              invert: bool = False, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A gold path file -> uint8 mask: bright image cells (dark ones with ``invert``), or the
    non-zero cells of an array (the zero ones with ``invert``).

    With a map's ``shape`` the gold is put on that cell grid: an image that is the grid itself
    or an exact upscale of it is read cell for cell; any other size is resampled with block
    maxima (a cell is on when any of its pixels is bright, so a 1-pixel line survives), with a
    notice. Without ``shape`` the gold's own grid is detected as for maps. The mask must pass
    :func:`check_path`.
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
        mask = (values == 0) if invert else (values != 0)
    else:
        luminance = read_luminance(path, "GOLD", max_pixels)
        height, width = luminance.shape
        if invert:
            luminance = 1.0 - luminance
        cells, notice = gold_cells(luminance, shape, path.name)
        if notice:
            NOTICES.append(notice)
        mask = cells > 0.5
        if notice:  # a drawing rather than gold data, most likely: say what turns one into a path
            try:
                check_path(mask, neighbourhood, f"GOLD {name}", invertible=not invert)
            except UserError as error:
                raise UserError(f"{error} (resampled from {height}x{width} pixels; to turn a drawing of the "
                                "path into a gold path, use imle-cli annotate --drawing)") from None
    check_path(mask, neighbourhood, f"GOLD {name}", invertible=not invert)
    return mask.astype(np.uint8)


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


def gold_cells(luminance: np.ndarray, shape: Optional[Tuple[int, int]], name: str) -> Tuple[np.ndarray, str]:
    """Per-cell brightness of a gold image on the map's grid (or its own), and a notice when resampled."""
    height, width = luminance.shape
    bh, bw = upscale_factor(luminance)
    own = (height // bh, width // bw)
    if shape is None:
        if max(own) <= MAX_AUTO_CELLS:
            return luminance[::bh, ::bw], ""
        longer = max(height, width)
        shape = (max(2, round(height * MAX_AUTO_CELLS / longer)), max(2, round(width * MAX_AUTO_CELLS / longer)))
    rows, cols = shape
    if own == shape:
        return luminance[::bh, ::bw], ""
    if height % rows == 0 and width % cols == 0 and bh % (height // rows) == 0 and bw % (width // cols) == 0:
        return luminance[::height // rows, ::width // cols], ""  # blocks of equal pixels, one per cell
    return block_max(luminance, rows, cols), (f"GOLD {name} is {height}x{width} pixels, not the {rows}x{cols} "
                                             "cell grid: resampled (a cell is on the path when any of its "
                                             "pixels is bright)")


def _read_gold_array(path: Path) -> np.ndarray:
    try:
        if path.suffix.lower() == ".csv":
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # numpy only warns about a file with no numbers
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
    if not isinstance(array, np.ndarray):
        raise UserError(f"GOLD {str(path)!r} holds a member that is not a .npy array; save it with numpy.savez")
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise UserError(f"GOLD {str(path)!r} must be a 2-D array of 0/1 cells, got {array.dtype} {array.shape}")
    return array


def _neighbour_counts(mask: np.ndarray, offsets) -> np.ndarray:
    """How many of each cell's neighbours (under ``offsets``) are on."""
    padded = np.pad(mask.astype(np.int8), 1)
    rows, cols = mask.shape
    return sum(padded[1 + dr:1 + dr + rows, 1 + dc:1 + dc + cols] for dr, dc in offsets)


def _first(cells: np.ndarray) -> Tuple[int, int]:
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
        r, c = _first(block)
        refuse(f"has a block of path cells at ({r}, {c}) (2x2 cells from there); a gold path is a line "
               "one cell wide")
    offsets = NEIGHBOURS[neighbourhood]
    if neighbourhood == 8:
        # a cell with path neighbours both beside it and above/below it: those two touch diagonally,
        # so the path would step diagonally past the cell (an L corner), or it is a T (a branch)
        sides = _neighbour_counts(mask, ((0, -1), (0, 1))) * mask
        ups = _neighbour_counts(mask, ((-1, 0), (1, 0))) * mask
        crossing = (sides > 0) & (ups > 0)
        if crossing.any():
            r, c = _first(crossing)
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
    degree = _neighbour_counts(reached, offsets) * reached
    loop = reached.copy()  # peel off dead ends until only cycles are left
    while True:
        leaves = loop & (_neighbour_counts(loop, offsets) <= 1)
        if not leaves.any():
            break
        loop &= ~leaves
    if loop.any():
        r, c = _first(loop)
        refuse(f"has a loop through cell ({r}, {c}); a gold path visits each cell once")
    if (degree > 2).any():
        r, c = _first(degree > 2)
        refuse(f"branches at ({r}, {c}): it has {degree[r, c]} path neighbours; a gold path is one line")
    ends = reached & (degree <= 1)
    ends[0, 0] = ends[-1, -1] = False
    if ends.any():
        r, c = _first(ends)
        refuse(f"has a dead end at ({r}, {c}); a gold path is one line from corner to corner")
    stray = mask & ~reached
    if stray.any():
        r, c = _first(stray)
        refuse(f"has path cells off the path, the first at cell ({r}, {c}); a gold path is one connected "
               "line of cells")
