"""The experiments behind the figures: pure functions from cost grids to arrays (no files).

The map is in costs; the library maximises, so every call here goes through ``imle(...,
minimize=True)`` on the costs, the one place the CLI meets the sign convention.

Example:
    >>> from imle_cli.inputs import readme_map
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


def one_grid_path(costs: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    """One map's shortest path: the per-instance solver that --workers spreads over processes."""
    from imle.solvers import grid_shortest_path

    return grid_shortest_path(costs, neighbourhood)


_POOLS: dict = {}


def grid_solver(workers: int = 0):
    """The batched grid solver; with ``workers`` > 0, per-instance solves over a process pool
    (``imle.parallel``, reused across calls). The compiled batched solver is faster on one
    machine; the pool is here for solvers that are slow per instance, and to show the feature."""
    from imle.solvers import grid_shortest_path

    if workers <= 0:
        return grid_shortest_path
    if workers not in _POOLS:
        from imle.parallel import batched

        _POOLS[workers] = batched(one_grid_path, executor="process", workers=workers)
    return _POOLS[workers]


def make_estimator(name: str, *, samples: int = 1, noise: str = "sum-of-gamma", k: float = 1.0,
                   iterations: int = 100, input_temperature: float = 1.0, target_temperature: float = 1.0,
                   alpha: float = 1.0, beta: float = 10.0, generator=None, workers: int = 0):
    """The library's estimator ``name`` (imle.estimators.by_name) over the grid shortest path on
    costs (``minimize=True``), with the noise of ``noise``."""
    from imle.estimators import by_name

    return by_name(name, grid_solver(workers), nb_samples=samples, noise_distribution=noise_distribution(noise, k, iterations),
                   alpha=alpha, beta=beta, input_temperature=input_temperature, target_temperature=target_temperature,
                   minimize=True, generator=generator)


