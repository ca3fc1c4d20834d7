"""annotate --drawing on drawings made the way users make them: a pen stroke composited over the map
image itself (anti-aliased, JPEG-compressed, thin and thick, coloured pens) over assets/map.png,
assets/terrain.png and a photo. Each gold is measured against the pen's own pixels (which the test
drew), never against the tool's reading of the stroke."""
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

from imle_cli.inputs import readme_map
from imle_cli.main import app

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def pen_coverage(size, points, width, supersample=4) -> np.ndarray:
    """Float [h, w] in [0, 1]: an anti-aliased round pen of ``width`` pixels along ``points`` (x, y)."""
    w, h = size
    big = Image.new("L", (w * supersample, h * supersample), 0)
    draw = ImageDraw.Draw(big)
    scaled = [(x * supersample, y * supersample) for x, y in points]
    draw.line(scaled, fill=255, width=int(round(width * supersample)))
    radius = width * supersample / 2
    for x, y in scaled:
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
    return np.asarray(big.resize((w, h), Image.LANCZOS), dtype=np.float32) / 255


def draw_over(image: Image.Image, points, width, colour, path: Path, quality: int = 85) -> np.ndarray:
    """Composite the pen over ``image`` (as a paint program does) and save it (JPEG by the suffix);
    returns the pen's coverage."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    alpha = pen_coverage(image.size, points, width)
    out = rgb * (1 - alpha[..., None]) + np.asarray(colour, dtype=np.float32) * alpha[..., None]
    Image.fromarray(out.clip(0, 255).round().astype(np.uint8)).save(path, quality=quality)
    return alpha


def pen_cells(alpha: np.ndarray, shape) -> np.ndarray:
    """Bool [rows, cols]: the cells the pen covers (at least a tenth of a cell's area, or a tenth of
    the pen's width across it): the test's own account of the stroke."""
    rows, cols = shape
    h, w = alpha.shape
    ys, xs = (np.arange(rows) * h) // rows, (np.arange(cols) * w) // cols
    covered = np.add.reduceat(np.add.reduceat((alpha > 0.5).astype(float), ys, 0), xs, 1)
    area = np.add.reduceat(np.add.reduceat(np.ones_like(alpha), ys, 0), xs, 1)
    return covered >= 0.1 * np.minimum(area, covered.max())


def within_one_cell(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Bool: the cells of ``a`` with a cell of ``b`` at chessboard distance <= 1."""
    padded = np.pad(b, 1)
    near = np.zeros_like(b)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            near |= padded[1 + dr:1 + dr + b.shape[0], 1 + dc:1 + dc + b.shape[1]]
    return a & near


def distance_to_polyline(cells: np.ndarray, points) -> np.ndarray:
    """The distance (in cells) from each cell centre of ``cells`` ([N, 2] rows, cols) to a polyline
    given as (row, col) points in cell units."""
    centres = cells + 0.5
    best = np.full(len(centres), np.inf)
    for a, b in zip(points[:-1], points[1:]):
        a, b = np.asarray(a, float), np.asarray(b, float)
        t = np.clip(((centres - a) @ (b - a)) / max((b - a) @ (b - a), 1e-12), 0, 1)
        best = np.minimum(best, np.linalg.norm(centres - (a + t[:, None] * (b - a)), axis=1))
    return best


def annotate(tmp_path, *args, out="gold"):
    result = run("annotate", *args, "--out", tmp_path / out)
    assert result.exit_code == 0, result.stderr
    gold = np.asarray(Image.open(tmp_path / out / "gold.png")) > 0
    return gold, result


def check_follows_pen(gold, pen, *, under=0.95, near=0.95):
    """The gold keeps to the pen's cells and the pen's cells lie along the gold."""
    assert (gold & pen).sum() >= under * gold.sum(), f"{(gold & ~pen).sum()} of {gold.sum()} gold cells off the pen"
    assert within_one_cell(pen, gold).sum() >= near * pen.sum(), "pen cells far from the gold"


# The README map's corridors (cell units, row then column): along row 0, down column 13, back along
# rows 6-7, down column 0, along rows 12-13 and down to the bottom-right corner.
CORRIDORS = [(0.5, 0.5), (0.5, 13.5), (6.5, 13.5), (6.5, 0.5), (12.5, 0.5), (12.5, 14.5), (15.5, 15.5)]


def to_pixels(points, cell):
    return [(c * cell, r * cell) for r, c in points]


def test_a_red_stroke_over_the_map_itself_follows_the_corridors(tmp_path):
    # the case: a 6-px anti-aliased red stroke over assets/map.png (16-px cells), as JPEG
    alpha = draw_over(Image.open(ASSETS / "map.png"), to_pixels(CORRIDORS, 16), 6, (220, 30, 30),
                      tmp_path / "drawn.jpg")
    gold, result = annotate(tmp_path, ASSETS / "map.png", "--drawing", tmp_path / "drawn.jpg")
    check_follows_pen(gold, pen_cells(alpha, (16, 16)))
    assert not (gold & (readme_map() == 100)).any()  # no wall cell: the pen goes around the walls
    assert "from (0, 0) to (15, 15)" in result.stdout
    assert "every path cell is under the pen" in result.stdout


def test_a_stroke_hugging_the_walls_enters_no_wall(tmp_path):
    # the pen runs a few pixels off the walls' edges, inside the corridors, through their corners
    hugging = [(0.3, 2), (0.3, 12.3), (6.3, 12.3), (6.3, 2), (7.7, 0.3), (12.3, 0.3), (12.3, 15.7)]
    alpha = draw_over(Image.open(ASSETS / "map.png"), to_pixels(hugging, 16), 4, (20, 20, 200),
                      tmp_path / "drawn.jpg", quality=70)
    gold, _ = annotate(tmp_path, ASSETS / "map.png", "--drawing", tmp_path / "drawn.jpg")
    check_follows_pen(gold, pen_cells(alpha, (16, 16)), under=0.9)
    assert not (gold & (readme_map() == 100)).any()


def test_a_green_pen_over_a_photo(tmp_path):
    import matplotlib.cbook

    photo = Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")).convert("RGB")
    photo.save(tmp_path / "photo.png")
    points = [(60, 40), (300, 200), (200, 500), (480, 560)]  # x, y in pixels of the 512x600 photo
    alpha = draw_over(photo, points, 8, (40, 220, 40), tmp_path / "drawn.jpg", quality=80)
    gold, result = annotate(tmp_path, tmp_path / "photo.png", "--drawing", tmp_path / "drawn.jpg")
    assert gold.shape == (128, 109)
    pen = pen_cells(alpha, gold.shape)
    check_follows_pen(gold, pen)
    assert not within_one_cell(gold, pen).sum() < gold.sum()  # no gold cell more than a cell from the pen


def test_a_blue_pen_over_the_terrain_at_another_size(tmp_path):
    terrain = Image.open(ASSETS / "terrain.png").convert("RGB").resize((768, 768), Image.BICUBIC)  # zoomed 2x
    points = [(700, 60), (420, 300), (430, 520), (60, 720)]
    alpha = draw_over(terrain, points, 10, (30, 60, 230), tmp_path / "drawn.jpg", quality=75)
    gold, result = annotate(tmp_path, ASSETS / "terrain.png", "--grid", 48, "--drawing", tmp_path / "drawn.jpg")
    check_follows_pen(gold, pen_cells(alpha, (48, 48)))
    r0, c0 = points[0][1] / 16, points[0][0] / 16
    r1, c1 = points[-1][1] / 16, points[-1][0] / 16
    assert f"from ({int(r0)}, {int(c0)}) to ({int(r1)}, {int(c1)})" in result.stdout  # the stroke's own ends


@pytest.mark.parametrize("corner", ["right angle", "zigzag"])
def test_a_thick_marker_gives_its_centre_line(tmp_path, corner):
    # a marker about 3 cells wide on a flat 16x16 map: the gold keeps to the centre line, corners included
    centre = {"right angle": [(3, 13.5), (12.5, 13.5), (12.5, 2)],
              "zigzag": [(2, 2), (8, 13.5), (13.5, 3)]}[corner]
    np.save(tmp_path / "flat.npy", np.ones((16, 16)))
    page = Image.new("RGB", (512, 512), (250, 250, 245))
    alpha = draw_over(page, to_pixels(centre, 32), 96, (30, 150, 60), tmp_path / "marker.jpg")
    gold, _ = annotate(tmp_path, tmp_path / "flat.npy", "--drawing", tmp_path / "marker.jpg")
    cells = np.argwhere(gold)
    distance = distance_to_polyline(cells, centre)
    assert distance.mean() <= 0.6 and distance.max() <= 1.25, (distance.mean(), distance.max())
    assert not (gold & ~pen_cells(alpha, (16, 16))).any()
    record = json.loads((tmp_path / "gold" / "gold.json").read_text())
    for end, tip in zip(sorted([record["start"], record["end"]]), sorted([centre[0], centre[-1]])):
        assert max(abs(end[0] + 0.5 - tip[0]), abs(end[1] + 0.5 - tip[1])) <= 1.5  # the marker's own ends


def test_a_drawing_on_a_blank_page_for_an_image_map_still_works(tmp_path):
    drawing = Image.new("RGB", (512, 512), "white")
    points = to_pixels(CORRIDORS, 32)
    ImageDraw.Draw(drawing).line(points, fill=(200, 30, 30), width=8)
    drawing.save(tmp_path / "page.jpg", quality=80)
    alpha = pen_coverage((512, 512), points, 8)
    gold, result = annotate(tmp_path, ASSETS / "map.png", "--drawing", tmp_path / "page.jpg")
    check_follows_pen(gold, pen_cells(alpha, (16, 16)))
    assert "read as a drawing on a blank page" in " ".join(result.stderr.split())


def test_start_and_end_with_a_drawing_pick_the_stroke_between_them(tmp_path):
    alpha = draw_over(Image.open(ASSETS / "map.png"), to_pixels(CORRIDORS, 16), 6, (220, 30, 30),
                      tmp_path / "drawn.jpg")
    gold, result = annotate(tmp_path, ASSETS / "map.png", "--drawing", tmp_path / "drawn.jpg", "--start", "6,6")
    assert "from (6, 6) to (15, 15)" in result.stdout
    assert not gold[0].any() and (gold & pen_cells(alpha, (16, 16))).sum() >= 0.95 * gold.sum()


def test_a_drawing_of_another_shape_is_refused_naming_both(tmp_path):
    np.save(tmp_path / "strip.npy", np.ones((20, 300)))
    Image.new("RGB", (300, 300), "white").save(tmp_path / "square.png")
    out = tmp_path / "out"
    result = run("annotate", tmp_path / "strip.npy", "--grid", "20x300", "--drawing", tmp_path / "square.png",
                 "--out", out)
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "300x300 pixels" in result.stderr and "20x300" in result.stderr
    assert not out.exists()


def test_the_summary_counts_pen_cells_far_from_the_gold(tmp_path):
    # a stroke with a small scribble beside it: the scribble's cells are reported, not hidden
    drawing = Image.new("RGB", (320, 320), "white")
    draw = ImageDraw.Draw(drawing)
    draw.line([(5, 5), (315, 315)], fill=(0, 0, 0), width=6)
    draw.line([(250, 40), (262, 52)], fill=(0, 0, 0), width=6)
    drawing.save(tmp_path / "scribble.png")
    gold, result = annotate(tmp_path, "--drawing", tmp_path / "scribble.png")
    assert np.array_equal(gold, np.eye(16, dtype=bool))
    assert "pen cells" in result.stdout and "(the pen's half-width and one) from the path" in result.stdout
