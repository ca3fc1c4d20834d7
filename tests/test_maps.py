from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from imle_cli.errors import UserError
from imle_cli.inputs import block_means, load_map, parse_grid, readme_map, upscale_factor

ASSETS = Path(__file__).resolve().parent.parent / "assets"


def save(tmp_path: Path, name: str, pixels: np.ndarray, mode=None) -> Path:
    path = tmp_path / name
    image = Image.fromarray(pixels) if mode is None else Image.fromarray(pixels).convert(mode)
    image.save(path)
    return path


def test_assets_map_is_the_readme_map_exactly():
    loaded = load_map(ASSETS / "map.png")
    np.testing.assert_array_equal(loaded.costs, readme_map())
    assert loaded.notices == []


def test_builtin_map_when_no_path():
    loaded = load_map(None)
    np.testing.assert_array_equal(loaded.costs, readme_map())
    assert loaded.source == "built-in README map"


def test_luminance_to_cost_darker_is_costlier(tmp_path):
    pixels = np.array([[255, 0], [128, 64]], dtype=np.uint8)
    costs = load_map(save(tmp_path, "m.png", pixels), min_cost=1, max_cost=100).costs
    np.testing.assert_allclose(costs, 1 + (1 - pixels / 255) * 99)


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "I;16"])
def test_png_modes_give_the_same_costs(tmp_path, mode):
    grey = np.array([[0, 85], [170, 255]], dtype=np.uint8)
    if mode == "I;16":
        path = tmp_path / "m16.png"
        Image.fromarray(grey.astype(np.uint16) * 257).save(path)
    else:
        path = save(tmp_path, f"m_{mode}.png", grey, mode)
    np.testing.assert_allclose(load_map(path).costs, 1 + (1 - grey / 255) * 99, atol=1e-9)


@pytest.mark.parametrize("suffix", [".bmp", ".tif", ".gif", ".jpg"])
def test_other_image_formats(tmp_path, suffix):
    grey = np.kron(np.array([[0, 255], [255, 0]], dtype=np.uint8), np.ones((8, 8), dtype=np.uint8))
    path = save(tmp_path, "m" + suffix, np.stack([grey] * 3, -1))
    costs = load_map(path).costs
    assert costs.shape == (2, 2)  # the 8x8 blocks are found again, JPEG's blurred block edges too
    assert costs[0, 0] > 90 and costs[1, 1] > 90 and costs[0, 1] < 10 and costs[1, 0] < 10


