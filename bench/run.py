"""Benchmarks: the library against the textbook baseline (and scipy's compiled Dijkstra).

    python bench/run.py all            # every workload (about 4 minutes on 2 cores)
    python bench/run.py w1 w3 --repeats 5

Workloads (issue 3):
  w1  one I-MLE forward + backward, Hamming loss, README 16x16 map, S = 1, 10, 100
  w2  the same on 32 random 32x32 maps, S = 10
  w3  the grid solver alone: 1,000 16x16 maps, 100 64x64 maps, one 512x512 map; 8 and 4
  w4  SumOfGamma(k = 20.8, s = 100).sample for [1, 100, 16, 16] and [32, 10, 32, 32]

Contenders run in rounds (A, B, A, B ...) after one warm-up call each and one untimed round; a
timing sample is one call, or for calls under 50 ms as many back-to-back calls as fill 50 ms
(steady state, as in a training loop). The table gives each contender's median time per call over the rounds and its
median ratio to ours: the median over rounds of its time over ours in the same round (paired,
so the machine's slow phases do not skew it). Prints a Markdown table.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import LoopSumOfGamma, python_dijkstra, textbook_imle, textbook_torch_solver  # noqa: E402

from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle  # noqa: E402
from imle.solvers import grid_max_weight_path, grid_shortest_path  # noqa: E402
from _report import Report, add_publish_option  # noqa: E402

ROWS: List[str] = []
#: W4's peak-memory rows, a table of their own after the timings
MEMORY: List[str] = []
#: what the run prints, written for the docs at its end (bench/_report.py)
REPORT = Report("run")


def readme_map() -> torch.Tensor:
    costs = torch.ones(16, 16)
    costs[1:6, 0:12] = 100.0
    costs[8:12, 1:16] = 100.0
    costs[14:16, 6:10] = 100.0
    return costs


#: A timing sample runs a contender this long at least (several calls for fast ones), so that
#: fast calls are timed in steady state, as in a training loop, not one cold call at a time.
MIN_SAMPLE_SECONDS = 0.05


class Timings:
    """Per-round seconds per call of each contender; rounds run the contenders back to back."""

    def __init__(self, rounds: Dict[str, List[float]]):
        self.rounds = rounds

    def median(self, name: str) -> float:
        return statistics.median(self.rounds[name])

    def ratio(self, name: str, ours: str = "ours") -> float:
        """The median over rounds of name's time over ours in the same round: paired, so a slow
        phase of the machine that spans a round slows both sides of that round's ratio."""
        return statistics.median(t / o for t, o in zip(self.rounds[name], self.rounds[ours]))


def alternate(contenders: Dict[str, Callable[[], object]], repeats: int) -> Timings:
    """Time the contenders in rounds (A, B, A, B, ...) after a warm-up call each and one untimed
    round (thread pools started, caches and clocks in their steady state)."""
    times: Dict[str, List[float]] = {name: [] for name in contenders}
    calls: Dict[str, int] = {}
    for name, fn in contenders.items():
        start = time.perf_counter()
        fn()
        calls[name] = max(1, int(MIN_SAMPLE_SECONDS / max(time.perf_counter() - start, 1e-6)))
    for round_index in range(repeats + 1):
        for name, fn in contenders.items():
            start = time.perf_counter()
            for _ in range(calls[name]):
                fn()
            if round_index > 0:
                times[name].append((time.perf_counter() - start) / calls[name])
    return Timings(times)


#: the table's columns: ours, the baseline, and the floor a row has (scipy's Dijkstra or one pass of
#: uniform random numbers), each with its median ratio to ours
HEADER = ("| workload | case | ours | baseline (its time / ours) | floor (its time / ours) |\n"
          "|---|---|---|---|---|")


def row(workload: str, case: str, timings: Timings, ours: str = "ours", unit: float = 1e3) -> None:
    def cell(name: str) -> str:
        return f"{timings.median(name) * unit:,.2f} ms ({timings.ratio(name, ours):,.1f}x)"

    floors = [name for name in timings.rounds if name not in (ours, "baseline")]
    floor = "; ".join(f"{name}: {cell(name)}" for name in floors)
    line = f"| {workload} | {case} | {timings.median(ours) * unit:,.2f} ms | {cell('baseline')} | {floor} |"
    ROWS.append(line)
    REPORT.print(line)


def imle_step(layer, theta0: torch.Tensor, gold: torch.Tensor) -> Callable[[], None]:
    def step():
        theta = theta0.clone().requires_grad_()
        y = layer(theta)
        ((y - gold) ** 2).sum().backward()
    return step


def estimator_contenders(costs: torch.Tensor, gold: torch.Tensor, samples: int) -> Dict[str, Callable]:
    theta0 = -costs
    gold = gold.expand((costs.shape[0] * samples,) + tuple(gold.shape[-2:]))
    ours = imle(grid_max_weight_path, target_distribution=TargetDistribution(1.0, 10.0),
                noise_distribution=SumOfGammaNoiseDistribution(20.8, 100), nb_samples=samples,
                input_noise_temperature=1.0, target_noise_temperature=5.0)
    textbook = textbook_imle(textbook_torch_solver, 1.0, 10.0, LoopSumOfGamma(20.8, 100), samples, 1.0, 5.0)
    return {"ours": imle_step(ours, theta0, gold), "baseline": imle_step(textbook, theta0, gold)}


def w1(repeats: int) -> None:
    costs, gold = readme_map().unsqueeze(0), torch.eye(16)
    for samples in (1, 10, 100):
        row("W1 core step", f"16x16, S = {samples}", alternate(estimator_contenders(costs, gold, samples), repeats))


