"""What a frame is, as a list of primitives in page pixels: one description that the raster back
end (:mod:`~imle_cli.render.raster`: PNG and GIF frames) and the vector back end
(:mod:`~imle_cli.render.vector`: SVG and PDF) both draw, so a PDF shows what the PNG shows.

A :class:`Scene` is a white page of ``width`` x ``height`` pixels: its ``chrome`` (what every
frame of a figure shares: the colour bar, borders, captions, tick labels, drawn in order), its
``panels`` (the cells of each map panel, with the path, rings, outlines and underlay over them),
and its ``titles`` (drawn in the band of ``title_band`` pixels at the top). Colours are palette
indices (:mod:`~imle_cli.render.palette`); "ink" is the blackness of text and lines (255: black),
which the raster back end maps onto the palette's greys.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Tuple

import numpy as np


@dataclass(frozen=True)
class Text:
    """``text`` at (x, y) in a font of ``size`` pixels, placed by a two-letter Pillow anchor
    (horizontal l/m/r, vertical a/t/m/s/d); ``rotated``: turned 90 degrees counter-clockwise,
    (x, y) then the top-left corner of the turned text's box."""

    x: float
    y: float
    text: str
    size: int
    anchor: str = "la"
    rotated: bool = False
    box: Tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # (left, top, right, bottom) on the page


@dataclass(frozen=True)
class _Span:
    """Two corners on the page: (x0, y0) and (x1, y1)."""

    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Line(_Span):
    """A straight line from (x0, y0) to (x1, y1), ``width`` pixels wide, of ``ink``."""

    ink: int = 255
    width: int = 1


@dataclass(frozen=True)
class Border(_Span):
    """The 1-pixel outline of the rectangle (x0, y0)-(x1, y1) (whole pixels, both corners
    included), of ``ink``."""

    ink: int = 96


@dataclass(frozen=True)
class Gradient:
    """A colour bar: ``indices`` [height] palette indices from the top down, ``width`` pixels wide;
    ``horizontal``: indices [width] from left to right, ``width`` pixels tall."""

    x: int
    y: int
    width: int
    indices: np.ndarray = field(compare=False)
    horizontal: bool = False

    @property
    def box(self) -> tuple:
        """(left, top, right, bottom) in page pixels."""
        long, thick = len(self.indices), self.width
        return (self.x, self.y, self.x + long, self.y + thick) if self.horizontal else \
            (self.x, self.y, self.x + thick, self.y + long)


@dataclass(frozen=True)
class Panel:
    """A map panel at (x, y): ``cells`` [rows, cols] palette indices, each ``scale`` pixels square;
    over them, in this order, an ``underlay`` (a bool mask of any resolution, drawn faintly), a
    ``path`` (bool [rows, cols]: a dot on each cell, a line between neighbouring ones), ``rings``
    around cells, and ``outlines`` ((bool mask, palette index) traced on cell borders)."""

    x: int
    y: int
    scale: int
    cells: np.ndarray = field(compare=False)
    underlay: Optional[np.ndarray] = field(default=None, compare=False)
    path: Optional[np.ndarray] = field(default=None, compare=False)
    path_width: int = 1
    path_radius: float = 1.0
    rings: Tuple[Tuple[int, int], ...] = ()
    ring_radius: float = 6.0
    ring_width: int = 1
    outlines: Tuple[Tuple[np.ndarray, int], ...] = field(default=(), compare=False)

    @property
    def rows(self) -> int:
        return self.cells.shape[0]

    @property
    def cols(self) -> int:
        return self.cells.shape[1]


@dataclass(frozen=True)
class Scene:
    """One frame of a figure: the page, its chrome (drawn first, in order), its panels, and its
    titles (drawn last, in the top band of ``title_band`` pixels)."""

    width: int
    height: int
    palette: np.ndarray = field(compare=False)       # [256, 3] uint8
    chrome: tuple = ()                               # Gradient, Line, Text, Border, in drawing order
    panels: Tuple[Panel, ...] = ()
    titles: Tuple[Text, ...] = ()
    title_band: int = 0
    key: object = field(default=None, compare=False)  # the chrome's value (hashable): frames with equal chrome share its drawing

    def texts(self) -> Tuple[Text, ...]:
        """Every text of the frame, chrome first."""
        return tuple(item for item in self.chrome if isinstance(item, Text)) + self.titles

    def text_boxes(self):
        """The boxes (left, top, right, bottom) of every text on the page."""
        return [text.box for text in self.texts()]
