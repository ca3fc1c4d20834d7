"""Golds between any two cells, golds of any size, and gold.json: annotate --start/--end/--via, every
command that takes --gold solving between the gold's ends and ringing them, golds over 128 cells read
back on their own grid, the preview refused as gold data, and every bad input one line, exit 2."""
import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from typer.testing import CliRunner

from imle_cli import experiments
from imle_cli.errors import UserError
from imle_cli.gold_path import check_path, from_cells
from imle_cli.inputs import load_gold
from imle_cli.main import app
from imle_cli.render.palette import MARK_RGB
from imle_cli.specs import LearnSpec

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def ok(*args):
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result


def refused(*args, culprit, out):
    result = run(*args, "--out", out)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imle-cli: error: ") and culprit in lines[0], result.stderr
    assert not Path(out).exists()


@pytest.fixture(scope="module")
def anti_diagonal(tmp_path_factory):
    """A gold from the top-right to the bottom-left cell of the README map (annotate --start --end)."""
    folder = tmp_path_factory.mktemp("anti")
    ok("annotate", ASSETS / "map.png", "--start", "0,15", "--end", "15,0", "--out", folder, "--quiet")
    return folder


def ring_clusters(image: np.ndarray) -> list:
    """The centres (x, y) of the clusters of ring-coloured pixels in a figure."""
    rgb = image[..., :3]
    ys, xs = np.nonzero((rgb == MARK_RGB).all(-1))
    if not len(xs):
        return []
    points = np.stack([xs, ys], 1).astype(float)
    clusters = []
    for point in points:
        for cluster in clusters:
            if np.abs(cluster[0] / cluster[1] - point).max() < 40:
                cluster[0] += point
                cluster[1] += 1
                break
        else:
            clusters.append([point.copy(), 1])
    return [total / count for total, count in clusters]


def test_annotate_writes_the_ends_in_gold_json(anti_diagonal):
    record = json.loads((anti_diagonal / "gold.json").read_text())
    assert record["grid"] == [16, 16] and record["start"] == [0, 15] and record["end"] == [15, 0]
    mask = np.load(anti_diagonal / "gold.npy")
    assert tuple(tuple(cell) for cell in record["cells"]) == check_path(mask, 8, "GOLD", start=(0, 15)).cells
    assert mask[0, 15] and mask[15, 0] and not mask[0, 0]


def test_the_preview_rings_the_free_ends(anti_diagonal):
    left, right = sorted(ring_clusters(iio.imread(anti_diagonal / "gold_preview.png")), key=lambda c: c[0])
    assert left[1] > right[1]  # the bottom-left end is left of and below the top-right one


@pytest.mark.parametrize("command", ["gradients", "compare", "all"])
def test_gradient_commands_solve_between_the_golds_ends_and_ring_them(tmp_path, anti_diagonal, command):
    extra = {"gradients": [], "compare": ["--estimators", "imle,aimle"], "all": ["--steps", 10, "--every", 5]}[command]
    ok(command, ASSETS / "map.png", "--gold", anti_diagonal / "gold.png", "--samples", 4, *extra, "--out", tmp_path,
       "--quiet")
    figure = {"gradients": "gradients.png", "compare": "compare.png", "all": "gradients.png"}[command]
    clusters = ring_clusters(iio.imread(tmp_path / figure))
    assert len(clusters) >= 2


def test_the_gradient_is_computed_between_the_golds_ends(anti_diagonal):
    from imle_cli.inputs import readme_map
    from imle_cli.specs import EstimatorSpec, GradientSpec

    gold = load_gold(anti_diagonal / "gold.png", (16, 16)).gold
    result = experiments.imle_gradients(readme_map(), gold, GradientSpec(3, EstimatorSpec(input_temperature=0.0)))
    for path in result.paths:  # without noise: the shortest path between the gold's ends
        assert path[0, 15] and path[15, 0] and not path[0, 0]
        assert np.array_equal(path, gold.mask)


def test_corner_golds_draw_no_rings(tmp_path):
    ok("gradients", ASSETS / "map.png", "--samples", 3, "--out", tmp_path, "--quiet")
    assert ring_clusters(iio.imread(tmp_path / "gradients.png")) == []


@pytest.mark.heavy
def test_learn_learns_a_free_end_gold(tmp_path, anti_diagonal):
    result = ok("learn", "--gold", anti_diagonal / "gold.png", "--out", tmp_path)
    assert "the learned map's shortest path from (0, 15) to (15, 0) equals the gold path" in " ".join(
        result.stdout.split())


def test_learning_solves_between_the_golds_ends(anti_diagonal):
    gold = load_gold(anti_diagonal / "gold.npy", None).gold
    result = experiments.learn_map(gold, LearnSpec(steps=5, every=5, samples=2))
    for path in result.paths:
        assert path[0, 15] and path[15, 0]


def test_sweep_with_a_free_end_gold(tmp_path, anti_diagonal):
    ok("sweep", "--gold", anti_diagonal / "gold.png", "--input-temperatures", "1", "--target-temperatures", "1",
       "--sample-counts", "2", "--steps", 10, "--every", 5, "--out", tmp_path, "--quiet")
    assert (tmp_path / "sweep.csv").read_text().count("\n") == 2


