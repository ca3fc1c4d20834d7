"""``imle-cli annotate``: make a gold path from waypoints, a drawing, or the map's shortest path."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.options import MAP_OPTIONS, Settings
from imle_cli.reporting import plural


def annotate_part(job: Job, s: Settings) -> Section:
    """gold.png (the path as data: one pixel per cell, white on black), gold.npy, and
    gold_preview.png: a gold path made from waypoints, a drawing, or the map's shortest path."""
    import numpy as np

    from imle_cli import annotation, experiments, figures
    from imle_cli.inputs import read_rgb

    costs = job.inputs.costs
    marks, underlay, extra = [], None, ""
    if s.drawing is not None:
        drawing, notices = read_rgb(s.drawing, "--drawing", s.max_pixels)
        for text in notices:
            job.reporter.notice(text)
        stroke = annotation.stroke_mask(drawing)
        drawn = annotation.drawing_path(annotation.stroke_cells(stroke, costs.shape), s.neighbourhood)
        path, underlay = drawn.path, stroke
        source = f"the drawing {s.drawing.name}"
        extra = (f"; {drawn.strays} of {int(path.sum())} path cells ({drawn.stray_share:.0%}) "
                 f"{'is' if drawn.strays == 1 else 'are'} off the stroke"
                 if drawn.strays else "; every path cell is on the stroke")
    elif s.via:
        marks = [annotation.parse_via(text, costs.shape) for text in s.via]
        routed = np.ones(costs.shape) if s.flat else costs
        path = annotation.waypoint_path(routed, marks, s.neighbourhood)
        points = ", ".join(f"({r}, {c})" for r, c in marks)
        source = f"the shortest path{' on a flat map' if s.flat else ''} through {points}"
    else:
        path = experiments.shortest_path(np.ones(costs.shape) if s.flat else costs, s.neighbourhood) > 0
        source = "the shortest path on a flat map" if s.flat else f"the shortest path on {job.inputs.map_name}"
    job.outputs.png("gold.png", path.astype(np.uint8) * 255, None)
    job.outputs.npy("gold.npy", path.astype(np.uint8))
    figures.write_gold(job.outputs, costs, path, source, marks=marks, underlay=underlay)
    facts = (f"a gold path of {plural(int(path.sum()), 'cell')}: {source}{extra}; use it with "
             f"--gold {s.out / 'gold.png'}")
    return "Gold path", facts, [("gold.png", "the gold path as data"), ("gold_preview.png", "the gold path")]


@command(app, "annotate", f"map_path via flat drawing neighbourhood {MAP_OPTIONS} out still_format dpi quiet")
def annotate(s: Settings) -> None:
    """Make a gold path for a map: writes gold.png (the path as data, for --gold), gold.npy, gold_preview.png.

    \b
    From waypoints: --via ROW,COL (repeatable; 0-based cell indices, row first, as in every
    message and on the preview's axes). The gold is the shortest path on MAP (on a flat map with
    --flat) from the top-left cell through each waypoint in order to the bottom-right cell:
        imle-cli annotate assets/map.png --via 6,14 --via 12,0
    From a drawing: --drawing FILE, an image of the map (any size) with the path drawn on it in
    any colour and pen; the gold is the path of cells that follows the stroke.
    With neither: the shortest path on MAP.
    """
    run_parts(s, [(annotate_part, s)])
