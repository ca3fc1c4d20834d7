"""A PDF shows what the PNG shows: read back with poppler (pdftotext -bbox for the words and where
they are, pdftoppm for the page as pixels), never through our own code.

poppler-utils is a CI dependency (.ci/run installs it); without it these tests fail in CI and are
skipped elsewhere.
"""
import os
import re
import shutil
import subprocess

import imageio.v3 as iio
import numpy as np
import pytest
from typer.testing import CliRunner

from imle_cli.figures import cost_figure, gradient_figure, share_figure
from imle_cli.main import app
from imle_cli.render import raster, vector

PIXEL = 0.72  # points per page pixel
SHAPES = [(2, 2), (16, 16), (3, 200), (200, 3), (128, 128), (91, 120)]
WORD = re.compile(r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)</word>')


@pytest.fixture(scope="module", autouse=True)
def poppler():
    if shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None:
        if os.environ.get("CI"):
            pytest.fail("poppler-utils (pdftotext, pdftoppm) must be installed in CI: apt-get install poppler-utils")
        pytest.skip("poppler-utils (pdftotext, pdftoppm) is not installed")


def pdf_words(path):
    """((width, height) of the first page in page pixels, [(left, top, right, bottom, word)] in page
    pixels), as pdftotext reads them (a word's box is its font's full height)."""
    out = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    width, height = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', out).groups()
    words = [(*(float(v) / PIXEL for v in match[:4]), match[4].replace("&amp;", "&")) for match in WORD.findall(out)]
    return (float(width) / PIXEL, float(height) / PIXEL), words


def inside(word, page, slack=0.5):
    left, top, right, bottom, _ = word
    return left >= -slack and top >= -slack and right <= page[0] + slack and bottom <= page[1] + slack


def figures_at(shape):
    """A cost map, a share map and a two-panel gradient figure, with axes, long titles, at ``shape``."""
    values = np.random.default_rng(1).uniform(1, 100, size=shape)
    title, subtitle = "map: a title of some length", "a subtitle, costs 1 to 100"
    gradient = gradient_figure(shape, 2.5, captions=("draw 1 of 3", "mean of 3 draws"), axes=True)
    return [cost_figure(values, axes=True).scene(values, title=title, subtitle=subtitle),
            share_figure(shape, axes=True).scene(values / 100, title=title),
            gradient.scene([values / 40 - 1.25] * 2, title=title, subtitle=subtitle)]


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{h}x{w}" for h, w in SHAPES])
def test_every_word_is_on_the_page_where_the_scene_puts_its_text(tmp_path, shape):
    for number, scene in enumerate(figures_at(shape)):
        path = tmp_path / f"{number}.pdf"
        vector.save(vector.sheet([scene], 1), path, "pdf", 100)
        page, words = pdf_words(path)
        assert page == pytest.approx((scene.width, scene.height), abs=0.01)
        outside = [word for word in words if not inside(word, page)]
        assert not outside, (shape, number, outside)
        # each word's centre lies in the box of one of the scene's texts, and the words in each box
        # spell that text: nothing lost, nothing moved, nothing added
        spelled = {index: [] for index in range(len(scene.texts()))}
        for left, top, right, bottom, content in words:
            x, y = (left + right) / 2, (top + bottom) / 2
            homes = [index for index, text in enumerate(scene.texts())
                     if text.box[0] - 2 <= x <= text.box[2] + 2 and text.box[1] - 2 <= y <= text.box[3] + 2]
            assert len(homes) == 1, (shape, number, content, (x, y))
            spelled[homes[0]].append(content)
        # (spaces aside: pdftotext splits a real minus sign off its number)
        assert ["".join(spelled[i]) for i in spelled] == [t.text.replace(" ", "") for t in scene.texts()], \
            (shape, number)


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{h}x{w}" for h, w in SHAPES])
def test_the_pdf_page_as_pixels_is_the_png(tmp_path, shape):
    """pdftoppm's rendering of the page at the PNG's size puts ink where the PNG has it: text,
    ticks, colour bars, borders (outside the map panels, whose cells an image viewer may smooth)."""
    for number, scene in enumerate(figures_at(shape)):
        vector.save(vector.sheet([scene], 1), tmp_path / "page.pdf", "pdf", 100)
        subprocess.run(["pdftoppm", "-png", "-singlefile", "-r", "100", "-scale-to-x", str(scene.width), "-scale-to-y",
                        str(scene.height), str(tmp_path / "page.pdf"), str(tmp_path / "page")], check=True)
        pdf = iio.imread(tmp_path / "page.png")[..., :3].astype(int).mean(-1) < 128
        png = scene.palette[raster.draw(scene)].astype(int).mean(-1) < 128
        assert pdf.shape == png.shape
        chrome = np.ones(png.shape, dtype=bool)
        for panel in scene.panels:
            chrome[panel.y:panel.y + panel.rows * panel.scale, panel.x:panel.x + panel.cols * panel.scale] = False

        def near(mask):  # within one pixel
            grown = mask.copy()
            grown[1:] |= mask[:-1]
            grown[:-1] |= mask[1:]
            grown[:, 1:] |= grown[:, :-1].copy()
            grown[:, :-1] |= grown[:, 1:].copy()
            return grown

        pdf, png = pdf & chrome, png & chrome
        assert (pdf & near(png)).sum() >= 0.9 * pdf.sum(), (shape, number)  # the PDF's ink is where the PNG's is
        assert (png & near(pdf)).sum() >= 0.9 * png.sum(), (shape, number)  # and the PNG's where the PDF's is


