"""Eager against torch.compile for a training step of a small CNN with an estimator layer.

    python bench/compile.py [--repeats 30]

The step: 8 Warcraft-like maps (imle.data) of 12x12 cells in 4-pixel tiles, a CNN of three
convolutions that predicts a cost per cell, the layer over the grid solver (10 samples where the
estimator samples, Sum-of-Gamma noise with a generator), a summed Hamming loss, Adam. For each
estimator: the graph breaks torch._dynamo.explain counts, the first compiled call (tracing and
compiling), and the median step time eager and compiled (default mode), alternating.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from imle import AdaptiveTargetDistribution, SumOfGammaNoiseDistribution, TargetDistribution, imle
from imle.data import warcraft_maps
from imle.losses import hamming_loss
from imle.peers import blackbox, perturbed
from imle.solvers import grid_shortest_path
from _report import Report, add_publish_option  # noqa: E402

ESTIMATORS = {
    "imle": lambda g: imle(grid_shortest_path, target_distribution=TargetDistribution(beta=10.0), nb_samples=10,
                           noise_distribution=SumOfGammaNoiseDistribution(15.0, 100), minimize=True, generator=g),
    "imle, adaptive target": lambda g: imle(grid_shortest_path, target_distribution=AdaptiveTargetDistribution(),
                                            nb_samples=10, noise_distribution=SumOfGammaNoiseDistribution(15.0, 100),
                                            minimize=True, generator=g),
    "blackbox": lambda g: blackbox(grid_shortest_path, lambda_=10.0, minimize=True),
    "perturbed": lambda g: perturbed(grid_shortest_path, nb_samples=10, minimize=True, generator=g),
}


class CostModel(torch.nn.Module):
    """Map image [N, 3, 48, 48] -> cell costs [N, 12, 12] (positive)."""

    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, padding=1), torch.nn.ReLU(),
                                        torch.nn.Conv2d(16, 16, 4, stride=4), torch.nn.ReLU(),
                                        torch.nn.Conv2d(16, 1, 1), torch.nn.Softplus())

    def forward(self, images):
        return self.body(images).squeeze(1)


def setup(name: str):
    torch.manual_seed(0)
    model = CostModel()
    layer = ESTIMATORS[name](torch.Generator().manual_seed(0))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(images, paths):
        optimiser.zero_grad()
        loss = hamming_loss(layer(model(images)), paths, reduction="sum")
        loss.backward()
        optimiser.step()
        return loss

    return model, layer, step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=30)
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("compile")
    data = warcraft_maps(8, grid=12, tile=4, seed=0)
    images, paths = data.images, data.paths
    report.print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {args.repeats} steps\n")
    report.print("| estimator | graph breaks | first compiled call | eager step | compiled step | compiled / eager |")
    report.print("|---|---|---|---|---|---|")
    for name in ESTIMATORS:
        torch._dynamo.reset()
        model, layer, _ = setup(name)
        explained = torch._dynamo.explain(lambda x: layer(model(x)))(images)
        _, _, eager = setup(name)
        _, _, compiled_step = setup(name)
        compiled = torch.compile(compiled_step)
        start = time.perf_counter()
        compiled(images, paths)
        first = time.perf_counter() - start
        eager(images, paths)
        times = {"eager": [], "compiled": []}
        for _ in range(args.repeats):
            for label, step in (("eager", eager), ("compiled", compiled)):
                start = time.perf_counter()
                step(images, paths)
                times[label].append(time.perf_counter() - start)
        e, c = statistics.median(times["eager"]), statistics.median(times["compiled"])
        report.print(f"| {name} | {explained.graph_break_count} | {first:.1f} s | {e * 1e3:.2f} ms | {c * 1e3:.2f} ms | "
                     f"{c / e:.2f} |", flush=True)
    report.save()


if __name__ == "__main__":
    main()
