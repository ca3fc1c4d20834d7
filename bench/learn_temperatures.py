"""Which defaults make `imle-cli learn` visibly learn torch-imle's learning case?

    python bench/learn_temperatures.py        # about 6 minutes

torch-imle's learning experiment learns the README map's winding shortest path from a flat start
(costs uniform in [-0.1, 0.1]). A good default run must reach that path (the learned map's
unperturbed shortest path equals it at the end) and show the path moving on the way: the GIF
records the path every 5 steps, and "moving frames" counts the frames whose path differs from the
last one. Each candidate (samples, input / target temperature, steps, lr, beta) runs with seeds
0 to 3 (experiments.learn_map, Sum-of-Gamma noise, k = the gold path's length). Prints, per
candidate, each seed's final Hamming distance to the gold and its moving frames, and the time of
a run. (The original's full grid of temperatures and sample counts is `imle-cli sweep`.)
"""
import argparse
import time

import numpy as np

from imle_cli.experiments import learn_map, shortest_path
from imle_cli.gold_path import solved
from imle_cli.inputs import readme_map
from imle_cli.specs import EstimatorSpec, LearnSpec
from _report import Report, add_publish_option  # noqa: E402

#: (samples, input temperature, target temperature, steps, lr, beta)
CANDIDATES = [(100, 5.0, 5.0, 400, 0.005, 10.0), (100, 5.0, 5.0, 800, 0.005, 10.0), (100, 5.0, 5.0, 600, 0.01, 10.0),
              (100, 2.0, 2.0, 600, 0.005, 10.0), (100, 5.0, 5.0, 600, 0.005, 20.0), (50, 5.0, 5.0, 600, 0.005, 10.0),
              (10, 5.0, 5.0, 600, 0.005, 10.0)]
SEEDS = (0, 1, 2, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_publish_option(parser)
    parser.parse_args()
    report = Report("learn_temperatures")
    gold = solved(shortest_path(readme_map()), 8)
    report.print("| samples | input / target temperature | steps | lr | beta | seeds reaching the gold | distance to gold "
                 "(seeds 0-3) | moving frames (seeds 0-3) | time per run |\n|---|---|---|---|---|---|---|---|---|")
    for samples, tau_in, tau_t, steps, lr, beta in CANDIDATES:
        distances, moving, start = [], [], time.perf_counter()
        for seed in SEEDS:
            estimator = EstimatorSpec(input_temperature=tau_in, target_temperature=tau_t, beta=beta)
            result = learn_map(gold, LearnSpec(steps, lr, samples, estimator, every=5, seed=seed))
            distances.append(result.final_distance)
            moving.append(sum(not np.array_equal(path, result.paths[-1]) for path in result.paths))
        seconds = (time.perf_counter() - start) / len(SEEDS)
        report.print(f"| {samples} | {tau_in:g} / {tau_t:g} | {steps} | {lr:g} | {beta:g} | "
                     f"{sum(d == 0 for d in distances)} of {len(SEEDS)} | {', '.join(map(str, distances))} | "
                     f"{', '.join(map(str, moving))} | {seconds:.1f} s |", flush=True)
    report.save()


if __name__ == "__main__":
    main()
