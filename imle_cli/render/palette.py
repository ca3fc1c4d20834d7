"""The one 256-colour palette of every figure: white, 32 greys for text and lines, the path, rings,
underlay and outline colours, and 216 levels of the figure's matplotlib colormap.

One fixed palette per figure means every frame of an animation shares one colour scale, GIFs
need no per-frame quantisation (fast, and exact colours), and the same input gives the same bytes.
"""
from __future__ import annotations

from typing import Tuple

import numpy as np

WHITE, GREY_START, GREYS, OVERLAY, MARK, UNDERLAY, GOLD_LINE, WALL_LINE, CMAP_START = 0, 1, 32, 33, 34, 35, 36, 37, 40
#: a signed cell's two colours (a figure built with ``signed``): the gradient figures' blue and red
CHEAPER, DEARER = 38, 39
CMAP_LEVELS = 256 - CMAP_START
MARK_RGB, UNDERLAY_RGB, GOLD_LINE_RGB, WALL_LINE_RGB = (214, 39, 40), (190, 190, 190), (20, 20, 20), (140, 140, 140)
#: the outlines a frame can draw on cell borders (so cell centres keep their colours): name -> palette index
OUTLINES = {"gold": GOLD_LINE, "walls": WALL_LINE}


def build(cmap: str, overlay_rgb: Tuple[int, int, int], signed: bool = False) -> Tuple[np.ndarray, np.ndarray]:
    """(the palette [256, 3] uint8, the colormap's levels [CMAP_LEVELS, 3]) for a figure;
    ``signed``: with CHEAPER and DEARER, the blue and red of the gradient figures' RdBu scale, for
    a panel of signs beside panels on another scale (I-MLE's mechanism: one palette, one GIF)."""
    from matplotlib import colormaps

    palette = np.zeros((256, 3), dtype=np.uint8)
    palette[WHITE] = 255
    palette[GREY_START:GREY_START + GREYS] = np.linspace(255, 0, GREYS).round()[:, None].astype(np.uint8)
    palette[OVERLAY] = overlay_rgb
    palette[MARK], palette[UNDERLAY] = MARK_RGB, UNDERLAY_RGB
    palette[GOLD_LINE], palette[WALL_LINE] = GOLD_LINE_RGB, WALL_LINE_RGB
    colours = (colormaps[cmap](np.linspace(0, 1, CMAP_LEVELS))[:, :3] * 255).round().astype(np.uint8)
    palette[CMAP_START:] = colours
    if signed:
        palette[[CHEAPER, DEARER]] = (colormaps["RdBu"]([0.85, 0.15])[:, :3] * 255).round().astype(np.uint8)
    return palette, colours


def levels(values, vmin: float, vmax: float) -> np.ndarray:
    """Palette indices of values on the scale vmin..vmax (clipped to it)."""
    position = (np.asarray(values, dtype=np.float64) - vmin) / (vmax - vmin)
    return (CMAP_START + np.clip(np.round(position * (CMAP_LEVELS - 1)), 0, CMAP_LEVELS - 1)).astype(np.uint8)


def greys(ink: np.ndarray) -> np.ndarray:
    """The palette's grey for each ink value (0..255, 255 black)."""
    return GREY_START + np.round(np.asarray(ink, dtype=np.float64) * (GREYS - 1) / 255.0).astype(np.uint8)
