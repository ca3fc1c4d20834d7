"""Image files -> pixel values: any image imageio reads (PNG 8/16-bit, grey, RGB, RGBA, palette,
JPEG, BMP, TIFF, the first frame of a GIF), decoded safely.

Safe: refused before decoding when the header declares more pixels than the budget
(``--max-pixels``), refused when a PNG's data is shorter than its header says (Pillow would fill
the missing rows with black), and Pillow's warnings returned as notices rather than printed.
Values come back in [0, 1], transparency composited over white (a transparent pixel looks white
on a page, and is open ground on a map): an alpha channel, and Pillow's own transparency too (a
palette's transparent index, a GIF's, the colour key of a grey or RGB PNG's tRNS chunk). An
image is read as it looks: turned by its EXIF orientation (a phone photograph of a drawing). A
float image (a TIFF) with values outside [0, 1] is read by a rule, with a notice: values in
[0, 255] are divided by 255, in [0, 65535] by 65535, others are rescaled from their range onto
[0, 1].
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import List, Tuple

import numpy as np

from imle_cli.errors import UserError
from imle_cli.inputs.files import check_file, first_line
from imle_cli.limits import MAX_DECODED_BYTES, MAX_PIXELS


def read_pixels(path: Path, what: str, max_pixels: int = MAX_PIXELS) -> Tuple[np.ndarray, List[str]]:
    """(the first frame of any image imageio reads, as its raw pixel array, the notices): refused
    before decoding when its header declares more than ``max_pixels`` pixels, and when it is
    truncated (Pillow would fill the missing part with black). Pillow's warnings become notices."""
    import imageio.v3 as iio
    from PIL import Image, ImageFile

    check_file(path, what)
    name = repr(str(path))
    try:
        with Image.open(path) as header:  # reads the header only
            width, height = header.size
            is_png = header.format == "PNG"
            keyed = "transparency" in header.info and header.mode in ("P", "L", "RGB", "I;16", "I")
            bands = len(header.getbands()) + (1 if keyed else 0)
    except Exception:
        width = height = bands = 0  # not an image Pillow knows
        is_png, keyed = False, False
    if width * height > max_pixels:
        raise UserError(f"{what} {name} is {width}x{height} = {width * height:,} pixels, above the budget of "
                        f"{max_pixels:,} (--max-pixels); shrink the image or raise --max-pixels")
    if not width:  # Pillow cannot read its header (a video container, a format we do not take)
        raise UserError(f"{what} {name} is not a readable image (not a PNG, JPEG, BMP, TIFF or GIF that Pillow "
                        "reads: its size cannot be checked before decoding)")
    if width * height * bands * 8 > MAX_DECODED_BYTES:  # its channels as float64, as they are read
        raise UserError(f"{what} {name} is {width}x{height} pixels of {bands} channel(s): "
                        f"{width * height * bands * 8 / 1e9:,.1f} GB as float64, above the "
                        f"{MAX_DECODED_BYTES / 1e9:g} GB inputs may take; shrink the image (a map needs few cells)")
    if is_png:
        check_png_data(path, what)
    orientation = exif_orientation(path)
    previous = Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES
    Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = max(max_pixels, 1) * 2, False  # ours is the budget
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if keyed:  # Pillow applies the image's own transparency (index or colour key) as alpha
                with Image.open(path) as image:
                    image.seek(0)
                    pixels = np.asarray(image.convert("LA" if image.mode in ("L", "I;16", "I") else "RGBA"))
            else:
                pixels = np.asarray(iio.imread(path, index=0))
    except Exception as error:  # imageio raises many types for unreadable files
        raise UserError(f"{what} {name} is not a readable image ({first_line(error)})") from None
    finally:
        Image.MAX_IMAGE_PIXELS, ImageFile.LOAD_TRUNCATED_IMAGES = previous
    notices = [f"{what} {path.name}: {first_line(warning.message)}" for warning in caught
               if not issubclass(warning.category, DeprecationWarning)]  # imageio's own plugin notes
    pixels = _as_it_looks(pixels, orientation)
    if pixels.dtype.kind == "f" and pixels.size and np.isfinite(pixels).all():
        pixels, rule = _float_rule(pixels)
        if rule:
            notices.append(f"{what} {path.name}: float pixels from {rule}")
    return pixels, notices


def exif_orientation(path: Path) -> int:
    """The image's EXIF orientation, 1 (as stored) when it has none or it cannot be read (a PNG's
    eXIf chunk may come after its data: read once the data is known to be whole)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            return int(image.getexif().get(0x0112, 1) or 1)
    except Exception:
        return 1


def _as_it_looks(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels turned as EXIF orientation 1-8 says the image is shown (2: mirrored, 3: turned
    180 degrees, 6: turned 90 degrees clockwise to be seen upright, ...)."""
    turns = {2: (0, True), 3: (2, False), 4: (2, True), 5: (1, True), 6: (3, False), 7: (3, True), 8: (1, False)}
    if orientation not in turns:
        return pixels
    quarter_turns, mirrored = turns[orientation]
    if mirrored:
        pixels = pixels[:, ::-1]
    return np.ascontiguousarray(np.rot90(pixels, quarter_turns))


def _float_rule(pixels: np.ndarray) -> Tuple[np.ndarray, str]:
    """Float pixels outside [0, 1] onto [0, 1], and the rule used ('' when they were inside)."""
    low, high = float(pixels.min()), float(pixels.max())
    if low >= 0.0 and high <= 1.0:
        return pixels, ""
    if low >= 0.0 and high <= 255.0:
        return pixels / 255.0, f"0 to {high:g}: divided by 255 (an 8-bit range)"
    if low >= 0.0 and high <= 65535.0:
        return pixels / 65535.0, f"0 to {high:g}: divided by 65535 (a 16-bit range)"
    span = high - low if high > low else 1.0
    return (pixels - low) / span, f"{low:g} to {high:g}: rescaled from that range onto 0 to 1"


def check_png_data(path: Path, what: str) -> None:
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


def read_rgb(path: Path, what: str, max_pixels: int = MAX_PIXELS) -> Tuple[np.ndarray, List[str]]:
    """(colours in [0, 1], float32 [H, W, 3], of any image (grey repeated; alpha over white), notices)."""
    pixels, notices = read_pixels(path, what, max_pixels)
    return rgb_of(pixels, path, what), notices


def luminance_of(pixels: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Raw pixels (:func:`read_pixels`) -> luminance in [0, 1], float64 [H, W] (Rec. 709 luma)."""
    values = unit_rgb(pixels, path, what)
    return values @ np.array([0.2126, 0.7152, 0.0722]) if values.ndim == 3 else values


def rgb_of(pixels: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Raw pixels (:func:`read_pixels`) -> colours in [0, 1], float32 [H, W, 3]."""
    values = unit_rgb(pixels, path, what, np.float32)
    return values if values.ndim == 3 else np.repeat(values[..., None], 3, axis=2)


def unit_rgb(pixels: np.ndarray, path: Path, what: str, dtype=np.float64) -> np.ndarray:
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
    if pixels.dtype.kind not in "bu":  # unsigned pixels are finite and in [0, 1] already
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
