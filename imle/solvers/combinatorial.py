"""Solvers beyond grids: integer linear programs, matchings, spanning trees, and PyEPO models.

Every solver here takes a batch and returns solutions of the same shape, on the input's device
and dtype. They maximise ``<theta, y>``, the library's convention, except where they are built to
minimise (``ilp(..., minimize=True)``, a minimising PyEPO model): an estimator's
``minimize=True`` hands the solver costs and expects it to minimise them, as
``grid_shortest_path`` does. SciPy (HiGHS, the Hungarian method, csgraph)
is imported when a solver is first called, never at ``import imle``; PyEPO only by
`from_pyepo`'s user, who already has it.

* `ilp` - ``max <theta, y>`` s.t. ``A_ub y <= b_ub``, ``A_eq y = b_eq``, bounds, integrality
  (HiGHS through ``scipy.optimize.milp``); constraints shared by the batch;
* `assignment` - the 0/1 matching of maximum total weight of an [n, m] weight matrix;
* `spanning_tree` - the symmetric 0/1 adjacency of a maximum-weight spanning tree of the
  complete graph on n nodes;
* `from_pyepo` - a PyEPO ``optModel`` (any of its back ends) as a batched solver, in the
  model's own sense.

``ilp`` and ``from_pyepo`` solve one instance at a time; ``executor="process", workers=W``
spreads a batch over W processes (`imle.parallel`).

Examples:
    >>> import torch
    >>> solve = ilp(A_ub=[[1.0, 1.0, 1.0]], b_ub=[2.0])       # pick at most two of three
    >>> solve(torch.tensor([[3.0, -1.0, 2.0]]))
    tensor([[1., 0., 1.]])
"""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from imle._checks import solver_batch
from imle.solvers.parallel import Closeable


def _scipy(what: str):
    """SciPy, or an ImportError with the install hint (it is the ``solvers`` extra, imported only
    by the solvers that need it, never at ``import imle``)."""
    try:
        import scipy.optimize
        import scipy.sparse.csgraph  # noqa: F401 (spanning_tree's)
    except ImportError:
        raise ImportError(f"{what} needs SciPy, which is not installed: pip install 'imle[solvers]' (or pip install "
                          "scipy)") from None
    return scipy


def _placed(solutions: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(solutions)).to(device=like.device, dtype=like.dtype)


def ilp(A_ub=None, b_ub=None, A_eq=None, b_eq=None, bounds=(0, 1), integer: bool = True,
        minimize: bool = False, *, executor: str = "serial", workers: Optional[int] = None,
        timeout: Optional[float] = None) -> "LinearProgramSolver":
    """A batched solver ``theta [N, d] -> y [N, d]`` of ``max <theta, y>`` (``min`` with
    ``minimize``: then theta are costs, for an estimator's ``minimize=True``) subject to the given
    constraints (the same for every instance), by HiGHS (``scipy.optimize.milp``).

    Args:
        A_ub, b_ub: ``A_ub @ y <= b_ub`` ([m, d] and [m]), or None.
        A_eq, b_eq: ``A_eq @ y == b_eq``, or None.
        bounds: (low, high) for every variable, or a sequence of d such pairs; None for no bound.
        integer: integer variables (an ILP); False gives the linear program.
        executor, workers, timeout: how the instances are spread, as `imle.parallel.batched`
            does it: "serial" (default), or "process" over ``workers`` processes for large
            batches or hard programs (each instance is one HiGHS solve).

    An infeasible or unbounded instance raises ValueError naming it. Objectives of any finite
    magnitude are solved (scaled by a power of two first where HiGHS would read them as infinite
    or as zero); a constraint value of magnitude 1e20 or more is refused here (HiGHS would read it
    as infinite). ``close()`` (or a ``with``
    block) stops a process pool; one left open stops at the interpreter's exit.
    """
    _scipy("ilp")  # say so now, not as a failing instance at the first call
    constraints = []
    for name, A, b, sense in (("A_ub", A_ub, b_ub, "ub"), ("A_eq", A_eq, b_eq, "eq")):
        if (A is None) != (b is None):
            raise ValueError(f"{name} and its right-hand side must be given together")
        if A is not None:
            A, b = np.atleast_2d(np.asarray(A, dtype=np.float64)), np.asarray(b, dtype=np.float64).ravel()
            if A.shape[0] != b.shape[0] or not (np.isfinite(A).all() and np.isfinite(b).all()):
                raise ValueError(f"{name} must be [m, d] with a finite right-hand side of m values, got {A.shape} "
                                 f"and {b.shape}")
            for label, values in ((name, A), (f"the right-hand side of {name}", b)):
                huge = np.argwhere(np.abs(values) >= HIGHS_INFINITY)
                if len(huge):  # HiGHS would read it as infinite: a wrong answer, not an error
                    at = tuple(int(i) for i in huge[0])
                    raise ValueError(f"{label} has {values[at]:g} at {at[0] if len(at) == 1 else at}; HiGHS "
                                     f"reads magnitudes from {HIGHS_INFINITY:g} as infinite: scale the constraint")
            constraints.append((A, np.full_like(b, -np.inf) if sense == "ub" else b, b))
    sizes = {A.shape[1] for A, _, _ in constraints}
    if len(sizes) > 1:
        raise ValueError(f"the constraint matrices have different numbers of columns: {sorted(sizes)}")
    if sizes:
        _bounds(bounds, sizes.copy().pop())  # a bad pair fails here, not at the first call
    return LinearProgramSolver(_Program(constraints, bounds, bool(integer), bool(minimize)),
                               batched_options=dict(executor=executor, workers=workers, timeout=timeout))


