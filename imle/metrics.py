"""The numbers papers report for decisions made through a solver, computed from solutions.

* `regret` - PyEPO's regret: how much worse, at the true costs, the decision made from the
  predicted costs is than the best decision (``reduction="normalized"`` is PyEPO's default);
* `optimal_cost_accuracy` - the share of instances whose decision costs exactly the
  optimum (the I-MLE and blackbox papers' Warcraft accuracy: a different path of the same cost
  counts);
* `exact_match_accuracy` - the share of instances whose decision is the optimal solution
  itself, entry for entry;
* `hamming_distance` - per instance, the number of entries where two solutions differ.

Solutions are [N, ...] (instance first), costs the same shape; "optimal" is either the optimal
solutions [N, ...] or their objective values [N].

Examples:
    >>> import torch
    >>> costs = torch.tensor([[1.0, 2.0, 3.0], [4.0, 1.0, 1.0]])
    >>> chosen = torch.tensor([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])   # decisions from predicted costs
    >>> best = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])     # the optimal decisions
    >>> regret(chosen, costs, best, reduction="none").tolist()      # costs 2 and 1 against optima 1 and 1
    [1.0, 0.0]
    >>> round(regret(chosen, costs, best), 4), optimal_cost_accuracy(chosen, costs, best), exact_match_accuracy(chosen, best)
    (0.5, 0.5, 0.0)
"""
from __future__ import annotations

from typing import Union

import torch

SENSES = ("min", "max")
REDUCTIONS = ("normalized", "sum", "mean", "none")
#: PyEPO's normalisation guard: the sum of |optima| + EPS
EPS = 1e-8


def _instances(name: str, value: object) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a tensor [N, ...], got {type(value).__name__}")
    if value.dim() < 1:
        raise ValueError(f"{name} must be [N, ...] (instance first), got a scalar")
    return value.detach()


def _objectives(solutions: torch.Tensor, costs: torch.Tensor) -> torch.Tensor:
    """<costs_i, solutions_i> per instance, [N], in float64."""
    if solutions.shape != costs.shape:
        raise ValueError(f"solutions and costs must have the same shape, got {tuple(solutions.shape)} and "
                         f"{tuple(costs.shape)}")
    return (solutions.double() * costs.double()).reshape(solutions.shape[0], -1).sum(dim=1)


def _optima(optimal: torch.Tensor, costs: torch.Tensor) -> torch.Tensor:
    """The true optimal objective values [N], from optimal solutions [N, ...] or values [N]."""
    if optimal.shape == costs.shape:
        return _objectives(optimal, costs)
    if optimal.shape == costs.shape[:1]:
        return optimal.double()
    raise ValueError(f"optimal must be the optimal solutions {tuple(costs.shape)} or their objective values "
                     f"({costs.shape[0]},), got {tuple(optimal.shape)}")


def _sense(sense: object) -> str:
    if sense not in SENSES:
        raise ValueError(f"sense must be 'min' or 'max', got {sense!r}")
    return sense


def regret(solutions: torch.Tensor, costs: torch.Tensor, optimal: torch.Tensor, *, sense: str = "min",
           reduction: str = "normalized") -> Union[float, torch.Tensor]:
    """PyEPO's regret of ``solutions`` at the true ``costs``.

    Per instance, ``<c_i, w_i> - z_i`` when minimising (``z_i - <c_i, w_i>`` when maximising),
    with z_i the optimal objective. Reduced: ``"normalized"`` (PyEPO's default) the sum of the
    regrets over the sum of |z_i| (+ 1e-8); ``"sum"``; ``"mean"``; ``"none"``: the regrets [N].

    Args:
        solutions: [N, ...], the decisions (the solver's on predicted costs).
        costs: [N, ...], the true costs.
        optimal: the optimal solutions [N, ...] or the optimal objective values [N].
        sense: "min" (a shortest path) or "max" (a knapsack).
    """
    solutions, costs, optimal = (_instances(n, v) for n, v in (("solutions", solutions), ("costs", costs),
                                                                ("optimal", optimal)))
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")
    objective, optimum = _objectives(solutions, costs), _optima(optimal, costs)
    losses = objective - optimum if _sense(sense) == "min" else optimum - objective
    if reduction == "none":
        return losses
    if reduction == "normalized":
        return float(losses.sum()) / (float(optimum.abs().sum()) + EPS)
    return float(losses.sum()) if reduction == "sum" else float(losses.mean()) if len(losses) else 0.0


def optimal_cost_accuracy(solutions: torch.Tensor, costs: torch.Tensor, optimal: torch.Tensor, *,
                          sense: str = "min", rtol: float = 1e-6, atol: float = 1e-9) -> float:
    """The share of instances whose decision's true objective is the optimum (within rtol/atol,
    for float sums): the I-MLE paper's Warcraft accuracy. Arguments as for `regret`."""
    solutions, costs, optimal = (_instances(n, v) for n, v in (("solutions", solutions), ("costs", costs),
                                                                ("optimal", optimal)))
    _sense(sense)
    objective, optimum = _objectives(solutions, costs), _optima(optimal, costs)
    return float(torch.isclose(objective, optimum, rtol=rtol, atol=atol).double().mean()) if len(objective) else 0.0


def hamming_distance(first: torch.Tensor, second: torch.Tensor) -> torch.Tensor:
    """Per instance, the number of entries where two solutions differ (``|a - b|`` summed), [N]."""
    first, second = _instances("first", first), _instances("second", second)
    if first.shape != second.shape:
        raise ValueError(f"the solutions must have the same shape, got {tuple(first.shape)} and {tuple(second.shape)}")
    return (first.double() - second.double()).abs().reshape(first.shape[0], -1).sum(dim=1)


def exact_match_accuracy(solutions: torch.Tensor, optimal_solutions: torch.Tensor) -> float:
    """The share of instances whose solution equals the optimal solution entry for entry (the
    exact-path accuracy)."""
    distances = hamming_distance(solutions, optimal_solutions)
    return float((distances == 0).double().mean()) if len(distances) else 0.0
