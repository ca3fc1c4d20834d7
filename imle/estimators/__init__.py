"""The estimators: I-MLE and its peers behind one calling convention, and one table of them.

Each estimator wraps a batched solver into a layer (an ``nn.Module``, see
`imle.estimators._layer`): `imle.estimators.imle.imle` (the seed's I-MLE, with any
target: plain, two-sided, adaptive), `imle.estimators.aimle.aimle` (torch-adaptive-imle's),
the peers of `imle.estimators.peers` (blackbox differentiation, perturbed optimisers,
straight-through, the score function) and torch-adaptive-imle's ``ste``/``sfe``
(`imle.estimators.ste`).

`NAMES` and `by_name` are the table the command-line tool and the benchmarks choose
from: one name per estimator and one set of settings mapped onto each.

Examples:
    >>> import torch
    >>> from imle.solvers import grid_shortest_path
    >>> layer = by_name("blackbox", grid_shortest_path, beta=10.0, minimize=True)
    >>> layer(torch.ones(1, 3, 3)).shape
    torch.Size([1, 3, 3])
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

NAMES = ("imle", "aimle", "imle-two-sided", "blackbox", "perturbed", "straight-through", "score-function")
"""The estimators `by_name` builds, by the names ``imle-cli`` uses, in the order figures and
tables list them."""


def by_name(name: str, solver: Callable, *, nb_samples: int = 1, noise_distribution=None, alpha: float = 1.0,
            beta: float = 1.0, input_temperature: float = 1.0, target_temperature: float = 1.0,
            minimize: bool = False, generator: Optional[torch.Generator] = None):
    """The layer of estimator ``name`` (one of `NAMES`) over ``solver``, with one set of
    settings mapped onto each:

    * ``"imle"``: `imle.imle` with ``TargetDistribution(alpha, beta)``, the noise and both
      temperatures;
    * ``"aimle"``: the same with ``AdaptiveTargetDistribution(alpha)`` (beta adapts from 1);
    * ``"imle-two-sided"``: the same with ``TwoSidedTargetDistribution(alpha, beta)``;
    * ``"blackbox"``: lambda = ``beta``;
    * ``"perturbed"``, ``"score-function"``: sigma = ``input_temperature`` (> 0), their own Gumbel
      noise, ``nb_samples`` samples (at least 2 for the score function's baseline);
    * ``"straight-through"``: no settings.

    Raises ValueError for an unknown name, naming the choices.
    """
    from imle.estimators.imle import imle
    from imle.estimators.peers import blackbox, perturbed, score_function, straight_through
    from imle.target import AdaptiveTargetDistribution, TargetDistribution, TwoSidedTargetDistribution

    if name in ("imle", "aimle", "imle-two-sided"):
        target = {"imle": lambda: TargetDistribution(alpha=alpha, beta=beta),
                  "aimle": lambda: AdaptiveTargetDistribution(alpha=alpha),
                  "imle-two-sided": lambda: TwoSidedTargetDistribution(alpha=alpha, beta=beta)}[name]()
        return imle(solver, target_distribution=target, noise_distribution=noise_distribution, nb_samples=nb_samples,
                    input_noise_temperature=input_temperature, target_noise_temperature=target_temperature,
                    minimize=minimize, generator=generator)
    if name == "blackbox":
        return blackbox(solver, lambda_=beta, minimize=minimize)
    if name == "straight-through":
        return straight_through(solver, minimize=minimize)
    if name == "perturbed":
        return perturbed(solver, nb_samples=nb_samples, sigma=input_temperature, minimize=minimize, generator=generator)
    if name == "score-function":
        return score_function(solver, nb_samples=max(2, nb_samples), sigma=input_temperature, minimize=minimize,
                              generator=generator)
    raise ValueError(f"estimator must be one of {', '.join(NAMES)}, got {name!r}")


__all__ = ["NAMES", "by_name"]