#: HiGHS's infinity: a coefficient, bound or cost of this magnitude or more is read as infinite
HIGHS_INFINITY = 1e20


def _well_scaled(objective: np.ndarray) -> np.ndarray:
    """The objective times a power of two (exact: the argmax is the same) so that its largest
    magnitude is in [1, 2), when it lies outside [2**-20, 2**20]: HiGHS reads costs from 1e20 as
    infinite (an instance scaled 1e300 was "unbounded") and tiny ones as zero (any feasible point
    was "optimal"). Objectives of ordinary magnitudes are handed over untouched."""
    peak = float(np.abs(objective).max(initial=0.0))
    if peak == 0.0 or 2.0 ** -20 <= peak <= 2.0 ** 20:
        return objective
    return np.ldexp(objective, -np.frexp(peak)[1] + 1)


class _Unsolvable(ValueError):
    """An instance has no optimum: the message says "infeasible" or "unbounded"."""


class _Program:
    """One instance's solve, ``objective [d] -> y [d]``, under the shared constraints; picklable,
    so a process pool can run it (SciPy is imported in whichever process solves)."""

    def __init__(self, constraints: list, bounds, integer: bool, minimize: bool):
        self.constraints, self.bounds, self.integer, self.minimize = constraints, bounds, integer, minimize
        self.width = constraints[0][0].shape[1] if constraints else None
        self._scipy_form: Optional[tuple] = None  # built once per process, on the first solve

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_scipy_form": None}

    def _form(self, d: int) -> tuple:
        if self._scipy_form is None or self._scipy_form[0] != d:
            from scipy.optimize import Bounds, LinearConstraint
            from scipy.sparse import csc_array

            # a sparse matrix spares milp converting a dense one on every call (a fifth of a small solve)
            linear = [LinearConstraint(csc_array(A), low, high) for A, low, high in self.constraints]
            self._scipy_form = (d, linear, Bounds(*_bounds(self.bounds, d)), np.ones(d) if self.integer else None)
        return self._scipy_form

    def __call__(self, objective: np.ndarray) -> np.ndarray:
        from scipy.optimize import milp

        d = objective.shape[0]
        _, linear, box, integrality = self._form(d)
        objective = _well_scaled(np.asarray(objective, dtype=np.float64))
        result = milp(objective if self.minimize else -objective, constraints=linear, bounds=box,
                      integrality=integrality)
        if result.status != 0 or result.x is None:
            problem = {2: "infeasible", 3: "unbounded"}.get(result.status)
            if problem is None:  # HiGHS's presolve may only know "infeasible or unbounded"
                feasible = milp(np.zeros(d), constraints=linear, bounds=box, integrality=integrality).status == 0
                problem = "unbounded" if feasible else "infeasible"
            raise _Unsolvable(problem)
        # + 0.0: HiGHS may return -0.0 for a variable at zero, and a 0/1 mask should not show it
        return (np.round(result.x) if self.integer else result.x) + 0.0


class _SpreadSolver(Closeable):
    """A solver over `imle.parallel.batched` (its ``_batched``): ``close()`` or a ``with``
    block stops its pool."""

    def close(self) -> None:
        """Stop the process pool, if there is one."""
        self._batched.close()


