"""imle-cli gradients, learn, noise and all: files decoded, arrays checked against the library."""
import re
from html.parser import HTMLParser
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from figure_decoding import decode, decode_overlay
from imle import TargetDistribution, imle
from imle.noise import SumOfGammaNoiseDistribution
from imle.solvers import grid_shortest_path
from imle_cli import experiments
from imle_cli.specs import Estimator, EstimatorSpec, GradientSpec, LearnSpec, NoiseCheckSpec
from imle_cli.figures import gradient_figure
from imle_cli.main import app
from imle_cli.gold_path import solved
from imle_cli.inputs import load_gold, readme_map

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


class FixedNoise:
    def __init__(self, values):
        self.values = values

    def sample(self, shape):
        return self.values.clone()


def test_gradients_command_writes_gold_gif_and_mean(tmp_path):
    result = run("gradients", ASSETS / "map.png", "--gold", ASSETS / "gold.png", "--samples", 12, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"gold_preview.png", "gradients.gif", "gradients.png",
                                                    "mechanism.png", "mechanism.gif"}
    assert iio.imread(tmp_path / "gradients.gif").shape[0] == 12
    assert "cells cheaper and" in result.stdout and "dearer" in result.stdout


def test_the_mechanism_shows_each_draws_sample_target_and_their_difference(tmp_path):
    from imle_cli.figures import mechanism_figure
    from imle_cli.render.palette import CHEAPER, DEARER, OVERLAY, WHITE

    samples, seed = 6, 2
    assert run("gradients", ASSETS / "map.png", "--gold", ASSETS / "gold.png", "--samples", samples, "--seed", seed,
               "--out", tmp_path, "--quiet").exit_code == 0
    costs, gold = readme_map(), load_gold(ASSETS / "gold.png", (16, 16), 8).gold
    result = experiments.imle_gradients(costs, gold, GradientSpec(samples, EstimatorSpec(), seed=seed))
    figure = mechanism_figure(costs, axes=True)
    frames = iio.imread(tmp_path / "mechanism.gif", index=None)
    still = iio.imread(tmp_path / "mechanism.png")[..., :3]
    assert frames.shape[0] == samples and frames.shape[1:3] == still.shape[:2] == (figure.height, figure.width)
    assert np.array_equal(frames[0][..., :3], still)
    ys, xs = figure.cell_centres(2)
    for draw, frame in enumerate(frames):
        y, gradient = result.paths[draw], result.per_draw[draw]
        target = y + gradient  # y' = y + dL/d cost for I-MLE
        assert set(np.unique(target)) <= {0.0, 1.0} and not np.array_equal(target, y) or (gradient == 0).all()
        rgb = frame[..., :3]
        for panel, path in ((0, y), (1, target)):  # the paths drawn where they are, on the map's costs
            centres = rgb[np.ix_(*figure.cell_centres(panel))]
            assert np.array_equal((centres == figure.palette[OVERLAY]).all(-1), path.astype(bool)), (draw, panel)
            np.testing.assert_allclose(decode(figure, rgb, panel)[~path.astype(bool)], costs[~path.astype(bool)],
                                       atol=0.5)
        signs = rgb[np.ix_(ys, xs)]  # y' - y: blue where only y' goes, red where only y, white elsewhere
        for index, cells in ((CHEAPER, gradient > 0), (DEARER, gradient < 0), (WHITE, gradient == 0)):
            assert (signs[cells] == figure.palette[index]).all(), (draw, index)