def shortest_path(costs: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    """The unperturbed shortest path, uint8 [H, W]."""
    from imle.solvers import grid_shortest_path

    return grid_shortest_path(np.asarray(costs, dtype=np.float64), neighbourhood).astype(np.uint8)


#: Draws per batched solver call when sampling many (the progress bar moves between chunks), and
#: cells per call at most: noise, perturbed costs and paths are float64 arrays of that many cells
#: (4 Mi cells: 32 MiB each), so big maps are sampled a few draws at a time.
SAMPLE_CHUNK, SAMPLE_CHUNK_CELLS = 256, 1 << 22


def sample_paths(costs: np.ndarray, *, samples: int = 100, noise: str = "sum-of-gamma",
                 k: Optional[float] = None, iterations: int = 100, temperature: float = 1.0,
                 neighbourhood: int = 8, seed: int = 0, workers: int = 0, progress=None) -> SampleResult:
    """Draw ``samples`` perturbed shortest paths, in batched solver calls of up to
    :data:`SAMPLE_CHUNK` draws (``progress(draws)`` after each).

    Draw s solves costs - temperature * eps_s (perturb-and-MAP with theta = -costs), exactly the
    forward pass of ``imle(grid_shortest_path, ..., minimize=True)``, which computes it.
    """
    import torch

    from imle import imle

    unperturbed = shortest_path(costs, neighbourhood)
    k = float(unperturbed.sum()) if k is None else float(k)
    generator = torch.Generator().manual_seed(seed)
    theta = torch.tensor(np.asarray(costs, dtype=np.float64))[None]  # a copy: the inputs are read-only
    chunks = []
    per_call = max(1, min(SAMPLE_CHUNK, SAMPLE_CHUNK_CELLS // int(np.prod(costs.shape))))
    for start in range(0, samples, per_call):
        count = min(per_call, samples - start)
        layer = imle(grid_solver(workers), noise_distribution=noise_distribution(noise, k, iterations),
                     nb_samples=count, input_noise_temperature=temperature, minimize=True, generator=generator)
        with torch.no_grad():
            chunks.append(layer(theta, neighbourhood=neighbourhood).numpy().astype(np.uint8))
        if progress is not None:
            progress(count)
    return SampleResult(np.concatenate(chunks), unperturbed, k)


def suggested_temperature(costs: np.ndarray, path: np.ndarray, noise: str, k: float, temperature: float) -> float:
    """A noise temperature that moves paths. A detour swaps cells of the path for cells beside it,
    and costs about the spread (standard deviation) of the costs on and beside the path; a cell's
    noise has a standard deviation of about 1.28 / sqrt(k) times the temperature for Sum-of-Gamma
    noise (its k terms sum to a Gumbel, sd 1.28) and 1.28 times it for Gumbel noise. The
    temperature that makes the two comparable, and at least twice the current one."""
    near = np.asarray(path, dtype=bool).copy()
    padded = np.pad(near, 1)
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            near |= padded[1 + dr:1 + dr + near.shape[0], 1 + dc:1 + dc + near.shape[1]]
    cell_sd = 1.28 / np.sqrt(k) if noise == "sum-of-gamma" else 1.28
    spread = max(float(np.std(costs[near])), 1e-3)
    return float(f"{max(spread / cell_sd, 2 * temperature):.2g}")


def hamming_loss(paths, gold):
    """Mean over the batch of the Hamming distance: sum of y (1 - g) + (1 - y) g over cells.

    The original torch-imle experiments' loss. ``paths`` [N, H, W], ``gold`` [H, W] (tensors).
    """
    errors = paths * (1.0 - gold) + (1.0 - paths) * gold
    return errors.sum(dim=(-2, -1)).mean()


@dataclass
class GradientResult:
    """I-MLE gradients of the Hamming loss to a gold path, draw by draw."""

    paths: np.ndarray     # [S, H, W] uint8: draw s's path (perturbed forward pass)
    per_draw: np.ndarray  # [S, H, W] float64: dL/d cost from draw s alone
    k: float

    @property
    def mean(self) -> np.ndarray:
        """[H, W]: the I-MLE estimate over all draws (the mean of the per-draw gradients)."""
        return self.per_draw.mean(axis=0)

    @property
    def running_means(self) -> np.ndarray:
        """[S, H, W]: the mean over draws 1..i, for every i."""
        return np.cumsum(self.per_draw, axis=0) / np.arange(1, len(self.per_draw) + 1)[:, None, None]


def imle_gradients(costs: np.ndarray, gold: np.ndarray, *, samples: int = 100, noise: str = "sum-of-gamma",
                   k: Optional[float] = None, iterations: int = 100, input_temperature: float = 1.0,
                   target_temperature: float = 5.0, alpha: float = 1.0, beta: float = 10.0,
                   neighbourhood: int = 8, seed: int = 0, estimator: str = "imle",
                   workers: int = 0) -> GradientResult:
    """dL/d cost of the Hamming loss to ``gold``, one estimate per draw (I-MLE by default).

    The map is repeated as a batch of S instances with one sample each (two for the score
    function, which needs a baseline), so the library returns each draw's gradient separately
    (the noise of the S instances is drawn in one call, the solver runs on the whole batch).
    Their mean is the S-sample estimate. ``paths`` are the first sample of each draw (the
    rounded mean for the perturbed optimiser, whose output is an average).
    """
    import torch

    k = float(shortest_path(costs, neighbourhood).sum()) if k is None else float(k)
    layer = make_estimator(estimator, samples=1, noise=noise, k=k, iterations=iterations,
                           input_temperature=input_temperature, target_temperature=target_temperature,
                           alpha=alpha, beta=beta, generator=torch.Generator().manual_seed(seed), workers=workers)
    batch = torch.tensor(np.asarray(costs, dtype=np.float64)).expand(samples, *costs.shape).clone()
    batch.requires_grad_()
    paths = layer(batch, neighbourhood=neighbourhood)
    target = torch.tensor(np.asarray(gold, dtype=np.float64))
    # the sum over draws of each draw's own loss: the gradient of draw s is that of its loss alone
    (hamming_loss(paths, target) * samples).backward()
    first = paths.detach().view(samples, -1, *costs.shape)[:, 0]
    return GradientResult(first.round().numpy().astype(np.uint8), batch.grad.numpy().copy(), k)


@dataclass
class LearnResult:
    """Learning a cost map from a gold path."""

    steps: np.ndarray     # [F] the steps of the snapshots (0, every, 2 every, ..., the last)
    weights: np.ndarray   # [F, H, W] the learned costs at those steps
    paths: np.ndarray     # [F, H, W] uint8: the model's unperturbed shortest path there
    losses: np.ndarray    # [steps] training loss (mean Hamming loss of the sampled paths) per step
    final_path: np.ndarray  # [H, W] uint8: the learned map's unperturbed shortest path
    final_distance: int   # its Hamming distance to the gold path (0: learned)


def learn_map(gold: np.ndarray, *, steps: int = 1100, lr: float = 0.005, samples: int = 10,
              noise: str = "sum-of-gamma", k: Optional[float] = None, iterations: int = 100,
              input_temperature: float = 1.0, target_temperature: float = 1.0, alpha: float = 1.0,
              beta: float = 10.0, neighbourhood: int = 8, every: int = 10, seed: int = 0,
              progress=None, estimator: str = "imle", workers: int = 0) -> LearnResult:
    """Learn cell costs whose shortest path is ``gold``, by I-MLE (or a peer) and Adam, as in torch-imle.

    Costs start uniform in [-0.1, 0.1] (seeded); each step samples ``samples`` perturbed paths,
    takes the Hamming loss to the gold path, and steps Adam on the estimator's gradient.
    ``progress(step, loss)`` is called after every step.
    """
    import torch

    gold = np.asarray(gold, dtype=np.float64)
    k = float(gold.sum()) if k is None else float(k)
    generator = torch.Generator().manual_seed(seed)
    costs = torch.nn.Parameter((torch.rand(gold.shape, generator=generator, dtype=torch.float64) * 0.2 - 0.1)[None])
    optimiser = torch.optim.Adam([costs], lr=lr)
    layer = make_estimator(estimator, samples=samples, noise=noise, k=k, iterations=iterations,
                           input_temperature=input_temperature, target_temperature=target_temperature,
                           alpha=alpha, beta=beta, generator=generator, workers=workers)
    target = torch.from_numpy(gold)
    snapshot_steps, weights, paths, losses = [], [], [], np.empty(steps)

    def snapshot(step: int) -> None:
        current = costs.detach()[0].numpy().copy()
        snapshot_steps.append(step)
        weights.append(current)
        paths.append(shortest_path(current, neighbourhood))

    for step in range(steps):
        if step % every == 0:
            snapshot(step)
        optimiser.zero_grad()
        loss = hamming_loss(layer(costs, neighbourhood=neighbourhood), target)
        loss.backward()
        optimiser.step()
        losses[step] = loss.item()
        if progress is not None:
            progress(step, losses[step])
    snapshot(steps)
    final_path = paths[-1]
    distance = int(np.abs(final_path.astype(np.int64) - gold.astype(np.int64)).sum())
    return LearnResult(np.array(snapshot_steps), np.array(weights), np.array(paths), losses, final_path, distance)


@dataclass
class NoiseCheck:
    """Sum-of-Gamma draws against the Gumbel distribution they should sum to."""

    sums: np.ndarray    # [draws]: the sum of k independent draws, should be Gumbel(0, 1)
    single: np.ndarray  # [draws]: single draws
    ks: float           # Kolmogorov-Smirnov statistic of ``sums`` against Gumbel(0, 1)
    single_mean: float  # the exact mean of one draw, (H_s - log s) / k
    single_sd: float    # the exact standard deviation of one draw, sqrt(sum_i 1 / i^2 / k)


def gumbel_cdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.exp(-x))


def ks_statistic(draws: np.ndarray, cdf) -> float:
    x = np.sort(draws)
    n = len(x)
    values = cdf(x)
    return float(max((np.arange(1, n + 1) / n - values).max(), (values - np.arange(n) / n).max()))


def check_noise(k: int = 20, iterations: int = 100, draws: int = 8192, seed: int = 0) -> NoiseCheck:
    """Draw ``draws`` x k Sum-of-Gamma values; the row sums should be standard Gumbel."""
    import torch

    from imle.noise import SumOfGammaNoiseDistribution

    values = SumOfGammaNoiseDistribution(k=float(k), nb_iterations=iterations).sample(
        [draws, k], dtype=torch.float64, generator=torch.Generator().manual_seed(seed)).numpy()
    sums = values.sum(axis=1)
    harmonic = float(np.sum(1.0 / np.arange(1, iterations + 1)))
    second = float(np.sum(1.0 / np.arange(1, iterations + 1) ** 2))
    return NoiseCheck(sums, values[:, 0], ks_statistic(sums, gumbel_cdf),
                      (harmonic - np.log(iterations)) / k, float(np.sqrt(second / k)))


@dataclass
class SweepRun:
    """One learning run of a sweep: its setting, how it went, and its learning result."""

    input_temperature: float
    target_temperature: float
    samples: int
    reached: bool             # the learned map's shortest path equals the gold path at the end
    first_step: Optional[int]  # the first recorded step whose path equals the gold path
    final_loss: float         # mean training loss of the last 10 steps
    seconds: float
    result: LearnResult


def sweep_run(gold: np.ndarray, setting: tuple, options: dict) -> SweepRun:
    """One learning run of a sweep: ``setting`` = (input temperature, target temperature,
    samples); ``options``: the other keyword arguments of :func:`learn_map`. On one torch thread,
    so that its numbers do not depend on how many runs share the machine."""
    import time

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        input_temperature, target_temperature, samples = setting
        result = learn_map(gold, input_temperature=input_temperature, target_temperature=target_temperature,
                           samples=samples, **options)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    on_gold = [bool((path == gold).all()) for path in result.paths]
    first = int(result.steps[on_gold.index(True)]) if any(on_gold) else None
    return SweepRun(input_temperature, target_temperature, samples, result.final_distance == 0, first,
                    float(result.losses[-10:].mean()), seconds, result)


def sweep(gold: np.ndarray, settings: list, options: dict, workers: int = 1, progress=None) -> list:
    """:func:`sweep_run` for every setting, in the settings' order, over ``workers`` processes
    (spawned: clean workers on every platform); ``progress()`` after each finished run. Every run
    is seeded alike and uses one thread, so the results do not depend on ``workers``."""
    gold = np.asarray(gold, dtype=np.float64)
    if workers <= 1:
        runs = []
        for setting in settings:
            runs.append(sweep_run(gold, setting, options))
            if progress is not None:
                progress()
        return runs
    from concurrent.futures import as_completed

    from imle.parallel import worker_pool

    # workers that exit with this process; stopped on leaving, done, failed, interrupted or terminated
    with worker_pool(workers) as pool:
        futures = {pool.submit(sweep_run, gold, setting, options): index for index, setting in enumerate(settings)}
        runs = [None] * len(settings)
        for future in as_completed(futures):
            runs[futures[future]] = future.result()
            if progress is not None:
                progress()
    return runs
