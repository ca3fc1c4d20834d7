"""The geometry of a map figure, computed once, and each frame described as a :class:`~imle_cli.render.scene.Scene`.

A :class:`Figure` lays out [rows, cols] cell arrays on a white page: square cells sized to the
map's shape, one or more panels side by side on one colour scale, a labelled colour bar with
round ticks, cell indices on the axes, captions, and a title band. :meth:`Figure.scene` turns
one frame's values and layers into the primitives both back ends draw; :meth:`Figure.frame` is
the raster frame itself (palette indices), the frames of a GIF sharing the chrome drawn once.

Example:
    >>> import numpy as np
    >>> figure = Figure((2, 3), cmap="viridis", vmin=0.0, vmax=1.0, label="share")
    >>> frame = figure.frame(np.array([[0.0, 0.5, 1.0], [1.0, 0.5, 0.0]]), title="demo")
    >>> frame.shape == (figure.height, figure.width), frame.dtype
    (True, dtype('uint8'))
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from imle_cli.render import palette as colours
from imle_cli.render.scene import Border, Gradient, Line, Panel, Scene, Text

MARGIN, TITLE_HEIGHT, BAR_GAP, BAR_WIDTH, PANEL_GAP, CAPTION_HEIGHT = 14, 46, 14, 16, 16, 20
TICK_LENGTH, TICK_GAP = 4, 4  # a colour bar tick's line, then a gap before its label
MIN_BAR_HEIGHT = 160  # room for the colour bar's ticks however flat the map
AXIS_BAND = 18  # room below a panel for its column indices (with axes)
TARGET_MAP_PIXELS = 400
MIN_SUBTITLE_SIZE = 11  # pixels: a subtitle smaller than this goes on two lines
TICK_SIZE = 12  # pixels: tick labels, captions, the colour bar's label
#: room below a wide map for its horizontal colour bar: a gap, the bar, ticks, their labels, the bar's label
HORIZONTAL_BAR_BAND = 8 + BAR_WIDTH + TICK_LENGTH + 2 * TICK_SIZE + 14


@functools.lru_cache(maxsize=None)
def font(size: int):
    """DejaVu Sans (matplotlib's own file, so both back ends draw the same letters) at ``size`` px."""
    from matplotlib import get_data_path
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"), size)


@functools.lru_cache(maxsize=1)
def _measure():
    from PIL import Image, ImageDraw

    return ImageDraw.Draw(Image.new("L", (1, 1)))


def text(x: float, y: float, content: str, size: int, anchor: str) -> Text:
    """A Text primitive with its box as Pillow measures it."""
    return Text(x, y, content, size, anchor, box=tuple(_measure().textbbox((x, y), content, font=font(size),
                                                                          anchor=anchor)))


def format_tick(value: float) -> str:
    """Three significant digits, thousands written out (1,080 rather than 1.08e+03), and a real
    minus sign (a hyphen next to a tick mark reads as part of it)."""
    rounded = float(f"{value:.3g}")
    if rounded == 0:
        return "0"
    text_ = f"{rounded:,.0f}" if 1e3 <= abs(rounded) < 1e7 else f"{rounded:g}"
    return text_.replace("-", "\u2212")


def index_ticks(count: int, most: int = 9) -> List[int]:
    """Cell indices to label on an axis of ``count`` cells: 0 and multiples of a round step."""
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10 ** 9)
                if count / s <= most)
    return list(range(0, count, step))


def nice_ticks(vmin: float, vmax: float) -> np.ndarray:
    """Round tick values at a regular step inside [vmin, vmax] (matplotlib's locator): 0, 0.2,
    ..., 1 or 20, 40, 60, 80, never an odd end such as 5.77 beside them."""
    from matplotlib.ticker import MaxNLocator

    span = vmax - vmin
    inside = [t for t in MaxNLocator(nbins=5).tick_values(vmin, vmax) if vmin - 1e-9 * span <= t <= vmax + 1e-9 * span]
    return np.array(sorted(inside))


