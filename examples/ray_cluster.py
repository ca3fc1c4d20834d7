"""Train through a slow per-instance solver on a Ray cluster (or a local Ray), with I-MLE.

On the head node:            ray start --head
On each other machine:       ray start --address=HEAD_IP:6379
Then, on any of them:        python examples/ray_cluster.py --address auto

Without --address, a local Ray with --cpus CPUs starts (and stops at the end), so the example
runs on a laptop too: python examples/ray_cluster.py

The solver is a pure-Python Dijkstra (bench/baseline.py's textbook one, about 20 ms per 64x64
map): I-MLE calls it 2 x batch x samples times a step, and imle.parallel spreads those calls over
the cluster's CPUs. The model learns 64x64 cost maps whose shortest path is the diagonal.
"""
import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from baseline import python_dijkstra  # noqa: E402  (a module the Ray workers import too)

from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle  # noqa: E402
from imle.parallel import batched  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--address", default=None, help="Ray cluster address ('auto' after ray start --head)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray when no --address is given")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--side", type=int, default=32)
    args = parser.parse_args()

    import ray

    bench = str(Path(__file__).resolve().parent.parent / "bench")
    ray.init(address=args.address, num_cpus=None if args.address else args.cpus, include_dashboard=False,
             runtime_env={"env_vars": {"PYTHONPATH": bench}})  # the workers import baseline.py
    try:
        solver = batched(python_dijkstra, executor="ray", timeout=600)
        layer = imle(solver, target_distribution=TargetDistribution(beta=10.0),
                     noise_distribution=SumOfGammaNoiseDistribution(k=float(args.side), nb_iterations=10),
                     nb_samples=args.samples, minimize=True, generator=torch.Generator().manual_seed(0))
        costs = torch.nn.Parameter(torch.rand(args.batch, args.side, args.side, dtype=torch.float64) + 0.5)
        optimiser = torch.optim.Adam([costs], lr=0.1)
        gold = torch.eye(args.side, dtype=torch.float64)
        for step in range(args.steps):
            start = time.perf_counter()
            paths = layer(costs)
            loss = (paths * (1 - gold) + (1 - paths) * gold).sum() / args.samples
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            print(f"step {step}: loss {loss.item():.1f}, {time.perf_counter() - start:.2f} s "
                  f"({2 * args.batch * args.samples} solves on {int(ray.cluster_resources().get('CPU', 0))} CPUs)")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
