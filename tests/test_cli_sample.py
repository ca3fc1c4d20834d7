import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from figure_decoding import decode, decode_overlay
from helpers import is_corner_path
from imle_cli.main import app
from imle_cli.inputs import readme_map
from imle_cli.render import Figure

ASSETS = Path(__file__).resolve().parent.parent / "assets"
FILES = {"map.png", "paths.gif", "distribution.gif", "distribution.png"}


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def sampled(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample")
    result = run("sample", ASSETS / "map.png", "--samples", 30, "--out", out)
    assert result.exit_code == 0, result.stderr
    return out, result


def test_sample_writes_the_four_files_and_a_summary(sampled):
    out, result = sampled
    assert {p.name for p in out.iterdir()} == FILES
    for name in FILES:
        assert f"{name}" in result.stdout
    assert "grid 16x16, k = 47" in result.stdout
    assert "of draws equal the unperturbed shortest path" in result.stdout


def test_gifs_have_one_frame_per_draw(sampled):
    out, _ = sampled
    assert iio.imread(out / "paths.gif").shape[0] == 30
    assert iio.imread(out / "distribution.gif").shape[0] == 30


def test_every_paths_frame_shows_a_corner_to_corner_path(sampled):
    out, _ = sampled
    costs = readme_map()
    figure = Figure(costs.shape, cmap="YlOrBr", vmin=costs.min(), vmax=costs.max(), label="cost (darker is costlier)", axes=True)
    frames = iio.imread(out / "paths.gif")
    masks = [decode_overlay(figure, frame) for frame in frames]
    for mask in masks:
        assert is_corner_path(mask, 8)
    assert len({m.tobytes() for m in masks}) > 1  # the draws differ


def test_last_distribution_frame_is_the_mean_of_the_drawn_paths(sampled):
    out, _ = sampled
    costs = readme_map()
    paths_figure = Figure(costs.shape, cmap="YlOrBr", vmin=1, vmax=100, label="cost (darker is costlier)", axes=True)
    masks = np.array([decode_overlay(paths_figure, f) for f in iio.imread(out / "paths.gif")])
    share = Figure(costs.shape, cmap="viridis", vmin=0.0, vmax=1.0, label="share of draws through the cell", axes=True)

    def shares(frame):  # cells no draw takes show the map in light greys: a share of 0
        from imle_cli.figures import FAINT_GREYS
        from imle_cli.render.palette import GREY_START

        centres = frame[np.ix_(*share.cell_centres())][..., :3]
        faint = (centres[:, :, None, :] == share.palette[GREY_START:GREY_START + FAINT_GREYS + 1][None, None]).all(-1)
        return np.where(faint.any(-1), 0.0, decode(share, frame))

    last = shares(iio.imread(out / "distribution.gif")[-1])
    np.testing.assert_allclose(last, masks.mean(0), atol=1 / 200)  # 216 colour levels
    np.testing.assert_allclose(shares(iio.imread(out / "distribution.png")), last)
    # and the map shows under the cells no draw takes: its cheapest white, its dearest the darkest faint grey
    still = iio.imread(out / "distribution.png")[np.ix_(*share.cell_centres())][..., :3]
    untaken = masks.sum(0) == 0
    dearest, cheapest = untaken & (costs == costs.max()), untaken & (costs == costs.min())
    from imle_cli.render.palette import GREY_START

    assert (still[dearest] == share.palette[GREY_START + 6]).all() and (still[cheapest] == share.palette[GREY_START]).all()


def test_map_png_shows_the_costs(sampled):
    out, _ = sampled
    costs = readme_map()
    figure = Figure(costs.shape, cmap="YlOrBr", vmin=1, vmax=100, label="cost (darker is costlier)", axes=True)
    np.testing.assert_allclose(decode(figure, iio.imread(out / "map.png")), costs, atol=0.5)


def test_no_noise_gives_the_known_optimum_every_draw(tmp_path):
    result = run("sample", ASSETS / "map.png", "--noise", "none", "--samples", 5, "--out", tmp_path)
    assert result.exit_code == 0, result.stderr
    costs = readme_map()
    figure = Figure(costs.shape, cmap="YlOrBr", vmin=1, vmax=100, label="cost (darker is costlier)", axes=True)
    masks = [decode_overlay(figure, f) for f in iio.imread(tmp_path / "paths.gif")]
    # the optimum: 47 cells, all of cost 1 (it avoids every wall)
    for mask in masks:
        assert is_corner_path(mask, 8) and mask.sum() == 47
        assert (costs[mask] == 1).all()
    assert "100% of draws equal the unperturbed shortest path" in result.stdout


def test_same_seed_same_bytes_other_seed_other_paths(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert run("sample", "--samples", 8, "--seed", seed, "--out", tmp_path / name, "--quiet").exit_code == 0
    for file in FILES:
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a" / "paths.gif").read_bytes() != (tmp_path / "c" / "paths.gif").read_bytes()


def test_quiet_prints_nothing(tmp_path):
    result = run("sample", "--samples", 3, "--out", tmp_path, "--quiet")
    assert result.exit_code == 0 and result.stdout == "" and result.stderr == ""


def test_rectangular_terrain_and_gumbel_noise(tmp_path):
    pixels = np.array(Image.open(ASSETS / "terrain.png"))[:200, :]  # 50x96 cells
    Image.fromarray(pixels).save(tmp_path / "rect.png")
    result = run("sample", tmp_path / "rect.png", "--noise", "gumbel", "--neighbourhood", 4, "--samples", 4,
                 "--out", tmp_path / "out")
    assert result.exit_code == 0, result.stderr
    assert "grid 50x96" in result.stdout


def test_installed_script_runs_outside_the_repository(tmp_path):
    env = dict(os.environ, COLUMNS="120")
    result = subprocess.run(["imle-cli", "sample", "--samples", "5", "--out", "figs"], cwd=tmp_path,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert {p.name for p in (tmp_path / "figs").iterdir()} == FILES


@pytest.mark.parametrize("command", ["sample", "gradients", "learn", "noise", "all"])
def test_every_help_lists_its_options_without_importing_torch(command):
    code = (f"import sys; sys.argv = ['imle-cli', '{command}', '--help']\n"
            "from imle_cli.main import run\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=dict(os.environ, COLUMNS="200"))
    assert result.stdout.strip().endswith("NO-TORCH")
    assert "--out" in result.stdout and "[default:" in result.stdout


def test_help_does_not_import_torch():
    code = ("import sys; sys.argv = ['imle-cli', 'sample', '--help']\n"
            "from imle_cli.main import run\n"
            "try:\n    run()\nexcept SystemExit:\n    pass\n"
            "print('TORCH' if 'torch' in sys.modules else 'NO-TORCH', 'MPL' if 'matplotlib' in sys.modules else '')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip().endswith("NO-TORCH")
    for option in ("--samples", "--noise", "--k", "--iterations", "--temperature", "--neighbourhood", "--grid",
                   "--min-cost", "--max-cost", "--seed", "--out", "--fps", "--quiet", "--key"):
        assert option in result.stdout


def test_workers_option_gives_the_same_bytes_through_a_process_pool(tmp_path):
    assert run("sample", "--samples", 6, "--out", tmp_path / "a", "--quiet").exit_code == 0
    result = run("sample", "--samples", 6, "--workers", 2, "--out", tmp_path / "b", "--quiet")
    assert result.exit_code == 0, result.stderr
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_the_readme_maps_distribution_gets_no_temperature_hint(tmp_path):
    # its corridors are two cells wide: draws a cell beside the unperturbed path take other routes
    result = CliRunner().invoke(app, ["sample", str(ASSETS / "map.png"), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    assert "barely moves" not in result.stdout and "cells lie off it" in result.stdout.replace("\n", " ")