@pytest.mark.parametrize("shape", [(160, 160), (10, 150)])
def test_big_and_strip_golds_read_back_without_a_map(tmp_path, shape):
    np.save(tmp_path / "flat.npy", np.ones(shape))
    grid = f"{shape[0]}x{shape[1]}"
    ok("annotate", tmp_path / "flat.npy", "--grid", grid, "--via", f"{shape[0] // 2},{shape[1] // 3}", "--out",
       tmp_path / "gold", "--quiet")
    written = np.load(tmp_path / "gold" / "gold.npy")
    assert written.shape == shape
    (tmp_path / "gold" / "gold.json").unlink()  # gold.png alone is read on its own grid too
    for source in ("gold.png", "gold.npy"):
        assert np.array_equal(load_gold(tmp_path / "gold" / source, None).gold.mask, written)
    ok("learn", "--gold", tmp_path / "gold" / "gold.png", "--steps", 2, "--every", 1, "--samples", 1,
       "--out", tmp_path / "learn", "--quiet")
    ok("sweep", "--gold", tmp_path / "gold" / "gold.png", "--input-temperatures", "1", "--target-temperatures", "1",
       "--sample-counts", "1", "--steps", 2, "--every", 1, "--out", tmp_path / "sweep", "--quiet")


def test_a_path_whose_ends_touch_needs_gold_json(tmp_path):
    # a U whose two ends are neighbours: as a mask it reads as a closed loop; in order it is a path
    ring = [(1, 1), (2, 1), (3, 1), (3, 2), (3, 3), (2, 3), (1, 3), (1, 2)]
    np.save(tmp_path / "ring.npy", from_cells(ring, (5, 5), 4, "GOLD").mask)
    with pytest.raises(UserError, match="closed loop .* gold.json"):
        load_gold(tmp_path / "ring.npy", None, 4)
    (tmp_path / "ring.json").write_text(json.dumps({"grid": [5, 5], "neighbourhood": 4, "start": [1, 1],
                                                     "end": [1, 2], "cells": ring}))
    loaded = load_gold(tmp_path / "ring.npy", None, 4).gold
    assert (loaded.start, loaded.end, loaded.cells) == ((1, 1), (1, 2), tuple(ring))


def test_the_preview_passed_as_gold_says_it_is_not_gold_data(tmp_path, anti_diagonal):
    refused("gradients", ASSETS / "map.png", "--gold", anti_diagonal / "gold_preview.png", out=tmp_path / "o",
            culprit="is not gold data")
    result = run("learn", "--gold", anti_diagonal / "gold_preview.png", "--out", tmp_path / "o")
    assert "gold.png or gold.npy" in result.stderr and "--invert" not in result.stderr


@pytest.mark.parametrize("args, culprit", [
    (["--start", "16,0"], "--start 16,0 is outside the 16x16-cell map"),
    (["--end", "3"], "--end must be ROW,COL"),
    (["--start", "-1,0"], "--start must be ROW,COL"),
    (["--start", "4,4", "--end", "4,4"], "are the same cell"),
    (["--flat", "--via", "0,0"], "are the same cell"),
])
def test_bad_ends(tmp_path, args, culprit):
    refused("annotate", ASSETS / "map.png", *args, culprit=culprit, out=tmp_path / "o")


def test_gold_json_that_disagrees_or_is_broken_is_refused(tmp_path, anti_diagonal):
    folder = tmp_path / "gold"
    folder.mkdir()
    for name in ("gold.png", "gold.json"):
        (folder / name).write_bytes((anti_diagonal / name).read_bytes())
    record = json.loads((folder / "gold.json").read_text())
    record["cells"] = record["cells"][:-1]
    record["end"] = record["cells"][-1]
    (folder / "gold.json").write_text(json.dumps(record))
    refused("gradients", ASSETS / "map.png", "--gold", folder / "gold.png", out=tmp_path / "o",
            culprit="gold.json beside it disagree")
    (folder / "gold.json").write_text("{not json")
    refused("gradients", ASSETS / "map.png", "--gold", folder / "gold.png", out=tmp_path / "o",
            culprit="is not a gold path record")
    (folder / "gold.json").write_bytes((anti_diagonal / "gold.json").read_bytes())
    refused("gradients", ASSETS / "map.png", "--grid", 8, "--gold", folder / "gold.png", out=tmp_path / "o",
            culprit="read the map on the gold's grid with --grid 16x16")


# ---- a gold made editable: the waypoints that give it again

@pytest.mark.parametrize("seed", range(6))
def test_waypoints_along_a_gold_give_it_again(seed):
    from imle_cli.annotation import waypoint_path, waypoints_along

    rng = np.random.default_rng(seed)
    made = 0
    while made < 20:
        rows, cols = (int(n) for n in rng.integers(3, 25, 2))
        costs = rng.uniform(1, 100, (rows, cols))
        neighbourhood = int(rng.choice([4, 8]))
        stops = [tuple(int(n) for n in rng.integers(0, (rows, cols))) for _ in range(int(rng.integers(2, 6)))]
        try:
            gold = waypoint_path(costs, stops[1:-1], neighbourhood, start=stops[0], end=stops[-1])
        except UserError:  # waypoints whose legs must cross: no gold to edit
            continue
        made += 1
        found = waypoints_along(costs, gold, neighbourhood)
        again = waypoint_path(costs, found, neighbourhood, start=gold.start, end=gold.end)
        assert np.array_equal(again.mask, gold.mask) and (again.start, again.end) == (gold.start, gold.end)


def test_a_shortest_path_needs_no_waypoints_and_a_detour_names_its_turn():
    from imle_cli.annotation import waypoint_path, waypoints_along

    costs = np.ones((9, 9))
    assert waypoints_along(costs, waypoint_path(costs, [])) == []
    costs[1:8, 1:8] = 50  # a dear block: the gold around its far side needs the corner it turns at
    around = waypoint_path(costs, [(8, 0)], 4)
    found = waypoints_along(costs, around, 4)
    assert len(found) == 1 and found[0][0] == 8  # on the bottom row, where the leg leaves the top route
    assert np.array_equal(waypoint_path(costs, found, 4).mask, around.mask)