def test_first_frame_of_an_animated_gif(tmp_path):
    frames = [Image.fromarray(np.full((4, 4), v, dtype=np.uint8)).convert("P") for v in (0, 255)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    # a flat image has no blocks: it is used at its pixel size
    assert np.allclose(load_map(tmp_path / "a.gif").costs, 100.0)


def test_rgb_uses_rec709_luma(tmp_path):
    pixels = np.zeros((2, 2, 3), dtype=np.uint8)
    pixels[0, 0] = (255, 0, 0)
    costs = load_map(save(tmp_path, "rgb.png", pixels)).costs
    assert costs[0, 0] == pytest.approx(1 + (1 - 0.2126) * 99)


def test_transparent_pixels_are_open_ground(tmp_path):
    pixels = np.zeros((2, 2, 4), dtype=np.uint8)  # black everywhere
    pixels[..., 3] = [[255, 0], [128, 255]]        # alpha: opaque, transparent, half
    costs = load_map(save(tmp_path, "rgba.png", pixels)).costs
    assert costs[0, 0] == 100.0 and costs[1, 1] == 100.0  # opaque black: wall
    assert costs[0, 1] == 1.0                            # transparent: composited over white
    assert costs[1, 0] == pytest.approx(1 + (128 / 255) * 99)


@given(st.integers(2, 12), st.integers(2, 12), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_upscaled_grids_are_recovered_exactly(rows, cols, bh, bw, seed):
    cells = np.random.default_rng(seed).integers(0, 256, size=(rows, cols)).astype(np.uint8)
    cells[0, 0], cells[0, 1], cells[1, 0] = 0, 255, 255  # at least one change per axis
    image = np.kron(cells, np.ones((bh, bw), dtype=np.uint8)) / 255.0
    found = upscale_factor(image)
    assert image.shape[0] % found[0] == 0 and image.shape[1] % found[1] == 0
    recovered = image[::found[0], ::found[1]]
    # the recovered grid reproduces the image, and is at least as coarse as the true one
    np.testing.assert_array_equal(np.kron(recovered, np.ones(found)), image)
    assert found[0] % bh == 0 and found[1] % bw == 0


@given(arrays(np.float64, st.tuples(st.integers(2, 30), st.integers(2, 30)), elements=st.floats(0, 1)),
       st.data())
def test_block_means_preserve_the_total(values, data):
    rows = data.draw(st.integers(1, values.shape[0]))
    cols = data.draw(st.integers(1, values.shape[1]))
    means = block_means(values, rows, cols)
    assert means.shape == (rows, cols)
    row_sizes = np.diff(np.append((np.arange(rows) * values.shape[0]) // rows, values.shape[0]))
    col_sizes = np.diff(np.append((np.arange(cols) * values.shape[1]) // cols, values.shape[1]))
    assert (means * np.outer(row_sizes, col_sizes)).sum() == pytest.approx(values.sum())


def test_grid_option_averages_blocks_and_handles_rectangles(tmp_path):
    pixels = np.zeros((20, 40), dtype=np.uint8)
    pixels[:, 20:] = 255
    path = save(tmp_path, "r.png", pixels)
    assert load_map(path, grid="2x4").costs.tolist() == [[100.0, 100.0, 1.0, 1.0]] * 2
    assert load_map(path, grid="5").costs.shape == (5, 5)


def test_large_unstructured_images_are_downscaled_with_a_notice(tmp_path):
    pixels = np.random.default_rng(0).integers(0, 256, size=(300, 150)).astype(np.uint8)
    loaded = load_map(save(tmp_path, "big.png", pixels))
    assert loaded.costs.shape == (128, 64)
    assert "averaged to 128x64 cells" in loaded.notices[0]


def test_cost_arrays_are_taken_as_they_are(tmp_path):
    costs = np.array([[1.0, 2.5], [0.0, 7.0]])
    np.save(tmp_path / "c.npy", costs)
    np.savez(tmp_path / "c.npz", only=costs)
    np.savez(tmp_path / "two.npz", a=costs, b=costs * 2)
    np.savetxt(tmp_path / "c.csv", costs, delimiter=",")
    for name in ("c.npy", "c.npz", "c.csv"):
        np.testing.assert_array_equal(load_map(tmp_path / name, min_cost=5, max_cost=6).costs, costs)
    np.testing.assert_array_equal(load_map(tmp_path / "two.npz", key="b").costs, costs * 2)


@pytest.mark.parametrize("text, expected", [("32", (32, 32)), ("24x40", (24, 40)), ("7X9", (7, 9)), (None, None)])
def test_parse_grid(text, expected):
    assert parse_grid(text) == expected


@pytest.mark.parametrize("text, message", [("abc", "--grid must be N or HxW"), ("3x", "--grid must be N or HxW"),
                                           ("1", "at least 2 cells"), ("10x1", "at least 2 cells")])
def test_parse_grid_errors(text, message):
    with pytest.raises(UserError, match=message):
        parse_grid(text)


@pytest.mark.parametrize("min_cost, max_cost, message", [(-1, 10, "--min-cost must be a finite number >= 0"),
                                                         (5, 2, "--max-cost .* must not be below --min-cost"),
                                                         (1, float("inf"), "--max-cost must be a finite")])
def test_cost_range_errors(min_cost, max_cost, message):
    with pytest.raises(UserError, match=message):
        load_map(None, min_cost=min_cost, max_cost=max_cost)


def test_key_only_for_npz():
    with pytest.raises(UserError, match="--key only applies to .npz files"):
        load_map(ASSETS / "map.png", key="x")


# ---- images read as they look: Pillow's transparency, EXIF orientation, float ranges

def _costs(path, **options):
    from imle_cli.inputs.maps import load_map

    return load_map(path, **options)


def test_transparent_pixels_are_open_ground_however_the_file_says_so(tmp_path):
    from PIL import Image

    black = np.zeros((8, 8), dtype=np.uint8)
    cases = {}
    palette = Image.fromarray(black, "L").convert("P")  # index 0 is black
    palette.info["transparency"] = 0
    palette.save(tmp_path / "palette.png", transparency=0)
    cases["palette.png"] = tmp_path / "palette.png"
    Image.fromarray(black, "L").save(tmp_path / "grey_key.png", transparency=0)  # grey colour key (tRNS)
    cases["grey_key.png"] = tmp_path / "grey_key.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8), "RGB").save(tmp_path / "rgb_key.png", transparency=(0, 0, 0))
    cases["rgb_key.png"] = tmp_path / "rgb_key.png"
    palette.save(tmp_path / "transparent.gif", transparency=0)
    cases["transparent.gif"] = tmp_path / "transparent.gif"
    for name, path in cases.items():
        loaded = _costs(path, grid="8")
        assert np.allclose(loaded.costs, 1.0), (name, loaded.costs.max())  # white: the cheapest cost
    # and an opaque black image is still the dearest
    Image.fromarray(black, "L").save(tmp_path / "opaque.png")
    assert np.allclose(_costs(tmp_path / "opaque.png", grid="8").costs, 100.0)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_an_image_is_turned_by_its_exif_orientation(tmp_path, orientation):
    from PIL import Image, ImageOps

    pixels = np.zeros((6, 10), dtype=np.uint8)
    pixels[0, :3] = 255  # a mark in one corner, so every turn and mirror shows
    pixels[:2, 0] = 255
    image = Image.fromarray(pixels, "L")
    exif = image.getexif()
    exif[0x0112] = orientation
    image.save(tmp_path / "phone.png", exif=exif)
    with Image.open(tmp_path / "phone.png") as shown:
        expected = np.asarray(ImageOps.exif_transpose(shown))
    loaded = _costs(tmp_path / "phone.png", grid=f"{expected.shape[0]}x{expected.shape[1]}")
    assert loaded.costs.shape == expected.shape
    assert np.array_equal(loaded.costs < 50, expected > 127)  # the bright mark where it is seen


def test_a_float_tiff_of_0_to_255_is_read_by_its_range_with_a_notice(tmp_path):
    import imageio.v3 as iio

    values = np.tile(np.linspace(0, 255, 16, dtype=np.float32), (16, 1))
    iio.imwrite(tmp_path / "float.tif", values)
    loaded = _costs(tmp_path / "float.tif", grid="16")
    assert loaded.costs[:, 0].max() == pytest.approx(100.0) and loaded.costs[:, -1].min() == pytest.approx(1.0)
    assert any("divided by 255" in notice for notice in loaded.notices)
    wide = np.tile(np.linspace(-5, 5000, 16, dtype=np.float32), (16, 1))
    iio.imwrite(tmp_path / "wide.tif", wide)
    loaded = _costs(tmp_path / "wide.tif", grid="16")
    assert any("rescaled from that range" in notice for notice in loaded.notices)
    assert loaded.costs[:, 0].max() == pytest.approx(100.0) and loaded.costs[:, -1].min() == pytest.approx(1.0)


# ---- memory bounds that cannot be bypassed: checked from headers and sizes, before decoding

def _refused(path, culprit, **options):
    from imle_cli.errors import UserError

    with pytest.raises(UserError, match=culprit):
        _costs(path, **options)


def test_a_huge_npy_is_refused_from_its_header(tmp_path):
    path = tmp_path / "huge.npy"
    with open(path, "wb") as handle:  # the header of a 20000x20000 float64 array, and no data at all
        np.lib.format.write_array_header_1_0(handle, {"descr": "<f8", "fortran_order": False,
                                                      "shape": (20000, 20000)})
    _refused(path, r"shape \(20000, 20000\): 3.2 GB as float64, above the 0.8 GB inputs may take")


def test_a_small_npz_of_a_huge_array_is_refused_from_its_member_header(tmp_path):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, costs=np.zeros((11000, 11000), dtype=np.uint8))  # 121 MB, compressed to ~120 KB
    assert path.stat().st_size < 1_000_000
    _refused(path, r"shape \(11000, 11000\): 1.0 GB as float64")


def test_a_huge_csv_is_refused_by_its_size(tmp_path):
    path = tmp_path / "sparse.csv"
    with open(path, "wb") as handle:
        handle.truncate(250_000_000)  # a sparse file: no disk, no time
    _refused(path, "is a CSV of 250 MB, above the 200 MB its text may take")


def test_an_image_whose_channels_outgrow_the_budget_is_refused_before_decoding(tmp_path):
    from PIL import Image

    path = tmp_path / "rgba.png"
    Image.new("RGBA", (5200, 5200)).save(path)  # under the pixel budget; 4 channels: 865 MB as float64
    _refused(path, r"5200x5200 pixels of 4 channel\(s\): 0.9 GB as float64")


def test_a_file_pillow_cannot_size_is_refused_not_handed_to_a_video_decoder(tmp_path):
    path = tmp_path / "clip.png"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(64))  # an MP4's first box, named .png
    _refused(path, "is not a readable image", max_pixels=1000)
