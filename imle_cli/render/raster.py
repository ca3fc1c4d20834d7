"""The raster back end: a :class:`~imle_cli.render.scene.Scene` -> a palette frame (uint8 palette
indices [height, width]), for PNG stills and GIF/MP4 frames.

Text and lines are drawn antialiased as "ink" (Pillow, DejaVu Sans) and mapped onto the palette's
greys; cells are upscaled palette indices; the path, rings and underlay are drawn over them and
the outlines on the cells' borders. The chrome (what every frame of a figure shares) is drawn once
and copied for each frame; the last few chromes are kept by value, so equal figures made anew
(the studio's, one set per request) share a drawing.

Example:
    >>> import numpy as np
    >>> from imle_cli.render.layout import Figure
    >>> figure = Figure((2, 2), cmap="viridis", vmin=0.0, vmax=1.0, label=None)
    >>> frame = draw(figure.scene(np.eye(2), title="t"))
    >>> int(frame[figure.map_y, figure.panel_x[0]]) == int(figure.indices(1.0))   # cell (0, 0): the top
    True
"""
from __future__ import annotations

from collections import OrderedDict
from typing import List

import numpy as np

from imle_cli.render import palette as colours
from imle_cli.render.layout import font
from imle_cli.render.scene import Border, Gradient, Line, Panel, Scene, Text

#: the chrome canvases drawn last, by their scene's key (the chrome's value), least recently used first
_CHROME: "OrderedDict[object, np.ndarray]" = OrderedDict()
CHROME_CACHE = 16


def _ink_text(ink, draw, item: Text) -> None:
    from PIL import Image, ImageDraw

    if not item.rotated:
        draw.text((item.x, item.y), item.text, font=font(item.size), fill=255, anchor=item.anchor)
        return
    size = font(item.size).getbbox(item.text)
    turned = Image.new("L", (size[2] + 4, size[3] + 4), 0)
    ImageDraw.Draw(turned).text((2, 2), item.text, font=font(item.size), fill=255)
    ink.paste(turned.rotate(90, expand=True), (int(item.x), int(item.y)))


def _map_ink(canvas: np.ndarray, ink: np.ndarray) -> None:
    """Draw antialiased black ink (0..255) onto a palette canvas through the greys."""
    drawn = ink > 0
    canvas[drawn] = colours.greys(ink[drawn])


def _chrome(scene: Scene) -> np.ndarray:
    """The page with the scene's chrome, drawn in order (gradients first, then every ink)."""
    from PIL import Image, ImageDraw

    canvas = np.full((scene.height, scene.width), colours.WHITE, dtype=np.uint8)
    ink = Image.new("L", (scene.width, scene.height), 0)
    draw = ImageDraw.Draw(ink)
    for item in scene.chrome:
        if isinstance(item, Gradient):
            left, top, right, bottom = item.box
            canvas[top:bottom, left:right] = item.indices[None, :] if item.horizontal else item.indices[:, None]
        elif isinstance(item, Line):
            draw.line([(item.x0, item.y0), (item.x1, item.y1)], fill=item.ink, width=item.width)
        elif isinstance(item, Border):
            draw.rectangle([item.x0, item.y0, item.x1, item.y1], outline=item.ink)
        elif isinstance(item, Text):
            _ink_text(ink, draw, item)
    _map_ink(canvas, np.asarray(ink))
    return canvas


def _chrome_of(scene: Scene) -> np.ndarray:
    if scene.key is None:
        return _chrome(scene)
    canvas = _CHROME.pop(scene.key, None)
    _CHROME[scene.key] = _chrome(scene) if canvas is None else canvas
    if len(_CHROME) > CHROME_CACHE:
        _CHROME.popitem(last=False)
    return _CHROME[scene.key]


def _draw_path(cells: np.ndarray, panel: Panel) -> None:
    """A dot on every marked cell and a line between every two neighbouring ones (all drawn in
    one ink at full strength, so the order does not matter)."""
    from PIL import Image, ImageDraw

    scale, marked = panel.scale, np.asarray(panel.path, dtype=bool)
    ink = Image.new("L", (cells.shape[1], cells.shape[0]), 0)
    draw = ImageDraw.Draw(ink)
    half, radius, width = (scale - 1) / 2, panel.path_radius, panel.path_width
    # each neighbouring pair once: (r, c) with (r, c + 1), (r + 1, c - 1), (r + 1, c), (r + 1, c + 1)
    for (dr, dc), here, there in (((0, 1), marked[:, :-1], marked[:, 1:]),
                                  ((1, -1), marked[:-1, 1:], marked[1:, :-1]),
                                  ((1, 0), marked[:-1, :], marked[1:, :]),
                                  ((1, 1), marked[:-1, :-1], marked[1:, 1:])):
        rows, cols = np.nonzero(here & there)
        cols = cols + (1 if dc < 0 else 0)
        for r, c in zip(rows.tolist(), cols.tolist()):
            draw.line([(c * scale + half, r * scale + half), ((c + dc) * scale + half, (r + dr) * scale + half)],
                      fill=255, width=width)
    for r, c in zip(*(axis.tolist() for axis in np.nonzero(marked))):
        x, y = c * scale + half, r * scale + half
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    cells[np.asarray(ink) > 127] = colours.OVERLAY