def test_gradients_without_gold_use_the_flat_maps_path(tmp_path):
    result = run("gradients", "--samples", 3, "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "gold_preview.png").exists()


def test_per_draw_gradients_equal_the_librarys_for_the_same_noise():
    costs, gold = readme_map(), np.eye(16)
    samples, seed = 5, 3
    diagonal = solved(gold, 8)
    spec = GradientSpec(samples, EstimatorSpec(input_temperature=1.0, target_temperature=5.0, beta=10.0), seed=seed)
    result = experiments.imle_gradients(costs, diagonal, spec)
    # the same noise: the same generator draws [S, 1, H, W] Sum-of-Gamma values with k = 47
    eps = SumOfGammaNoiseDistribution(47.0, 100).sample([samples, 1, 16, 16], dtype=torch.float64,
                                                        generator=torch.Generator().manual_seed(seed))
    for s in range(samples):
        layer = imle(grid_shortest_path, target_distribution=TargetDistribution(1.0, 10.0),
                     noise_distribution=FixedNoise(eps[s:s + 1]), nb_samples=1, input_noise_temperature=1.0,
                     target_noise_temperature=5.0, minimize=True)
        theta = torch.from_numpy(costs)[None].clone().requires_grad_()
        path = layer(theta)
        experiments.hamming_loss(path, torch.from_numpy(gold)).backward()
        np.testing.assert_array_equal(result.paths[s], path[0].detach().numpy())
        np.testing.assert_allclose(result.per_draw[s], theta.grad[0].numpy())
    np.testing.assert_allclose(result.mean, result.per_draw.mean(0))
    np.testing.assert_allclose(result.running_means[-1], result.mean)


def test_mean_frame_shows_the_mean_gradient(tmp_path):
    costs, gold = readme_map(), np.eye(16)
    assert run("gradients", "--gold", ASSETS / "gold.png", "--samples", 20, "--seed", 1, "--out", tmp_path,
               "--quiet").exit_code == 0
    mean = experiments.imle_gradients(costs, solved(gold, 8), GradientSpec(samples=20, seed=1)).mean
    figure = gradient_figure(mean.shape, float(np.abs(mean).max()), axes=True)  # on by default at 16x16
    shown = decode(figure, iio.imread(tmp_path / "gradients.png"))
    np.testing.assert_allclose(shown, mean, atol=2 * np.abs(mean).max() / 215 + 1e-9)


def test_zero_temperatures_and_large_beta_push_exactly_towards_gold():
    costs = readme_map()
    gold = experiments.shortest_path(np.ones((16, 16)))  # the diagonal
    spec = GradientSpec(3, EstimatorSpec(input_temperature=0.0, target_temperature=0.0, beta=1000.0))
    result = experiments.imle_gradients(costs, solved(gold, 8), spec)
    path = result.paths[0]
    assert (path != gold).any()
    for gradient in result.per_draw:
        assert ((gradient > 0) == ((gold == 1) & (path == 0))).all()   # descent: gold-only cells cheaper
        assert ((gradient < 0) == ((path == 1) & (gold == 0))).all()   # descent: path-only cells dearer


@pytest.mark.heavy
def test_learn_with_no_options_learns_the_readme_maps_winding_path_and_shows_it_moving(tmp_path):
    from imle.solvers import grid_shortest_path
    from imle_cli.render import Figure

    result = run("learn", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert "the learned map's shortest path equals the gold path" in result.stdout
    assert {p.name for p in tmp_path.iterdir()} == {"learning_paths.gif", "learning_weights.gif", "loss.png"}
    gold = grid_shortest_path(readme_map()) > 0
    figure = Figure((16, 16), cmap="Greys", vmin=0.0, vmax=1.0, label=None, overlay_rgb=(214, 39, 40))
    paths = [decode_overlay(figure, frame[..., :3]) for frame in iio.imread(tmp_path / "learning_paths.gif")]
    stopped = int(re.search(r"stopped at step (\d+) of 600, 50 steps later", result.stdout).group(1))
    assert len(paths) == -(-stopped // 5) + 1                    # frames every 5 steps up to the stop
    assert np.array_equal(paths[-1], gold)                       # the last frame shows the gold path
    assert not np.array_equal(paths[0], gold)                    # from a flat start: the diagonal
    moving = sum(not np.array_equal(path, paths[-1]) for path in paths)
    assert moving >= 20 and len(paths) - moving <= 50 // 5 + 2   # mostly motion: the gold held 50 steps


def _cell_greys(figure, frame):
    """The grey level at each cell's centre of a frame [H, W, 3] (the figure's layout)."""
    rows, cols = figure.cell_centres()
    return frame[rows[:, None], cols[None, :], 0].astype(int)


def test_the_learning_paths_show_the_map_faintly_under_the_gold(tmp_path):
    """learn's default gold is the README map's shortest path: its walls show in the lightest greys
    (230 of 255), open cells white, the gold's cells darker (181), so the gold never reads as a
    wall; a gold read on its own keeps white (test_cli_errors)."""
    from imle_cli.figures import GOLD_MAP_GREYS, GOLD_SHADE
    from imle_cli.render import Figure

    result = run("learn", "--steps", 5, "--every", 5, "--samples", 2, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    frame = iio.imread(tmp_path / "learning_paths.gif", index=0)[..., :3]
    figure = Figure((16, 16), cmap="Greys", vmin=0.0, vmax=1.0, label=None, overlay_rgb=(214, 39, 40))
    greys = _cell_greys(figure, frame)
    costs, gold = readme_map(), np.asarray(grid_shortest_path(readme_map())) > 0
    free = ~decode_overlay(figure, frame)          # cells the learned path does not cover
    assert (greys[free & gold] == 181).all() and GOLD_SHADE == 0.4
    assert (greys[free & ~gold & (costs == 100)] == 230).all() and GOLD_MAP_GREYS == 3
    assert (greys[free & ~gold & (costs == 1)] == 255).all()
    assert (free & ~gold & (costs == 100)).sum() > 50 and (free & ~gold & (costs == 1)).sum() > 20


def test_the_sweep_panels_show_the_gold_and_the_map_under_each_learned_path():
    from imle_cli import figures
    from imle_cli.render import palette
    from imle_cli.specs import SweepSpec

    costs = readme_map()
    gold = solved(experiments.shortest_path(costs), 8)
    runs = experiments.sweep(gold, SweepSpec(LearnSpec(steps=3, every=3, samples=2), input_temperatures=(1.0,),
                                             target_temperatures=(1.0, 5.0), sample_counts=(2,)))
    with_map, without = figures.sweep_sheet(gold, runs, "x", costs), figures.sweep_sheet(gold, runs, "x")
    assert len(with_map.panels) == 2
    on = gold.mask.astype(bool)
    for panel, bare in zip(with_map.panels, without.panels):
        cells = panel.cells
        assert np.array_equal(cells[on], bare.cells[on])                           # the gold as before
        assert (cells[~on & (costs == 100)] == palette.GREY_START + 3).all()        # walls faint
        assert (cells[~on & (costs == 1)] == palette.GREY_START).all()              # open cells white
        assert len(np.unique(bare.cells[~on])) == 1                                 # no map: one white
    assert "light grey: the map" in " ".join(t.text for t in with_map.titles)


def test_learn_result_arrays():
    gold = load_gold(ASSETS / "gold.png", None).gold
    result = experiments.learn_map(gold, LearnSpec(steps=60, every=20, seed=0, samples=2))
    assert result.steps.tolist() == [0, 20, 40, 60]
    assert result.weights.shape == (4, 16, 16) and result.paths.shape == (4, 16, 16)
    assert result.losses.shape == (60,)
    assert np.all(np.abs(result.weights[0]) <= 0.1)  # the seeded uniform start
    assert result.final_distance == int(np.abs(result.final_path - gold.mask.astype(float)).sum())


def test_learn_takes_its_gold_from_another_map_with_gold_map(tmp_path):
    result = run("learn", "--gold-map", ASSETS / "terrain.png", "--grid", "12x20", "--steps", 20, "--every", 10,
                 "--samples", 2, "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.stderr
    frames = iio.imread(tmp_path / "learning_weights.gif")
    assert frames.shape[0] == 3


SWEEP = ["sweep", "--input-temperatures", "0,1", "--target-temperatures", "0,1", "--sample-counts", "1,10", "--steps", 300]


@pytest.mark.heavy
def test_sweep_matches_per_setting_learn_runs_and_does_not_depend_on_the_worker_count(tmp_path):
    import csv

    one = run(*SWEEP, "--workers", 0, "--out", tmp_path / "one", "--quiet")
    two = run(*SWEEP, "--workers", 2, "--gifs", "--out", tmp_path / "two", "--quiet")
    assert one.exit_code == 0 and two.exit_code == 0, one.stderr + two.stderr
    assert (tmp_path / "one" / "sweep.png").read_bytes() == (tmp_path / "two" / "sweep.png").read_bytes()
    rows = {name: list(csv.DictReader(open(tmp_path / name / "sweep.csv"))) for name in ("one", "two")}
    assert len(rows["one"]) == 8
    for a, b in zip(rows["one"], rows["two"]):
        assert {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}
    assert len(list((tmp_path / "two").glob("learning_paths_in*_tgt*_s*.gif"))) == 8
    # every row is what `learn` itself finds for that setting with the same seed
    gold = solved(experiments.shortest_path(readme_map()), 8)
    for row in rows["one"]:
        estimator = EstimatorSpec(input_temperature=float(row["input_temperature"]),
                                  target_temperature=float(row["target_temperature"]))
        spec = LearnSpec(steps=300, every=5, seed=0, samples=int(row["samples"]), estimator=estimator)
        result = experiments.learn_map(gold, spec)
        assert row["reached"] == ("yes" if result.final_distance == 0 else "no")
        assert float(row["final_loss"]) == pytest.approx(result.losses[-10:].mean(), abs=1e-4)
    assert "| input temperature |" in (tmp_path / "one" / "sweep.md").read_text()


def test_noise_command_ks_and_figure(tmp_path):
    result = run("noise", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    import re

    statistics = re.findall(r"against Gumbel\(0, 1\): ([0-9.]+)", result.stdout)
    assert len(statistics) == 1 and float(statistics[0]) < 0.02  # printed once, in the summary
    image = iio.imread(tmp_path / "noise.png")[..., :3]
    histogram = (np.abs(image.astype(int) - [158, 202, 225]).sum(-1) < 10).sum()   # the bars' colour
    density = (np.abs(image.astype(int) - [214, 39, 40]).sum(-1) < 10).sum()      # the density curve
    assert histogram > 5000 and density > 500


def test_noise_statistic_matches_an_independent_computation():
    check = experiments.check_noise(NoiseCheckSpec(k=20, iterations=100, draws=8192, seed=0))
    from scipy import stats

    assert check.ks == pytest.approx(stats.kstest(check.sums, stats.gumbel_r.cdf).statistic)


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.captions = [], []
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])
        self._in_caption = self._in_caption or tag == "figcaption"

    def handle_endtag(self, tag):
        if tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption and data.strip():
            self.captions.append(data.strip())


def test_all_writes_every_figure_and_an_index(tmp_path):
    result = run("all", ASSETS / "map.png", "--gold", ASSETS / "gold.png", "--samples", 6, "--steps", 40,
                 "--every", 10, "--learn-samples", 4, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    parser = _Images()
    parser.feed((tmp_path / "index.html").read_text())
    expected = {"map.png", "paths.gif", "distribution.gif", "distribution.png", "gold_preview.png", "gradients.gif",
                "gradients.png", "learning_paths.gif", "learning_weights.gif", "loss.png", "mechanism.png",
                "mechanism.gif"}
    assert set(parser.sources) == expected
    assert parser.sources[0] == "mechanism.png"  # the page opens with I-MLE's mechanism, explained
    assert parser.captions[0].startswith("I-MLE perturbs the costs") and parser.captions[0].count(". ") == 1
    assert {p.name for p in tmp_path.iterdir()} == expected | {"index.html"}
    assert len(parser.captions) >= 2 * len(expected)  # a name and a caption per figure
    for name in expected:
        assert iio.imread(tmp_path / name).size > 0


# ---- compare and --estimator ----



def test_compare_writes_panels_and_a_gif_per_draw(tmp_path):
    result = run("compare", ASSETS / "map.png", "--gold", ASSETS / "gold.png", "--samples", 5,
                 "--estimators", "imle,blackbox,straight-through", "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert {p.name for p in tmp_path.iterdir()} == {"compare.png", "compare.gif"}
    frames = iio.imread(tmp_path / "compare.gif")
    assert frames.shape[0] == 5
    # three panels in one row, each with its own gradient scale: decode the straight-through panel
    still = iio.imread(tmp_path / "compare.png")
    width = still.shape[1] // 4
    panel = still[:, 2 * width:3 * width]
    figure = gradient_figure((16, 16), 1.0)
    np.testing.assert_allclose(decode(figure, panel), 2 * np.eye(16) - 1)  # dL/dc = 2 g - 1 for every draw


def test_compare_learn_adds_a_loss_figure(tmp_path):
    result = run("compare", "--gold", ASSETS / "gold.png", "--samples", 3, "--estimators", "imle,aimle",
                 "--learn", "--steps", 30, "--learn-samples", 4, "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "compare_loss.png").exists()


@pytest.mark.parametrize("estimator", [e.value for e in Estimator])
def test_learn_runs_with_every_estimator(tmp_path, estimator):
    result = run("learn", "--gold", ASSETS / "gold.png", "--estimator", estimator, "--steps", 20, "--every", 10,
                 "--samples", 4, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert f"{estimator}: final training loss" in result.stdout
    assert iio.imread(tmp_path / "learning_paths.gif").shape[0] == 3


@pytest.mark.parametrize("estimator", [e.value for e in Estimator])
def test_every_estimator_gives_per_draw_gradients_on_the_map(estimator):
    result = experiments.imle_gradients(readme_map(), solved(np.eye(16), 8), GradientSpec(4, EstimatorSpec(estimator)))
    assert result.per_draw.shape == (4, 16, 16) and np.isfinite(result.per_draw).all()
    assert np.abs(result.mean).sum() > 0


def test_a_noise_memo_gives_the_fresh_draws_bit_for_bit():
    from imle_cli.annotation import waypoint_path

    costs, memo = readme_map(), experiments.NoiseMemo(entries=2)
    gold = waypoint_path(costs, [(6, 14)])
    spec = GradientSpec(8, EstimatorSpec(beta=20.0), seed=5)
    fresh = experiments.imle_gradients(costs, gold, spec)
    first = experiments.imle_gradients(costs, gold, spec, memo=memo)
    again = experiments.imle_gradients(costs, gold, spec, memo=memo)
    assert memo.hits == 1
    for result in (first, again):
        assert np.array_equal(result.per_draw, fresh.per_draw) and np.array_equal(result.paths, fresh.paths)
    # a setting the noise does not depend on: remembered, and the gradient is a fresh run's
    hotter = GradientSpec(8, EstimatorSpec(beta=20.0, input_temperature=3.0), seed=5)
    assert np.array_equal(experiments.imle_gradients(costs, gold, hotter, memo=memo).per_draw,
                          experiments.imle_gradients(costs, gold, hotter).per_draw)
    assert memo.hits == 2
    # another seed or sample count is another draw; the oldest is forgotten beyond `entries`
    for other in (GradientSpec(8, EstimatorSpec(), seed=6), GradientSpec(9, EstimatorSpec(), seed=5)):
        assert np.array_equal(experiments.imle_gradients(costs, gold, other, memo=memo).per_draw,
                              experiments.imle_gradients(costs, gold, other).per_draw)
    assert memo.hits == 2 and len(memo._draws) == 2


def test_a_remembered_draw_leaves_the_generator_where_a_fresh_one_does():
    noise_spec = experiments.NoiseSpec(k=7.0, iterations=20)
    memo = experiments.NoiseMemo()
    remembered = experiments.noise_distribution(noise_spec, memo)
    plain = experiments.noise_distribution(noise_spec)
    streams = []
    for noise in (plain, remembered, remembered):
        generator = torch.Generator().manual_seed(11)
        draws = [noise.sample([3, 4], dtype=torch.float64, generator=generator) for _ in range(2)]
        streams.append(torch.cat([d.flatten() for d in draws]))
        streams.append(torch.rand(5, generator=generator, dtype=torch.float64))  # what comes after the draws
    assert memo.hits == 2
    for i in (2, 4):
        assert torch.equal(streams[i], streams[0]) and torch.equal(streams[i + 1], streams[1])


# ---- learn stops once it has learned (--patience)

def test_patience_ends_the_run_after_the_learned_path_has_stayed_the_gold():
    gold = solved(np.eye(16), 8)  # the diagonal: learned within a few dozen steps
    spec = LearnSpec(steps=300, samples=10, every=5, seed=1)
    full = experiments.learn_map(gold, spec)
    patient = experiments.learn_map(gold, LearnSpec(steps=300, samples=10, every=5, seed=1, patience=20))
    stop = len(patient.losses)
    assert patient.stopped_early and stop < 300 and patient.learned_at == stop - 20
    # what it computed is what the run without patience computed up to there
    np.testing.assert_array_equal(patient.losses, full.losses[:stop])
    np.testing.assert_array_equal(patient.weights[:-1], full.weights[:len(patient.weights) - 1])
    assert patient.steps[-1] == stop and patient.final_distance == 0
    # and the learned path was the gold at every step since learned_at (checked on a replay)
    replay = []
    experiments.learn_map(gold, LearnSpec(steps=stop, samples=10, every=1, seed=1),
                          snapshot=lambda step, costs, path, losses: replay.append(bool((path == gold.mask).all())))
    assert all(replay[patient.learned_at:]) and not replay[patient.learned_at - 1]
    assert not full.stopped_early and len(full.losses) == 300


def test_learn_gifs_end_at_the_stop_and_hold_the_last_frame(tmp_path):
    from PIL import Image

    result = run("learn", "--steps", 400, "--every", 5, "--samples", 10, "--patience", 15, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    stopped = int(re.search(r"stopped at step (\d+) of 400, 15 steps later", result.stdout).group(1))
    for name in ("learning_paths.gif", "learning_weights.gif"):
        with Image.open(tmp_path / name) as gif:
            delays = []
            for index in range(gif.n_frames):
                gif.seek(index)
                delays.append(gif.info["duration"])
        assert len(delays) == -(-stopped // 5) + 1  # every 5 steps, then the stop
        assert delays[-1] == 2000 and set(delays[:-1]) == {delays[0]} and delays[0] < 2000
    every = run("learn", "--steps", 60, "--every", 10, "--samples", 4, "--patience", 0, "--out", tmp_path / "all")
    assert every.exit_code == 0 and "stopped at" not in every.stdout
    assert iio.imread(tmp_path / "all" / "learning_paths.gif", index=None).shape[0] == 7


def test_a_negative_patience_is_one_line():
    result = run("learn", "--patience", -1)
    assert result.exit_code == 2 and "--patience must be at least 0, got -1" in result.stderr


@pytest.mark.parametrize("device, culprit", [
    ("gpu", "--device must be cpu, cuda or cuda:N, got gpu"),
    ("cuda:99", "--device cuda:99: this machine has no such CUDA device"),
])
@pytest.mark.parametrize("command", ["learn", "sweep"])
def test_a_device_this_machine_lacks_is_one_line(command, device, culprit):
    result = run(command, "--device", device)
    assert result.exit_code == 2 and culprit in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_learning_on_a_gpu_learns_the_diagonal():
    gold = solved(np.eye(16), 8)
    result = experiments.learn_map(gold, LearnSpec(steps=300, samples=10, every=10, patience=20, device="cuda"))
    assert np.isfinite(result.losses).all() and result.final_distance == 0