class LinearProgramSolver(_SpreadSolver):
    """What `ilp` returns: ``solver(theta [N, d]) -> y [N, d]`` on theta's device and dtype."""

    @property
    def sense(self) -> str:
        """"min" with ``ilp(minimize=True)`` (it takes costs), else "max"."""
        return "min" if self.program.minimize else "max"

    def __init__(self, program: _Program, batched_options: dict):
        from imle.solvers.parallel import batched

        self.program = program
        self._batched = batched(program, **batched_options)

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        from imle.solvers.parallel import SolverError

        theta = solver_batch("theta", theta, 2)
        d = theta.shape[1]
        if self.program.width not in (None, d):
            raise ValueError(f"theta has {d} variables per instance but the constraints have {self.program.width}")
        _bounds(self.program.bounds, d)
        try:
            return self._batched(theta)
        except SolverError as error:
            if error.kind != _Unsolvable.__name__:
                raise
            kind = "integer linear program" if self.program.integer else "linear program"
            raise ValueError(f"the {kind} of instance {error.index} is {error.detail}") from None

    def __repr__(self) -> str:
        return (f"ilp(width={self.program.width}, integer={self.program.integer}, minimize={self.program.minimize}, "
                f"executor={self._batched.executor!r})")


def _bounds(bounds, d: int) -> tuple:
    """(low [d], high [d]) from one (low, high) pair for every variable or d pairs; None: no bound."""
    wrong = ValueError(f"bounds must be one (low, high) pair or {d} of them, numbers or None, got {bounds!r}")
    try:
        one_pair = len(bounds) == 2 and not isinstance(bounds[0], (tuple, list))
        pairs = [tuple(bounds)] * d if one_pair else [tuple(pair) for pair in bounds]
        if len(pairs) != d or any(len(pair) != 2 for pair in pairs):
            raise wrong
        low = np.array([-np.inf if pair[0] is None else pair[0] for pair in pairs], dtype=np.float64)
        high = np.array([np.inf if pair[1] is None else pair[1] for pair in pairs], dtype=np.float64)
    except (TypeError, ValueError):
        raise wrong from None
    if np.isnan(low).any() or np.isnan(high).any() or (low > high).any():
        raise ValueError(f"bounds must have low <= high and no NaN, got {bounds!r}")
    return low, high


def assignment(theta: torch.Tensor) -> torch.Tensor:
    """The 0/1 matching of maximum total weight: theta [N, n, m] -> [N, n, m], min(n, m) ones per
    instance, at most one per row and per column (the Hungarian method, SciPy)."""
    linear_sum_assignment = _scipy("assignment").optimize.linear_sum_assignment
    theta = solver_batch("theta", theta, 3)
    values = theta.detach().cpu().double().numpy()
    out = np.zeros_like(values)
    for index, weights in enumerate(values):
        rows, cols = linear_sum_assignment(weights, maximize=True)
        out[index, rows, cols] = 1.0
    return _placed(out, theta)


assignment.sense = "max"


def spanning_tree(theta: torch.Tensor) -> torch.Tensor:
    """The symmetric 0/1 adjacency of a maximum-weight spanning tree of the complete graph:
    theta [N, n, n] (edge weights; only the upper triangle is read) -> [N, n, n] with n - 1
    edges, both directions marked (SciPy's minimum spanning tree on the weights' ranks, reversed:
    a tree depends only on their order, and ranks keep it exactly at any magnitude)."""
    minimum_spanning_tree = _scipy("spanning_tree").sparse.csgraph.minimum_spanning_tree
    theta = solver_batch("theta", theta, 3)
    if theta.shape[1] != theta.shape[2]:
        raise ValueError(f"theta must be [N, n, n] edge weights, got {tuple(theta.shape)}")
    values = theta.detach().cpu().double().numpy()
    n = values.shape[1]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    out = np.zeros_like(values)
    for index, weights in enumerate(values):
        # a maximum tree of w is a minimum tree of (top rank + 1 - rank of w) > 0 on every edge:
        # csgraph reads zeros as missing edges, so every weight must be positive, and a shift
        # (max w + 1 - w) would lose the 1 from about 9e15 on and merge near weights near 1e300
        shifted = np.zeros((n, n))
        if n > 1:
            ranks = np.unique(weights[upper], return_inverse=True)[1]  # 0 = the lightest; equal weights, equal ranks
            shifted[upper] = ranks.max() + 1.0 - ranks
        tree = minimum_spanning_tree(shifted).toarray() > 0
        out[index] = (tree | tree.T).astype(np.float64)
    return _placed(out, theta)


spanning_tree.sense = "max"


