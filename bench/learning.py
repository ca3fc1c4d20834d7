"""A small Warcraft-like learning benchmark for every estimator (issue 6).

    python bench/learning.py                 # 3 seeds, every estimator (about 8 minutes on 2 cores)
    python bench/learning.py --seeds 1 --estimators imle,blackbox

The task: 12x12 terrain maps from a seeded generator (five terrain types, each with a true cell
cost: 1, 2, 4, 8, 16); every cell shows a noisy 8-dimensional feature vector of its terrain. A linear model with a softplus maps
features to a predicted cost per cell; the loss is the Hamming loss between the path the solver
finds on the predicted costs (through the estimator) and the true shortest path. 1,000 training
and 200 test maps; the same budget for every estimator (epochs, batch size, Adam learning rate).

Reported per estimator, as the mean over seeds: test accuracy (share of test maps whose predicted
path has the optimal true cost), mean regret (true cost of the predicted path over the optimum,
minus 1) and wall time per epoch. Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from imle.solvers import grid_shortest_path
from imle import SumOfGammaNoiseDistribution
from imle.estimators import NAMES, by_name
from _report import Report, add_publish_option  # noqa: E402

TERRAIN_COSTS = np.array([1.0, 2.0, 4.0, 8.0, 16.0])  # road, plains, forest, hills, water
FEATURES, SIZE = 8, 12
#: Standard deviation of the feature noise. With it, even the exact linear model (the terrain
#: costs as weights) finds an optimal path on 95.5% of test maps: a cell's noise reaches its
#: predicted cost through every weight, and a path sums about fifteen cells.
FEATURE_NOISE = 0.01


@dataclass
class Dataset:
    features: torch.Tensor   # [N, H, W, F]
    costs: torch.Tensor      # [N, H, W] true costs
    paths: torch.Tensor      # [N, H, W] true shortest paths


def make_dataset(count: int, rng: np.random.Generator) -> Dataset:
    """Terrain from smoothed random fields cut into five levels; per cell, its terrain's one-hot
    code in the first five of eight feature dimensions (three are distractors), plus noise."""
    coarse = rng.normal(size=(count, 5, 5))
    index = np.linspace(0, 4, SIZE)
    low = np.floor(index).astype(int).clip(0, 3)
    t = index - low
    rows = coarse[:, low] * (1 - t)[None, :, None] + coarse[:, low + 1] * t[None, :, None]
    field = rows[:, :, low] * (1 - t)[None, None, :] + rows[:, :, low + 1] * t[None, None, :]
    field += 0.35 * rng.normal(size=field.shape)
    levels = np.quantile(field, [0.3, 0.45, 0.65, 0.85])
    terrain = np.digitize(field, levels)
    features = np.eye(FEATURES)[terrain] + FEATURE_NOISE * rng.normal(size=terrain.shape + (FEATURES,))
    costs = TERRAIN_COSTS[terrain]
    paths = grid_shortest_path(costs)
    return Dataset(torch.tensor(features, dtype=torch.float32), torch.tensor(costs), torch.tensor(paths))


def evaluate(model: torch.nn.Module, data: Dataset) -> tuple:
    with torch.no_grad():
        predicted = model(data.features).squeeze(-1).double()
    paths = grid_shortest_path(predicted)
    true_cost = (paths * data.costs).sum(dim=(1, 2))
    optimum = (data.paths * data.costs).sum(dim=(1, 2))
    accuracy = (true_cost <= optimum + 1e-9).double().mean().item()
    regret = (true_cost / optimum - 1).mean().item()
    return accuracy, regret


def train(estimator: str, seed: int, *, epochs: int, batch: int, lr: float, samples: int) -> tuple:
    rng = np.random.default_rng(seed)
    train_data, test_data = make_dataset(1000, rng), make_dataset(200, rng)
    torch.manual_seed(seed)
    # softplus keeps predicted costs positive: the solver clamps negative costs to zero, and a
    # linear model left free drives the cheap terrains below zero, where they all look alike
    model = torch.nn.Sequential(torch.nn.Linear(FEATURES, 1), torch.nn.Softplus())
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    k = float(train_data.paths.sum(dim=(1, 2)).mean())
    layer = by_name(estimator, grid_shortest_path, nb_samples=samples, beta=10.0, minimize=True,
                    noise_distribution=SumOfGammaNoiseDistribution(k, 100), input_temperature=1.0,
                    target_temperature=1.0, generator=torch.Generator().manual_seed(seed))
    order = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        for indices in torch.randperm(1000, generator=order).split(batch):
            costs = model(train_data.features[indices]).squeeze(-1)
            paths = layer(costs)
            gold = train_data.paths[indices].to(paths.dtype)
            per = paths.shape[0] // gold.shape[0]  # samples per map in the output (1 or S)
            gold = gold.repeat_interleave(per, dim=0)
            errors = paths * (1 - gold) + (1 - paths) * gold
            loss = errors.sum() / per  # per-map Hamming losses, summed over the batch
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    seconds_per_epoch = (time.perf_counter() - start) / epochs
    accuracy, regret = evaluate(model, test_data)
    return accuracy, regret, seconds_per_epoch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--estimators", default=",".join(NAMES))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lr", type=float, default=0.2)
    parser.add_argument("--samples", type=int, default=10)
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("learning")
    report.print(f"{args.seeds} seeds, {args.epochs} epochs of 1,000 maps (batch {args.batch}), Adam lr {args.lr}, "
                 f"{args.samples} samples where the estimator samples\n")
    report.print("| estimator | test accuracy | mean regret | time per epoch |\n|---|---|---|---|")
    for name in args.estimators.split(","):
        runs = [train(name, seed, epochs=args.epochs, batch=args.batch, lr=args.lr, samples=args.samples)
                for seed in range(args.seeds)]
        accuracy = statistics.mean(r[0] for r in runs)
        regret = statistics.mean(r[1] for r in runs)
        seconds = statistics.mean(r[2] for r in runs)
        report.print(f"| {name} | {accuracy:.1%} | {regret:.3f} | {seconds:.2f} s |")
    report.save()


if __name__ == "__main__":
    main()
