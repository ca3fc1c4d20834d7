"""Learning through integer linear programs: ours against PyEPO's own implicitMLE, in one run.

    pip install -e '.[test]'                # brings pyepo[ortools]
    python bench/ilp_learning.py            # about 25 minutes on 2 cores
    python bench/ilp_learning.py --seeds 1  # one seed, about 9 minutes
    python bench/ilp_learning.py --problems knapsack  # one problem (paths or knapsack)

PyEPO's data generators: shortest paths on a 5x5 grid (40 edges, costs to minimise) and a
knapsack of 32 items (values to maximise, capacity half the total weight); 5 features, degree
4, noise width 0.5; 500 training and 200 test instances. A linear model predicts the costs; the
loss is the L1 distance between the mean of the perturbed solutions and the true solution
(PyEPO's usual loss for I-MLE); Adam, lr 0.05, batch 32, 3 epochs; I-MLE with 5 samples,
sigma 1, lambda 10, Sum-of-Gamma noise (kappa 5, 10 terms). Contenders, each from the same
initial model:

* *PyEPO implicitMLE*: PyEPO's module on its OR-Tools model;
* *ours, from_pyepo*: ``imle(from_pyepo(model), ...)`` with the migration table's settings
  (the same solver, so the same numbers up to the random noise);
* *ours, ilp*: ``imle(ilp(...), ...)`` on the same problem written as an ILP for HiGHS (flow
  conservation for the paths, one capacity row for the knapsack);
* *ours, from_pyepo, PyEPO's noise*: the same, drawing PyEPO's own noise stream (its seeded
  Sum-of-Gamma sampler): the same computation as PyEPO's, so the same regret;
* PyEPO's, from_pyepo and ilp again with 2 solver processes: PyEPO's ``processes=2`` and our
  ``executor="process", workers=2`` (both build the model once per worker);
* *ours, dag_shortest_path* (the paths) and *ours, knapsack* (the knapsack): batched solvers
  that know the structure, the whole batch in one dynamic programme (PyEPO's grid arcs go right
  and down: a directed acyclic graph; its knapsack weights have two decimals: integers in
  hundredths), with our noise and with PyEPO's.

Each contender first makes one untimed forward pass on one instance (which starts a solver
pool, where there is one). An epoch's time is solver calls but for about 4% (two solves per
sample and instance, the same count on both sides), so on one process the same solver bounds
the speed-up; a second process can at most halve it.

Regret is PyEPO's normalised regret on the test set: the true cost of the solutions of the
predicted costs, minus the optimum, summed and divided by the summed optimum. Each seed draws
its own initial model, batch order and noise (the data stay those of seed 0). Prints a
Markdown table of the regret after training (mean and standard deviation over the seeds), the
median seconds per epoch, and the speed-up over PyEPO's implicitMLE on one process.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle
from imle.solvers import dag_shortest_path, from_pyepo, ilp, knapsack
from _report import Report, add_publish_option  # noqa: E402

TRAIN, TEST, FEATURES, SAMPLES, SIGMA, LAMBDA, EPOCHS, BATCH, LR = 500, 200, 5, 5, 1.0, 10.0, 3, 32, 0.05


def shortest_path_problem(seed: int = 0):
    from pyepo.data import shortestpath
    from pyepo.model.ort import shortestPathModel

    model = shortestPathModel(grid=(5, 5))
    x, c = shortestpath.genData(TRAIN + TEST, FEATURES, (5, 5), deg=4, noise_width=0.5, seed=seed)
    nodes = 25
    flow = np.zeros((nodes, len(model.arcs)))  # out - in = 1 at the source, -1 at the sink
    for index, (u, v) in enumerate(model.arcs):
        flow[u, index], flow[v, index] = 1.0, -1.0
    balance = np.zeros(nodes)
    balance[0], balance[-1] = 1.0, -1.0
    structured = ("dag_shortest_path", lambda: dag_shortest_path(model.arcs, source=0, sink=nodes - 1))
    return "shortest path 5x5", model, x, c, dict(A_eq=flow, b_eq=balance, minimize=True), True, structured


def knapsack_problem(seed: int = 0):
    from pyepo.data import knapsack as knapsack_data
    from pyepo.model.ort import knapsackModel

    weights, x, c = knapsack_data.genData(TRAIN + TEST, FEATURES, 32, dim=1, deg=4, noise_width=0.5, seed=seed)
    capacity = 0.5 * weights.sum(axis=1)
    model = knapsackModel(weights=weights, capacity=capacity)
    # PyEPO's weights have two decimals: in hundredths they are the integers the DP needs
    structured = ("knapsack", lambda: knapsack(np.round(weights[0] * 100), capacity[0] * 100))
    return "knapsack 32 items", model, x, c, dict(A_ub=weights, b_ub=capacity), False, structured


def true_solutions(model, costs: np.ndarray) -> np.ndarray:
    out = []
    for cost in costs:
        model.setObj(cost)
        out.append(np.asarray(model.solve()[0], dtype=np.float64))
    return np.stack(out)


def regret(predictor, model, x: np.ndarray, c: np.ndarray, optimal: np.ndarray, minimise: bool) -> float:
    with torch.no_grad():
        predicted = predictor(torch.from_numpy(x).float()).numpy()
    chosen = true_solutions(model, predicted)
    true_value, best = (chosen * c).sum(1), (optimal * c).sum(1)
    loss = (true_value - best) if minimise else (best - true_value)
    return float(loss.sum() / np.abs(best).sum())


def train(layer_for, x, c, solutions, seed: int) -> tuple:
    """(the trained predictor, seconds of each epoch) for a function that maps predicted costs
    [B, d] to the mean perturbed solution [B, d]."""
    torch.manual_seed(seed)
    predictor = torch.nn.Linear(FEATURES, c.shape[1])
    optimiser = torch.optim.Adam(predictor.parameters(), lr=LR)
    features, targets = torch.from_numpy(x).float(), torch.from_numpy(solutions).float()
    order = np.random.default_rng(seed)
    with torch.no_grad():  # warm-up, untimed: starts a solver pool (PyEPO's or ours), as every contender does
        layer_for(predictor(features[:1]))
    seconds = []
    for _ in range(EPOCHS):
        start = time.perf_counter()
        for batch in np.array_split(order.permutation(TRAIN), TRAIN // BATCH):
            optimiser.zero_grad()
            mean_solution = layer_for(predictor(features[batch]))
            torch.nn.functional.l1_loss(mean_solution, targets[batch]).backward()
            optimiser.step()
        seconds.append(time.perf_counter() - start)
    return predictor, seconds


def pyepo_mean(samples: torch.Tensor) -> torch.Tensor:
    """The mean over samples [B, S, d] -> [B, d] whose backward gives every sample the whole
    gradient of the mean, as PyEPO's implicitMLE does (autograd's mean would give each 1/S of it,
    and I-MLE's target step would shrink S-fold)."""
    total = samples.sum(dim=1)
    return total.detach() / samples.shape[1] + (total - total.detach())


