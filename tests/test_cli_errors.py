"""Every bad input: exit code 2, one line on stderr naming the culprit, nothing new in --out."""
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from imle_cli.main import app

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def make(tmp: Path, kind: str) -> Path:
    """Create the bad input file named by kind; return its path."""
    if kind == "missing":
        return tmp / "nowhere.png"
    if kind == "folder":
        (tmp / "a-folder").mkdir()
        return tmp / "a-folder"
    if kind == "empty":
        (tmp / "empty.png").write_bytes(b"")
        return tmp / "empty.png"
    if kind == "text":
        (tmp / "text.png").write_text("this is not an image\n")
        return tmp / "text.png"
    if kind == "truncated":
        data = (ASSETS / "terrain.png").read_bytes()
        (tmp / "truncated.png").write_bytes(data[: len(data) // 2])
        return tmp / "truncated.png"
    if kind == "one-pixel":
        Image.fromarray(np.zeros((1, 1), dtype=np.uint8)).save(tmp / "dot.png")
        return tmp / "dot.png"
    arrays = {
        "nan": np.array([[1.0, np.nan], [1.0, 1.0]]),
        "inf": np.array([[1.0, np.inf], [1.0, 1.0]]),
        "negative": np.array([[1.0, -2.0], [1.0, 1.0]]),
        "complex": np.array([[1.0, 2j], [1.0, 1.0]]),
        "1d": np.ones(5),
        "3d": np.ones((2, 3, 3)),
    }
    if kind in arrays:
        np.save(tmp / f"{kind}.npy", arrays[kind])
        return tmp / f"{kind}.npy"
    if kind == "npz-several":
        np.savez(tmp / "several.npz", a=np.ones((3, 3)), b=np.ones((3, 3)))
        return tmp / "several.npz"
    raise ValueError(kind)


MAP_CASES = [
    ("missing", "nowhere.png' does not exist"),
    ("folder", "a-folder' is a folder"),
    ("empty", "empty.png' is empty"),
    ("text", "text.png' is not a readable image"),
    ("truncated", "truncated.png' is truncated: its header says 384x384 pixels but its data holds"),
    ("one-pixel", "dot.png' is 1x1 pixels; a map needs at least 2x2"),
    ("nan", "nan.npy' holds NaN or infinite costs"),
    ("inf", "inf.npy' holds NaN or infinite costs"),
    ("negative", "negative.npy' holds negative costs"),
    ("complex", "complex.npy' holds complex values"),
    ("1d", "1d.npy' has 1 dimension(s)"),
    ("3d", "3d.npy' has 3 dimension(s)"),
    ("npz-several", "several.npz' holds 2 arrays (a, b); choose one with --key"),
]

OPTION_CASES = [
    (["--grid", "500"], "--grid 500x500 is larger than MAP"),
    (["--grid", "1"], "--grid must be at least 2 cells"),
    (["--grid", "big"], "--grid must be N or HxW"),
    (["--samples", "0"], "--samples must be at least 1, got 0"),
    (["--temperature", "-1"], "--temperature must be a number from 0 to 1e+12, got -1.0"),
    (["--k", "0"], "--k must be a number from 0.001 to 1e+09, got 0.0"),
    (["--fps", "0"], "--fps must be from 0.02 to 100"),
    (["--iterations", "0"], "--iterations must be at least 1"),
    (["--neighbourhood", "6"], "--neighbourhood must be 4 or 8"),
    (["--min-cost", "-3"], "--min-cost must be a number from 0 to 1e+15"),
]


def snapshot(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def check_clean_failure(result, out: Path, before: dict, culprit: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("imle-cli: error: ")
    assert culprit in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert snapshot(out) == before


@pytest.fixture
def out(tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "keep.txt").write_text("already here")
    return folder


@pytest.mark.parametrize("kind, culprit", MAP_CASES, ids=[c[0] for c in MAP_CASES])
def test_bad_map_files(tmp_path, out, kind, culprit):
    before = snapshot(out)
    result = CliRunner().invoke(app, ["sample", str(make(tmp_path, kind)), "--out", str(out), "--samples", "2"])
    check_clean_failure(result, out, before, culprit)


@pytest.mark.parametrize("options, culprit", OPTION_CASES, ids=[" ".join(c[0]) for c in OPTION_CASES])
def test_bad_options(out, options, culprit):
    before = snapshot(out)
    result = CliRunner().invoke(app, ["sample", str(ASSETS / "terrain.png"), "--out", str(out), *options])
    check_clean_failure(result, out, before, culprit)


def test_out_that_is_a_file(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = CliRunner().invoke(app, ["sample", "--out", str(target)])
    assert result.exit_code == 2 and "--out" in result.stderr and "is a file, not a folder" in result.stderr
    assert target.read_text() == "x"


def test_out_that_is_not_writable(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder is needed")
    result = CliRunner().invoke(app, ["sample", "--out", str(blocker / "figures")])
    assert result.exit_code == 2
    assert "is not writable" in result.stderr and "--out" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_new_out_folder_is_not_left_behind_on_failure(tmp_path):
    result = CliRunner().invoke(app, ["sample", "--out", str(tmp_path / "new"), "--samples", "0"])
    assert result.exit_code == 2 and not (tmp_path / "new").exists()


def test_failure_while_rendering_leaves_nothing(tmp_path, out, monkeypatch):
    from imle_cli.render.gif import GifStream

    add = GifStream.add

    def interrupted_add(self, frame):  # Ctrl-C after a frame is already in the temporary file
        if getattr(self, "written", 0) == 1:
            raise KeyboardInterrupt
        self.written = getattr(self, "written", 0) + 1
        return add(self, frame)

    monkeypatch.setattr(GifStream, "add", interrupted_add)
    before = snapshot(out)
    result = CliRunner().invoke(app, ["sample", "--out", str(out), "--samples", "2"])
    assert result.exit_code == 130
    assert snapshot(out) == before


GOLD_CASES = [
    ("size", "is 20x20 cells but the map is 16x16 cells"),  # an array; an image is resampled
    ("broken", "is not one connected path (8-neighbourhood): cell (9, 9) is not joined to the path through "
               "cell (0, 0)"),
    ("empty-path", "has no path cells"),
    ("stray", "is not one connected path (8-neighbourhood): cell (0, 15) is not joined to the path through "
              "cell (0, 0)"),
]


def make_gold(tmp: Path, kind: str) -> Path:
    mask = np.eye(16, dtype=bool)
    if kind == "size":
        mask = np.eye(20, dtype=bool)
    elif kind == "broken":
        mask[8, 8] = False
    elif kind == "empty-path":
        mask[:] = False
    elif kind == "stray":
        mask[0, 15] = True
    if kind == "size":
        np.save(tmp / "gold-size.npy", mask.astype(np.uint8))
        return tmp / "gold-size.npy"
    path = tmp / f"gold-{kind}.png"
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)
    return path


#: learn takes its size from the gold: a gold of another size than the README map is no error there
BAD_GOLDS = [(command, kind, culprit) for command in ("gradients", "learn") for kind, culprit in GOLD_CASES
             if (command, kind) != ("learn", "size")]


@pytest.mark.parametrize("command, kind, culprit", BAD_GOLDS, ids=[f"{c}-{k}" for c, k, _ in BAD_GOLDS])
def test_bad_gold_paths(tmp_path, out, kind, culprit, command):
    before = snapshot(out)
    result = CliRunner().invoke(app, [command, "--gold", str(make_gold(tmp_path, kind)), "--out", str(out)])
    check_clean_failure(result, out, before, culprit)


def test_learn_takes_its_size_from_the_gold(tmp_path, out):
    import imageio.v3 as iio

    from figure_decoding import decode, decode_overlay
    from imle_cli.render import Figure

    result = CliRunner().invoke(app, ["learn", "--gold", str(make_gold(tmp_path, "size")), "--steps", "2", "--every",
                                      "1", "--samples", "2", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    # the frames are those of a 20x20 map, and show the 20x20 gold (grey) where the path is not, on
    # white: a gold read on its own has no map to show under it
    from imle_cli.figures import GOLD_SHADE

    figure = Figure((20, 20), cmap="Greys", vmin=0.0, vmax=1.0, label=None, overlay_rgb=(214, 39, 40))
    frame = iio.imread(out / "learning_paths.gif")[-1][..., :3]
    assert frame.shape[:2] == (figure.height, figure.width)
    beside = ~decode_overlay(figure, frame)
    np.testing.assert_allclose(decode(figure, frame)[beside], GOLD_SHADE * np.eye(20)[beside], atol=0.01)


LEARN_CASES = [
    (["learn", "--steps", "0"], "--steps must be at least 1, got 0"),
    (["learn", "--lr", "0"], "--lr must be a positive number up to 1e+12, got 0.0"),
    (["learn", "--lr", "-0.1"], "--lr must be a positive number"),
    (["learn", "--steps", "50", "--every", "60"], "--every (60) must not be larger than --steps (50)"),
    (["sweep", "--input-temperatures", "0,x"], "--input-temperatures: 'x' is not a number"),
    (["sweep", "--target-temperatures", ""], "--target-temperatures: '' is not a number"),
    (["sweep", "--input-temperatures", "1,-2"], "--input-temperatures: '-2' must be a finite number >= 0"),
    (["sweep", "--sample-counts", "1,0"], "--sample-counts: '0' must be at least 1"),
    (["sweep", "--sample-counts", "2.5"], "--sample-counts: '2.5' is not a whole number"),
    (["sweep", "--workers", "257"], "--workers must be between 0 and 256, got 257"),
    (["sample", "--workers", "-1"], "--workers must be between 0 and 256, got -1"),
    (["learn", "--steps", "100000", "--every", "1"], "gives 100001 GIF frames, at most 2000: raise --every to at least 51"),
    (["sample", "--samples", "2001"], "--samples must be at most 2000"),
    (["noise", "--draws", "1"], "--draws must be at least 2, got 1"),
    (["noise", "--k", "0"], "--k must be a number from 0.001 to 1e+09, got 0.0"),
    (["noise", "--k", "2.5"], "--k must be a whole number for noise (the number of draws summed), got 2.5"),
    (["gradients", "--beta", "-1"], "--beta must be a number from 0 to 1e+12"),
    (["gradients", "--target-temperature", "-2"], "--target-temperature must be a number from 0 to 1e+12"),
    (["gradients", "--gold", "a.png", "--gold-map", "b.png"], "--gold and --gold-map are alternatives"),
]


COMPARE_CASES = [
    (["compare", "--estimators", "imle,magic"], "--estimators: unknown estimator 'magic'"),
    (["compare", "--estimators", ","], "--estimators must name at least one estimator"),
    (["compare", "--estimators", "perturbed", "--input-temperature", "0"], "--input-temperature must be > 0 for perturbed"),
    (["learn", "--estimator", "score-function", "--input-temperature", "0"], "must be > 0 for score-function"),
]


@pytest.mark.parametrize("args, culprit", LEARN_CASES + COMPARE_CASES,
                         ids=[" ".join(c[0]) for c in LEARN_CASES + COMPARE_CASES])
def test_bad_learning_noise_gradient_and_compare_options(out, args, culprit):
    before = snapshot(out)
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    check_clean_failure(result, out, before, culprit)


@pytest.mark.parametrize("args, culprit", [
    (["sample", "--samples", "abc"], "Invalid value for '--samples'"),
    (["sample", "--noise", "loud"], "Invalid value for '--noise'"),
    (["sample", "--colour", "red"], "No such option: --colour"),
    (["bogus"], "No such command 'bogus'"),
])
def test_command_line_mistakes_are_one_line_too(tmp_path, args, culprit):
    import subprocess

    result = subprocess.run(["imle-cli", *args], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("imle-cli: error: ") and culprit in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_bare_command_prints_help():
    import subprocess

    result = subprocess.run(["imle-cli"], capture_output=True, text=True)
    assert result.returncode == 0 and "Commands" in result.stdout and "sample" in result.stdout


# ---- every option a message suggests is one the command has

def command_flags(command: str) -> set:
    from imle_cli.options import OPTIONS

    import imle_cli.commands  # noqa: F401  (declares every command)
    from imle_cli.commands._app import app as typer_app

    info = next(c for c in typer_app.registered_commands if c.name == command)
    names = inspect.signature(info.callback).parameters
    return {flag for name in names for flag in OPTIONS[name].flags.split("/")}


SUGGESTING = [
    (["sample", "--samples", 400, "--max-gif-mb", 0.01], "paths.gif would be about"),
    (["sample", "assets/terrain.png", "--grid", 64, "--samples", 400, "--max-gif-mb", 0.01], "fewer cells (--grid)"),
    (["gradients", "--samples", 400, "--max-gif-mb", 0.01], "would be about"),
    (["learn", "--steps", 1500, "--every", 1, "--samples", 2, "--max-gif-mb", 0.01], "would be about"),
    (["compare", "--samples", 300, "--estimators", "imle,blackbox", "--max-gif-mb", 0.01], "compare.gif would be"),
    (["all", "--samples", 400, "--max-gif-mb", 0.01], "would be about"),
    (["learn", "--steps", 100000, "--every", 1], "raise --every to at least"),
    (["sweep", "--steps", 100000, "--every", 1], "raise --every to at least"),
    (["gradients", "--gold", "CORNER_GOLD"], "or use --neighbourhood 4"),
    (["learn", "--gold", "CORNER_GOLD"], "or use --neighbourhood 4"),
    (["annotate", "--via", "0,5", "--via", "0,2", "--flat"], "--via"),
]


@pytest.mark.parametrize("args, expected", SUGGESTING, ids=[" ".join(map(str, a[:3])) for a, _ in SUGGESTING])
def test_every_option_a_message_suggests_is_one_the_command_has(tmp_path, args, expected):
    root = Path(__file__).resolve().parent.parent
    corner = np.zeros((16, 16))
    corner[0, :] = corner[:, 15] = 1  # along the top, down the right: a corner a diagonal move cuts
    np.save(tmp_path / "corner.npy", corner)
    args = [str(root / a) if str(a).startswith("assets/") else str(tmp_path / "corner.npy") if a == "CORNER_GOLD"
            else str(a) for a in args]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and expected in result.stderr, result.stderr
    suggested = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", result.stderr))
    assert suggested, result.stderr
    assert suggested <= command_flags(args[0]), (args[0], suggested - command_flags(args[0]), result.stderr)


def test_every_flag_named_in_a_message_in_the_source_is_an_option():
    from imle_cli.options import OPTIONS

    known = {flag for option in OPTIONS.values() for flag in option.flags.split("/")} | \
        {"--help", "--version"}
    root = Path(__file__).resolve().parent.parent / "imle_cli"
    named = {flag for path in root.rglob("*.py") for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]",
                                                                          path.read_text())}
    assert named <= known, named - known


def test_a_gif_too_large_is_refused_before_any_draw_is_sampled(monkeypatch):
    from imle_cli import experiments

    def never(*args, **kwargs):
        raise AssertionError("sampled before the GIF size was checked")

    monkeypatch.setattr(experiments, "sample_paths", never)
    result = CliRunner().invoke(app, ["sample", "--samples", 2000, "--max-gif-mb", 1])
    assert result.exit_code == 2 and "paths.gif would be about" in result.stderr
    assert "(--samples)" in result.stderr and "--every" not in result.stderr