def _draw_rings(cells: np.ndarray, panel: Panel) -> None:
    """A ring around each marked cell."""
    from PIL import Image, ImageDraw

    ink = Image.new("L", (cells.shape[1], cells.shape[0]), 0)
    draw = ImageDraw.Draw(ink)
    half, radius = (panel.scale - 1) / 2, panel.ring_radius
    for r, c in panel.rings:
        x, y = c * panel.scale + half, r * panel.scale + half
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline=255, width=panel.ring_width)
    cells[np.asarray(ink) > 127] = colours.MARK


#: Pixels a cell at most at which outlines go around the masked cells, outside them: a border
#: inside 3-pixel cells would cover most of their colour (a gold path over a 128-cell gradient).
OUTSIDE_OUTLINE_SCALE = 4


def _outline(cells: np.ndarray, mask: np.ndarray, index: int, scale: int) -> None:
    """Colour the pixels where the upscaled mask changes: the outline of the masked cells (at
    small scales, the pixels just outside them, so the cells keep their colours)."""
    if not mask.any():
        return
    up = np.repeat(np.repeat(mask, scale, 0), scale, 1)
    if scale <= OUTSIDE_OUTLINE_SCALE:
        around = np.zeros_like(up)
        around[:, 1:] |= up[:, :-1]
        around[:, :-1] |= up[:, 1:]
        around[1:, :] |= up[:-1, :]
        around[:-1, :] |= up[1:, :]
        cells[around & ~up] = index
        return
    edge = np.zeros_like(up)
    edge[:, 1:] |= up[:, 1:] != up[:, :-1]
    edge[1:, :] |= up[1:, :] != up[:-1, :]
    edge[:, 0] |= up[:, 0]  # the map's own border closes the outline
    edge[:, -1] |= up[:, -1]
    edge[0, :] |= up[0, :]
    edge[-1, :] |= up[-1, :]
    cells[edge] = index


def panel_pixels(panel: Panel) -> np.ndarray:
    """The panel's palette pixels: the cells upscaled, with the underlay, path, rings and outlines."""
    cells = np.repeat(np.repeat(panel.cells, panel.scale, 0), panel.scale, 1)
    height, width = cells.shape
    if panel.underlay is not None:  # nearest-neighbour onto the panel's pixels
        ys = (np.arange(height) + 0.5) * panel.underlay.shape[0] // height
        xs = (np.arange(width) + 0.5) * panel.underlay.shape[1] // width
        cells[panel.underlay[np.ix_(ys.astype(int), xs.astype(int))]] = colours.UNDERLAY
    if panel.path is not None:
        _draw_path(cells, panel)
    if len(panel.rings):
        _draw_rings(cells, panel)
    for mask, index in panel.outlines:
        _outline(cells, mask, index, panel.scale)
    return cells


def draw(scene: Scene) -> np.ndarray:
    """The scene as a palette frame [height, width] (uint8), to be saved with ``scene.palette``."""
    from PIL import Image, ImageDraw

    canvas = _chrome_of(scene).copy()
    for panel in scene.panels:
        pixels = panel_pixels(panel)
        canvas[panel.y:panel.y + pixels.shape[0], panel.x:panel.x + pixels.shape[1]] = pixels
    if scene.titles:
        ink = Image.new("L", (scene.width, scene.title_band), 0)
        band = ImageDraw.Draw(ink)
        for item in scene.titles:
            _ink_text(ink, band, item)
        _map_ink(canvas[:scene.title_band], np.asarray(ink))
    return canvas


def grid_of(frames: List[np.ndarray], columns: int) -> np.ndarray:
    """Palette frames (same palette), or RGB frames [h, w, 3], tiled row by row on a white page,
    each in a cell as large as the largest frame."""
    height = max(f.shape[0] for f in frames)
    width = max(f.shape[1] for f in frames)
    rows = -(-len(frames) // columns)
    if frames[0].ndim == 3:
        page = np.full((rows * height, columns * width, 3), 255, dtype=np.uint8)
    else:
        page = np.zeros((rows * height, columns * width), dtype=np.uint8)  # index 0 is white
    for i, frame in enumerate(frames):
        r, c = divmod(i, columns)
        page[r * height:r * height + frame.shape[0], c * width:c * width + frame.shape[1]] = frame
    return page
