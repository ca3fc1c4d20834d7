"""The experiments behind the figures: pure functions from cost grids to arrays (no files).

The map is in costs; the library maximises, so every call here goes through ``imle(...,
minimize=True)`` on the costs, the one place the CLI meets the sign convention.

Example:
    >>> from imle_cli.maps import readme_map
    >>> result = sample_paths(readme_map(), samples=4, noise="gumbel", seed=0)
    >>> result.paths.shape, int(result.unperturbed.sum()), result.k
    ((4, 16, 16), 47, 47.0)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

NOISES = ("sum-of-gamma", "gumbel", "none")


@dataclass
class SampleResult:
    """Perturb-and-MAP draws of shortest paths on one map."""

    paths: np.ndarray        # [S, H, W] uint8, draw s's path
    unperturbed: np.ndarray  # [H, W] uint8, the shortest path without noise
    k: float                 # Sum-of-Gamma k used (the unperturbed path's length by default)

    @property
    def marginals(self) -> np.ndarray:
        """[S, H, W] float64: share of draws 1..i that visit each cell, for every i."""
        counts = np.cumsum(self.paths, axis=0, dtype=np.float64)
        return counts / np.arange(1, len(self.paths) + 1)[:, None, None]


def noise_distribution(noise: str, k: float, iterations: int):
    """The library's noise object for a --noise name (None for 'none')."""
    from imle.noise import GumbelNoiseDistribution, SumOfGammaNoiseDistribution

    if noise == "sum-of-gamma":
        return SumOfGammaNoiseDistribution(k=k, nb_iterations=iterations)
    if noise == "gumbel":
        return GumbelNoiseDistribution()
    if noise == "none":
        return None
    raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")


def shortest_path(costs: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    """The unperturbed shortest path, uint8 [H, W]."""
    from imle.solvers import grid_shortest_path

    return grid_shortest_path(np.asarray(costs, dtype=np.float64), neighbourhood).astype(np.uint8)


def sample_paths(costs: np.ndarray, *, samples: int = 100, noise: str = "sum-of-gamma",
                 k: Optional[float] = None, iterations: int = 100, temperature: float = 1.0,
                 neighbourhood: int = 8, seed: int = 0) -> SampleResult:
    """Draw ``samples`` perturbed shortest paths in one batched solver call.

    Draw s solves costs - temperature * eps_s (perturb-and-MAP with theta = -costs), exactly the
    forward pass of ``imle(grid_shortest_path, ..., minimize=True)``, which computes it.
    """
    import torch

    from imle import imle
    from imle.solvers import grid_shortest_path

    unperturbed = shortest_path(costs, neighbourhood)
    k = float(unperturbed.sum()) if k is None else float(k)
    layer = imle(grid_shortest_path, noise_distribution=noise_distribution(noise, k, iterations),
                 nb_samples=samples, input_noise_temperature=temperature, minimize=True,
                 generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        paths = layer(torch.from_numpy(np.asarray(costs, dtype=np.float64))[None], neighbourhood=neighbourhood)
    return SampleResult(paths.numpy().astype(np.uint8), unperturbed, k)
