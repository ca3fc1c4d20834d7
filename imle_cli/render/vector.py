"""The vector back end: :class:`~imle_cli.render.scene.Scene` descriptions -> a matplotlib figure,
saved as SVG or PDF, page for page what the raster back end draws.

The page is the scene's page: 1 pixel of the PNG is 1/100 inch (0.72 pt), and one axes spans it
in pixel coordinates, so every primitive lands where the raster back end puts it: text in the same
font (DejaVu Sans) at the same size and anchor, lines of the same width, the cells as an image of
the same colours, the path, rings and outlines as shapes. Several scenes tile a sheet row by row,
as :func:`~imle_cli.render.raster.grid_of` tiles frames.

Example:
    >>> import numpy as np
    >>> from imle_cli.render.layout import Figure
    >>> figure = Figure((2, 2), cmap="viridis", vmin=0.0, vmax=1.0, label="share")
    >>> page = sheet([figure.scene(np.eye(2), title="t")], 1)
    >>> [round(float(v), 2) for v in page.get_size_inches()] == [figure.width / 100, figure.height / 100]
    True
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from imle_cli.render import palette as colours
from imle_cli.render.scene import Border, Gradient, Line, Panel, Scene, Text

PIXEL = 0.72  # points per page pixel (at 100 pixels an inch)


def _rgb(scene: Scene, index) -> tuple:
    return tuple(scene.palette[index] / 255.0)


def _ink(scene: Scene, ink: int) -> tuple:
    return _rgb(scene, int(colours.greys(ink)))


def _text(ax, scene: Scene, item: Text, dx: float, dy: float) -> None:
    colour = _ink(scene, 255)
    if item.rotated:  # centred in its turned box
        left, top, right, bottom = item.box
        ax.text(dx + (left + right) / 2, dy + (top + bottom) / 2, item.text, fontsize=item.size * PIXEL,
                family="DejaVu Sans", rotation=90, ha="center", va="center", color=colour)
        return
    # where Pillow puts the pen (left end of the baseline) for this anchor: matplotlib's own
    # "top" and "center" use other font lines than Pillow's ascender and middle
    left, baseline = _pen(item)
    ax.text(dx + left, dy + baseline, item.text, fontsize=item.size * PIXEL, family="DejaVu Sans", ha="left",
            va="baseline", color=colour)


def _pen(item: Text) -> tuple:
    """(x, y) of the pen, the left end of the baseline, of a Text placed by its Pillow anchor."""
    from imle_cli.render.layout import font

    if item.anchor == "ls":
        return item.x, item.y
    anchored = font(item.size).getbbox(item.text, anchor=item.anchor)
    pen = font(item.size).getbbox(item.text, anchor="ls")
    return item.x + anchored[0] - pen[0], item.y + anchored[1] - pen[1]


def _panel(ax, scene: Scene, panel: Panel, dx: float, dy: float) -> None:
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Circle

    x0, y0, scale = dx + panel.x, dy + panel.y, panel.scale
    extent = (x0, x0 + panel.cols * scale, y0 + panel.rows * scale, y0)
    ax.imshow(scene.palette[panel.cells], extent=extent, interpolation="none", zorder=1)
    if panel.underlay is not None:
        shown = np.zeros(panel.underlay.shape + (4,))
        shown[panel.underlay] = (*_rgb(scene, colours.UNDERLAY), 1.0)
        ax.imshow(shown, extent=extent, interpolation="none", zorder=2)

    def centre(r, c):
        return x0 + c * scale + (scale - 1) / 2 + 0.5, y0 + r * scale + (scale - 1) / 2 + 0.5

    if panel.path is not None:
        colour, segments = _rgb(scene, colours.OVERLAY), []
        for r, c in zip(*np.nonzero(panel.path)):
            for dr, dc in ((0, 1), (1, -1), (1, 0), (1, 1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < panel.rows and 0 <= cc < panel.cols and panel.path[rr, cc]:
                    segments.append([centre(r, c), centre(rr, cc)])
        ax.add_collection(LineCollection(segments, colors=[colour], linewidths=panel.path_width * PIXEL, zorder=3))
        for r, c in zip(*np.nonzero(panel.path)):
            ax.add_patch(Circle(centre(r, c), panel.path_radius, color=colour, linewidth=0, zorder=3))
    for r, c in panel.rings:
        ax.add_patch(Circle(centre(r, c), panel.ring_radius, fill=False, edgecolor=_rgb(scene, colours.MARK),
                            linewidth=panel.ring_width * PIXEL, zorder=4))
    for mask, index in panel.outlines:
        ax.add_collection(LineCollection(_borders(mask, x0, y0, scale), colors=[_rgb(scene, index)],
                                         linewidths=PIXEL, zorder=5))


def _borders(mask: np.ndarray, x0: float, y0: float, scale: int) -> list:
    """Segments along the borders between masked and unmasked cells (and the map's edge)."""
    padded = np.pad(mask, 1)
    segments = []
    for r, c in zip(*np.nonzero(padded[1:-1, 1:] != padded[1:-1, :-1])):  # between columns c - 1 and c
        segments.append([(x0 + c * scale, y0 + r * scale), (x0 + c * scale, y0 + (r + 1) * scale)])
    for r, c in zip(*np.nonzero(padded[1:, 1:-1] != padded[:-1, 1:-1])):  # between rows r - 1 and r
        segments.append([(x0 + c * scale, y0 + r * scale), (x0 + (c + 1) * scale, y0 + r * scale)])
    return segments


def _draw(ax, scene: Scene, dx: float, dy: float) -> None:
    for item in scene.chrome:
        if isinstance(item, Gradient):
            left, top, right, bottom = item.box
            colours_ = (scene.palette[item.indices][None, :, :].repeat(item.width, axis=0) if item.horizontal
                        else scene.palette[item.indices][:, None, :].repeat(item.width, axis=1))
            ax.imshow(colours_, extent=(dx + left, dx + right, dy + bottom, dy + top), interpolation="none", zorder=1)
        elif isinstance(item, Line):
            ax.plot([dx + item.x0, dx + item.x1], [dy + item.y0 + 0.5, dy + item.y1 + 0.5], color=_ink(scene, item.ink),
                    linewidth=item.width * PIXEL, solid_capstyle="butt", zorder=6)
        elif isinstance(item, Border):
            ax.add_patch(_rectangle(scene, item, dx, dy))
        elif isinstance(item, Text):
            _text(ax, scene, item, dx, dy)
    for panel in scene.panels:
        _panel(ax, scene, panel, dx, dy)
    for item in scene.titles:
        _text(ax, scene, item, dx, dy)


def _rectangle(scene: Scene, item: Border, dx: float, dy: float):
    from matplotlib.patches import Rectangle

    # the raster border covers pixels x0..x1: its centre line runs half a pixel inside that span
    return Rectangle((dx + item.x0 + 0.5, dy + item.y0 + 0.5), item.x1 - item.x0, item.y1 - item.y0, fill=False,
                     edgecolor=_ink(scene, item.ink), linewidth=PIXEL, zorder=6)


def sheet(scenes: Sequence[Scene], columns: int):
    """A matplotlib figure of the scenes tiled row by row (each in a cell as large as the largest)."""
    from matplotlib.figure import Figure as MplFigure

    width = max(scene.width for scene in scenes)
    height = max(scene.height for scene in scenes)
    rows = -(-len(scenes) // columns)
    # as the raster sheet: one scene is its own page, several fill ``columns`` cells a row
    page_width, page_height = (width, height) if len(scenes) == 1 else (columns * width, rows * height)
    figure = MplFigure(figsize=(page_width / 100, page_height / 100), dpi=100)
    figure.patch.set_facecolor("white")
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, page_width)
    ax.set_ylim(page_height, 0)
    ax.set_axis_off()
    for index, scene in enumerate(scenes):
        row, column = divmod(index, columns)
        _draw(ax, scene, column * width, row * height)
    return figure


def save(figure, path: Path, fmt: str, dpi: float) -> None:
    """Save a matplotlib figure; SVG and PDF without dates or random ids (the same bytes each run)."""
    import matplotlib

    metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None}}.get(fmt, {})
    with matplotlib.rc_context({"svg.hashsalt": "imle"}):
        figure.savefig(path, format=fmt, dpi=dpi, metadata=metadata)
