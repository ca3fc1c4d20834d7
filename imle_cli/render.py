"""Arrays -> frames -> PNG / GIF files, written atomically.

Frames are drawn straight from arrays, never through a matplotlib figure per frame: a
:class:`Figure` lays out the chrome once (white page, colour bar with ticks and a label, fonts),
and each frame only colours the cells and writes its title. Frames are palette images with one
fixed 256-colour palette per figure (white, 32 greys for text, an overlay colour, and 216 levels
of a matplotlib colormap), so every frame of an animation shares one colour scale, GIFs need no
per-frame quantisation (fast, and exact colours), and the same input gives the same bytes.

Example:
    >>> import numpy as np
    >>> figure = Figure((2, 3), cmap="viridis", vmin=0.0, vmax=1.0, label="share")
    >>> frame = figure.frame(np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]]), title="demo")
    >>> figure.decode(figure.rgb(frame)).round(2).tolist()
    [[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]]
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from imle_cli.errors import UserError

WHITE, GREY_START, GREYS, OVERLAY, MARK, UNDERLAY, CMAP_START = 0, 1, 32, 33, 34, 35, 40
CMAP_LEVELS = 256 - CMAP_START
MARGIN, TITLE_HEIGHT, BAR_GAP, BAR_WIDTH, PANEL_GAP, CAPTION_HEIGHT = 14, 46, 14, 16, 16, 20
AXIS_BAND = 18  # room below a panel for its column indices (with axes)
MARK_RGB, UNDERLAY_RGB = (214, 39, 40), (190, 190, 190)
TARGET_MAP_PIXELS = 400


def _font(size: int):
    from matplotlib import get_data_path
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)


def _format_tick(value: float) -> str:
    text = f"{value:.3g}"
    return "0" if text in ("-0", "0.0") else text


def index_ticks(count: int, most: int = 9) -> List[int]:
    """Cell indices to label on an axis of ``count`` cells: 0 and multiples of a round step."""
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10 ** 9)
                if count / s <= most)
    return list(range(0, count, step))


def _nice_ticks(vmin: float, vmax: float) -> np.ndarray:
    """Round tick values inside [vmin, vmax] (matplotlib's locator), the ends included."""
    from matplotlib.ticker import MaxNLocator

    inside = [t for t in MaxNLocator(nbins=5).tick_values(vmin, vmax) if vmin <= t <= vmax]
    span = vmax - vmin
    ends = [t for t in (vmin, vmax) if all(abs(t - i) > 0.08 * span for i in inside)]
    return np.array(sorted(inside + ends))


class Figure:
    """A frame layout for [rows, cols] cell arrays with one colour scale and a labelled colour bar.

    ``captions`` (one per panel) lays out several panels side by side on the same scale;
    ``label=None`` leaves the colour bar out (for figures whose colours are only a legend);
    ``axes=True`` labels rows on the left and columns below with cell indices, the (row, col)
    of error messages and of ``--via``.
    """

    def __init__(self, shape: Tuple[int, int], *, cmap: str, vmin: float, vmax: float, label: Optional[str],
                 overlay_rgb: Tuple[int, int, int] = (31, 119, 180), captions: Sequence[str] = (),
                 axes: bool = False, compact: bool = False):
        from matplotlib import colormaps
        from PIL import Image, ImageDraw

        self.rows, self.cols = shape
        self.captions = list(captions)
        self.panels = max(1, len(self.captions))
        self.vmin, self.vmax = float(vmin), float(vmax) if vmax > vmin else float(vmin) + 1.0
        # compact: a small panel for contact sheets (smaller map, titles and page)
        map_pixels, min_width, title_size = (176, 220, 13) if compact else (TARGET_MAP_PIXELS, 540, 17)
        self.scale = max(2, min(40, map_pixels // max(self.rows, self.cols)))
        if self.panels > 1:
            self.scale = max(2, self.scale * 3 // 4)
        self.map_height, self.map_width = self.rows * self.scale, self.cols * self.scale
        self.title_font, self.subtitle_font, self.tick_font = _font(title_size), _font(title_size - 4), _font(12)
        self.subtitle_y = title_size + 5
        self.axes = axes
        left = MARGIN + (int(self.tick_font.getlength(str(self.rows - 1))) + 6 if axes else 0)
        self.panel_x = [left + p * (self.map_width + PANEL_GAP) for p in range(self.panels)]

        palette = np.zeros((256, 3), dtype=np.uint8)
        palette[WHITE] = 255
        palette[GREY_START:GREY_START + GREYS] = np.linspace(255, 0, GREYS).round()[:, None].astype(np.uint8)
        palette[OVERLAY] = overlay_rgb
        palette[MARK], palette[UNDERLAY] = MARK_RGB, UNDERLAY_RGB
        self.colours = (colormaps[cmap](np.linspace(0, 1, CMAP_LEVELS))[:, :3] * 255).round().astype(np.uint8)
        palette[CMAP_START:] = self.colours
        self.palette = palette

        ticks = _nice_ticks(self.vmin, self.vmax) if label is not None else np.array([])
        tick_labels = [_format_tick(t) for t in ticks]
        tick_width = max((int(self.tick_font.getlength(t)) for t in tick_labels), default=0)
        label_size = self.tick_font.getbbox(label) if label is not None else (0, 0, 0, 0)
        self.bar_x = self.panel_x[-1] + self.map_width + BAR_GAP
        if label is None:
            width = self.panel_x[-1] + self.map_width + MARGIN
        else:
            width = self.bar_x + BAR_WIDTH + 6 + tick_width + 8 + (label_size[3] - label_size[1]) + MARGIN + 4
        caption_height = CAPTION_HEIGHT if self.captions else 0
        height = MARGIN + TITLE_HEIGHT + caption_height + self.map_height + MARGIN + (AXIS_BAND if axes else 0)
        self.width = max(width, min_width)  # room for the titles
        self.height = height
        self.map_y = MARGIN + TITLE_HEIGHT + caption_height

        chrome = np.full((height, self.width), WHITE, dtype=np.uint8)
        ink = Image.new("L", (self.width, height), 0)
        draw = ImageDraw.Draw(ink)
        if label is not None:
            self._draw_colour_bar(chrome, ink, draw, ticks, tick_labels, tick_width, label, label_size)
        for x, caption in zip(self.panel_x, self.captions or [""]):
            draw.rectangle([x - 1, self.map_y - 1, x + self.map_width, self.map_y + self.map_height], outline=96)
            if caption:
                draw.text((x, self.map_y - 4), caption, font=self.tick_font, fill=255, anchor="ld")
            if axes:
                self._draw_axes(draw, x)
        self._ink(chrome, np.asarray(ink))
        self.chrome = chrome

    def _draw_axes(self, draw, x: int) -> None:
        """Row indices left of the panel at x, column indices below it, at the cells' centres."""
        half = self.scale / 2
        for row in index_ticks(self.rows):
            draw.text((x - 5, self.map_y + row * self.scale + half), str(row), font=self.tick_font, fill=255,
                      anchor="rm")
        for col in index_ticks(self.cols, most=max(2, self.map_width // 36)):
            draw.text((x + col * self.scale + half, self.map_y + self.map_height + 3), str(col),
                      font=self.tick_font, fill=255, anchor="mt")

    def _draw_colour_bar(self, chrome, ink, draw, ticks, tick_labels, tick_width, label, label_size) -> None:
        from PIL import Image, ImageDraw

        bar_values = self.vmax - (np.arange(self.map_height) + 0.5) / self.map_height * (self.vmax - self.vmin)
        chrome[self.map_y:self.map_y + self.map_height, self.bar_x:self.bar_x + BAR_WIDTH] = \
            self.indices(bar_values)[:, None]
        for tick, text in zip(ticks, tick_labels):
            y = self.map_y + (self.vmax - tick) / (self.vmax - self.vmin) * (self.map_height - 1)
            draw.line([(self.bar_x + BAR_WIDTH, y), (self.bar_x + BAR_WIDTH + 4, y)], fill=255)
            draw.text((self.bar_x + BAR_WIDTH + 6, y), text, font=self.tick_font, fill=255, anchor="lm")
        rotated = Image.new("L", (label_size[2] + 4, label_size[3] + 4), 0)
        ImageDraw.Draw(rotated).text((2, 2), label, font=self.tick_font, fill=255)
        rotated = rotated.rotate(90, expand=True)
        label_x = self.bar_x + BAR_WIDTH + 6 + tick_width + 8
        label_y = self.map_y + max(0, (self.map_height - rotated.height) // 2)
        ink.paste(rotated, (label_x, label_y))

    def indices(self, values: np.ndarray) -> np.ndarray:
        """Palette indices of values on this figure's colour scale (clipped to it)."""
        position = (np.asarray(values, dtype=np.float64) - self.vmin) / (self.vmax - self.vmin)
        levels = np.clip(np.round(position * (CMAP_LEVELS - 1)), 0, CMAP_LEVELS - 1)
        return (CMAP_START + levels).astype(np.uint8)

    @staticmethod
    def _ink(canvas: np.ndarray, ink: np.ndarray) -> None:
        """Draw antialiased black text (ink 0..255) onto a palette canvas through the greys."""
        drawn = ink > 0
        canvas[drawn] = GREY_START + np.round(ink[drawn].astype(np.float64) * (GREYS - 1) / 255.0).astype(np.uint8)

    def frame(self, values, *, title: str, subtitle: str = "", overlay: Optional[np.ndarray] = None,
              underlay: Optional[np.ndarray] = None, marks: Sequence[Tuple[int, int]] = ()) -> np.ndarray:
        """One frame (palette indices [height, width]): the cells coloured, overlay cells marked.

        ``values`` is one [rows, cols] array, or one per panel. On the first panel: ``overlay``
        (bool [rows, cols]) is drawn as a path, ``underlay`` (bool, any resolution, e.g. a
        drawing's stroke) faintly beneath it, and ``marks`` ((row, col) cells) as rings.
        """
        from PIL import Image, ImageDraw

        panels = [values] if self.panels == 1 else list(values)
        if len(panels) != self.panels:
            raise ValueError(f"expected {self.panels} panels of values, got {len(panels)}")
        canvas = self.chrome.copy()
        for p, panel in enumerate(panels):
            canvas[self.map_y:self.map_y + self.map_height, self.panel_x[p]:self.panel_x[p] + self.map_width] = \
                self._cells(np.asarray(panel), *((overlay, underlay, marks) if p == 0 else (None, None, ())))
        ink = Image.new("L", (self.width, TITLE_HEIGHT + MARGIN), 0)
        draw = ImageDraw.Draw(ink)
        draw.text((MARGIN, MARGIN - 2), title, font=self.title_font, fill=255)
        if subtitle:
            draw.text((MARGIN, MARGIN + self.subtitle_y), subtitle, font=self.subtitle_font, fill=255)
        self._ink(canvas[:TITLE_HEIGHT + MARGIN], np.asarray(ink))
        return canvas

    def _cells(self, values: np.ndarray, overlay: Optional[np.ndarray], underlay: Optional[np.ndarray] = None,
               marks: Sequence[Tuple[int, int]] = ()) -> np.ndarray:
        """The upscaled palette indices of one panel; overlay cells joined into a path."""
        if values.shape != (self.rows, self.cols):
            raise ValueError(f"values must have shape {(self.rows, self.cols)}, got {values.shape}")
        cells = np.repeat(np.repeat(self.indices(values), self.scale, 0), self.scale, 1)
        if underlay is not None:  # nearest-neighbour onto the panel's pixels
            underlay = np.asarray(underlay, dtype=bool)
            ys = (np.arange(self.map_height) + 0.5) * underlay.shape[0] // self.map_height
            xs = (np.arange(self.map_width) + 0.5) * underlay.shape[1] // self.map_width
            cells[underlay[np.ix_(ys.astype(int), xs.astype(int))]] = UNDERLAY
        if overlay is not None:
            self._draw_path(cells, np.asarray(overlay, dtype=bool))
        if len(marks):
            self._draw_marks(cells, marks)
        return cells

    def _draw_marks(self, cells: np.ndarray, marks: Sequence[Tuple[int, int]]) -> None:
        """A ring around each marked cell."""
        from PIL import Image, ImageDraw

        ink = Image.new("L", (cells.shape[1], cells.shape[0]), 0)
        draw = ImageDraw.Draw(ink)
        half, radius = (self.scale - 1) / 2, max(6.0, self.scale * 0.7)  # visible on fine grids too
        for r, c in marks:
            x, y = c * self.scale + half, r * self.scale + half
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=255,
                         width=max(1, self.scale // 6))
        cells[np.asarray(ink) > 127] = MARK

    def _draw_path(self, cells: np.ndarray, marked: np.ndarray) -> None:
        """A dot on every marked cell and a line between every two neighbouring ones."""
        from PIL import Image, ImageDraw

        ink = Image.new("L", (cells.shape[1], cells.shape[0]), 0)
        draw = ImageDraw.Draw(ink)
        half, width = (self.scale - 1) / 2, max(1, min(self.scale // 2, max(2, self.scale // 4)))
        radius = max(1.0, self.scale * 0.3)
        points = [(c * self.scale + half, r * self.scale + half) for r, c in zip(*np.nonzero(marked))]
        for r, c in zip(*np.nonzero(marked)):
            for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):  # each neighbouring pair once
                rr, cc = r + dr, c + dc
                if 0 <= rr < self.rows and 0 <= cc < self.cols and marked[rr, cc]:
                    draw.line([(c * self.scale + half, r * self.scale + half),
                               (cc * self.scale + half, rr * self.scale + half)], fill=255, width=width)
        for x, y in points:
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
        cells[np.asarray(ink) > 127] = OVERLAY

    def rgb(self, frame: np.ndarray) -> np.ndarray:
        return self.palette[frame]

    def cell_centres(self, panel: int = 0) -> Tuple[np.ndarray, np.ndarray]:
        """Pixel rows and columns of every cell's centre in a panel: [rows], [cols]."""
        half = self.scale // 2
        return (self.map_y + np.arange(self.rows) * self.scale + half,
                self.panel_x[panel] + np.arange(self.cols) * self.scale + half)

    def decode(self, rgb: np.ndarray, panel: int = 0) -> np.ndarray:
        """Values [rows, cols] read back from a decoded frame's cell centres (nearest colour)."""
        ys, xs = self.cell_centres(panel)
        pixels = rgb[np.ix_(ys, xs)][..., :3].astype(np.int64)
        distance = ((pixels[:, :, None, :] - self.colours[None, None].astype(np.int64)) ** 2).sum(-1)
        level = distance.argmin(-1)
        return self.vmin + level / (CMAP_LEVELS - 1) * (self.vmax - self.vmin)

    def decode_overlay(self, rgb: np.ndarray) -> np.ndarray:
        """Bool [rows, cols]: cells whose centre shows the overlay colour."""
        ys, xs = self.cell_centres()
        return (rgb[np.ix_(ys, xs)][..., :3] == self.palette[OVERLAY]).all(-1)


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _read_umask()


@dataclass
class WrittenFile:
    name: str
    frames: int
    width: int
    height: int
    bytes: int


class Outputs:
    """Write figures into a folder all or nothing: temporaries first, renamed at :meth:`commit`.

    On an error or an interrupt, the temporaries are removed and the folder holds what it held
    before (a folder this run created is removed again if it stays empty).
    """

    def __init__(self, folder: Path):
        self.folder = folder
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--out {str(folder)!r} is a file, not a folder; give a folder path")
        self.created = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".imle-probe-", delete=True)
            probe.close()
        except OSError as error:
            self._remove_created_folder()
            raise UserError(f"--out {str(folder)!r} is not writable ({error.strerror or error}); "
                            "choose another folder") from None
        self.pending: List[Tuple[Path, Path, WrittenFile]] = []

    def _temporary(self, name: str) -> Path:
        handle, path = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp")
        os.close(handle)
        os.chmod(path, 0o666 & ~_UMASK)  # mkstemp makes 0600; published files get the usual mode
        return Path(path)

    def _images(self, frames: Sequence[np.ndarray], palette: np.ndarray):
        from PIL import Image

        flat_palette = palette.astype(np.uint8).ravel().tolist()
        images = []
        for frame in frames:
            image = Image.frombytes("P", (frame.shape[1], frame.shape[0]), np.ascontiguousarray(frame).tobytes())
            image.putpalette(flat_palette)
            images.append(image)
        return images

    def png(self, name: str, frame: np.ndarray, palette: Optional[np.ndarray]) -> None:
        """A palette frame with its palette, or (palette None) an RGB image [height, width, 3]."""
        from PIL import Image

        path = self._temporary(name)
        self.pending.append((path, self.folder / name, WrittenFile(name, 1, frame.shape[1], frame.shape[0], 0)))
        image = Image.fromarray(np.ascontiguousarray(frame)) if palette is None else self._images([frame], palette)[0]
        image.save(path, format="PNG", optimize=False)

    def gif(self, name: str, frames: Sequence[np.ndarray], palette: np.ndarray, fps: float) -> None:
        path = self._temporary(name)
        self.pending.append((path, self.folder / name,
                             WrittenFile(name, len(frames), frames[0].shape[1], frames[0].shape[0], 0)))
        images = self._images(frames, palette)
        images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(20, round(1000 / fps)), loop=0, optimize=False)

    def npy(self, name: str, array: np.ndarray) -> None:
        path = self._temporary(name)
        self.pending.append((path, self.folder / name, WrittenFile(name, 0, array.shape[-1], array.shape[0], 0)))
        with open(path, "wb") as handle:
            np.save(handle, array, allow_pickle=False)

    def text(self, name: str, content: str) -> None:
        path = self._temporary(name)
        self.pending.append((path, self.folder / name, WrittenFile(name, 0, 0, 0, 0)))
        path.write_text(content, encoding="utf-8")

    def commit(self) -> List[WrittenFile]:
        written = []
        for temporary, final, info in self.pending:
            info.bytes = temporary.stat().st_size
            os.replace(temporary, final)
            written.append(info)
        self.pending = []
        return written

    def discard(self) -> None:
        for temporary, _, _ in self.pending:
            temporary.unlink(missing_ok=True)
        self.pending = []
        self._remove_created_folder()

    def _remove_created_folder(self) -> None:
        if self.created and self.folder.is_dir() and not any(self.folder.iterdir()):
            self.folder.rmdir()

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:  # any failure, KeyboardInterrupt included
            self.discard()
