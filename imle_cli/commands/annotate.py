"""``imle-cli annotate``: make a gold path from waypoints, a drawing, or the map's shortest path."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.options import MAP_OPTIONS, Settings
from imle_cli.reporting import plural


def annotate_part(job: Job, s: Settings) -> Section:
    """gold.png (the path as data: one pixel per cell, white on black), gold.npy, gold.json (the
    ordered cells, the ends and the grid) and gold_preview.png: a gold path made from waypoints,
    a drawing, or the map's shortest path, between the corners or any two cells."""
    import numpy as np

    from imle_cli import annotation, figures
    from imle_cli.inputs.gold import gold_files

    costs = job.inputs.costs
    start, end = (None if text is None else annotation.parse_cell(text, costs.shape, flag)
                  for text, flag in ((s.start, "--start"), (s.end, "--end")))
    marks, underlay, extra = [], None, ""
    if s.drawing is not None:
        drawn, underlay = _drawn_path(job, s, start, end)
        gold = drawn.gold
        source = f"the drawing {s.drawing.name}"
        extra = (f"; {drawn.strays} of {gold.length} path cells ({drawn.stray_share:.0%}) "
                 f"{'is' if drawn.strays == 1 else 'are'} off the pen's cells" if drawn.strays
                 else "; every path cell is under the pen")
        if drawn.far:
            extra += (f"; {drawn.far} of {int(drawn.touched.sum())} pen cells ({drawn.far_share:.0%}) are more than "
                      f"{plural(drawn.reach, 'cell')} (the pen's half-width and one) from the path")
    else:
        routed = np.ones(costs.shape) if s.flat else costs
        marks = [annotation.parse_cell(text, costs.shape, "--via") for text in s.via or ()]
        gold = annotation.waypoint_path(routed, marks, s.neighbourhood, start=start, end=end)
        points = f" through {', '.join(f'({r}, {c})' for r, c in marks)}" if marks else ""
        on = "a flat map" if s.flat else job.inputs.map_name
        source = f"the shortest path on {on}{points}"
    for name, content in gold_files(gold, s.neighbourhood).items():
        job.outputs.file(name, content, gold.shape[::-1] if name != "gold.json" else (0, 0))
    figures.write_gold(job.outputs, costs, gold, source, marks=marks, underlay=underlay)
    facts = (f"a gold path of {plural(gold.length, 'cell')} {gold.describe()}: {source}{extra}; use it with "
             f"--gold {s.out / 'gold.png'}")
    return "Gold path", facts, [("gold.png", "the gold path as data (gold.json: its cells in order, with its ends)"),
                                ("gold_preview.png", "the gold path")]


def _drawn_path(job: Job, s: Settings, start, end):
    """(the DrawnPath of --drawing over MAP, the stroke's pixels for the preview's underlay)."""
    from imle_cli import annotation
    from imle_cli.inputs import read_rgb

    drawing, notices = read_rgb(s.drawing, "--drawing", s.max_pixels)
    for text in notices:
        job.reporter.notice(text)
    costs, map_image = job.inputs.costs, job.inputs.map_image
    if map_image is not None:
        annotation.check_drawing_shape(drawing.shape[:2], map_image.shape[:2], f"MAP {s.map_path.name!r} (pixels)")
    else:
        annotation.check_drawing_shape(drawing.shape[:2], costs.shape, "the map (cells)")
    found = annotation.find_stroke(drawing, map_image)
    if found.notice:
        job.reporter.notice(found.notice)
    cells = annotation.stroke_cells(found.pixels, costs.shape)
    return annotation.drawing_path(cells, s.neighbourhood, costs=costs, start=start, end=end), found.pixels


@command(app, "annotate", f"map_path via start end flat drawing neighbourhood {MAP_OPTIONS} out still_format dpi "
                          "quiet")
def annotate(s: Settings) -> None:
    """Make a gold path for a map: writes gold.png (the path as data, for --gold), gold.npy, gold.json, gold_preview.png.

    \b
    From a drawing: --drawing FILE, the map image with the path drawn over it
    in any colour and pen (or a drawing of the map's shape on a blank page);
    the gold follows the stroke's centre line from one end to the other (or
    between --start and --end):
        imle-cli annotate assets/map.png --drawing drawn.jpg
    From waypoints: --via ROW,COL (repeatable; 0-based cell indices, row
    first, as in every message and on the preview's axes). The gold is the
    shortest path on MAP (on a flat map with --flat) from --start (default:
    the top-left cell) through each waypoint in order to --end (default: the
    bottom-right cell):
        imle-cli annotate assets/map.png --via 6,14 --via 12,0
        imle-cli annotate assets/map.png --start 0,15 --end 15,0
    With neither: the shortest path on MAP between the ends.
    """
    run_parts(s, [(annotate_part, s)], map_image=s.drawing is not None)
