"""Gold path files -> :class:`~imle_cli.gold_path.GoldPath`: images, arrays and ``gold.json``.

A gold path marks its cells: bright image cells (dark ones with ``--invert``) or the non-zero cells
of an array. ``annotate`` writes ``gold.json`` beside ``gold.png`` and ``gold.npy`` (the ordered
cells, the ends and the grid); when it is there it is read too, so the ends are the ones that were
drawn and the gold's grid is known whatever its size. A ``.json`` file can be passed as the gold
itself. An image that is not gold data (colours or many grey levels: a figure, a photo) is refused
in words that say so.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> mask = np.zeros((3, 5), dtype=np.uint8); mask[1, 1:4] = 1
    >>> np.save(folder / "gold.npy", mask)
    >>> gold = load_gold(folder / "gold.npy", None).gold
    >>> gold.start, gold.end
    ((1, 1), (1, 3))
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from imle_cli.errors import UserError
from imle_cli.gold_path import GoldPath, check_path, from_cells
from imle_cli.inputs.arrays import is_array_file, read_array
from imle_cli.inputs.cells import MAX_AUTO_CELLS, auto_cells, block_max, upscale_factor
from imle_cli.inputs.files import check_file, first_line
from imle_cli.inputs.images import MAX_PIXELS, luminance_of, read_pixels, rgb_of

#: A gold image is refused as "not gold data" when more than this share of its pixels is coloured
#: (channels more than 0.2 apart) or mid-grey (luminance between 0.15 and 0.85).
NOT_GOLD_SHARE = 0.05


@dataclass
class LoadedGold:
    """A gold path and how it was read."""

    gold: GoldPath
    notices: List[str] = field(default_factory=list)


def load_gold(path: Path, shape: Optional[Tuple[int, int]], neighbourhood: int = 8, *,
              invert: bool = False, max_pixels: int = MAX_PIXELS) -> LoadedGold:
    """A gold path file (image, array or ``.json``) -> its GoldPath, with the reading's notices.

    With a map's ``shape`` the gold is put on that cell grid: an image that is the grid itself
    or an exact upscale of it is read cell for cell; any other size is resampled with block
    maxima (a cell is on when any of its pixels is bright, so a 1-pixel line survives), with a
    notice. Without ``shape`` the gold is read on its own grid: gold data (an image of two
    levels, as ``annotate`` writes) at any size, other images as maps are (at most 128 cells a
    side). ``gold.json`` beside the file, when present, gives the ends and the grid.
    """
    path = Path(path)
    name = repr(str(path))
    if path.suffix.lower() == ".json":
        return LoadedGold(_read_record(path, shape, neighbourhood, f"GOLD {name}"))
    beside = path.with_suffix(".json")
    record = _read_record(beside, shape, neighbourhood, f"{beside.name} beside GOLD {name}") if beside.is_file() \
        else None
    notices: List[str] = []
    if is_array_file(path):
        values = _read_gold_array(path)
        shape = values.shape if shape is None else shape
        if values.shape != shape:
            raise UserError(f"GOLD {name} is {values.shape[0]}x{values.shape[1]} cells but the map is "
                            f"{shape[0]}x{shape[1]} cells; they must match")
        mask = (values == 0) if invert else (values != 0)
    else:
        pixels, notices = read_pixels(path, "GOLD", max_pixels)
        luminance = luminance_of(pixels, path, "GOLD")
        _check_gold_data(rgb_of(pixels, path, "GOLD"), luminance, name)
        height, width = luminance.shape
        if invert:
            luminance = 1.0 - luminance
        cells, notice = gold_cells(luminance, shape if record is None else record.shape, path.name)
        if notice:
            notices.append(notice)
        mask = cells > 0.5
        if notice:  # a drawing rather than gold data, most likely: say what turns one into a path
            try:
                check_path(mask, neighbourhood, f"GOLD {name}", invertible=not invert)
            except UserError as error:
                raise UserError(f"{error} (resampled from {height}x{width} pixels; to turn a drawing of the "
                                "path into a gold path, use imle-cli annotate --drawing)") from None
    if record is not None:
        if mask.shape != record.shape or (mask != record.mask.astype(bool)).any():
            where = ("its grid" if mask.shape != record.shape
                     else f"cell {tuple(int(i) for i in np.argwhere(mask != record.mask.astype(bool))[0])}")
            raise UserError(f"GOLD {name} and {beside.name} beside it disagree ({where}); pass the one you mean "
                            f"(--gold {beside}), or remove {beside.name} after editing the image")
        return LoadedGold(record, notices)
    return LoadedGold(check_path(mask, neighbourhood, f"GOLD {name}", invertible=not invert), notices)


def _check_gold_data(rgb: np.ndarray, luminance: np.ndarray, name: str) -> None:
    """Refuse a gold image that is not gold data (a figure, a photo): colours or many grey levels."""
    coloured = float(((rgb.max(axis=-1) - rgb.min(axis=-1)) > 0.2).mean())
    grey = float(((luminance > 0.15) & (luminance < 0.85)).mean())
    if max(coloured, grey) > NOT_GOLD_SHARE:
        what = f"{coloured:.0%} of its pixels are coloured" if coloured > NOT_GOLD_SHARE else \
            f"{grey:.0%} of its pixels are grey"
        raise UserError(f"GOLD {name} is not gold data: {what} (a figure such as gold_preview.png, or a photo?); pass "
                        "the gold.png or gold.npy that imle-cli annotate writes (white path cells on black), or make "
                        "one from a drawing with imle-cli annotate MAP --drawing FILE")


def gold_cells(luminance: np.ndarray, shape: Optional[Tuple[int, int]], name: str) -> Tuple[np.ndarray, str]:
    """Per-cell brightness of a gold image on the map's grid (or its own), and a notice when resampled."""
    height, width = luminance.shape
    bh, bw = upscale_factor(luminance)
    own = (height // bh, width // bw)
    if shape is None:
        two_levels = bool(((luminance == 0) | (luminance == 1)).all())
        if max(own) <= MAX_AUTO_CELLS or two_levels:  # gold data is read on its own grid, at any size
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


def write_record(gold: GoldPath, neighbourhood: int) -> bytes:
    """The bytes of ``gold.json`` (:meth:`GoldPath.to_json`)."""
    return (json.dumps(gold.to_json(neighbourhood), separators=(",", ":")) + "\n").encode()


def gold_files(gold: GoldPath, neighbourhood: int) -> dict:
    """{name: bytes} of the gold's files, as ``annotate`` writes them and the studio serves them:
    gold.png (one pixel per cell, white on black), gold.npy (the 0/1 cells) and gold.json."""
    import io

    from PIL import Image

    png, npy = io.BytesIO(), io.BytesIO()
    Image.fromarray(gold.mask * np.uint8(255)).save(png, format="PNG", optimize=False)
    np.save(npy, gold.mask, allow_pickle=False)
    return {"gold.png": png.getvalue(), "gold.npy": npy.getvalue(), "gold.json": write_record(gold, neighbourhood)}


def _read_record(path: Path, shape: Optional[Tuple[int, int]], neighbourhood: int, what: str) -> GoldPath:
    """A ``gold.json`` -> its GoldPath (its grid must be the map's when there is a map)."""
    check_file(path, what)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        grid = tuple(int(n) for n in record["grid"])
        cells = [(int(r), int(c)) for r, c in record["cells"]]
        start, end = tuple(int(i) for i in record["start"]), tuple(int(i) for i in record["end"])
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{what} is not a gold path record ({first_line(error)}); it is written by imle-cli "
                        "annotate, with the grid, the ends and the ordered cells") from None
    if len(grid) != 2 or min(grid) < 1:
        raise UserError(f"{what} has a grid of {list(grid)}; it must be [rows, columns]")
    if shape is not None and grid != tuple(shape):
        raise UserError(f"{what} is a gold path on a {grid[0]}x{grid[1]}-cell grid but the map is {shape[0]}x{shape[1]} "
                        f"cells; read the map on the gold's grid with --grid {grid[0]}x{grid[1]}")
    if int(record.get("neighbourhood", neighbourhood)) != neighbourhood:
        raise UserError(f"{what} was made under the {record['neighbourhood']}-neighbourhood; pass --neighbourhood "
                        f"{record['neighbourhood']}")
    gold = from_cells(cells, grid, neighbourhood, what)
    if (gold.start, gold.end) != (start, end):
        raise UserError(f"{what} says the path runs from {start} to {end} but its cells run from {gold.start} to "
                        f"{gold.end}")
    return gold
