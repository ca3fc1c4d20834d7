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
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple

import numpy as np

from imle_cli.errors import UserError

WHITE, GREY_START, GREYS, OVERLAY, MARK, UNDERLAY, GOLD_LINE, WALL_LINE, CMAP_START = 0, 1, 32, 33, 34, 35, 36, 37, 40
CMAP_LEVELS = 256 - CMAP_START
MARGIN, TITLE_HEIGHT, BAR_GAP, BAR_WIDTH, PANEL_GAP, CAPTION_HEIGHT = 14, 46, 14, 16, 16, 20
TICK_LENGTH, TICK_GAP = 4, 4  # a colour bar tick's line, then a gap before its label
MIN_BAR_HEIGHT = 160  # room for the colour bar's ticks however flat the map
AXIS_BAND = 18  # room below a panel for its column indices (with axes)
MARK_RGB, UNDERLAY_RGB, GOLD_LINE_RGB, WALL_LINE_RGB = (214, 39, 40), (190, 190, 190), (20, 20, 20), (140, 140, 140)
#: the outlines a frame can draw on cell borders (so cell centres keep their colours): name -> palette index
OUTLINES = {"gold": GOLD_LINE, "walls": WALL_LINE}
TARGET_MAP_PIXELS = 400


def _font(size: int):
    from matplotlib import get_data_path
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)