def from_pyepo(optmodel, *, executor: str = "serial", workers: Optional[int] = None,
               timeout: Optional[float] = None) -> "PyEPOSolver":
    """A PyEPO ``optModel`` (any back end) as a batched solver ``theta [N, d] -> y [N, d]`` that
    optimises in the model's own sense: a minimising model (PyEPO's shortest paths) minimises
    the costs it is given, so use it under an estimator's ``minimize=True``; a maximising one
    (a knapsack) maximises ``<theta, y>``, the plain convention. As PyEPO's own modules do.

    ``executor="process"`` spreads the instances over ``workers`` processes, each building its
    own copy of the model once from PyEPO's rebuild recipe (``optmodel.to_spec()``, PyEPO >= 2.2),
    as PyEPO's ``processes`` option does; ``"serial"`` (default) solves with ``optmodel`` itself.
    A failing instance raises ValueError naming it.
    """
    for name in ("setObj", "solve", "modelSense"):
        if not hasattr(optmodel, name):
            raise TypeError(f"optmodel must be a PyEPO optModel (with {name}), got {type(optmodel).__name__}")
    _pyepo_sense(optmodel)  # a model of no known sense is refused now
    if executor != "serial" and not hasattr(optmodel, "to_spec"):
        raise TypeError(f"executor={executor!r} rebuilds the model in each worker from optmodel.to_spec(), which "
                        f"{type(optmodel).__name__} lacks (PyEPO >= 2.2 has it)")
    return PyEPOSolver(optmodel, dict(executor=executor, workers=workers, timeout=timeout))


#: PyEPO's modelSense values (pyepo.EPO.MINIMIZE and MAXIMIZE)
_PYEPO_SENSES = {1: "min", -1: "max"}


def _pyepo_sense(optmodel) -> str:
    """"min" or "max" from a PyEPO model's ``modelSense``, or a TypeError naming the value."""
    sense = getattr(optmodel, "modelSense", None)
    try:
        return _PYEPO_SENSES[int(sense)]
    except (KeyError, TypeError, ValueError):
        raise TypeError(f"{type(optmodel).__name__}.modelSense must be PyEPO's EPO.MINIMIZE or EPO.MAXIMIZE, got "
                        f"{sense!r}") from None


#: Models rebuilt in this (worker) process, by the token of the _PyEPOInstance they serve.
_REBUILT: dict = {}


class _PyEPOInstance:
    """One instance's solve through a PyEPO model. Pickled, it travels as the model's rebuild
    recipe and a token; a worker builds the model on its first instance and keeps it."""

    def __init__(self, optmodel):
        self.model, self.spec, self.token = optmodel, None, None

    def __getstate__(self) -> dict:
        if self.token is None:
            import uuid

            self.spec, self.token = self.model.to_spec(), uuid.uuid4().hex
        return {"model": None, "spec": self.spec, "token": self.token}

    def __call__(self, objective: np.ndarray) -> np.ndarray:
        if self.model is None:
            if self.token not in _REBUILT:
                _REBUILT[self.token] = self.spec.build()
            self.model = _REBUILT[self.token]
        self.model.setObj(objective)
        solution, _ = self.model.solve()
        return np.asarray(solution, dtype=np.float64)


class PyEPOSolver(_SpreadSolver):
    """What `from_pyepo` returns: ``solver(theta [N, d]) -> y [N, d]``."""

    def __init__(self, optmodel, batched_options: dict):
        from imle.solvers.parallel import batched

        self.optmodel = optmodel
        self.sense = _pyepo_sense(optmodel)
        self._batched = batched(_PyEPOInstance(optmodel), **batched_options)

    def __getstate__(self) -> dict:
        # a PyEPO model holds its solver's objects (SWIG, gurobipy, ...), which do not pickle: it
        # travels as PyEPO's rebuild recipe and is rebuilt on load
        if not hasattr(self.optmodel, "to_spec"):
            raise TypeError(f"from_pyepo({type(self.optmodel).__name__}) cannot be pickled or copied: the model has no "
                            "rebuild recipe (optmodel.to_spec(), PyEPO >= 2.2)")
        return {"spec": self.optmodel.to_spec(), "batched": self._batched}

    def __setstate__(self, state: dict) -> None:
        self.optmodel = state["spec"].build()
        self.sense = _pyepo_sense(self.optmodel)
        self._batched = state["batched"]
        self._batched.solver.model = self.optmodel  # the serial executor solves with it

    def __call__(self, theta: torch.Tensor) -> torch.Tensor:
        from imle.solvers.parallel import SolverError

        theta = solver_batch("theta", theta, 2)
        costs = getattr(self.optmodel, "num_cost", None)
        if isinstance(costs, int) and theta.shape[1] != costs:
            raise ValueError(f"theta has {theta.shape[1]} variables per instance but the PyEPO model has {costs} "
                             "costs")
        try:
            return self._batched(theta)
        except SolverError as error:
            raise ValueError(f"the PyEPO model failed on instance {error.index}: "
                             f"{error.detail if error.kind else error}") from None

    def __repr__(self) -> str:
        return f"from_pyepo({type(self.optmodel).__name__}, executor={self._batched.executor!r})"
