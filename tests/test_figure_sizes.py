"""Figures at every size (issue 24): 256-cell grids drawn 2 px a cell with visible paths, wide maps
with a horizontal colour bar, one page size per command's set, regular colour-bar ticks, subtitles
that stay legible, outlines that leave small cells their colours, and compare's captions."""
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from typer.testing import CliRunner

from figure_decoding import decode_overlay
from imle_cli.main import app
from imle_cli.render import Figure
from imle_cli.render.layout import nice_ticks
from imle_cli.render.palette import GOLD_LINE

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def ok(*args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.stderr
    return result


def sizes(folder: Path) -> dict:
    return {path.name: iio.imread(path, index=0).shape[:2] for path in folder.iterdir() if path.suffix in (".png", ".gif")}


def test_a_256_cell_grid_is_drawn_two_pixels_a_cell_with_its_paths_visible(tmp_path):
    costs = np.random.default_rng(0).uniform(1, 100, (256, 256))
    np.save(tmp_path / "map.npy", costs)
    ok("sample", tmp_path / "map.npy", "--grid", 256, "--samples", 2, "--noise", "gumbel", "--out", tmp_path / "out",
       "--quiet")
    from imle_cli.figures import sample_figures

    figure = sample_figures(costs, axes=False)[0]
    assert figure.scale == 2 and figure.map_width == 512
    frame = iio.imread(tmp_path / "out" / "paths.gif", index=0)[..., :3]
    assert frame.shape[:2] == (figure.height, figure.width)
    drawn = decode_overlay(figure, frame)
    assert drawn[0, 0] and 200 <= drawn.sum() <= 2 * 256  # a path from the corner, drawn over its cells
    # beyond max_long / 2 cells a cell is one pixel (the cap the README names)
    assert Figure((700, 700), cmap="viridis", vmin=0.0, vmax=1.0, label="x").scale == 1


def test_a_wide_flat_map_gets_a_horizontal_colour_bar_and_one_size_for_the_set(tmp_path):
    ok("sample", ASSETS / "terrain.png", "--grid", "10x150", "--samples", 3, "--out", tmp_path, "--quiet")
    shapes = sizes(tmp_path)
    assert set(shapes) == {"map.png", "paths.gif", "distribution.gif", "distribution.png"}
    assert len(set(shapes.values())) == 1, shapes
    figure = Figure((10, 150), cmap="viridis", vmin=0.0, vmax=1.0, label="share of draws through the cell")
    assert figure.horizontal and figure.width < 900
    height, width = next(iter(shapes.values()))
    assert height < 2 * (figure.map_height + 120)  # no bar three times the map's height
    still = iio.imread(tmp_path / "distribution.png")[..., :3].astype(int)
    bar = [item for item in figure.chrome if type(item).__name__ == "Gradient"][0]
    left, top, right, bottom = bar.box
    assert top > figure.map_y + figure.map_height and right - left == figure.map_width
    row = still[(top + bottom) // 2, left:right]
    assert np.array_equal(row[0], figure.colours[0]) and np.array_equal(row[-1], figure.colours[-1])
    # a square map keeps its bar on the right
    assert not Figure((16, 16), cmap="viridis", vmin=0.0, vmax=1.0, label="x").horizontal


def test_learn_writes_its_two_gifs_at_one_size(tmp_path):
    ok("learn", "--steps", 10, "--every", 5, "--samples", 2, "--out", tmp_path, "--quiet")
    shapes = sizes(tmp_path)
    assert shapes["learning_paths.gif"] == shapes["learning_weights.gif"]


@pytest.mark.parametrize("low, high", [(0.0, 1.0), (5.77, 99.1), (-0.37, 0.37), (1.0, 100.0), (0.0, 64.0)])
def test_colour_bar_ticks_are_at_a_regular_step(low, high):
    ticks = nice_ticks(low, high)
    steps = np.diff(ticks)
    assert len(ticks) >= 3 and np.allclose(steps, steps[0]) and low <= ticks[0] and ticks[-1] <= high


def test_a_long_subtitle_at_128_cells_stays_legible():
    figure = Figure((128, 128), cmap="RdBu", vmin=-1.0, vmax=1.0, label="dL/d cost")
    subtitle = ("blue: 135 cells get cheaper, red: 136 dearer; black outline: gold path; rings: its ends; "
                "sum-of-gamma noise (k = 175, s = 100), temperatures 1/5")
    scene = figure.scene(np.zeros((128, 128)), title="I-MLE gradient, mean of 50 draws", subtitle=subtitle)
    assert all(item.size >= 10 for item in scene.titles)
    assert len(scene.titles) == 3 and " ".join(item.text for item in scene.titles[1:]) == subtitle  # two lines
    assert max(item.box[3] for item in scene.titles) <= figure.map_y - 2


def test_at_three_pixels_a_cell_the_gold_outline_leaves_the_cells_their_colours(tmp_path):
    ok("gradients", ASSETS / "terrain.png", "--grid", "128", "--samples", 3, "--out", tmp_path, "--quiet")
    from imle_cli.figures import gradient_figure

    figure = gradient_figure((128, 128), 1.0)
    assert figure.scale == 3
    still = iio.imread(tmp_path / "gradients.png")[..., :3]
    ys, xs = figure.cell_centres()
    gold = np.eye(128, dtype=bool)  # no --gold: the flat map's diagonal
    centres = still[np.ix_(ys, xs)]
    outline = figure.palette[GOLD_LINE]
    assert not (centres[gold] == outline).all(-1).any()  # no gold cell's centre is the outline's colour
    assert (still == outline).all(-1).sum() > 128  # and the outline is drawn, around them


def test_compare_outlines_the_gold_and_captions_its_first_frame_draw_1(tmp_path, monkeypatch):
    from imle_cli.render import layout

    seen = []
    original = layout.Figure.scene

    def scene(self, values, **options):
        seen.append(options)
        return original(self, values, **options)

    monkeypatch.setattr(layout.Figure, "scene", scene)
    ok("compare", "--samples", 3, "--estimators", "imle,blackbox", "--out", tmp_path, "--quiet")
    frames = [options for options in seen if "mean of draws" in options.get("subtitle", "")
              or options.get("subtitle", "").startswith("draw 1")]
    assert frames[0]["subtitle"].startswith("draw 1;")
    assert all(set(options.get("outlines", {})) == {"walls", "gold"} for options in seen if options.get("title") in
               ("imle", "blackbox"))


def test_the_noise_legend_has_a_real_plus_minus_sign(tmp_path):
    from imle_cli import experiments, figures
    from imle_cli.specs import NoiseCheckSpec

    spec = NoiseCheckSpec(draws=200)
    figure = figures.noise_plot(experiments.check_noise(spec), spec.k, spec.iterations)
    texts = [text.get_text() for axes in figure.axes for text in axes.get_legend().get_texts()]
    assert any("\u00b1" in text for text in texts) and not any("+-" in text for text in texts)
