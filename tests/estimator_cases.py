"""Every shipped solver and every estimator, for the tests that go over all of them."""
import torch

from imle import (AdaptiveTargetDistribution, GumbelNoiseDistribution, SumOfGammaNoiseDistribution, TargetDistribution,
                  TwoSidedTargetDistribution, imle)
from imle.peers import blackbox, perturbed, score_function, straight_through
from imle.solvers import (assignment, dag_shortest_path, from_pyepo, grid_shortest_path, ilp, knapsack, spanning_tree,
                          top_k)


def pyepo_paths():
    from pyepo.model.ort import shortestPathModel

    return from_pyepo(shortestPathModel(grid=(3, 3)))


#: name -> (solver factory, theta shape, extra layer arguments, minimise)
SOLVERS = {
    "grid_shortest_path": (lambda: grid_shortest_path, (2, 4, 5), (), True),
    "top_k": (lambda: top_k, (2, 6), (2,), False),
    "dag_shortest_path": (lambda: dag_shortest_path([(0, 1), (1, 3), (0, 2), (2, 3), (1, 2)], 0, 3), (2, 5), (), True),
    "knapsack": (lambda: knapsack([3, 1, 4, 1, 5], 7), (2, 5), (), False),
    "ilp": (lambda: ilp(A_ub=[[1.0, 1.0, 1.0, 1.0]], b_ub=[2.0]), (2, 4), (), False),
    "assignment": (lambda: assignment, (2, 3, 3), (), False),
    "spanning_tree": (lambda: spanning_tree, (2, 4, 4), (), False),
    "from_pyepo": (pyepo_paths, (2, 12), (), True),
}
NOISES = {"gumbel": GumbelNoiseDistribution, "sum-of-gamma": lambda: SumOfGammaNoiseDistribution(3.0, 10)}


def estimator(name, solver, noise, minimize, seed=7):
    """The named estimator's layer over ``solver`` (its noise and a seeded generator where it samples)."""
    generator = torch.Generator().manual_seed(seed)
    return {
        "imle": lambda: imle(solver, target_distribution=TargetDistribution(beta=5.0), noise_distribution=noise,
                             nb_samples=3, minimize=minimize, generator=generator),
        "aimle": lambda: imle(solver, target_distribution=AdaptiveTargetDistribution(beta=5.0, beta_update_step=0.01),
                              noise_distribution=noise, nb_samples=3, minimize=minimize, generator=generator),
        "imle-two-sided": lambda: imle(solver, target_distribution=TwoSidedTargetDistribution(beta=5.0),
                                       noise_distribution=noise, nb_samples=3, minimize=minimize, generator=generator),
        "blackbox": lambda: blackbox(solver, lambda_=5.0, minimize=minimize),
        "perturbed": lambda: perturbed(solver, nb_samples=3, minimize=minimize, generator=generator),
        "straight-through": lambda: straight_through(solver, minimize=minimize),
        "score-function": lambda: score_function(solver, nb_samples=3, minimize=minimize, generator=generator),
    }[name]()


ESTIMATORS = ["imle", "aimle", "imle-two-sided", "blackbox", "perturbed", "straight-through", "score-function"]