def _format_tick(value: float) -> str:
    """Three significant digits, thousands written out (1,080 rather than 1.08e+03), and a real
    minus sign (a hyphen next to a tick mark reads as part of it)."""
    rounded = float(f"{value:.3g}")
    if rounded == 0:
        return "0"
    text = f"{rounded:,.0f}" if 1e3 <= abs(rounded) < 1e7 else f"{rounded:g}"
    return text.replace("-", "\u2212")


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
        # Square cells sized so the longer side is about map_pixels, the shorter at least
        # min_short (an elongated map stays visible), the longer at most max_long; compact: small
        # panels for contact sheets (smaller map, titles and page).
        map_pixels, min_short, max_long, min_width, title_size = \
            (176, 24, 400, 220, 13) if compact else (TARGET_MAP_PIXELS, 48, 1200, 540, 17)
        longer, shorter = max(self.rows, self.cols), min(self.rows, self.cols)
        self.scale = max(1, min(40, max(map_pixels // longer, -(-min_short // shorter)), max(1, max_long // longer)))
        if self.panels > 1:
            self.scale = max(1, self.scale * 3 // 4)
        self.map_height, self.map_width = self.rows * self.scale, self.cols * self.scale
        self.title_font, self.subtitle_font, self.tick_font = _font(title_size), _font(title_size - 4), _font(12)
        self.title_size, self.subtitle_y = title_size, title_size + 5
        self.axes = axes
        self.chrome_boxes: List[Tuple[float, float, float, float]] = []  # every text's box, for tests
        left = MARGIN + (int(self.tick_font.getlength(str(self.rows - 1))) + 6 if axes else 0)
        widest_caption = max((int(self.tick_font.getlength(c)) + 4 for c in self.captions), default=0)
        pitch = max(self.map_width, widest_caption) + PANEL_GAP  # panels (and their captions) side by side
        self.panel_x = [left + p * pitch for p in range(self.panels)]
        # the bar is as tall as the map, and at least tall enough for its ticks and its label
        label_length = int(self.tick_font.getlength(label)) + 8 if label is not None else 0
        self.bar_height = max(self.map_height, MIN_BAR_HEIGHT, label_length) if label is not None else 0

        palette = np.zeros((256, 3), dtype=np.uint8)
        palette[WHITE] = 255
        palette[GREY_START:GREY_START + GREYS] = np.linspace(255, 0, GREYS).round()[:, None].astype(np.uint8)
        palette[OVERLAY] = overlay_rgb
        palette[MARK], palette[UNDERLAY] = MARK_RGB, UNDERLAY_RGB
        palette[GOLD_LINE], palette[WALL_LINE] = GOLD_LINE_RGB, WALL_LINE_RGB
        self.colours = (colormaps[cmap](np.linspace(0, 1, CMAP_LEVELS))[:, :3] * 255).round().astype(np.uint8)
        palette[CMAP_START:] = self.colours
        self.palette = palette

        self.label = label
        ticks = _nice_ticks(self.vmin, self.vmax) if label is not None else np.array([])
        tick_labels = [_format_tick(t) for t in ticks]
        tick_width = max((int(self.tick_font.getlength(t)) for t in tick_labels), default=0)
        label_size = self.tick_font.getbbox(label) if label is not None else (0, 0, 0, 0)
        self.bar_x = self.panel_x[-1] + self.map_width + BAR_GAP
        if label is None:
            width = self.panel_x[-1] + self.map_width + MARGIN
        else:
            width = (self.bar_x + BAR_WIDTH + TICK_LENGTH + TICK_GAP + tick_width + 8 + (label_size[3] - label_size[1])
                     + MARGIN + 4)
        caption_height = CAPTION_HEIGHT if self.captions else 0
        content = max(self.map_height + (AXIS_BAND if axes else 0), self.bar_height)
        height = MARGIN + TITLE_HEIGHT + caption_height + content + MARGIN
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
                self._text(draw, (x, self.map_y - 4), caption, self.tick_font, "ld", self.chrome_boxes)
            if axes:
                self._draw_axes(draw, x, rows=x == self.panel_x[0])
        self._ink(chrome, np.asarray(ink))
        self.chrome = chrome

    def _draw_axes(self, draw, x: int, rows: bool) -> None:
        """Column indices below the panel at x and (``rows``: the first panel; panels share their
        rows) row indices left of it, at the cells' centres."""
        half = self.scale / 2
        for row in self.row_ticks() if rows else []:
            self._text(draw, (x - 5, self.map_y + row * self.scale + half), str(row), self.tick_font, "rm",
                       self.chrome_boxes)
        for col in self.col_ticks():
            self._text(draw, (x + col * self.scale + half, self.map_y + self.map_height + 3), str(col),
                       self.tick_font, "mt", self.chrome_boxes)

    def row_ticks(self) -> List[int]:
        """The row indices to label: labels 16 px apart at least."""
        return index_ticks(self.rows, most=max(1, self.map_height // 16))

    def col_ticks(self) -> List[int]:
        """The column indices to label: each label's width plus a gap apart at least."""
        return index_ticks(self.cols, most=max(1, int(self.map_width // (self.tick_font.getlength(str(self.cols - 1))
                                                                          + 8))))

    @staticmethod
    def _text(draw, xy, text: str, font, anchor: str, boxes: list) -> None:
        """Draw text and record its box (left, top, right, bottom) in page pixels."""
        boxes.append(tuple(draw.textbbox(xy, text, font=font, anchor=anchor)))
        draw.text(xy, text, font=font, fill=255, anchor=anchor)

    def _draw_colour_bar(self, chrome, ink, draw, ticks, tick_labels, tick_width, label, label_size) -> None:
        from PIL import Image, ImageDraw

        bar = self.bar_height
        bar_values = self.vmax - (np.arange(bar) + 0.5) / bar * (self.vmax - self.vmin)
        chrome[self.map_y:self.map_y + bar, self.bar_x:self.bar_x + BAR_WIDTH] = self.indices(bar_values)[:, None]
        for tick, text in zip(ticks, tick_labels):
            y = self.map_y + (self.vmax - tick) / (self.vmax - self.vmin) * (bar - 1)
            draw.line([(self.bar_x + BAR_WIDTH, y), (self.bar_x + BAR_WIDTH + TICK_LENGTH, y)], fill=255)
            self._text(draw, (self.bar_x + BAR_WIDTH + TICK_LENGTH + TICK_GAP, y), text, self.tick_font, "lm",
                       self.chrome_boxes)
        rotated = Image.new("L", (label_size[2] + 4, label_size[3] + 4), 0)
        ImageDraw.Draw(rotated).text((2, 2), label, font=self.tick_font, fill=255)
        rotated = rotated.rotate(90, expand=True)
        label_x = self.bar_x + BAR_WIDTH + TICK_LENGTH + TICK_GAP + tick_width + 8
        label_y = self.map_y + max(0, (bar - rotated.height) // 2)
        ink.paste(rotated, (label_x, label_y))
        self.chrome_boxes.append((label_x, label_y, label_x + rotated.width, label_y + rotated.height))

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
              underlay: Optional[np.ndarray] = None, marks: Sequence[Tuple[int, int]] = (),
              outlines: Optional[dict] = None) -> np.ndarray:
        """One frame (palette indices [height, width]): the cells coloured, overlay cells marked.

        ``values`` is one [rows, cols] array, or one per panel. On the first panel: ``overlay``
        (bool [rows, cols]) is drawn as a path, ``underlay`` (bool, any resolution, e.g. a
        drawing's stroke) faintly beneath it, and ``marks`` ((row, col) cells) as rings. On every
        panel, ``outlines`` ({"gold": mask, "walls": mask}) trace the borders of those cells.
        """
        from PIL import Image, ImageDraw

        panels = [values] if self.panels == 1 else list(values)
        if len(panels) != self.panels:
            raise ValueError(f"expected {self.panels} panels of values, got {len(panels)}")
        canvas = self.chrome.copy()
        for p, panel in enumerate(panels):
            cells = self._cells(np.asarray(panel), *((overlay, underlay, marks) if p == 0 else (None, None, ())))
            for name, mask in (outlines or {}).items():
                self._outline(cells, np.asarray(mask, dtype=bool), OUTLINES[name])
            canvas[self.map_y:self.map_y + self.map_height, self.panel_x[p]:self.panel_x[p] + self.map_width] = cells
        ink = Image.new("L", (self.width, TITLE_HEIGHT + MARGIN), 0)
        draw = ImageDraw.Draw(ink)
        self.frame_boxes: List[Tuple[float, float, float, float]] = []
        room = self.width - 2 * MARGIN
        self._text(draw, (MARGIN, MARGIN - 2), title, self._fitting(title, self.title_size, room), "la",
                   self.frame_boxes)
        if subtitle:
            self._text(draw, (MARGIN, MARGIN + self.subtitle_y), subtitle,
                       self._fitting(subtitle, self.title_size - 4, room), "la", self.frame_boxes)
        self._ink(canvas[:TITLE_HEIGHT + MARGIN], np.asarray(ink))
        return canvas

    def text_boxes(self) -> List[Tuple[float, float, float, float]]:
        """The boxes of every text of the last frame: its title and subtitle, ticks and labels."""
        return self.chrome_boxes + getattr(self, "frame_boxes", [])

    @staticmethod
    def _fitting(text: str, size: int, room: float):
        """The font of ``size``, or a smaller one (down to 8 px) for text wider than ``room``."""
        font = _font(size)
        while size > 8 and font.getlength(text) > room:
            size -= 1
            font = _font(size)
        return font

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

    def _outline(self, cells: np.ndarray, mask: np.ndarray, index: int) -> None:
        """Colour the pixels where the upscaled mask changes: the outline of the masked cells."""
        if not mask.any():
            return
        up = np.repeat(np.repeat(mask, self.scale, 0), self.scale, 1)
        edge = np.zeros_like(up)
        edge[:, 1:] |= up[:, 1:] != up[:, :-1]
        edge[1:, :] |= up[1:, :] != up[:-1, :]
        edge[:, 0] |= up[:, 0]  # the map's own border closes the outline
        edge[:, -1] |= up[:, -1]
        edge[0, :] |= up[0, :]
        edge[-1, :] |= up[-1, :]
        cells[edge] = index

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


def grid_of(frames: List[np.ndarray], columns: int) -> np.ndarray:
    """Palette frames (same palette) tiled row by row on a white page."""
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    rows = -(-len(frames) // columns)
    page = np.zeros((rows * height, columns * width), dtype=np.uint8)  # index 0 is white
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        page[r * height:r * height + frame.shape[0], c * width:c * width + frame.shape[1]] = frame
    return page


#: A tile of a still: (its Figure layout, its values, Figure.frame's keyword arguments).
Tile = Tuple["Figure", np.ndarray, dict]
STILL_FORMATS = ("png", "svg", "pdf")


def vector_still(tiles: Sequence[Tile], columns: int, fmt: str, dpi: float):
    """A matplotlib figure drawing the same tiles as the PNG frames: cells on each tile's colour
    scale (its own 216-level colormap), the path overlay as dots joined by lines, waypoint rings,
    a drawing's stroke underneath, titles, captions, colour bars and cell indices. Sized from the
    PNG layout (100 px an inch), so text keeps its proportions."""
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure as MplFigure

    rows = -(-len(tiles) // columns)
    width = max(t[0].width for t in tiles) * min(columns, len(tiles)) / 100
    height = max(max(t[0].height for t in tiles), 300) * rows / 100  # at least 3 inches a row: room for the bar
    figure = MplFigure(figsize=(width, height), dpi=dpi, layout="constrained")
    grid = figure.add_gridspec(rows, columns)
    for index, (layout, values, options) in enumerate(tiles):
        cell = grid[divmod(index, columns)]
        panels = [values] if layout.panels == 1 else list(values)
        sub = figure.add_subfigure(cell)
        axes = sub.subplots(1, layout.panels, squeeze=False)[0]
        cmap = ListedColormap(layout.colours / 255.0)
        for p, (ax, panel) in enumerate(zip(axes, panels)):
            image = ax.imshow(np.asarray(panel, dtype=float), cmap=cmap, vmin=layout.vmin, vmax=layout.vmax,
                              interpolation="nearest")
            if p == 0:
                _vector_layers(ax, layout, options)
            if layout.captions:
                ax.set_title(layout.captions[p], fontsize=9, loc="left")
            if layout.axes:
                ax.set_yticks(layout.row_ticks())
                ax.set_xticks(layout.col_ticks())
                ax.tick_params(labelsize=8)
            else:
                ax.set_xticks([])
                ax.set_yticks([])
        if layout.label is not None:
            bar = sub.colorbar(image, ax=list(axes), shrink=0.9)
            bar.set_label(layout.label, fontsize=9)
            bar.ax.tick_params(labelsize=8)
        title = options.get("title", "")
        subtitle = options.get("subtitle", "")
        sub.suptitle(f"{title}\n{subtitle}" if subtitle else title, x=0.02, ha="left", fontsize=10)
    return figure


def _vector_layers(ax, layout: "Figure", options: dict) -> None:
    """The underlay, the overlay path and the marks of a tile, as vector shapes."""
    underlay = options.get("underlay")
    if underlay is not None:
        shown = np.ma.masked_where(~np.asarray(underlay, bool), np.ones(np.shape(underlay)))
        ax.imshow(shown, cmap=_single_colour(UNDERLAY_RGB), extent=(-0.5, layout.cols - 0.5, layout.rows - 0.5, -0.5),
                  interpolation="nearest", alpha=0.9)
    overlay = options.get("overlay")
    colour = tuple(layout.palette[OVERLAY] / 255.0)
    if overlay is not None:
        marked = np.asarray(overlay, bool)
        for r, c in zip(*np.nonzero(marked)):
            for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < layout.rows and 0 <= cc < layout.cols and marked[rr, cc]:
                    ax.plot([c, cc], [r, rr], color=colour, linewidth=1.5)
        rows, cols = np.nonzero(marked)
        ax.scatter(cols, rows, s=12, color=colour, zorder=3)
    for name, mask in (options.get("outlines") or {}).items():
        rgb = {"gold": GOLD_LINE_RGB, "walls": WALL_LINE_RGB}[name]
        ax.add_collection(_outline_segments(np.asarray(mask, bool), tuple(np.array(rgb) / 255.0)))
    for r, c in options.get("marks", ()):
        ax.scatter([c], [r], s=120, facecolors="none", edgecolors=tuple(np.array(MARK_RGB) / 255.0), linewidths=1.5,
                   zorder=4)


def _outline_segments(mask: np.ndarray, colour):
    """A LineCollection along the borders between masked and unmasked cells (and the map's edge)."""
    from matplotlib.collections import LineCollection

    padded = np.pad(mask, 1)
    segments = []
    vertical = padded[1:-1, 1:] != padded[1:-1, :-1]  # between columns c - 1 and c, c = 0 .. cols
    for r, c in zip(*np.nonzero(vertical)):
        segments.append([(c - 0.5, r - 0.5), (c - 0.5, r + 0.5)])
    horizontal = padded[1:, 1:-1] != padded[:-1, 1:-1]
    for r, c in zip(*np.nonzero(horizontal)):
        segments.append([(c - 0.5, r - 0.5), (c + 0.5, r - 0.5)])
    return LineCollection(segments, colors=[colour], linewidths=1.0)


def _single_colour(rgb):
    from matplotlib.colors import ListedColormap

    return ListedColormap([tuple(np.array(rgb) / 255.0)])


def save_matplotlib(figure, path: Path, fmt: str, dpi: float) -> None:
    """Save a matplotlib figure; SVG and PDF without dates or random ids (the same bytes each run)."""
    import matplotlib

    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}.get(fmt, {})
    with matplotlib.rc_context({"svg.hashsalt": "imle"}):
        figure.savefig(path, format=fmt, dpi=dpi, metadata=metadata)


_TEMPORARY = re.compile(r"^\.(?:.+)\.(\d+)\.[^.]+\.tmp(?:\.mp4)?$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(folder: Path) -> List[str]:
    """Remove the hidden temporaries (.NAME.PID.RANDOM.tmp) that a killed run (SIGKILL, a power
    cut) left in ``folder``: those whose process is gone. Returns their names."""
    removed = []
    for path in folder.iterdir():
        match = _TEMPORARY.match(path.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path.name)
    return removed


class GifStream:
    """An animated GIF (GIF89a, looping) written frame by frame into an open binary file.

    Each palette frame is LZW-encoded by Pillow as a GIF of its own; its image block (descriptor
    and data) is copied here behind a graphic control extension (the frame's delay), with the
    palette as the frame's local colour table. Pillow's own animated writer keeps every frame
    until the end; this keeps none.
    """

    def __init__(self, handle, palette: np.ndarray, fps: float):
        self.handle, self.started = handle, False
        self.palette = np.asarray(palette, dtype=np.uint8).ravel().tolist()
        self.delay = max(2, round(100 / fps))  # hundredths of a second, as the GIF stores them

    def add(self, frame: np.ndarray) -> int:
        """Append a frame (palette indices [height, width]); returns its encoded size in bytes."""
        import io
        import struct

        from PIL import Image

        height, width = frame.shape
        if not self.started:
            self.handle.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
                              + b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")  # no global table; loop
            self.started = True
        image = Image.frombytes("P", (width, height), np.ascontiguousarray(frame).tobytes())
        image.putpalette(self.palette)
        buffer = io.BytesIO()
        image.save(buffer, format="GIF", optimize=False)
        block = self._image_block(buffer.getvalue())
        self.handle.write(b"\x21\xf9\x04\x00" + struct.pack("<H", self.delay) + b"\x00\x00" + block)
        return len(block) + 8

    @staticmethod
    def _image_block(gif: bytes) -> bytes:
        """The image descriptor and data of a one-frame GIF, its global colour table made local."""
        flags = gif[10]
        table_size = 3 << ((flags & 7) + 1) if flags & 0x80 else 0
        table = gif[13:13 + table_size]
        position = 13 + table_size
        while gif[position] == 0x21:  # skip extensions: label, then sub-blocks up to a zero length
            position += 2
            while gif[position]:
                position += gif[position] + 1
            position += 1
        descriptor = bytearray(gif[position:position + 10])  # 0x2C, left, top, width, height, flags
        if table and not descriptor[9] & 0x80:
            descriptor[9] = (descriptor[9] & 0x40) | 0x80 | (flags & 7)  # local table of the same size
            return bytes(descriptor) + table + gif[position + 10:-1]  # all but the trailer
        return gif[position:-1]

    def close(self) -> None:
        self.handle.write(b"\x3b")  # trailer


class Outputs:
    """Write figures into a folder all or nothing: temporaries first, renamed at :meth:`commit`.

    On an error or an interrupt, the temporaries are removed and the folder holds what it held
    before (a folder this run created is removed again if it stays empty). Stills are written
    in ``still_format`` (png, svg or pdf; matplotlib plots at ``dpi``); GIFs also as MP4 with
    ``video``.
    """

    def __init__(self, folder: Path, still_format: str = "png", dpi: float = 100.0, video: bool = False,
                 axes: Optional[bool] = None, max_gif_mb: float = 50.0):
        self.still_format, self.dpi, self.video, self.max_gif_mb = still_format, dpi, video, max_gif_mb
        self.axes_choice = axes
        self.folder = folder
        if folder.exists() and not folder.is_dir():
            raise UserError(f"--out {str(folder)!r} is a file, not a folder; give a folder path")
        # the folders this run creates (--out a/b/c may create a, a/b and a/b/c), innermost first
        self.created: List[Path] = []
        ancestor = Path(os.path.abspath(folder))
        while not ancestor.exists():
            self.created.append(ancestor)
            ancestor = ancestor.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".imle-probe-", delete=True)
            probe.close()
        except OSError as error:
            self._remove_created_folder()
            raise UserError(f"--out {str(folder)!r} is not writable ({error.strerror or error}); "
                            "choose another folder") from None
        self.pending: List[Tuple[Path, Path, WrittenFile]] = []
        remove_stale_temporaries(folder)

    def _temporary(self, name: str, suffix: str = ".tmp") -> Path:
        # .NAME.PID.RANDOM.tmp: the pid tells a later run whether its writer is still alive
        handle, path = tempfile.mkstemp(dir=self.folder, prefix=f".{name}.{os.getpid()}.", suffix=suffix)
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

    def gif(self, name: str, frames: Iterable[np.ndarray], palette: np.ndarray, fps: float, count: int) -> None:
        """An animated GIF of ``count`` frames (and with --video its MP4), written frame by frame as
        the iterable draws them: memory holds one frame, whatever the count. The first frame is
        encoded before the others are drawn, to refuse a GIF above --max-gif-mb early."""
        path = self._temporary(name)
        info = WrittenFile(name, 0, 0, 0, 0)
        self.pending.append((path, self.folder / name, info))
        video = self._mp4_writer(name.rsplit(".", 1)[0] + ".mp4", fps) if self.video else None
        try:
            with open(path, "wb") as handle:
                stream = GifStream(handle, palette, fps)
                for index, frame in enumerate(frames):
                    encoded = stream.add(frame)
                    if index == 0:
                        self._check_gif_size(name, encoded, frame, count)
                        info.width, info.height = frame.shape[1], frame.shape[0]
                    if video is not None:
                        video(frame, palette)
                    info.frames += 1
                stream.close()
        finally:
            if video is not None:
                video(None, palette)

    def _check_gif_size(self, name: str, encoded: int, first: np.ndarray, frames: int) -> None:
        """Refuse a GIF whose estimated size (the first frame's encoded bytes times the frames: a
        run's frames are alike) is above --max-gif-mb."""
        megabytes = encoded * frames / 1e6
        if megabytes > self.max_gif_mb:
            raise UserError(f"{name} would be about {megabytes:,.0f} MB ({frames} frames of {first.shape[1]}x"
                            f"{first.shape[0]} pixels), above --max-gif-mb {self.max_gif_mb:g}: use fewer frames "
                            "(--samples, --every) or fewer cells (--grid), or raise --max-gif-mb")

    def _mp4_writer(self, name: str, fps: float):
        """A function that appends a palette frame to an H.264 MP4 (imageio-ffmpeg), padded with
        white to even sizes; called with None, it closes the file."""
        import imageio.v2 as imageio

        path = self._temporary(name, ".tmp.mp4")  # ffmpeg picks the container from the ending
        info = WrittenFile(name, 0, 0, 0, 0)
        self.pending.append((path, self.folder / name, info))
        writer = imageio.get_writer(path, format="FFMPEG", mode="I", fps=fps, codec="libx264",
                                    pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
                                    output_params=["-movflags", "+faststart"])

        def append(frame, palette) -> None:
            if frame is None:
                writer.close()
                return
            height, width = frame.shape
            page = np.zeros((height + height % 2, width + width % 2), dtype=np.uint8)  # index 0 is white
            page[:height, :width] = frame
            writer.append_data(palette[page])
            info.frames, info.width, info.height = info.frames + 1, page.shape[1], page.shape[0]
        return append

    def axes(self, shape: Tuple[int, int]) -> bool:
        """Whether map figures of this shape get cell indices (--axes; by default up to 64 cells a side)."""
        return self.axes_choice if self.axes_choice is not None else max(shape) <= 64

    def still(self, name: str, tiles: Sequence[Tile], columns: int = 1) -> None:
        """A still figure of one or more tiles: a palette PNG, or (--format) an SVG or PDF drawn by
        matplotlib with the same content; ``name`` ends in .png and takes the format's suffix."""
        if self.still_format == "png":
            frames = [layout.frame(values, **options) for layout, values, options in tiles]
            self.png(name, grid_of(frames, columns) if len(frames) > 1 else frames[0], tiles[0][0].palette)
            return
        self.plot(name, vector_still(tiles, columns, self.still_format, self.dpi))

    def plot(self, name: str, figure) -> None:
        """A matplotlib figure as a still, in the still format, at the outputs' dpi."""
        name = f"{name.rsplit('.', 1)[0]}.{self.still_format}"
        path = self._temporary(name)
        width, height = figure.get_size_inches() * self.dpi
        self.pending.append((path, self.folder / name, WrittenFile(name, 1, int(width), int(height), 0)))
        save_matplotlib(figure, path, self.still_format, self.dpi)

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
        """Remove the folders this run created, innermost first, while they are empty."""
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:  # not empty (someone else wrote there), or already gone
                break

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        if kind is not None:  # any failure, KeyboardInterrupt included
            self.discard()


def check_video_support() -> None:
    """--video needs imageio-ffmpeg (the optional extra 'video'); say so before anything is drawn."""
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise UserError("--video needs imageio-ffmpeg, which is not installed: pip install 'imle[video]' "
                        "(or pip install imageio-ffmpeg)") from None