class PyEPONoise:
    """PyEPO's Sum-of-Gamma noise stream for our layer: ``sample(shape)`` draws as PyEPO's
    implicitMLE does ([B, S, d] on the CPU, float32, from its generator seeded at ``seed``)."""

    def __init__(self, seed: int):
        from pyepo.func.utils import sumGammaDistribution

        self.pyepo = sumGammaDistribution(kappa=5, n_iterations=10, seed=seed)

    def sample(self, shape):
        return self.pyepo.sample(size=tuple(shape), device="cpu", dtype=torch.float32)


def contenders(model, constraints: dict, minimise: bool, structured, seed: int) -> dict:
    """Label -> (layer, its solvers to close) for one seed."""
    from pyepo.func import implicitMLE
    from pyepo.func.utils import sumGammaDistribution

    def theirs(processes: int):
        return implicitMLE(model, n_samples=SAMPLES, sigma=SIGMA, lambd=LAMBDA, processes=processes,
                           distribution=sumGammaDistribution(kappa=5, n_iterations=10, seed=seed)), []

    def ours(solver, noise=None):
        layer = imle(solver, target_distribution=TargetDistribution(beta=LAMBDA, divide_by_beta=True),
                     noise_distribution=noise or SumOfGammaNoiseDistribution(k=5.0, nb_iterations=10),
                     nb_samples=SAMPLES, input_noise_temperature=SIGMA, target_noise_temperature=SIGMA,
                     minimize=minimise, noise_sign=1 if minimise else None)  # PyEPO adds the noise to what the solver gets
        pool = [solver] if hasattr(solver, "close") else []
        return (lambda costs: pyepo_mean(layer(costs).view(costs.shape[0], SAMPLES, -1))), pool

    spread = dict(executor="process", workers=2)
    batched_rows = {} if structured is None else {
        f"ours, {structured[0]} (batched)": lambda: ours(structured[1]()),
        f"ours, {structured[0]}, PyEPO's noise": lambda: ours(structured[1](), PyEPONoise(seed)),
    }
    return {
        "PyEPO implicitMLE": lambda: theirs(1),
        "ours, from_pyepo": lambda: ours(from_pyepo(model)),
        "ours, ilp (HiGHS)": lambda: ours(ilp(**constraints)),
        "ours, from_pyepo, PyEPO's noise": lambda: ours(from_pyepo(model), PyEPONoise(seed)),
        "PyEPO implicitMLE, 2 processes": lambda: theirs(2),
        "ours, from_pyepo, 2 workers": lambda: ours(from_pyepo(model, **spread)),
        "ours, ilp (HiGHS), 2 workers": lambda: ours(ilp(**constraints, **spread)),
        **batched_rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="training seeds (default 3)")
    parser.add_argument("--problems", choices=("all", "paths", "knapsack"), default="all",
                        help="which problem to run (default all)")
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("ilp_learning")
    count = args.seeds
    if count < 1:
        parser.error(f"--seeds must be at least 1, got {count}")
    seeds = range(count)
    report.print(f"{TRAIN} training and {TEST} test instances, {EPOCHS} epochs, batch {BATCH}, {SAMPLES} samples, "
                 f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''}\n")
    report.print("| problem | contender | test regret | seconds per epoch | speed-up |\n|---|---|---|---|---|")
    problems = {"paths": [shortest_path_problem], "knapsack": [knapsack_problem]}
    for make in problems.get(args.problems, [shortest_path_problem, knapsack_problem]):
        name, model, x, c, constraints, minimise, structured = make()
        solutions = true_solutions(model, c)
        regrets, seconds = {}, {}
        for seed in seeds:
            for label, build in contenders(model, constraints, minimise, structured, seed).items():
                layer, to_close = build()
                predictor, epochs = train(layer, x[:TRAIN], c[:TRAIN], solutions[:TRAIN], seed=seed)
                for solver in to_close:
                    solver.close()
                regrets.setdefault(label, []).append(regret(predictor, model, x[TRAIN:], c[TRAIN:], solutions[TRAIN:],
                                                            minimise))
                seconds.setdefault(label, []).extend(epochs)
        reference = np.median(seconds["PyEPO implicitMLE"])
        for label in regrets:
            per_epoch = np.median(seconds[label])
            report.print(f"| {name} | {label} | {np.mean(regrets[label]):.3f} ± {np.std(regrets[label]):.3f} | "
                         f"{per_epoch:.2f} s | {reference / per_epoch:.2f}x |", flush=True)
    report.save()


if __name__ == "__main__":
    main()
