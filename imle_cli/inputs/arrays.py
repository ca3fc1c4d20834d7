"""Array files -> numpy arrays: ``.npy``, ``.npz`` (its one array, or the one ``--key`` names) and
``.csv`` (comma-separated numbers), each read safely (no pickles) and refused in one line."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Optional

import numpy as np

from imle_cli.errors import UserError
from imle_cli.limits import MAX_COST, MAX_CSV_BYTES, MAX_DECODED_BYTES
from imle_cli.inputs.files import check_file, first_line

ARRAY_SUFFIXES = (".npy", ".npz", ".csv")


def is_array_file(path: Path) -> bool:
    return Path(path).suffix.lower() in ARRAY_SUFFIXES


def read_array(path: Path, what: str, noun: str, *, key: Optional[str] = None, keyed: bool = True) -> np.ndarray:
    """The array in ``path``, named ``what`` (MAP, GOLD) and called a ``noun`` in messages; an .npz
    with several arrays needs ``key`` (or, not ``keyed``, is refused: it must hold one)."""
    check_file(path, what)
    name = repr(str(path))
    try:
        suffix = path.suffix.lower()
        if suffix == ".npy":
            with open(path, "rb") as handle:  # the header first: its shape bounds what reading takes
                header = _npy_header(handle)
            if header is not None:
                _check_decoded(what, name, *header)
            array = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                keys = list(archive.keys())
                if not keyed and len(keys) != 1:
                    raise UserError(f"{what} {name} must hold one array, it holds {len(keys)}")
                if key is None and len(keys) != 1:
                    raise UserError(f"{what} {name} holds {len(keys)} arrays ({', '.join(keys) or 'none'}); "
                                    "choose one with --key")
                chosen = key if key is not None else keys[0]
                if chosen not in keys:
                    raise UserError(f"--key {chosen!r} is not in {what} {name}; it holds: {', '.join(keys)}")
                member = chosen if chosen.endswith(".npy") else f"{chosen}.npy"
                if member in archive.zip.namelist():  # its .npy header, before its (compressed) data
                    with archive.zip.open(member) as handle:
                        header = _npy_header(handle)
                    if header is not None:  # (a member that is no .npy file is refused below)
                        _check_decoded(what, name, *header)
                array = archive[chosen]
        else:
            if path.stat().st_size > MAX_CSV_BYTES:
                raise UserError(f"{what} {name} is a CSV of {path.stat().st_size / 1e6:,.0f} MB, above the "
                                f"{MAX_CSV_BYTES / 1e6:,.0f} MB its text may take; save the array as .npy")
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # numpy only warns about a file with no numbers
                array = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except UserError:
        raise
    except Exception as error:
        raise UserError(f"{what} {name} is not a readable {noun} ({first_line(error)})") from None
    if not isinstance(array, np.ndarray):  # an .npz member that is no .npy file comes back as bytes
        raise UserError(f"{what} {name} holds a member that is not a .npy array; save it with numpy.savez")
    return array


def _npy_header(handle):
    """(shape, dtype) from an open .npy file's header (numpy's own reader; the data is not read),
    or None when it is no .npy file (numpy's load then says what it is)."""
    try:
        version = np.lib.format.read_magic(handle)
        reader = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = reader(handle)
    except ValueError:
        return None
    return shape, dtype


def _check_decoded(what: str, name: str, shape, dtype) -> None:
    """Refuse an array whose values, as the float64 they become, would take more than MAX_DECODED_BYTES."""
    cells = int(np.prod(shape, dtype=object)) if len(shape) else 1
    needed = cells * max(8, np.dtype(dtype).itemsize)
    if needed > MAX_DECODED_BYTES:
        raise UserError(f"{what} {name} is an array of shape {tuple(shape)}: {needed / 1e9:,.1f} GB as float64, "
                        f"above the {MAX_DECODED_BYTES / 1e9:g} GB inputs may take; average it down first "
                        "(a cost map needs few cells: 128x128 is plenty for a figure)")


def read_cost_array(path: Path, key: Optional[str], rescale: bool = False) -> np.ndarray:
    """A cost map from an array file: real, 2-D, at least 2x2, finite, >= 0 (negative values only
    with ``rescale``, which maps them onto the cost range later), as float64."""
    name = repr(str(path))
    array = read_array(path, "MAP", "cost array", key=key)
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
    if array.max(initial=0.0) > MAX_COST and not rescale:
        raise UserError(f"MAP {name} holds costs up to {array.max():.3g}; costs must be at most {MAX_COST:g} "
                        "(whole units stay exact in float64 sums), or use --rescale to map the values onto "
                        "--min-cost..--max-cost")
    if array.shape[0] < 2 or array.shape[1] < 2:
        raise UserError(f"MAP {name} is {array.shape[0]}x{array.shape[1]} cells; a map needs at least 2x2")
    return array