def topobathy():
    import matplotlib.cbook

    return matplotlib.cbook.get_sample_data("topobathy.npz", asfileobj=False)


COMMANDS = {
    "sample-elevation": ["sample", topobathy(), "--key", "topo", "--rescale", "--samples", 2],
    "sample-strip": ["sample", "STRIP", "--samples", 2],
    "gradients": ["gradients", "--samples", 2],
    "annotate": ["annotate", "--via", "6,14"],
    "learn": ["learn", "--steps", 4, "--every", 2, "--samples", 2],
    "noise": ["noise", "--draws", 200],
    "compare": ["compare", "--samples", 2, "--estimators", "imle,blackbox", "--learn", "--steps", 3,
                "--learn-samples", 2],
    "sweep": ["sweep", "--input-temperatures", "1", "--target-temperatures", "0,1", "--sample-counts", "2",
              "--steps", 4, "--every", 2, "--workers", 0],
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_word_of_every_pdf_a_command_writes_is_on_its_page(tmp_path, name):
    np.save(tmp_path / "strip.npy", np.random.default_rng(0).uniform(1, 100, size=(10, 150)))
    args = [tmp_path / "strip.npy" if arg == "STRIP" else arg for arg in COMMANDS[name]]
    result = CliRunner().invoke(app, [str(a) for a in args] + ["--format", "pdf", "--out", str(tmp_path / "out"),
                                                               "--quiet"])
    assert result.exit_code == 0, result.output
    pdfs = sorted((tmp_path / "out").glob("*.pdf"))
    assert pdfs
    for path in pdfs:
        page, words = pdf_words(path)
        assert len(words) >= 3, path.name
        assert not [word for word in words if not inside(word, page)], path.name


def test_the_sweep_sheet_is_a_grid_of_settings_with_legible_captions(tmp_path):
    args = ["sweep", "--input-temperatures", "0,2", "--target-temperatures", "0,1,5", "--sample-counts", "1,4",
            "--steps", 6, "--every", 2, "--workers", 0, "--out", tmp_path / "out", "--quiet"]
    for fmt in ("png", "pdf"):
        result = CliRunner().invoke(app, [str(a) for a in args] + ["--format", fmt])
        assert result.exit_code == 0, result.output
    page, words = pdf_words(tmp_path / "out" / "sweep.pdf")
    assert not [word for word in words if not inside(word, page)]
    text = " ".join(word[4] for word in words)
    # one block per sample count, the axes named once per block, the values as headers
    assert text.count("target temperature") == 2 and text.count("input") == 2
    assert "1 sample a step" in text and "4 samples a step" in text
    captions = [word for word in words if word[4] in ("reached", "missed")]
    assert len(captions) == 2 * 2 * 3  # one caption under each of the 12 panels
    heights_pt = [(word[3] - word[1]) * PIXEL for word in words]
    assert min(heights_pt) >= 6, min(heights_pt)  # every word at least 6 pt tall on the PDF page
    # the panels of a block sit on a grid: 2 rows (input temperatures) x 3 columns (target temperatures)
    lefts = sorted({round(word[0]) for word in captions})
    assert len(lefts) == 3
    png = iio.imread(tmp_path / "out" / "sweep.png")
    assert abs(png.shape[1] - page[0]) <= 1 and abs(png.shape[0] - page[1]) <= 1