def fitting_size(content: str, size: int, room: float) -> int:
    """``size``, or a smaller one (down to 8 px) for text wider than ``room``."""
    while size > 8 and font(size).getlength(content) > room:
        size -= 1
    return size


class Figure:
    """A frame layout for [rows, cols] cell arrays with one colour scale and a labelled colour bar.

    ``captions`` (one per panel) lays out several panels side by side on the same scale;
    ``label=None`` leaves the colour bar out (for figures whose colours are only a legend);
    ``axes=True`` labels rows on the left and columns below with cell indices, the (row, col)
    of error messages and of ``--via``; ``compact``: small panels for contact sheets;
    ``signed``: the palette also has palette.CHEAPER and DEARER, for a panel of signs.
    """

    def __init__(self, shape: Tuple[int, int], *, cmap: str, vmin: float, vmax: float, label: Optional[str],
                 overlay_rgb: Tuple[int, int, int] = (31, 119, 180), captions: Sequence[str] = (),
                 axes: bool = False, compact: bool = False, signed: bool = False):
        self.rows, self.cols = shape
        self.captions = list(captions)
        self.panels = max(1, len(self.captions))
        # a constant map: a scale one unit wide (or wider where one unit is below float64's step)
        self.vmin, self.vmax = float(vmin), float(vmax) if vmax > vmin else float(vmin) + max(1.0, abs(float(vmin)))
        # Square cells sized so the longer side is about map_pixels, the shorter at least
        # min_short (an elongated map stays visible), the longer at most max_long, and 2 pixels a
        # cell at least while that fits max_long (a 256-cell grid: 512 px, its paths visible; one
        # pixel a cell only beyond max_long / 2 cells); compact: small panels for contact sheets
        # (smaller map, titles and page).
        map_pixels, min_short, max_long, min_width, title_size = \
            (176, 24, 400, 220, 13) if compact else (TARGET_MAP_PIXELS, 48, 1200, 540, 17)
        longer, shorter = max(self.rows, self.cols), min(self.rows, self.cols)
        self.scale = max(1, min(40, max(map_pixels // longer, -(-min_short // shorter), 2), max_long // longer))
        if self.panels > 1:
            self.scale = max(min(self.scale, 2), self.scale * 3 // 4)
        self.map_height, self.map_width = self.rows * self.scale, self.cols * self.scale
        self.title_size, self.subtitle_y = title_size, title_size + 5
        self.axes = axes
        tick_font = font(TICK_SIZE)
        left = MARGIN + (int(tick_font.getlength(str(self.rows - 1))) + 6 if axes else 0)
        widest_caption = max((int(tick_font.getlength(c)) + 4 for c in self.captions), default=0)
        pitch = max(self.map_width, widest_caption) + PANEL_GAP  # panels (and their captions) side by side
        self.panel_x = [left + p * pitch for p in range(self.panels)]
        # the bar is as tall as the map, and at least tall enough for its ticks and its label
        label_length = int(tick_font.getlength(label)) + 8 if label is not None else 0
        self.bar_height = max(self.map_height, MIN_BAR_HEIGHT, label_length) if label is not None else 0
        self.palette, self.colours = colours.build(cmap, overlay_rgb, signed)
        self.label = label
        ticks = nice_ticks(self.vmin, self.vmax) if label is not None else np.array([])
        tick_labels = [format_tick(t) for t in ticks]
        tick_width = max((int(tick_font.getlength(t)) for t in tick_labels), default=0)
        label_box = tick_font.getbbox(label) if label is not None else (0, 0, 0, 0)
        last = max(self.map_width, widest_caption)  # the last panel, or its caption where that is wider
        # a wide, flat map: the bar below it, horizontal (a vertical one would be taller than the map)
        self.horizontal = (label is not None and not compact and 2 * self.map_height < MIN_BAR_HEIGHT
                           and self.map_width >= 2 * self.map_height)
        self.bar_x = self.panel_x[0] if self.horizontal else self.panel_x[-1] + last + BAR_GAP
        below = AXIS_BAND if axes else 0
        if label is None or self.horizontal:
            width = self.panel_x[-1] + last + MARGIN
        else:
            width = (self.bar_x + BAR_WIDTH + TICK_LENGTH + TICK_GAP + tick_width + 8 + (label_box[3] - label_box[1])
                     + MARGIN + 4)
        caption_height = CAPTION_HEIGHT if self.captions else 0
        if self.horizontal:  # the map, its column indices, then the bar, its ticks and its label
            self.bar_length = self.panel_x[-1] + self.map_width - self.panel_x[0]
            content = self.map_height + below + HORIZONTAL_BAR_BAND
        else:
            content = max(self.map_height + below, self.bar_height)
        self.width = max(width, min_width)  # room for the titles
        self.height = MARGIN + TITLE_HEIGHT + caption_height + content + MARGIN
        self.map_y = MARGIN + TITLE_HEIGHT + caption_height
        chrome: list = []
        if self.horizontal:
            chrome += self._horizontal_bar(ticks, tick_labels, label, self.map_y + self.map_height + below + 8)
        elif label is not None:
            chrome += self._colour_bar(ticks, tick_labels, tick_width, label, label_box)
        for x, caption in zip(self.panel_x, self.captions or [""]):
            chrome.append(Border(x - 1, self.map_y - 1, x + self.map_width, self.map_y + self.map_height))
            if caption:
                chrome.append(text(x, self.map_y - 4, caption, TICK_SIZE, "ld"))
            if axes:
                chrome += self._axes(x, rows=x == self.panel_x[0])
        self.chrome = tuple(chrome)
        self._keyed()
        self._last: Optional[Scene] = None

    def _keyed(self) -> None:
        # what the chrome's pixels depend on: equal figures (the studio's, one per request) share one drawing
        self.chrome_key = (self.width, self.height, self.chrome,
                           tuple(item.indices.tobytes() for item in self.chrome if isinstance(item, Gradient)))

    def pad_to(self, width: int, height: int) -> "Figure":
        """This figure on a page at least ``width`` x ``height`` (white added right and below)."""
        self.width, self.height = max(self.width, width), max(self.height, height)
        self._keyed()
        return self

    def _axes(self, x: int, rows: bool) -> list:
        """Column indices below the panel at x and (``rows``: the first panel; panels share their
        rows) row indices left of it, at the cells' centres."""
        half = self.scale / 2
        items = [text(x - 5, self.map_y + row * self.scale + half, str(row), TICK_SIZE, "rm")
                 for row in (self.row_ticks() if rows else [])]
        items += [text(x + col * self.scale + half, self.map_y + self.map_height + 3, str(col), TICK_SIZE, "mt")
                  for col in self.col_ticks()]
        return items

    def row_ticks(self) -> List[int]:
        """The row indices to label: labels 16 px apart at least."""
        return index_ticks(self.rows, most=max(1, self.map_height // 16))

    def col_ticks(self) -> List[int]:
        """The column indices to label: each label's width plus a gap apart at least."""
        return index_ticks(self.cols, most=max(1, int(self.map_width // (font(TICK_SIZE).getlength(str(self.cols - 1))
                                                                          + 8))))

    def _colour_bar(self, ticks, tick_labels, tick_width, label, label_box) -> list:
        bar = self.bar_height
        bar_values = self.vmax - (np.arange(bar) + 0.5) / bar * (self.vmax - self.vmin)
        items: list = [Gradient(self.bar_x, self.map_y, BAR_WIDTH, self.indices(bar_values))]
        for tick, label_text in zip(ticks, tick_labels):
            y = self.map_y + (self.vmax - tick) / (self.vmax - self.vmin) * (bar - 1)
            items.append(Line(self.bar_x + BAR_WIDTH, y, self.bar_x + BAR_WIDTH + TICK_LENGTH, y))
            items.append(text(self.bar_x + BAR_WIDTH + TICK_LENGTH + TICK_GAP, y, label_text, TICK_SIZE, "lm"))
        # the label turned 90 degrees: its box before turning is (width + 4) x (height + 4)
        turned_width, turned_height = label_box[3] + 4, label_box[2] + 4
        label_x = self.bar_x + BAR_WIDTH + TICK_LENGTH + TICK_GAP + tick_width + 8
        label_y = self.map_y + max(0, (bar - turned_height) // 2)
        items.append(Text(label_x, label_y, label, TICK_SIZE, "la", rotated=True,
                          box=(label_x, label_y, label_x + turned_width, label_y + turned_height)))
        return items

    def _horizontal_bar(self, ticks, tick_labels, label, y: int) -> list:
        """The colour bar under a wide map, low values on the left: ticks below it, then its label."""
        length = self.bar_length
        bar_values = self.vmin + (np.arange(length) + 0.5) / length * (self.vmax - self.vmin)
        items: list = [Gradient(self.bar_x, y, BAR_WIDTH, self.indices(bar_values), horizontal=True)]
        for tick, label_text in zip(ticks, tick_labels):
            x = self.bar_x + (tick - self.vmin) / (self.vmax - self.vmin) * (length - 1)
            items.append(Line(x, y + BAR_WIDTH, x, y + BAR_WIDTH + TICK_LENGTH))
            items.append(text(x, y + BAR_WIDTH + TICK_LENGTH + 2, label_text, TICK_SIZE, "mt"))
        items.append(text(self.bar_x + length / 2, y + BAR_WIDTH + TICK_LENGTH + TICK_SIZE + 8, label, TICK_SIZE,
                          "mt"))
        return items

    def indices(self, values: np.ndarray) -> np.ndarray:
        """Palette indices of values on this figure's colour scale (clipped to it)."""
        return colours.levels(values, self.vmin, self.vmax)

    def scene(self, values, *, title: str, subtitle: str = "", overlay=None,
              underlay: Optional[np.ndarray] = None, marks: Sequence[Tuple[int, int]] = (),
              outlines: Optional[dict] = None, indexed: Sequence[int] = ()) -> Scene:
        """One frame described: ``values`` is one [rows, cols] array, or one per panel (the panels
        in ``indexed``: palette indices, drawn as they are). On the first panel: ``overlay`` (bool
        [rows, cols]) drawn as a path, ``underlay`` (bool, any resolution, e.g. a drawing's stroke)
        faintly beneath it, and ``marks`` ((row, col) cells) as rings; ``overlay`` as a list (one
        path or None per panel) draws a path, and the rings, on each panel that has one. On every
        panel, ``outlines`` ({"gold": mask, "walls": mask}) trace the borders of those cells."""
        arrays = [values] if self.panels == 1 else list(values)
        if len(arrays) != self.panels:
            raise ValueError(f"expected {self.panels} panels of values, got {len(arrays)}")
        paths = list(overlay) if isinstance(overlay, (list, tuple)) else [overlay] + [None] * (self.panels - 1)
        if len(paths) != self.panels:
            raise ValueError(f"expected {self.panels} overlays (or one), got {len(paths)}")
        traced = tuple((np.asarray(mask, dtype=bool), colours.OUTLINES[name]) for name, mask in (outlines or {}).items())
        panels = []
        for p, (panel, path) in enumerate(zip(arrays, paths)):
            panel = np.asarray(panel)
            if panel.shape != (self.rows, self.cols):
                raise ValueError(f"values must have shape {(self.rows, self.cols)}, got {panel.shape}")
            first = p == 0
            ringed = path is not None if isinstance(overlay, (list, tuple)) else first
            panels.append(Panel(
                self.panel_x[p], self.map_y, self.scale, panel.astype(np.uint8) if p in indexed else self.indices(panel),
                underlay=np.asarray(underlay, dtype=bool) if first and underlay is not None else None,
                path=np.asarray(path, dtype=bool) if path is not None else None,
                path_width=max(1, min(self.scale // 2, max(2, self.scale // 4))), path_radius=max(1.0, self.scale * 0.3),
                rings=tuple((int(r), int(c)) for r, c in marks) if ringed else (),
                ring_radius=max(6.0, self.scale * 0.7), ring_width=max(2, self.scale // 6), outlines=traced))
        titles = self._titles(title, subtitle)
        self._last = Scene(self.width, self.height, self.palette, self.chrome, tuple(panels), tuple(titles),
                           TITLE_HEIGHT + MARGIN, key=self.chrome_key)
        return self._last

    def _titles(self, title: str, subtitle: str) -> List[Text]:
        """The title and the subtitle on one line each, smaller where they must be; a subtitle that
        would be smaller than MIN_SUBTITLE_SIZE goes on two lines (split at the '; ' or ', '
        nearest its middle) at 10 px at least, the title a little smaller to make room, all above
        what sits at the map's top edge (with axes, row indices reach half a tick label above it)."""
        room = self.width - 2 * MARGIN
        first = text(MARGIN, MARGIN - 2, title, fitting_size(title, self.title_size, room), "la")
        if not subtitle:
            return [first]
        size = fitting_size(subtitle, self.title_size - 4, room)
        one_line = [first, text(MARGIN, MARGIN + self.subtitle_y, subtitle, size, "la")]
        splits = [i for i in range(len(subtitle)) if subtitle.startswith(("; ", ", "), i)]
        if size >= MIN_SUBTITLE_SIZE or not splits:
            return one_line
        cut = min(splits, key=lambda i: abs(i - len(subtitle) / 2))
        lines = [subtitle[:cut + 1], subtitle[cut + 2:]]
        # within the title band (captions sit below it), above what sits at the map's top edge
        bottom = min(MARGIN + TITLE_HEIGHT - 1, self.map_y - (TICK_SIZE // 2 + 2 if self.axes else 2))
        widest = min(fitting_size(line, self.title_size - 4, room) for line in lines)
        for line_size in range(min(MIN_SUBTITLE_SIZE, widest), 9, -1):
            for title_size in range(self.title_size, self.title_size - 4, -1):
                placed = [text(MARGIN, MARGIN - 2, title, fitting_size(title, title_size, room), "la")]
                for line in lines:
                    placed.append(text(MARGIN, placed[-1].box[3] + 1, line, line_size, "la"))
                if placed[-1].box[3] <= bottom and line_size > size:
                    return placed
        return one_line

    def frame(self, values, **options) -> np.ndarray:
        """One raster frame (palette indices [height, width]): :meth:`scene` drawn by the raster back end."""
        from imle_cli.render import raster

        return raster.draw(self.scene(values, **options))

    def text_boxes(self) -> List[Tuple[float, float, float, float]]:
        """The boxes of every text of the last frame: its title and subtitle, ticks and labels."""
        return self._last.text_boxes() if self._last is not None else [t.box for t in self.chrome if isinstance(t, Text)]

    def cell_centres(self, panel: int = 0) -> Tuple[np.ndarray, np.ndarray]:
        """Pixel rows and columns of every cell's centre in a panel: [rows], [cols]."""
        half = self.scale // 2
        return (self.map_y + np.arange(self.rows) * self.scale + half,
                self.panel_x[panel] + np.arange(self.cols) * self.scale + half)


def same_size(*figures: Figure) -> Tuple[Figure, ...]:
    """The figures of one set (a command's map, paths and distribution) padded to one page size,
    the largest one's, so that they sit side by side in a paper or a talk without rescaling.

    Example:
        >>> a = Figure((4, 30), cmap="viridis", vmin=0.0, vmax=1.0, label="share")
        >>> b = Figure((4, 30), cmap="viridis", vmin=0.0, vmax=1000.0, label="a much longer label")
        >>> len({(f.width, f.height) for f in same_size(a, b)})
        1
    """
    width, height = max(f.width for f in figures), max(f.height for f in figures)
    return tuple(figure.pad_to(width, height) for figure in figures)
