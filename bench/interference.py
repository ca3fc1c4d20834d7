"""Interference: does the compiled noise sampler slow a training loop that uses torch's threads?

    python bench/interference.py            # both placements, about 1 minute

An I-MLE training step as a user writes it: a small CNN (two 3x3 convolutions, 2 torch threads)
predicts a batch of 8 cost maps of 16x16 cells from features, ``imle(grid_shortest_path,
SumOfGammaNoiseDistribution, nb_samples=10, minimize=True)`` samples paths, the Hamming loss to
the gold paths goes backward through the CNN and Adam steps. Contenders, alternating in rounds
(bench/run.py's ``alternate``): *ours*, the compiled sampler (split among blocking threads when a
call is large), and *torch sampler*, the library's pure-torch path (``imle.noise._compiled =
None``). Each placement runs in its own process: on every CPU, and pinned to one core with
``taskset -c 0`` (where both torch's two threads and ours share that core). Prints a Markdown
table of milliseconds per step and the ratio torch sampler / ours (above 1: ours is faster).
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run import alternate  # noqa: E402

import imle.noise  # noqa: E402
from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle as imle_layer  # noqa: E402
from imle.solvers import grid_shortest_path  # noqa: E402
from _report import Report, add_publish_option  # noqa: E402

BATCH, SIDE, SAMPLES = 8, 16, 10


def training_step():
    """A closure running one full training step, and the state it keeps between calls."""
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(BATCH, 1, SIDE, SIDE, generator=generator)
    true_costs = 1 + 99 * torch.rand(BATCH, SIDE, SIDE, generator=generator)
    gold = grid_shortest_path(true_costs).repeat_interleave(SAMPLES, dim=0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.Conv2d(8, 1, 3, padding=1), torch.nn.Softplus())
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    layer = imle_layer(grid_shortest_path, target_distribution=TargetDistribution(1.0, 10.0),
                       noise_distribution=SumOfGammaNoiseDistribution(2 * SIDE - 1, 100), nb_samples=SAMPLES,
                       minimize=True, generator=generator)

    def step():
        optimiser.zero_grad()
        costs = model(features).squeeze(1)
        loss = ((layer(costs) - gold) ** 2).sum()
        loss.backward()
        optimiser.step()
    return step


def with_sampler(compiled, step):
    def run():
        imle.noise._compiled = compiled
        step()
    return run


def inner(repeats: int, placement: str) -> None:
    torch.set_num_threads(2)
    compiled = imle.noise._compiled
    if compiled is None:
        sys.exit("the compiled sampler is not built: nothing to compare")
    step = training_step()
    timings = alternate({"ours": with_sampler(compiled, step), "torch sampler": with_sampler(None, step)}, repeats)
    print(f"| {placement} | {timings.median('ours') * 1e3:.2f} ms | {timings.median('torch sampler') * 1e3:.2f} ms "
          f"| {timings.ratio('torch sampler'):.2f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--inner", choices=["all CPUs", "one core"], help=argparse.SUPPRESS)
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("interference")
    if args.inner:
        inner(args.repeats, args.inner)
        return
    report.print("| placement | ours | torch sampler | torch sampler / ours |\n|---|---|---|---|")
    me = [sys.executable, __file__, "--repeats", str(args.repeats), "--inner"]
    # each placement runs in a process of its own, which prints its row
    report.print(subprocess.run(me + ["all CPUs"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip())
    if shutil.which("taskset"):
        report.print(subprocess.run(["taskset", "-c", "0"] + me + ["one core"], check=True, stdout=subprocess.PIPE,
                                    text=True).stdout.strip())
    else:
        report.print("| one core | (taskset not found) | | |")
    report.save()


if __name__ == "__main__":
    main()