def w2(repeats: int) -> None:
    costs = torch.rand(32, 32, 32, generator=torch.Generator().manual_seed(0)) * 99 + 1
    timings = alternate(estimator_contenders(costs, torch.eye(32), 10), max(1, repeats // 3))
    row("W2 batch", "32 maps 32x32, S = 10", timings)


class ScipyGrid:
    """scipy.sparse.csgraph's Dijkstra on the same graphs: structure built once per shape."""

    def __init__(self, H: int, W: int, neighbourhood: int):
        from scipy.sparse import csr_matrix

        offsets = {8: [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)],
                   4: [(-1, 0), (0, -1), (0, 1), (1, 0)]}[neighbourhood]
        r, c = np.divmod(np.arange(H * W), W)
        src, dst = [], []
        for dr, dc in offsets:
            ok = (r + dr >= 0) & (r + dr < H) & (c + dc >= 0) & (c + dc < W)
            src.append(np.nonzero(ok)[0])
            dst.append((r[ok] + dr) * W + c[ok] + dc)
        src, dst = np.concatenate(src), np.concatenate(dst)
        graph = csr_matrix((np.ones(len(src)), (src, dst)), shape=(H * W, H * W))
        graph.sort_indices()
        self.indices, self.indptr, self.n = graph.indices, graph.indptr, H * W

    def solve(self, cost: np.ndarray) -> np.ndarray:
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        flat = cost.ravel()
        graph = csr_matrix((flat[self.indices], self.indices, self.indptr), shape=(self.n, self.n))
        _, pred = dijkstra(graph, directed=True, indices=0, return_predecessors=True)
        mask = np.zeros(self.n)
        v = self.n - 1
        while v >= 0:
            mask[v] = 1
            v = pred[v]
        return mask.reshape(cost.shape)


def w3(repeats: int) -> None:
    rng = np.random.default_rng(0)
    for count, side in ((1000, 16), (100, 64), (1, 512)):
        costs = rng.uniform(1, 100, size=(count, side, side))
        tensor = torch.from_numpy(costs)
        for neighbourhood in (8, 4):
            scipy_grid = ScipyGrid(side, side, neighbourhood)
            contenders = {
                "ours": lambda: grid_shortest_path(tensor, neighbourhood),
                "scipy": lambda: [scipy_grid.solve(c) for c in costs],
                "baseline": lambda: [python_dijkstra(c, neighbourhood) for c in costs],
            }
            reps = repeats if side < 512 else max(1, repeats // 2)
            row("W3 solver", f"{count} x {side}x{side}, {neighbourhood}-nbhd", alternate(contenders, reps))


MEMORY_PROBE = """
import json, sys, torch
sys.path.insert(0, {bench!r})
from baseline import LoopSumOfGamma
from imle import SumOfGammaNoiseDistribution
shape = {shape}
sampler = SumOfGammaNoiseDistribution(20.8, 100) if {ours} else LoopSumOfGamma(20.8, 100)
sampler.sample([2, 3])  # lazy initialisation out of the way
def kib(field):
    return int(next(l for l in open('/proc/self/status') if l.startswith(field)).split()[1])
open('/proc/self/clear_refs', 'w').write('5')  # reset the peak-RSS counter
before = kib('VmRSS:')
out = sampler.sample(shape)
print(json.dumps(dict(extra_kib=kib('VmHWM:') - before - out.numel() * 4 // 1024, out_kib=out.numel() * 4 // 1024)))
"""


def peak_extra_memory(shape, ours: bool) -> Dict[str, int]:
    code = MEMORY_PROBE.format(bench=str(Path(__file__).resolve().parent), shape=shape, ours=ours)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def w4(repeats: int) -> None:
    generator = torch.Generator().manual_seed(0)
    ours, loop = SumOfGammaNoiseDistribution(20.8, 100), LoopSumOfGamma(20.8, 100)
    for shape in ([1, 100, 16, 16], [32, 10, 32, 32]):
        draws = int(np.prod(shape)) * 100
        contenders = {
            "ours": lambda: ours.sample(shape, generator=generator),
            "baseline": lambda: loop.sample(shape),
            "uniform pass": lambda: torch.rand(draws, generator=generator),
        }
        row("W4 noise", f"{shape}", alternate(contenders, repeats))
        if os.path.exists("/proc/self/clear_refs"):
            mine, theirs = peak_extra_memory(shape, True), peak_extra_memory(shape, False)
            # peak RSS is read in 4 KiB pages and freed memory can be reused: small or negative
            # differences mean "no measurable extra memory"
            ours_kib, base_kib = max(mine["extra_kib"], 0), max(theirs["extra_kib"], 0)
            MEMORY.append(f"| {shape} | {mine['out_kib']:,} KiB | {ours_kib:,} KiB "
                          f"({ours_kib / max(mine['out_kib'], 1):.1f}x the output) | {base_kib:,} KiB "
                          f"({base_kib / max(mine['out_kib'], 1):.1f}x) |")


WORKLOADS = {"w1": w1, "w2": w2, "w3": w3, "w4": w4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="+", choices=[*WORKLOADS, "all"])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per contender (default 5)")
    add_publish_option(parser)
    args = parser.parse_args()
    torch.manual_seed(0)
    REPORT.print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs\n")
    REPORT.print(HEADER)
    for name in (list(WORKLOADS) if "all" in args.workloads else args.workloads):
        WORKLOADS[name](args.repeats)
    if MEMORY:
        REPORT.print("\nPeak extra memory of a noise call (peak resident memory of a fresh process, less the "
                     "output's):\n")
        REPORT.print("| noise call | output | ours | baseline |\n|---|---|---|---|")
        for line in MEMORY:
            REPORT.print(line)
    REPORT.save()


if __name__ == "__main__":
    main()
