"""The experiments behind the figures: pure functions from a cost grid (or a gold path) and a
small spec (imle_cli.specs) to arrays; no files, no printing. Both front ends call these.

The map is in costs; the library maximises, so every estimator here is built with
``minimize=True`` on the costs, the one place the CLI meets the sign convention.

Example:
    >>> from imle_cli.inputs import readme_map
    >>> result = sample_paths(readme_map(), SampleSpec(samples=4, noise=NoiseSpec("gumbel")))
    >>> result.paths.shape, int(result.unperturbed.sum()), result.noise.k
    ((4, 16, 16), 47, 47.0)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np

from imle_cli.gold_path import NEIGHBOURS, GoldPath, neighbour_counts
from imle_cli.specs import (EstimatorSpec, GradientSpec, LearnSpec, Noise, NoiseCheckSpec, NoiseSpec, SampleSpec,
                            SweepSpec)


@dataclass
class SampleResult:
    """Perturb-and-MAP draws of shortest paths on one map."""

    paths: np.ndarray        # [S, H, W] uint8, draw s's path
    unperturbed: np.ndarray  # [H, W] uint8, the shortest path without noise
    noise: NoiseSpec         # the noise used, k decided (the unperturbed path's length by default)


def noise_distribution(noise: NoiseSpec, memo: Optional["NoiseMemo"] = None):
    """The library's noise object for a noise spec with k decided (None for no noise); with a
    ``memo``, one that takes draws it has made before from there."""
    from imle.noise import GumbelNoiseDistribution, SumOfGammaNoiseDistribution

    if noise.kind is Noise.sum_of_gamma:
        made = SumOfGammaNoiseDistribution(k=noise.k, nb_iterations=noise.iterations)
    else:
        made = GumbelNoiseDistribution() if noise.kind is Noise.gumbel else None
    return memo.remembering(made, noise) if memo is not None and made is not None else made


class NoiseMemo:
    """The last few noise draws, by all they depend on: the noise, the shape, the dtype and the
    generator's state before the draw. A draw asked for again is a copy of the one made, and
    the generator is left as that draw left it, so every result is bit for bit a fresh draw's.

    For the studio, where most settings a slider moves (beta, the temperatures, the estimator)
    leave the noise as it was: 50 Sum-of-Gamma draws of a 64x64 map, 100 terms each, take 140 ms
    of a 300 ms answer. Draws bigger than ``most_bytes`` are not kept.

    Example:
        >>> import torch
        >>> memo = NoiseMemo()
        >>> noise = noise_distribution(NoiseSpec(k=5.0), memo)
        >>> first = noise.sample([2, 3], dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        >>> again = noise.sample([2, 3], dtype=torch.float64, generator=torch.Generator().manual_seed(0))
        >>> bool((first == again).all()), memo.hits
        (True, 1)
    """

    def __init__(self, entries: int = 4, most_bytes: int = 64 << 20):
        from collections import OrderedDict

        self.entries, self.most_bytes, self.hits = entries, most_bytes, 0
        self._draws: "OrderedDict[tuple, tuple]" = OrderedDict()

    def remembering(self, noise, spec: NoiseSpec):
        """``noise`` (a library noise object of ``spec``) drawing through this memo."""
        return _RememberedNoise(noise, spec, self)

    def draw(self, noise, spec: NoiseSpec, shape, device, dtype, generator):
        """``noise.sample(shape, ...)``, or a copy of the draw made from the same state."""
        if generator is None:  # torch's global stream: its state is not ours to rewind
            return noise.sample(shape, device=device, dtype=dtype)
        key = (spec, tuple(shape), str(device), dtype, bytes(generator.get_state().numpy()))
        kept = self._draws.pop(key, None)
        if kept is not None:
            self.hits += 1
            self._draws[key] = kept
            generator.set_state(kept[1])
            return kept[0].clone()
        drawn = noise.sample(shape, device=device, dtype=dtype, generator=generator)
        if drawn.element_size() * drawn.numel() <= self.most_bytes:
            self._draws[key] = (drawn.clone(), generator.get_state())
            while len(self._draws) > self.entries:
                self._draws.popitem(last=False)
        return drawn


class _RememberedNoise:
    """A library noise object drawing through a :class:`NoiseMemo`."""

    def __init__(self, noise, spec: NoiseSpec, memo: NoiseMemo):
        self.noise, self.spec, self.memo = noise, spec, memo

    def sample(self, shape, *, device=None, dtype=None, generator=None):
        return self.memo.draw(self.noise, self.spec, shape, device, dtype, generator)


def one_grid_path(costs: np.ndarray, neighbourhood: int = 8, source=None, target=None) -> np.ndarray:
    """One map's shortest path: the per-instance solver that --workers spreads over processes."""
    from imle.solvers import grid_shortest_path

    return grid_shortest_path(costs, neighbourhood, source=source, target=target)


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


def make_estimator(spec: EstimatorSpec, *, samples: int, k: float, workers: int = 0, generator=None,
                   memo: Optional[NoiseMemo] = None):
    """The library's estimator ``spec.name`` (imle.estimators.by_name) over the grid shortest path
    on costs (``minimize=True``), ``samples`` draws per instance, Sum-of-Gamma's k defaulting to
    ``k``; its noise drawn through ``memo`` if given."""
    from imle.estimators import by_name

    return by_name(spec.name.value, grid_solver(workers), nb_samples=samples,
                   noise_distribution=noise_distribution(spec.noise.with_k(k), memo), alpha=spec.alpha, beta=spec.beta,
                   input_temperature=spec.input_temperature, target_temperature=spec.target_temperature,
                   minimize=True, generator=generator)


def shortest_path(costs: np.ndarray, neighbourhood: int = 8, source=None, target=None) -> np.ndarray:
    """The unperturbed shortest path, uint8 [H, W], from ``source`` to ``target`` (default: the corners)."""
    from imle.solvers import grid_shortest_path

    return grid_shortest_path(np.asarray(costs, dtype=np.float64), neighbourhood, source=source,
                              target=target).astype(np.uint8)


#: Draws per batched solver call when sampling many (the progress bar moves between chunks), and
#: cells per call at most: noise, perturbed costs and paths are float64 arrays of that many cells
#: (4 Mi cells: 32 MiB each), so big maps are sampled a few draws at a time.
SAMPLE_CHUNK, SAMPLE_CHUNK_CELLS = 256, 1 << 22


def sample_paths(costs: np.ndarray, spec: SampleSpec = SampleSpec(), progress=None) -> SampleResult:
    """Draw ``spec.samples`` perturbed shortest paths on ``costs`` [H, W], in batched solver calls
    of up to :data:`SAMPLE_CHUNK` draws (``progress(draws)`` after each).

    Draw s solves costs - temperature * eps_s (perturb-and-MAP with theta = -costs), exactly the
    forward pass of ``imle(grid_shortest_path, ..., minimize=True)``, which computes it.
    """
    import torch

    from imle import imle

    neighbourhood = spec.solver.neighbourhood
    unperturbed = shortest_path(costs, neighbourhood)
    noise = spec.noise.with_k(unperturbed.sum())
    generator = torch.Generator().manual_seed(spec.seed)
    theta = torch.tensor(np.asarray(costs, dtype=np.float64))[None]  # a copy: the inputs are read-only
    chunks = []
    per_call = max(1, min(SAMPLE_CHUNK, SAMPLE_CHUNK_CELLS // int(np.prod(costs.shape))))
    for start in range(0, spec.samples, per_call):
        count = min(per_call, spec.samples - start)
        layer = imle(grid_solver(spec.solver.workers), noise_distribution=noise_distribution(noise), nb_samples=count,
                     input_noise_temperature=spec.temperature, minimize=True, generator=generator)
        with torch.no_grad():
            chunks.append(layer(theta, neighbourhood=neighbourhood).numpy().astype(np.uint8))
        if progress is not None:
            progress(count)
    return SampleResult(np.concatenate(chunks), unperturbed, noise)


#: The trial draws of :func:`moving_temperature`, the share of them that may still be the
#: unperturbed path, and the most temperatures it tries.
TRIAL_DRAWS, TRIAL_SHARE, TRIAL_TEMPERATURES = 16, 0.25, 8
#: Draws are "near-identical" when fewer than this share of their cells (on average) lie more than
#: one cell from the unperturbed path: a distribution that is one line however few draws equal it.
MIN_SPREAD = 0.05
#: Maps at most this many cells on a side count a draw's every cell off the unperturbed path as a
#: stray (:func:`draw_spread`), bigger ones only those more than a cell from it.
SMALL_MAP = 32
#: A temperature "drowns the map" when its draws keep less than this share of what the terrain
#: saves: (cost of draws on a flat map - cost of the draws) / (that - the unperturbed path's cost),
#: all on the map's own costs; 0 is draws that ignore the terrain (a blurred band), 1 the path.
MIN_TERRAIN = 0.5


@dataclass
class DrawSpread:
    """How far a set of draws strays from the unperturbed path, and how much of the terrain they keep."""

    identical: float  # share of the draws equal to the unperturbed path
    spread: float     # mean over the draws of the share of their cells more than a cell from that path
    terrain: float = float("nan")  # the share of what the terrain saves that the draws keep (MIN_TERRAIN)

    @property
    def still(self) -> bool:
        """Too close to the unperturbed path to show a distribution."""
        return self.identical > 0.9 or self.spread < MIN_SPREAD


def _cost(costs: np.ndarray, paths: np.ndarray) -> float:
    return float((paths.astype(bool) * costs).reshape(len(paths), -1).sum(1).mean())


def draw_spread(costs: np.ndarray, paths: np.ndarray, unperturbed: np.ndarray,
                flat_paths: Optional[np.ndarray] = None) -> DrawSpread:
    """The :class:`DrawSpread` of ``paths`` [S, H, W] (uint8) around ``unperturbed`` [H, W] on
    ``costs``; its ``terrain`` against ``flat_paths``, draws with the same noise on a flat map."""
    paths, path = paths.astype(bool), np.asarray(unperturbed, dtype=bool)
    identical = (paths == path).reshape(len(paths), -1).all(1)
    # on a map of SMALL_MAP cells or fewer a cell beside the path is another route (the README
    # map's corridors are two cells wide); on a bigger one it is a wiggle of the same line
    near = path | (neighbour_counts(path, NEIGHBOURS[8]) > 0) if max(path.shape) > SMALL_MAP else path
    strays = (paths & ~near).reshape(len(paths), -1).sum(1) / np.maximum(paths.reshape(len(paths), -1).sum(1), 1)
    measured = DrawSpread(float(identical.mean()), float(strays.mean()))
    if flat_paths is not None:
        costs = np.asarray(costs, dtype=np.float64)
        ignoring, base = _cost(costs, flat_paths), float(costs[path].sum())
        measured.terrain = (ignoring - _cost(costs, paths)) / (ignoring - base) if ignoring > base else 1.0
    return measured


def moving_temperature(costs: np.ndarray, spec: SampleSpec, unperturbed: np.ndarray) -> Tuple[float, DrawSpread, bool]:
    """(a temperature at which the draws leave the unperturbed path yet keep to the map, what its
    trial draws measured, whether it does both), for a map whose draws barely move at
    ``spec.temperature`` (:attr:`DrawSpread.still`).

    The first candidate comes from the costs: to leave the path, a draw must make a path cell
    dearer than a cell beside it, so the typical gap (the median over the path's cells of the
    cheapest cost beside a cell minus the cell's own) over the standard deviation of the
    difference of two cells' noise (sqrt(2) * 1.28 / sqrt(k) per unit of temperature for
    Sum-of-Gamma noise, sqrt(2) * 1.28 for Gumbel), and at least twice the current
    temperature. Each candidate is tried on :data:`TRIAL_DRAWS` draws (the run's seed), and on as
    many with the same noise on a flat map of the mean cost: a candidate whose draws are still
    near the path (more than :data:`TRIAL_SHARE` identical, or less than :data:`MIN_SPREAD` of
    their cells more than a cell from it) is doubled; one whose draws keep less than :data:`MIN_TERRAIN` of what the
    terrain saves (the noise drowns the map) is lowered halfway (in ratio) toward the last still
    one; at most :data:`TRIAL_TEMPERATURES` tries. Temperatures are rounded to two significant
    digits.
    """
    from dataclasses import replace

    path = np.asarray(unperturbed, dtype=bool)
    beside = np.full(path.shape, np.inf)
    padded_costs = np.pad(np.asarray(costs, dtype=np.float64), 1, constant_values=np.inf)
    padded_path = np.pad(path, 1, constant_values=True)
    rows, cols = path.shape
    for dr in (-1, 0, 1):
        for dc in (-1, 0, 1):
            window = (slice(1 + dr, 1 + dr + rows), slice(1 + dc, 1 + dc + cols))
            beside = np.minimum(beside, np.where(padded_path[window], np.inf, padded_costs[window]))
    gaps = (beside - costs)[path & np.isfinite(beside)]
    gap = float(np.median(np.maximum(gaps, 0.0))) if gaps.size else 1.0
    noise = spec.noise.with_k(path.sum())
    cell_sd = 1.28 / np.sqrt(noise.k) if noise.kind is Noise.sum_of_gamma else 1.28
    temperature = max(gap / (np.sqrt(2) * cell_sd), 2 * spec.temperature)
    still_at, tried = spec.temperature, {}
    for _ in range(TRIAL_TEMPERATURES):
        temperature = float(f"{temperature:.2g}")
        if temperature in tried:
            break
        trial_spec = replace(spec, samples=TRIAL_DRAWS, temperature=temperature, noise=noise)
        trial = sample_paths(costs, trial_spec)
        flat = sample_paths(np.full(costs.shape, float(np.mean(costs))), trial_spec)
        measured = tried[temperature] = draw_spread(costs, trial.paths, trial.unperturbed, flat.paths)
        moving = measured.identical <= TRIAL_SHARE and measured.spread >= MIN_SPREAD
        if moving and measured.terrain >= MIN_TERRAIN:
            return temperature, measured, True
        if not moving:
            still_at, temperature = temperature, temperature * 2
        else:  # drowned: halfway (in ratio) back toward the last temperature whose draws were still
            temperature = float(np.sqrt(temperature * still_at))
    # none both moves and keeps to the map: the one that moves the most of those that keep it, else the one that keeps most
    kept = [t for t, m in tried.items() if m.terrain >= MIN_TERRAIN]
    best = max(kept, key=lambda t: tried[t].spread) if kept else max(tried, key=lambda t: tried[t].terrain)
    return best, tried[best], False


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
    noise: NoiseSpec      # the noise used, k decided

    @property
    def mean(self) -> np.ndarray:
        """[H, W]: the I-MLE estimate over all draws (the mean of the per-draw gradients)."""
        return self.per_draw.mean(axis=0)

    @property
    def running_means(self) -> np.ndarray:
        """[S, H, W]: the mean over draws 1..i, for every i."""
        return np.cumsum(self.per_draw, axis=0) / np.arange(1, len(self.per_draw) + 1)[:, None, None]


def imle_gradients(costs: np.ndarray, gold: GoldPath, spec: GradientSpec = GradientSpec(),
                   memo: Optional[NoiseMemo] = None) -> GradientResult:
    """dL/d cost of the Hamming loss to ``gold`` (a GoldPath on the grid of ``costs`` [H, W]), one
    estimate per draw (I-MLE by default). The solver runs between the gold's two ends.

    The map is repeated as a batch of S instances with one sample each (two for the score
    function, which needs a baseline), so the library returns each draw's gradient separately
    (the noise of the S instances is drawn in one call, the solver runs on the whole batch).
    Their mean is the S-sample estimate. ``paths`` are the first sample of each draw (the
    rounded mean for the perturbed optimiser, whose output is an average). ``memo``: a
    :class:`NoiseMemo` the noise is drawn through (the same results, sooner when repeated).
    """
    import torch

    samples, neighbourhood = spec.samples, spec.solver.neighbourhood
    noise = spec.estimator.noise.with_k(shortest_path(costs, neighbourhood, **gold.ends).sum())
    layer = make_estimator(spec.estimator, samples=1, k=noise.k, workers=spec.solver.workers,
                           generator=torch.Generator().manual_seed(spec.seed), memo=memo)
    batch = torch.tensor(np.asarray(costs, dtype=np.float64)).expand(samples, *costs.shape).clone()
    batch.requires_grad_()
    paths = layer(batch, neighbourhood=neighbourhood, **gold.ends)
    target = torch.tensor(gold.mask, dtype=torch.float64)
    # the sum over draws of each draw's own loss: the gradient of draw s is that of its loss alone
    (hamming_loss(paths, target) * samples).backward()
    first = paths.detach().view(samples, -1, *costs.shape)[:, 0]
    return GradientResult(first.round().numpy().astype(np.uint8), batch.grad.numpy().copy(), noise)


@dataclass
class LearnResult:
    """Learning a cost map from a gold path."""

    steps: np.ndarray     # [F] the steps of the snapshots (0, every, 2 every, ..., the last)
    weights: np.ndarray   # [F, H, W] the learned costs at those steps
    paths: np.ndarray     # [F, H, W] uint8: the model's unperturbed shortest path there
    losses: np.ndarray    # [steps] training loss (mean Hamming loss of the sampled paths) per step
    final_path: np.ndarray  # [H, W] uint8: the learned map's unperturbed shortest path
    final_distance: int   # its Hamming distance to the gold path (0: learned)
    learned_at: Optional[int] = None  # with patience: the step since which the learned path has been the gold
    stopped_early: bool = False  # ended by the patience rule, before spec.steps


def learn_map(gold: GoldPath, spec: LearnSpec = LearnSpec(), progress=None, snapshot=None) -> LearnResult:
    """Learn cell costs whose shortest path between the gold's ends is ``gold``, by I-MLE (or a
    peer) and Adam, as in torch-imle.

    Costs start uniform in [-0.1, 0.1] (seeded); each step samples ``spec.samples`` perturbed
    paths, takes the Hamming loss to the gold path, and steps Adam on the estimator's gradient.
    Sum-of-Gamma's k defaults to the gold path's length. ``progress(step, loss)`` is called after
    every step; ``snapshot(step, costs, path, losses)`` at every snapshot (the learned costs [H, W],
    their shortest path, the losses so far), and the loop ends there when it returns True (the
    studio's stop button). With ``spec.patience`` > 0 the loop also ends ``patience`` steps after
    the learned map's shortest path has become the gold and stayed so at every step since (a
    last snapshot there); what it computed up to there is what a run without patience computes.
    """
    import torch

    ends, mask = gold.ends, gold.mask.astype(np.float64)
    steps, every, neighbourhood = spec.steps, spec.every, spec.solver.neighbourhood
    device = torch.device(spec.device)
    generator = torch.Generator().manual_seed(spec.seed)
    start = (torch.rand(mask.shape, generator=generator, dtype=torch.float64) * 0.2 - 0.1)[None]
    costs = torch.nn.Parameter(start.to(device))  # the same start on every device
    optimiser = torch.optim.Adam([costs], lr=spec.lr)
    # on the CPU the start and the noise come from one generator (as always); a GPU draws with its own
    noise_generator = generator if device.type == "cpu" else torch.Generator(device).manual_seed(spec.seed)
    layer = make_estimator(spec.estimator, samples=spec.samples, k=mask.sum(), workers=spec.solver.workers,
                           generator=noise_generator)
    target = torch.from_numpy(mask).to(device)
    snapshot_steps, weights, paths, losses = [], [], [], np.empty(steps)

    def record(step: int) -> bool:
        current = costs.detach()[0].cpu().numpy().copy()
        snapshot_steps.append(step)
        weights.append(current)
        paths.append(shortest_path(current, neighbourhood, **ends))
        return bool(snapshot is not None and snapshot(step, current, paths[-1], losses[:step]))

    learned_at, stopped_early, gold_mask = None, False, gold.mask.astype(bool)
    for step in range(steps):
        if step % every == 0 and record(step):
            losses = losses[:step]
            break
        optimiser.zero_grad()
        loss = hamming_loss(layer(costs, neighbourhood=neighbourhood, **ends), target)
        loss.backward()
        optimiser.step()
        losses[step] = loss.item()
        if progress is not None:
            progress(step, losses[step])
        if spec.patience:  # the map after step + 1 updates: has its shortest path been the gold since?
            on_gold = np.array_equal(shortest_path(costs.detach()[0].cpu().numpy(), neighbourhood, **ends) > 0,
                                     gold_mask)
            learned_at = (learned_at if learned_at is not None else step + 1) if on_gold else None
            if learned_at is not None and step + 1 - learned_at >= spec.patience and step + 1 < steps:
                losses, stopped_early = losses[:step + 1], True
                record(step + 1)
                break
    else:
        record(steps)
    final_path = paths[-1]
    distance = int(np.abs(final_path.astype(np.int64) - gold.mask.astype(np.int64)).sum())
    return LearnResult(np.array(snapshot_steps), np.array(weights), np.array(paths), losses, final_path, distance,
                       learned_at, stopped_early)


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


def check_noise(spec: NoiseCheckSpec = NoiseCheckSpec()) -> NoiseCheck:
    """Draw ``spec.draws`` x k Sum-of-Gamma values; the row sums should be standard Gumbel."""
    import torch

    from imle.noise import SumOfGammaNoiseDistribution

    k, iterations = spec.k, spec.iterations
    values = SumOfGammaNoiseDistribution(k=float(k), nb_iterations=iterations).sample(
        [spec.draws, k], dtype=torch.float64, generator=torch.Generator().manual_seed(spec.seed)).numpy()
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


def sweep_run(gold: GoldPath, spec: LearnSpec) -> SweepRun:
    """One learning run of a sweep (:func:`learn_map`), on one torch thread, so that its numbers
    do not depend on how many runs share the machine."""
    import time

    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        start = time.perf_counter()
        result = learn_map(gold, spec)
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
    on_gold = [bool((path == gold.mask).all()) for path in result.paths]
    first = int(result.steps[on_gold.index(True)]) if any(on_gold) else None
    return SweepRun(spec.estimator.input_temperature, spec.estimator.target_temperature, spec.samples,
                    result.final_distance == 0, first, float(result.losses[-10:].mean()), seconds, result)


def sweep(gold: GoldPath, spec: SweepSpec, progress=None) -> list:
    """:func:`sweep_run` for every run of ``spec`` (SweepSpec.runs' order), over ``spec.workers``
    processes (spawned: clean workers on every platform; 0: here, one after the other);
    ``progress()`` after each finished run. Every run is seeded alike and uses one thread, so the
    results do not depend on the worker count."""
    settings = spec.runs()
    if spec.workers == 0:
        runs = []
        for setting in settings:
            runs.append(sweep_run(gold, setting))
            if progress is not None:
                progress()
        return runs
    from concurrent.futures import as_completed

    from imle.parallel import worker_pool

    # workers that exit with this process; stopped on leaving, done, failed, interrupted or terminated
    with worker_pool(spec.workers) as pool:
        futures = {pool.submit(sweep_run, gold, setting): index for index, setting in enumerate(settings)}
        runs = [None] * len(settings)
        for future in as_completed(futures):
            runs[futures[future]] = future.result()
            if progress is not None:
                progress()
    return runs
