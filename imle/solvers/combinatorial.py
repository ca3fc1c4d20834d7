"""Solvers beyond grids: integer linear programs, matchings, spanning trees, and PyEPO models.

Every solver here takes a batch and returns solutions of the same shape, on the input's device
and dtype. They maximise ``<theta, y>``, the library's convention, except where they are built to
minimise (``ilp(..., minimize=True)``, a minimising PyEPO model): an estimator's
``minimize=True`` hands the solver costs and expects it to minimise them, as
``grid_shortest_path`` does. SciPy (HiGHS, the Hungarian method, csgraph)
is imported when a solver is first called, never at ``import imle``; PyEPO only by
:func:`from_pyepo`'s user, who already has it.

* :func:`ilp` - ``max <theta, y>`` s.t. ``A_ub y <= b_ub``, ``A_eq y = b_eq``, bounds, integrality
  (HiGHS through ``scipy.optimize.milp``); constraints shared by the batch;
* :func:`assignment` - the 0/1 matching of maximum total weight of an [n, m] weight matrix;
* :func:`spanning_tree` - the symmetric 0/1 adjacency of a maximum-weight spanning tree of the
  complete graph on n nodes;
* :func:`from_pyepo` - a PyEPO ``optModel`` (any of its back ends) as a batched solver, in the
  model's own sense.

Example:
    >>> import torch
    >>> solve = ilp(A_ub=[[1.0, 1.0, 1.0]], b_ub=[2.0])       # pick at most two of three
    >>> solve(torch.tensor([[3.0, -1.0, 2.0]]))
    tensor([[1., 0., 1.]])
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch


def _as_batch(theta: object, name: str, dims: int) -> torch.Tensor:
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point():
        raise TypeError(f"{name} must be a floating torch.Tensor, got {type(theta).__name__}")
    if theta.dim() != dims:
        raise ValueError(f"{name} must have {dims} dimensions ([N, ...]), got shape {tuple(theta.shape)}")
    if not torch.isfinite(theta).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return theta


def _placed(solutions: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(solutions)).to(device=like.device, dtype=like.dtype)


def ilp(A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=(0, 1), integer: bool = True,
        minimize: bool = False) -> Callable:
    """A batched solver ``theta [N, d] -> y [N, d]`` of ``max <theta, y>`` (``min`` with
    ``minimize``: then theta are costs, for an estimator's ``minimize=True``) subject to the given
    constraints (the same for every instance), by HiGHS (``scipy.optimize.milp``).

    Args:
        A_ub, b_ub: ``A_ub @ y <= b_ub`` ([m, d] and [m]), or None.
        A_eq, b_eq: ``A_eq @ y == b_eq``, or None.
        bounds: (low, high) for every variable, or a sequence of d such pairs; None for no bound.
        integer: integer variables (an ILP); False gives the linear program.

    An infeasible or unbounded instance raises ValueError naming it.
    """
    constraints = []
    for name, A, b, sense in (("A_ub", A_ub, b_ub, "ub"), ("A_eq", A_eq, b_eq, "eq")):
        if (A is None) != (b is None):
            raise ValueError(f"{name} and its right-hand side must be given together")
        if A is not None:
            A, b = np.atleast_2d(np.asarray(A, dtype=np.float64)), np.asarray(b, dtype=np.float64).ravel()
            if A.shape[0] != b.shape[0] or not (np.isfinite(A).all() and np.isfinite(b).all()):
                raise ValueError(f"{name} must be [m, d] with a finite right-hand side of m values, got {A.shape} "
                                 f"and {b.shape}")
            constraints.append((A, b, sense))
    sizes = {A.shape[1] for A, _, _ in constraints}
    if len(sizes) > 1:
        raise ValueError(f"the constraint matrices have different numbers of columns: {sorted(sizes)}")

    def solve(theta: torch.Tensor) -> torch.Tensor:
        from scipy.optimize import Bounds, LinearConstraint, milp

        theta = _as_batch(theta, "theta", 2)
        d = theta.shape[1]
        if sizes and sizes != {d}:
            raise ValueError(f"theta has {d} variables per instance but the constraints have {sizes.pop()}")
        low, high = _bounds(bounds, d)
        linear = [LinearConstraint(A, -np.inf, b) if sense == "ub" else LinearConstraint(A, b, b)
                  for A, b, sense in constraints]
        values = theta.detach().cpu().double().numpy()
        out = np.empty_like(values)
        for index, objective in enumerate(values):
            result = milp(objective if minimize else -objective, constraints=linear, bounds=Bounds(low, high),
                          integrality=np.ones(d) if integer else None)
            if result.status != 0 or result.x is None:
                problem = {2: "infeasible", 3: "unbounded"}.get(result.status)
                if problem is None:  # HiGHS's presolve may only know "infeasible or unbounded"
                    feasible = milp(np.zeros(d), constraints=linear, bounds=Bounds(low, high),
                                    integrality=np.ones(d) if integer else None).status == 0
                    problem = "unbounded" if feasible else "infeasible"
                raise ValueError(f"the {'integer ' if integer else ''}linear program of instance {index} is {problem}")
            out[index] = np.round(result.x) if integer else result.x
        return _placed(out, theta)

    solve.__name__ = "ilp"
    return solve


def _bounds(bounds, d: int) -> tuple:
    """(low [d], high [d]) from one (low, high) pair for every variable or d pairs; None: no bound."""
    one_pair = len(bounds) == 2 and not isinstance(bounds[0], (tuple, list))
    pairs = [tuple(bounds)] * d if one_pair else [tuple(pair) for pair in bounds]
    if len(pairs) != d or any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"bounds must be one (low, high) pair or {d} of them, got {bounds!r}")
    low = np.array([-np.inf if pair[0] is None else pair[0] for pair in pairs], dtype=np.float64)
    high = np.array([np.inf if pair[1] is None else pair[1] for pair in pairs], dtype=np.float64)
    return low, high


def assignment(theta: torch.Tensor) -> torch.Tensor:
    """The 0/1 matching of maximum total weight: theta [N, n, m] -> [N, n, m], min(n, m) ones per
    instance, at most one per row and per column (the Hungarian method, SciPy)."""
    from scipy.optimize import linear_sum_assignment

    theta = _as_batch(theta, "theta", 3)
    values = theta.detach().cpu().double().numpy()
    out = np.zeros_like(values)
    for index, weights in enumerate(values):
        rows, cols = linear_sum_assignment(weights, maximize=True)
        out[index, rows, cols] = 1.0
    return _placed(out, theta)


def spanning_tree(theta: torch.Tensor) -> torch.Tensor:
    """The symmetric 0/1 adjacency of a maximum-weight spanning tree of the complete graph:
    theta [N, n, n] (edge weights; only the upper triangle is read) -> [N, n, n] with n - 1
    edges, both directions marked (SciPy's minimum spanning tree on shifted negated weights)."""
    from scipy.sparse.csgraph import minimum_spanning_tree

    theta = _as_batch(theta, "theta", 3)
    if theta.shape[1] != theta.shape[2]:
        raise ValueError(f"theta must be [N, n, n] edge weights, got {tuple(theta.shape)}")
    values = theta.detach().cpu().double().numpy()
    n = values.shape[1]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    out = np.zeros_like(values)
    for index, weights in enumerate(values):
        # a maximum tree of w is a minimum tree of (max w + 1 - w) > 0 on every edge: csgraph
        # reads zeros as missing edges, so every weight must be positive
        shifted = np.where(upper, weights[upper].max() + 1.0 - weights, 0.0) if n > 1 else np.zeros((n, n))
        tree = minimum_spanning_tree(shifted).toarray() > 0
        out[index] = (tree | tree.T).astype(np.float64)
    return _placed(out, theta)


def from_pyepo(optmodel) -> Callable:
    """A PyEPO ``optModel`` (any back end) as a batched solver ``theta [N, d] -> y [N, d]`` that
    optimises in the model's own sense: a minimising model (PyEPO's shortest paths) minimises
    the costs it is given, so use it under an estimator's ``minimize=True``; a maximising one
    (a knapsack) maximises ``<theta, y>``, the plain convention. As PyEPO's own modules do."""
    for name in ("setObj", "solve", "modelSense"):
        if not hasattr(optmodel, name):
            raise TypeError(f"optmodel must be a PyEPO optModel (with {name}), got {type(optmodel).__name__}")
    def solve(theta: torch.Tensor) -> torch.Tensor:
        theta = _as_batch(theta, "theta", 2)
        values = theta.detach().cpu().double().numpy()
        out = []
        for index, objective in enumerate(values):
            optmodel.setObj(objective)
            try:
                solution, _ = optmodel.solve()
            except Exception as error:
                raise ValueError(f"the PyEPO model failed on instance {index}: {error}") from None
            out.append(np.asarray(solution, dtype=np.float64))
        return _placed(np.stack(out), theta)

    solve.__name__ = f"from_pyepo({type(optmodel).__name__})"
    return solve
