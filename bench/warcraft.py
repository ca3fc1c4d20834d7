"""The I-MLE paper's Warcraft shortest-path experiment on generated maps (imle.data), in a few lines.

    python bench/warcraft.py                       # 3 seeds, I-MLE, blackbox, perturbed
    python bench/warcraft.py --seeds 1 --epochs 3 --estimators imle

A CNN reads a map image (12x12 cells of 8x8-pixel terrain tiles: imle.data.warcraft_maps) and
predicts every cell's cost; the shortest path on its costs goes through the estimator's layer,
and the loss is the Hamming loss to the true shortest path, summed (imle.losses.hamming_loss).
1,000 training maps, 200 test maps, Adam; the same budget for every estimator. Reported as the
mean over seeds: test exact-path accuracy (the predicted path is the true one), optimal-cost
accuracy (it costs the optimum at the true costs; the paper's metric), normalised regret
(imle.metrics.regret, PyEPO's definition) and seconds per epoch.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle
from imle.data import warcraft_maps
from imle.losses import hamming_loss
from imle.metrics import exact_match_accuracy, optimal_cost_accuracy, regret
from imle.peers import blackbox, perturbed
from imle.solvers import grid_shortest_path
from _report import Report, add_publish_option  # noqa: E402

TILE, GRID = 8, 12


def layer_for(name: str, k: float, samples: int, seed: int, size: float):
    """The estimator's layer; ``size`` is I-MLE's beta, blackbox's lambda or the perturbed sigma."""
    generator = torch.Generator().manual_seed(seed)
    if name == "imle":
        return imle(grid_shortest_path, target_distribution=TargetDistribution(beta=size), nb_samples=samples,
                    noise_distribution=SumOfGammaNoiseDistribution(k, 100), minimize=True, generator=generator)
    if name == "blackbox":
        return blackbox(grid_shortest_path, lambda_=size, minimize=True)
    if name == "perturbed":
        return perturbed(grid_shortest_path, nb_samples=samples, sigma=size, minimize=True, generator=generator)
    raise ValueError(f"unknown estimator {name!r}: imle, blackbox or perturbed")


def cost_model() -> torch.nn.Module:
    """Image [N, 3, 96, 96] -> cell costs [N, 12, 12]: a tile-sized convolution reads each cell."""
    return torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(),
                               torch.nn.Conv2d(32, 32, TILE, stride=TILE), torch.nn.ReLU(),
                               torch.nn.Conv2d(32, 1, 1), torch.nn.Softplus(), torch.nn.Flatten(0, 1))


def evaluate(model: torch.nn.Module, layer, data) -> tuple:
    with torch.no_grad():
        predicted = model(data.images)
    paths = layer.map(predicted)  # the noise-free prediction
    return (exact_match_accuracy(paths, data.paths), optimal_cost_accuracy(paths, data.costs, data.paths),
            regret(paths, data.costs, data.paths))


def train(name: str, seed: int, *, epochs: int, batch: int, lr: float, samples: int, size: float) -> tuple:
    train_data = warcraft_maps(1000, grid=GRID, tile=TILE, seed=2 * seed)
    test_data = warcraft_maps(200, grid=GRID, tile=TILE, seed=2 * seed + 1)
    torch.manual_seed(seed)
    model = cost_model()
    layer = layer_for(name, float(train_data.paths.sum(dim=(1, 2)).mean()), samples, seed, size)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        for indices in torch.randperm(len(train_data), generator=order).split(batch):
            optimiser.zero_grad()
            paths = layer(model(train_data.images[indices]))
            hamming_loss(paths, train_data.paths[indices], reduction="sum").backward()
            optimiser.step()
    seconds = (time.perf_counter() - start) / epochs
    return (*evaluate(model, layer, test_data), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--estimators", default="imle,blackbox,perturbed")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--sizes", default="imle=10,blackbox=10,perturbed=1",
                        help="I-MLE's beta, blackbox's lambda and the perturbed optimiser's sigma")
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("warcraft")
    if args.seeds < 1 or args.epochs < 1:
        parser.error("--seeds and --epochs must be at least 1")
    report.print(f"{args.seeds} seeds, {args.epochs} epochs of 1,000 {GRID}x{GRID} maps (batch {args.batch}), Adam lr "
                 f"{args.lr}, {args.samples} samples where the estimator samples; {torch.get_num_threads()} threads\n")
    report.print("| estimator | exact-path accuracy | optimal-cost accuracy | normalised regret | seconds per epoch |")
    report.print("|---|---|---|---|---|")
    sizes = {name: float(value) for name, value in (item.split("=") for item in args.sizes.split(","))}
    for name in args.estimators.split(","):
        runs = [train(name, seed, epochs=args.epochs, batch=args.batch, lr=args.lr, samples=args.samples,
                      size=sizes[name]) for seed in range(args.seeds)]
        exact, optimal, loss, seconds = (statistics.mean(run[i] for run in runs) for i in range(4))
        report.print(f"| {name} | {exact:.1%} | {optimal:.1%} | {loss:.3f} | {seconds:.2f} s |")
    report.save()


if __name__ == "__main__":
    main()
