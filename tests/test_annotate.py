"""imle-cli annotate and the honest gold check: every way of making a gold path round-trips through
`gradients --gold`; blobs, branches, loops, blocks, broken strokes and bad waypoints are refused
with one line naming the cell, exit code 2 and nothing written."""
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter
from typer.testing import CliRunner

from helpers import is_corner_path
from imle_cli.errors import UserError
from imle_cli.main import app
from imle_cli.gold_path import check_path
from imle_cli.inputs import load_gold, readme_map

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def annotate_then_gradients(tmp_path, *args):
    """annotate with args into tmp_path/gold; gradients --gold its gold.png; the gold mask."""
    result = run("annotate", *args, "--out", tmp_path / "gold")
    assert result.exit_code == 0, result.stderr
    gold = np.asarray(Image.open(tmp_path / "gold" / "gold.png"))
    assert set(np.unique(gold)) <= {0, 255}  # data: one pixel per cell, white on black
    assert np.array_equal(np.load(tmp_path / "gold" / "gold.npy"), gold // 255)
    assert (tmp_path / "gold" / "gold_preview.png").exists()
    map_args = [a for a in args[:1] if not str(a).startswith("--")]
    result = run("gradients", *map_args, "--gold", tmp_path / "gold" / "gold.png", "--samples", 3,
                 "--out", tmp_path / "grad", "--quiet")
    assert result.exit_code == 0, result.stderr
    return gold > 0


def polyline_cells(points, size, shape):
    """The cells a polyline (in drawing pixels) passes within one cell of: an independent oracle."""
    rows, cols = shape
    near = Image.new("L", (cols * 8, rows * 8), 0)
    scale = (cols * 8 / size[0], rows * 8 / size[1])
    ImageDraw.Draw(near).line([(x * scale[0], y * scale[1]) for x, y in points], fill=255, width=20)
    return np.asarray(near.resize((cols, rows), Image.BOX)) > 0


def test_three_waypoints_on_the_readme_map(tmp_path):
    gold = annotate_then_gradients(tmp_path, ASSETS / "map.png", "--via", "6,14", "--via", "7,1", "--via", "13,3")
    assert is_corner_path(gold, 8)
    assert gold[6, 14] and gold[7, 1] and gold[13, 3]
    assert (gold * readme_map()).max() == 1  # waypoints routed around every wall


def test_flat_without_waypoints_is_the_diagonal(tmp_path):
    assert np.array_equal(annotate_then_gradients(tmp_path, "--flat"), np.eye(16, dtype=bool))


def test_without_options_the_gold_is_the_maps_shortest_path(tmp_path):
    from imle.solvers import grid_shortest_path

    gold = annotate_then_gradients(tmp_path, ASSETS / "map.png")
    assert np.array_equal(gold, grid_shortest_path(readme_map()) > 0)


RED_POLYLINE = [(5, 5), (480, 40), (470, 230), (30, 220), (40, 460), (506, 506)]


def test_a_512px_red_polyline_6px_wide_on_white(tmp_path):
    drawing = Image.new("RGB", (512, 512), "white")
    ImageDraw.Draw(drawing).line(RED_POLYLINE, fill=(220, 30, 30), width=6)
    drawing.save(tmp_path / "drawing.png")
    gold = annotate_then_gradients(tmp_path, ASSETS / "map.png", "--drawing", tmp_path / "drawing.png")
    assert is_corner_path(gold, 8)
    assert not (gold & ~polyline_cells(RED_POLYLINE, (512, 512), (16, 16))).any()


def test_a_48px_drawing_with_a_1px_black_line_on_grey(tmp_path):
    drawing = Image.new("RGB", (48, 48), (150, 150, 150))
    points = [(0, 0), (40, 5), (47, 47)]
    ImageDraw.Draw(drawing).line(points, fill=(0, 0, 0), width=1)
    drawing.save(tmp_path / "drawing.png")
    gold = annotate_then_gradients(tmp_path, "--drawing", tmp_path / "drawing.png")
    assert is_corner_path(gold, 8)
    assert not (gold & ~polyline_cells(points, (48, 48), (16, 16))).any()


def test_a_photographed_drawing_blurred_jpeg_and_unevenly_lit(tmp_path):
    # pen on paper under a lamp: a brightness gradient across the page, a soft blue stroke, JPEG
    y, x = np.mgrid[0:600, 0:600]
    paper = (170 + 70 * x / 600 + 10 * y / 600)[..., None] * np.array([1.0, 0.97, 0.9])
    drawing = Image.fromarray(paper.clip(0, 255).astype(np.uint8))
    points = [(8, 8), (300, 150), (150, 420), (592, 592)]
    ImageDraw.Draw(drawing).line(points, fill=(40, 50, 120), width=5)
    drawing = drawing.filter(ImageFilter.GaussianBlur(2))
    buffer = io.BytesIO()
    drawing.save(buffer, format="JPEG", quality=60)
    (tmp_path / "photo.jpg").write_bytes(buffer.getvalue())
    gold = annotate_then_gradients(tmp_path, ASSETS / "map.png", "--drawing", tmp_path / "photo.jpg")
    assert is_corner_path(gold, 8)
    assert not (gold & ~polyline_cells(points, (600, 600), (16, 16))).any()


def test_a_drawing_on_a_rectangular_12x30_map(tmp_path):
    np.save(tmp_path / "wide.npy", np.ones((12, 30)))
    drawing = Image.new("RGB", (600, 240), "white")
    points = [(3, 3), (300, 200), (596, 236)]
    ImageDraw.Draw(drawing).line(points, fill=(0, 120, 0), width=4)
    drawing.save(tmp_path / "drawing.png")
    gold = annotate_then_gradients(tmp_path, tmp_path / "wide.npy", "--drawing", tmp_path / "drawing.png")
    assert gold.shape == (12, 30) and is_corner_path(gold, 8)
    assert not (gold & ~polyline_cells(points, (600, 240), (12, 30))).any()


def test_gold_png_reads_back_unchanged(tmp_path):
    run("annotate", ASSETS / "map.png", "--via", "6,14", "--out", tmp_path)
    written = np.asarray(Image.open(tmp_path / "gold.png")) > 0
    assert np.array_equal(load_gold(tmp_path / "gold.png", (16, 16)).gold.mask > 0, written)


def test_a_thin_gold_line_at_another_resolution_is_resampled_with_a_notice(tmp_path):
    image = np.zeros((48, 48), dtype=np.uint8)
    image[np.arange(48), np.arange(48)] = 255  # a 1-pixel diagonal: block means would lose it
    Image.fromarray(image).save(tmp_path / "thin.png")
    result = run("gradients", "--gold", tmp_path / "thin.png", "--samples", 2, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    assert "resampled" in result.stderr
    assert np.array_equal(load_gold(tmp_path / "thin.png", (16, 16)).gold.mask, np.eye(16))


def test_invert_reads_dark_cells_as_the_path(tmp_path):
    Image.fromarray(((1 - np.eye(16)) * 255).astype(np.uint8)).save(tmp_path / "dark.png")
    result = run("gradients", "--gold", tmp_path / "dark.png", "--invert", "--samples", 2, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr


# ---- refusals ----

def gold_image(tmp: Path, mask: np.ndarray, name: str = "gold.png") -> Path:
    Image.fromarray(mask.astype(np.uint8) * 255).save(tmp / name)
    return tmp / name


def block():
    mask = np.eye(16, dtype=bool)
    mask[3, 4] = mask[4, 3] = True
    return mask


def _t():
    mask = np.zeros((16, 16), dtype=bool)
    mask[0, 0:16] = True
    mask[0:16, 15] = True
    mask[0:9, 7] = True  # a stem down from the top row: a T at (0, 7)
    return mask


def _loop():
    # the diagonal, with a diamond of diagonal steps around cell (6, 6) in place of it
    mask = np.eye(16, dtype=bool)
    mask[6, 6] = False
    mask[5, 6] = mask[6, 7] = mask[7, 6] = mask[6, 5] = False
    for r, c in ((5, 5), (4, 6), (5, 7), (6, 8), (7, 7), (8, 6), (7, 5), (6, 4)):
        mask[r, c] = True
    return mask


@pytest.mark.parametrize("name, build, culprit", [
    ("all-white", lambda: np.ones((16, 16), bool), "try --invert"),
    ("t-shape", _t, "branches at (0, 7)"),
    ("2x2 block", block, "a block of path cells at (3, 3)"),
    ("loop", _loop, "has a loop through cell"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_gold_images_are_refused_with_the_cell(tmp_path, name, build, culprit):
    path = gold_image(tmp_path, build())
    out = tmp_path / "out"
    result = run("gradients", "--gold", path, "--out", out)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0] and "Traceback" not in result.stderr
    assert not out.exists()


def test_terrain_image_as_gold_is_refused_as_not_gold_data(tmp_path):
    result = run("gradients", ASSETS / "terrain.png", "--gold", ASSETS / "terrain.png", "--out", tmp_path / "o")
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "is not gold data" in result.stderr and "gold.png or gold.npy" in result.stderr
    assert not (tmp_path / "o").exists()


def refused(tmp_path, *args, culprit):
    out = tmp_path / "out"
    result = run("annotate", *args, "--out", out)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imle-cli: error: ") and culprit in lines[0], result.stderr
    assert not out.exists()


def test_a_stroke_that_stops_halfway_is_refused_when_the_end_is_asked_for(tmp_path):
    drawing = Image.new("RGB", (320, 320), "white")
    ImageDraw.Draw(drawing).line([(2, 2), (150, 160)], fill=(0, 0, 0), width=5)
    drawing.save(tmp_path / "half.png")
    refused(tmp_path, "--drawing", tmp_path / "half.png", "--end", "15,15",
            culprit="does not join (0, 0) and (15, 15): it stops at cell (7, 7)")


def test_two_strokes_are_refused(tmp_path):
    drawing = Image.new("RGB", (320, 320), "white")
    ImageDraw.Draw(drawing).line([(2, 2), (150, 150)], fill=(0, 0, 0), width=5)
    ImageDraw.Draw(drawing).line([(200, 30), (300, 30)], fill=(0, 0, 0), width=5)
    drawing.save(tmp_path / "two.png")
    refused(tmp_path, "--drawing", tmp_path / "two.png", culprit="--drawing has more than one stroke")


def test_a_blank_drawing_is_refused(tmp_path):
    Image.new("RGB", (64, 64), "white").save(tmp_path / "blank.png")
    refused(tmp_path, "--drawing", tmp_path / "blank.png", culprit="has no stroke")


@pytest.mark.parametrize("via, culprit", [
    ("20,3", "--via 20,3 is outside the 16x16-cell map"),
    ("3", "--via must be ROW,COL"),
    ("a,b", "--via must be ROW,COL"),
    ("3,4,5", "--via must be ROW,COL"),
    ("-1,2", "--via must be ROW,COL"),
])
def test_bad_waypoints(tmp_path, via, culprit):
    refused(tmp_path, "--via", via, culprit=culprit)


def test_a_waypoint_on_an_earlier_legs_cells_is_refused_with_both_legs(tmp_path):
    # (0, 5) then (0, 2): the second leg must end on a cell the first leg already took
    refused(tmp_path, "--flat", "--via", "0,5", "--via", "0,2",
            culprit="would visit cell (0, 2) twice: the leg from (0, 5) to (0, 2) cannot avoid the leg from (0, 0)")


def test_drawing_and_via_are_alternatives(tmp_path):
    refused(tmp_path, "--via", "3,3", "--drawing", ASSETS / "map.png", culprit="--drawing and --via are alternatives")


# ---- the rule itself, cell by cell ----

@pytest.mark.parametrize("mask, neighbourhood, culprit", [
    (np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]]), 8, "turns a corner at (0, 1)"),
    (np.array([[1, 0, 0], [1, 0, 0], [0, 1, 1]]), 8, "ok"),
    (np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]]), 4, "ok"),
    (np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]]), 4, "cell (1, 1) is not joined to the path through cell (0, 0)"),
    (np.array([[1, 1, 1], [1, 0, 1], [1, 1, 1]]), 4, "is a closed loop through cell (0, 0): it has no ends"),
    (np.array([[1, 1, 1, 1], [0, 0, 1, 0], [0, 0, 1, 1]]), 4, "branches at (0, 2)"),
    (np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0]]), 8, "ok"),  # free ends: (0, 0) to (1, 1)
    (np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), 8, "has one path cell, (1, 1)"),
    (np.array([[1, 1, 1, 0], [1, 0, 1, 0], [1, 1, 1, 1]]), 4, "has a loop through cell (0, 0)"),
])
def test_the_gold_rule(mask, neighbourhood, culprit):
    try:
        check_path(mask.astype(bool), neighbourhood, "GOLD")
        outcome = "ok"
    except UserError as error:
        outcome = str(error)
    assert culprit in outcome
