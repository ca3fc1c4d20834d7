"""Figures for papers and talks: text that fits at every map shape, vector stills that parse,
MP4s, and the bad figure options refused."""
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from typer.testing import CliRunner

from imle_cli.render import vector
from imle_cli.render.layout import Figure
from imle_cli.main import app

SHAPES = [(2, 2), (16, 16), (3, 200), (200, 3), (128, 128)]


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def overlapping(boxes):
    """The first pair of boxes (left, top, right, bottom) that overlap, or None."""
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                return a, b
    return None


@pytest.fixture
def text_checked_frames(monkeypatch):
    """Every frame and still described while the fixture is active (every one goes through
    Figure.scene, whichever back end draws it): its text boxes must lie on the page and never
    overlap each other. Yields the list of (shape, boxes) checked."""
    checked = []
    original = Figure.scene

    def scene(self, values, **options):
        result = original(self, values, **options)
        boxes = result.text_boxes()
        for left, top, right, bottom in boxes:
            assert left >= 0 and top >= 0 and right <= result.width and bottom <= result.height, \
                (self.rows, self.cols, (left, top, right, bottom), (result.width, result.height))
        assert overlapping(boxes) is None, (self.rows, self.cols, overlapping(boxes))
        checked.append(((self.rows, self.cols), len(boxes)))
        return result

    monkeypatch.setattr(Figure, "scene", scene)
    yield checked


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{h}x{w}" for h, w in SHAPES])
def test_no_text_leaves_the_page_or_overlaps_at_any_shape(tmp_path, shape, text_checked_frames):
    costs = np.random.default_rng(0).uniform(1, 100, size=shape)
    np.save(tmp_path / "map.npy", costs)
    grid = ["--grid", f"{shape[0]}x{shape[1]}"]
    commands = [
        ["sample", tmp_path / "map.npy", *grid, "--samples", 2],
        ["gradients", tmp_path / "map.npy", *grid, "--samples", 2],
        ["annotate", tmp_path / "map.npy", *grid],
        ["learn", "--gold-map", tmp_path / "map.npy", *grid, "--steps", 2, "--every", 1, "--samples", 2],
        ["compare", tmp_path / "map.npy", *grid, "--samples", 2, "--estimators", "imle,blackbox"],
        ["sweep", "--gold-map", tmp_path / "map.npy", *grid, "--input-temperatures", "1", "--target-temperatures",
         "1", "--sample-counts", "2", "--steps", 2, "--every", 1, "--workers", 0],
    ]
    for index, command in enumerate(commands):
        result = run(*command, "--out", tmp_path / str(index), "--quiet")
        assert result.exit_code == 0, (command[0], result.stderr)
    assert {s for s, _ in text_checked_frames} == {shape}
    assert len(text_checked_frames) > 20


