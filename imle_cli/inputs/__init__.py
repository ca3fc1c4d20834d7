"""The inputs: a user's files -> values with their notices (no globals, nothing printed here).

* :mod:`~imle_cli.inputs.files` - a file's own checks;
* :mod:`~imle_cli.inputs.images` - safe image decoding (pixel budget, truncated PNGs, warnings);
* :mod:`~imle_cli.inputs.arrays` - ``.npy`` / ``.npz`` / ``.csv`` arrays;
* :mod:`~imle_cli.inputs.cells` - pixels to cells (``--grid``, upscales, the one downscale rule);
* :mod:`~imle_cli.inputs.maps` - map files to cost grids;
* :mod:`~imle_cli.inputs.gold` - gold path files (images, arrays, ``gold.json``) to gold paths.
"""
from imle_cli.inputs.cells import MAX_AUTO_CELLS, block_means, parse_grid, upscale_factor
from imle_cli.inputs.gold import LoadedGold, load_gold
from imle_cli.inputs.images import MAX_PIXELS, luminance_of, read_pixels, read_rgb, rgb_of
from imle_cli.inputs.maps import LoadedMap, check_cost_range, load_map, readme_map

__all__ = ["load_map", "LoadedMap", "readme_map", "check_cost_range", "load_gold", "LoadedGold", "parse_grid",
           "block_means", "upscale_factor", "MAX_AUTO_CELLS", "read_pixels", "luminance_of", "rgb_of", "read_rgb",
           "MAX_PIXELS"]
