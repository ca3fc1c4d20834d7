"""Reading numbers back out of written figures (decoded PNG/GIF pixels), for the tests: a cell's
value from the colour at its centre, and the cells the path is drawn on."""
import numpy as np

from imle_cli.render.palette import CMAP_LEVELS, OVERLAY


def decode(figure, rgb: np.ndarray, panel: int = 0) -> np.ndarray:
    """Values [rows, cols] read back from a decoded frame's cell centres (nearest colour level)."""
    ys, xs = figure.cell_centres(panel)
    pixels = rgb[np.ix_(ys, xs)][..., :3].astype(np.int64)
    distance = ((pixels[:, :, None, :] - figure.colours[None, None].astype(np.int64)) ** 2).sum(-1)
    level = distance.argmin(-1)
    return figure.vmin + level / (CMAP_LEVELS - 1) * (figure.vmax - figure.vmin)


def decode_overlay(figure, rgb: np.ndarray) -> np.ndarray:
    """Bool [rows, cols]: the cells whose centre shows the path's colour."""
    ys, xs = figure.cell_centres()
    return (rgb[np.ix_(ys, xs)][..., :3] == figure.palette[OVERLAY]).all(-1)
