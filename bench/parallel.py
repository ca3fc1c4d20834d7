"""I-MLE step time with a slow per-instance solver: serial vs process pool vs Ray (issue 7);
and the pool's call time with a fast one: four chunks a worker vs chunks sized by pace.

    python bench/parallel.py [--repeats 3]

The slow solver is bench/baseline.py's pure-Python Dijkstra on 64x64 maps (about 20 ms a map);
one step is an I-MLE forward and backward for a batch of 16 maps x 10 samples (320 solves).
Contenders alternate (serial, process, ray, serial, ...) after a warm-up step each (which also
starts the pools); the table gives medians and ratios to serial.

The fast one is the same Dijkstra on 5x5 maps (about 0.1 ms a map, like a small LP), 160 maps a
call: serially, on 2 workers with four chunks a worker (MIN_CHUNK_SECONDS = 0), and on 2 workers
with chunks of at least MIN_CHUNK_SECONDS of work (the default); medians of 20 calls a round.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from baseline import python_dijkstra  # noqa: E402

from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle  # noqa: E402
from imle import parallel  # noqa: E402
from imle.parallel import batched  # noqa: E402
from _report import Report, add_publish_option  # noqa: E402


def step_with(solver, costs, gold):
    layer = imle(solver, target_distribution=TargetDistribution(beta=10.0),
                 noise_distribution=SumOfGammaNoiseDistribution(64.0, 10), nb_samples=10, minimize=True,
                 generator=torch.Generator().manual_seed(0))

    def step():
        theta = costs.clone().requires_grad_()
        paths = layer(theta)
        ((paths - gold) ** 2).sum().backward()
    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("parallel")
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(HERE)}})
    costs = torch.rand(16, 64, 64, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 99 + 1
    gold = torch.eye(64, dtype=torch.float64)
    solvers = {"serial": batched(python_dijkstra),
               "process (2 workers)": batched(python_dijkstra, executor="process", workers=2),
               "ray (local, 2 CPUs)": batched(python_dijkstra, executor="ray", workers=2)}
    steps = {name: step_with(solver, costs, gold) for name, solver in solvers.items()}
    for step in steps.values():
        step()  # warm-up: starts the pools
    times = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    report.print("| backend | median step time | speed-up over serial |\n|---|---|---|")
    for name, seconds in medians.items():
        report.print(f"| {name} | {seconds:.2f} s | {medians['serial'] / seconds:.2f}x |")
    process, ray_time = medians["process (2 workers)"], medians["ray (local, 2 CPUs)"]
    report.print(f"\nray / process: {ray_time / process:.2f}x")
    for solver in solvers.values():
        solver.close()
    ray.shutdown()
    fast_solver_chunks(args.repeats, report)
    report.save()


def fast_solver_chunks(repeats: int, report: Report) -> None:
    maps = torch.rand(160, 5, 5, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 9 + 1
    paced = parallel.MIN_CHUNK_SECONDS
    serial, pool = batched(python_dijkstra), batched(python_dijkstra, executor="process", workers=2)
    contenders = {"serial": (serial, paced), "2 workers, four chunks a worker": (pool, 0.0),
                  "2 workers, chunks by pace (default)": (pool, paced)}
    pool(maps)  # starts the pool
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, (solver, least) in contenders.items():
            parallel.MIN_CHUNK_SECONDS = least
            solver(maps)  # the pace for this setting
            for _ in range(20):
                start = time.perf_counter()
                solver(maps)
                times[name].append(time.perf_counter() - start)
    parallel.MIN_CHUNK_SECONDS = paced
    pool.close()
    report.print("\n| 160 fast solves | median call time | speed-up over serial |\n|---|---|---|")
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    for name, seconds in medians.items():
        report.print(f"| {name} | {seconds * 1e3:.1f} ms | {medians['serial'] / seconds:.2f}x |")


if __name__ == "__main__":
    main()