def text_boxes_of(figure):
    """The window extents of a matplotlib figure's visible texts (tick labels, titles, labels)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    boxes = []
    for text in figure.findobj(Text):
        if text.get_visible() and text.get_text().strip():
            extent = text.get_window_extent(renderer)
            boxes.append((extent.x0, extent.y0, extent.x1, extent.y1))
    return boxes, figure.bbox


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{h}x{w}" for h, w in SHAPES])
def test_vector_stills_keep_their_text_on_the_page(shape):
    from imle_cli.figures import cost_figure

    costs = np.random.default_rng(1).uniform(1, 100, size=shape)
    figure = vector.sheet([cost_figure(costs, axes=True).scene(costs, title="map: a title of some length",
                                                               subtitle="a subtitle, costs 1 to 100")], 1)
    boxes, page = text_boxes_of(figure)
    for left, bottom, right, top in boxes:
        assert left >= page.x0 - 1 and bottom >= page.y0 - 1 and right <= page.x1 + 1 and top <= page.y1 + 1
    assert overlapping([(l, -t, r, -b) for l, b, r, t in boxes]) is None


STILLS = {
    "sample": ["map", "distribution"],
    "gradients": ["gold_preview", "gradients"],
    "annotate": ["gold_preview"],
    "learn": ["loss"],
    "noise": ["noise"],
    "compare": ["compare", "compare_loss"],
    "sweep": ["sweep"],
}
OPTIONS = {
    "sample": ["--samples", 3], "gradients": ["--samples", 3], "annotate": [],
    "learn": ["--steps", 10, "--samples", 2], "noise": ["--draws", 200],
    "compare": ["--samples", 2, "--estimators", "imle,blackbox", "--learn", "--steps", 5, "--learn-samples", 2],
    "sweep": ["--input-temperatures", "1", "--target-temperatures", "0,1", "--sample-counts", "2", "--steps", 5,
              "--workers", 0],
}


@pytest.mark.parametrize("fmt", ["svg", "pdf"])
@pytest.mark.parametrize("command", list(STILLS))
def test_every_still_in_svg_and_pdf(tmp_path, command, fmt):
    result = run(command, *OPTIONS[command], "--format", fmt, "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.stderr
    for name in STILLS[command]:
        path = tmp_path / f"{name}.{fmt}"
        assert path.exists() and not (tmp_path / f"{name}.png").exists(), sorted(p.name for p in tmp_path.iterdir())
        data = path.read_bytes()
        if fmt == "svg":
            root = ElementTree.fromstring(data)
            assert root.tag.endswith("svg") and len(list(root.iter())) > 20
        else:
            assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and b"/Page" in data


def test_vector_stills_are_the_same_bytes_for_the_same_seed(tmp_path):
    for folder in ("a", "b"):
        assert run("gradients", "--samples", 3, "--format", "svg", "--out", tmp_path / folder, "--quiet").exit_code == 0
    assert (tmp_path / "a" / "gradients.svg").read_bytes() == (tmp_path / "b" / "gradients.svg").read_bytes()


def test_index_html_links_the_chosen_format(tmp_path):
    result = run("all", "--samples", 2, "--steps", 4, "--every", 2, "--learn-samples", 2, "--format", "svg",
                 "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "index.html").read_text()
    assert 'src="map.svg"' in page and 'src="paths.gif"' in page and "map.png" not in page


def _has_ffmpeg() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _has_ffmpeg(), reason="the 'video' extra (imageio-ffmpeg) is not installed")
def test_video_writes_an_mp4_beside_each_gif(tmp_path):
    result = run("sample", "--samples", 7, "--video", "--out", tmp_path, "--quiet")
    assert result.exit_code == 0, result.stderr
    import imageio.v2 as imageio

    for name in ("paths", "distribution"):
        reader = imageio.get_reader(tmp_path / f"{name}.mp4")
        frames = [frame for frame in reader]
        assert len(frames) == 7
        gif = iio.imread(tmp_path / f"{name}.gif")
        assert frames[0].shape[0] >= gif.shape[1] and frames[0].shape[0] % 2 == 0


def test_video_without_the_extra_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # as if not installed
    result = run("sample", "--samples", 2, "--video", "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("imle-cli: error: --video needs imageio-ffmpeg, which is not installed: "
                                     "pip install 'imle[video]' (or pip install imageio-ffmpeg)")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, culprit", [
    (["sample", "--format", "gif"], "--format must be png, svg or pdf, got gif"),
    (["sample", "--dpi", "0"], "--dpi must be between 10 and 1200, got 0.0"),
    (["sample", "--max-gif-mb", "0"], "--max-gif-mb must be a finite number > 0, got 0.0"),
    (["sample", "--max-gif-mb", "0.01", "--samples", "50"], "paths.gif would be about"),
    (["sample", "CONSTANT", "--rescale"], "has no range to rescale: every cell is 7"),
    (["sample", "NEGATIVE"], "holds negative costs (min -3); costs must be >= 0, or use --rescale"),
])
def test_bad_figure_and_map_options(tmp_path, args, culprit):
    np.save(tmp_path / "constant.npy", np.full((5, 5), 7.0))
    np.save(tmp_path / "negative.npy", np.array([[-3.0, 1.0], [2.0, 5.0]]))
    args = [str(tmp_path / "constant.npy") if a == "CONSTANT" else str(tmp_path / "negative.npy")
            if a == "NEGATIVE" else a for a in args]
    out = tmp_path / "out"
    result = run(*args, "--out", out)
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0], result.stderr
    assert not out.exists()


def test_rescale_maps_an_elevation_model_with_negatives_onto_the_cost_range(tmp_path):
    from imle_cli.inputs import load_map

    depth = np.linspace(-500, 1500, 30).reshape(5, 6)  # bathymetry and land
    np.save(tmp_path / "dem.npy", depth)
    costs = load_map(Path(tmp_path / "dem.npy"), rescale=True, min_cost=1, max_cost=100).costs
    np.testing.assert_allclose(costs, 1 + (depth + 500) / 2000 * 99)


def test_big_arrays_are_averaged_down_like_images_with_a_notice(tmp_path):
    from imle_cli.inputs import load_map

    np.save(tmp_path / "big.npy", np.random.default_rng(0).uniform(1, 9, size=(1000, 500)))
    loaded = load_map(Path(tmp_path / "big.npy"))
    assert loaded.costs.shape == (128, 64)
    assert loaded.notices == ["MAP big.npy is 1000x500 cells: averaged to 128x64 cells (use --grid to choose)"]


@pytest.mark.parametrize("cells_per_call", [None, 16 * 16 * 10])
def test_sampling_many_draws_moves_the_progress_bar_in_chunks(monkeypatch, cells_per_call):
    from imle_cli import experiments
    from imle_cli.inputs import readme_map
    from imle_cli.specs import SampleSpec

    if cells_per_call is not None:  # a big map's budget: fewer draws per solver call
        monkeypatch.setattr(experiments, "SAMPLE_CHUNK_CELLS", cells_per_call)
    per_call = min(experiments.SAMPLE_CHUNK, experiments.SAMPLE_CHUNK_CELLS // 256)
    seen = []
    result = experiments.sample_paths(readme_map(), SampleSpec(samples=600), progress=seen.append)
    assert result.paths.shape == (600, 16, 16) and sum(seen) == 600
    assert len(seen) == -(-600 // per_call) > 1 and all(0 < draws <= per_call for draws in seen)


def test_a_barely_moved_path_gets_a_temperature_that_moves_it(tmp_path):
    import re

    costs = np.full((12, 12), 50.0)
    costs[np.arange(12), np.arange(12)] = 1.0
    np.save(tmp_path / "diagonal.npy", costs)
    result = run("sample", tmp_path / "diagonal.npy", "--samples", 10, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    text = result.stdout.replace("\n", " ")
    assert "100% of draws equal the unperturbed shortest path (0% of the draws' cells lie off it); " \
           "the noise barely moves the path at temperature 1: try --temperature" in text
    suggested = float(re.search(r"try --temperature ([0-9.e+]+)", text).group(1))
    assert suggested >= 2
    # the advice works: the trial's own draws (16, the run's seed) at the suggested temperature move,
    # and the summary says no more (other draws near the threshold might not: the trial is a sample)
    again = run("sample", tmp_path / "diagonal.npy", "--samples", 16, "--temperature", suggested, "--out",
                tmp_path / "p")
    share = int(re.search(r"(\d+)% of draws equal", again.stdout.replace("\n", " ")).group(1))
    assert share <= 90 and "try --temperature" not in again.stdout


def test_near_identical_draws_get_the_hint_too(tmp_path):
    # a cheap channel two cells wide: the draws wiggle within it (few identical) but stay one line
    from imle_cli import experiments

    costs = np.full((40, 40), 80.0)
    for i in range(40):
        costs[i, max(0, i - 1):i + 1] = 1.0
    np.save(tmp_path / "channel.npy", costs)
    result = run("sample", tmp_path / "channel.npy", "--samples", 20, "--out", tmp_path / "o")
    assert result.exit_code == 0, result.stderr
    text = result.stdout.replace("\n", " ")
    spread = experiments.draw_spread(costs, *(lambda r: (r.paths, r.unperturbed))(
        experiments.sample_paths(costs, experiments.SampleSpec(20))))
    assert spread.identical <= 0.9 and spread.spread < experiments.MIN_SPREAD  # near-identical, not identical
    assert "the noise barely moves the path at temperature 1" in text


@pytest.mark.parametrize("name", ["diagonal", "channel", "terrain"])
def test_a_suggested_temperature_is_checked_by_sampling_there(name):
    from imle_cli import experiments
    from imle_cli.inputs.maps import load_map

    if name == "terrain":
        costs = load_map(Path(__file__).resolve().parent.parent / "assets" / "terrain.png", grid="64").costs
    else:
        costs = np.full((24, 24), 5.0 if name == "channel" else 60.0)  # a channel with low banks: draws can leave it
        for i in range(24):
            costs[i, max(0, i - (name == "channel")):i + 1] = 1.0
    spec = experiments.SampleSpec(20)
    unperturbed = experiments.shortest_path(costs)
    suggested, measured, good = experiments.moving_temperature(costs, spec, unperturbed)
    assert good and measured.terrain >= experiments.MIN_TERRAIN and not measured.still
    # the numbers printed are the draws' at the suggestion (the run's seed)
    from dataclasses import replace

    again = experiments.sample_paths(costs, replace(spec, samples=experiments.TRIAL_DRAWS, temperature=suggested))
    assert experiments.draw_spread(costs, again.paths, unperturbed).spread == pytest.approx(measured.spread)
    # and a temperature far above it drowns the map: draws keep little of what the terrain saves
    drowned = replace(spec, samples=experiments.TRIAL_DRAWS, temperature=suggested * 1000)
    wild = experiments.sample_paths(costs, drowned)
    flat = experiments.sample_paths(np.full(costs.shape, float(costs.mean())), drowned)
    assert experiments.draw_spread(costs, wild.paths, unperturbed, flat.paths).terrain < experiments.MIN_TERRAIN


def test_summaries_count_in_singular_and_plural():
    from imle_cli.reporting import plural

    assert plural(1, "cell") == "1 cell" and plural(0, "cell") == "0 cells" and plural(2, "draw") == "2 draws"


def test_equal_figures_made_anew_share_one_chrome_drawing_and_the_cache_is_bounded():
    from imle_cli.render import raster

    values = np.random.default_rng(0).uniform(0, 1, (6, 9))
    first = Figure((6, 9), cmap="viridis", vmin=0.0, vmax=1.0, label="share")
    again = Figure((6, 9), cmap="viridis", vmin=0.0, vmax=1.0, label="share")  # the studio's, per request
    other = Figure((6, 9), cmap="viridis", vmin=0.0, vmax=2.0, label="share")  # another scale: other ticks
    raster._CHROME.clear()
    frames = [figure.frame(values, title="t") for figure in (first, again, other)]
    assert np.array_equal(frames[0], frames[1]) and not np.array_equal(frames[0], frames[2])
    assert len(raster._CHROME) == 2
    for top in range(raster.CHROME_CACHE + 5):
        Figure((6, 9), cmap="viridis", vmin=0.0, vmax=float(top + 3), label="share").frame(values, title="t")
    assert len(raster._CHROME) == raster.CHROME_CACHE


def test_a_path_is_a_dot_on_each_cell_and_a_line_between_each_two_neighbours():
    from PIL import Image, ImageDraw

    from imle_cli.render import palette, raster
    from imle_cli.render.scene import Panel

    rng = np.random.default_rng(3)
    for scale in (1, 3, 8, 20):
        marked = rng.random((9, 11)) < 0.4
        panel = Panel(0, 0, scale, np.full((9, 11), palette.CMAP_START, np.uint8), path=marked,
                      path_width=max(1, min(scale // 2, max(2, scale // 4))), path_radius=max(1.0, scale * 0.3))
        drawn = np.full((9 * scale, 11 * scale), palette.CMAP_START, np.uint8)
        raster._draw_path(drawn, panel)
        # the same pen, cell by cell: every pair of neighbouring marked cells, then every dot
        ink = Image.new("L", (11 * scale, 9 * scale), 0)
        pen = ImageDraw.Draw(ink)
        half = (scale - 1) / 2
        cells = [tuple(cell) for cell in np.argwhere(marked)]
        for r, c in cells:
            for rr, cc in cells:
                if (rr, cc) > (r, c) and max(abs(rr - r), abs(cc - c)) == 1:
                    pen.line([(c * scale + half, r * scale + half), (cc * scale + half, rr * scale + half)],
                             fill=255, width=panel.path_width)
            x, y, radius = c * scale + half, r * scale + half, panel.path_radius
            pen.ellipse([x - radius, y - radius, x + radius, y + radius], fill=255)
        expected = np.where(np.asarray(ink) > 127, palette.OVERLAY, palette.CMAP_START)
        assert np.array_equal(drawn, expected), scale
