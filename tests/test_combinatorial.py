"""Solvers beyond grids: optimal against brute force on small random instances, usable under every
estimator, and clear about infeasible, unbounded and misshapen inputs."""
import itertools
import re

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from imle import AdaptiveTargetDistribution, GumbelNoiseDistribution, TargetDistribution, imle
from imle.peers import blackbox, perturbed
from imle.solvers import assignment, dag_shortest_path, from_pyepo, ilp, knapsack, spanning_tree

weights = st.floats(-10, 10, allow_nan=False, width=32)


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 6), data=st.data())
def test_ilp_is_optimal_against_brute_force(d, data):
    m = data.draw(st.integers(1, 3))
    A = data.draw(arrays(np.float64, (m, d), elements=st.integers(-3, 5).map(float)))
    b = data.draw(arrays(np.float64, (m,), elements=st.integers(0, 8).map(float)))  # y = 0 is feasible
    theta = data.draw(arrays(np.float64, (2, d), elements=weights))
    y = ilp(A_ub=A, b_ub=b)(torch.from_numpy(theta)).numpy()
    for objective, solution in zip(theta, y):
        feasible = [np.array(x) for x in itertools.product((0.0, 1.0), repeat=d) if (A @ np.array(x) <= b + 1e-9).all()]
        best = max(float(objective @ x) for x in feasible)
        assert (A @ solution <= b + 1e-9).all() and set(np.unique(solution)) <= {0.0, 1.0}
        assert float(objective @ solution) == pytest.approx(best, abs=1e-6)


@settings(max_examples=30, deadline=None)
@given(d=st.integers(2, 6), scale=st.sampled_from([1e-300, 1e-30, 1e-9, 1e9, 1e20, 1e100, 1e300]), data=st.data())
def test_ilp_is_optimal_at_any_objective_magnitude(d, scale, data):
    """HiGHS reads costs from 1e20 as infinite and tiny ones as zero: the objective is scaled by a
    power of two first, so a scaled instance has the unscaled one's optimum (brute force), not
    "unbounded" nor an arbitrary feasible point; and no mask shows -0.0."""
    k = data.draw(st.integers(1, d - 1))
    theta = data.draw(arrays(np.float64, (2, d), elements=st.integers(-9, 9).map(float), unique=True))
    solver = ilp(A_eq=[[1.0] * d], b_eq=[float(k)])
    y = solver(torch.from_numpy(theta * scale)).numpy()
    for objective, solution in zip(theta, y):
        best = max(float(objective @ np.array(x)) for x in itertools.product((0.0, 1.0), repeat=d) if sum(x) == k)
        assert float(objective @ solution) == best
    assert not np.signbit(y).any()


@pytest.mark.parametrize("constraints, message", [
    (dict(A_ub=[[1e20, 1.0, 1.0]], b_ub=[1e20]), "A_ub has 1e+20 at (0, 0)"),
    (dict(A_eq=[[1.0, 2.0, 3.0], [1.0, -1e300, 0.0]], b_eq=[1.0, 0.0]), "A_eq has -1e+300 at (1, 1)"),
    (dict(A_ub=[[1.0, 1.0, 1.0]], b_ub=[-3e20]), "the right-hand side of A_ub has -3e+20 at 0"),
])
def test_ilp_refuses_constraints_highs_would_read_as_infinite(constraints, message):
    """Before, [1e20, 1, 1] y <= 1e20 was "infeasible" (y = (0, 1, 1) satisfies it)."""
    with pytest.raises(ValueError, match=re.escape(message) + ".*HiGHS reads magnitudes from 1e\\+20 as infinite"):
        ilp(**constraints)


def test_a_minimising_ilp_and_a_minimising_pyepo_model_take_costs_under_minimize():
    cheapest_two = ilp(A_eq=[[1.0, 1.0, 1.0, 1.0]], b_eq=[2.0], minimize=True)
    costs = torch.tensor([[1.0, 4.0, 3.0, 2.0]], requires_grad=True)
    y = imle(cheapest_two, target_distribution=TargetDistribution(beta=10.0), minimize=True)(costs)
    assert y.tolist() == [[1.0, 0.0, 0.0, 1.0]]  # the two cheapest
    y.backward(torch.tensor([[0.0, -1.0, 0.0, 0.0]]))  # the loss falls if item 1 is taken
    # target costs c + 10 dy = [1, -6, 3, 2] take items 0 and 1: the gradient makes item 1 cheaper
    # and item 3 dearer under descent
    assert costs.grad.tolist() == [[0.0, 1.0, 0.0, -1.0]]


def test_linear_relaxation_and_equality_constraints():
    # choose exactly two of four, LP relaxation of a knapsack: fractional where the ILP is not
    exactly_two = ilp(A_eq=[[1.0, 1.0, 1.0, 1.0]], b_eq=[2.0])
    assert exactly_two(torch.tensor([[1.0, 4.0, 3.0, 2.0]])).tolist() == [[0.0, 1.0, 1.0, 0.0]]
    relaxed = ilp(A_ub=[[2.0, 2.0]], b_ub=[3.0], integer=False)(torch.tensor([[1.0, 1.0]]))
    assert float(relaxed.sum()) == pytest.approx(1.5)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 4), m=st.integers(1, 4), data=st.data())
def test_assignment_is_optimal_against_brute_force(n, m, data):
    theta = data.draw(arrays(np.float64, (n, m), elements=weights))
    y = assignment(torch.from_numpy(theta)[None])[0].numpy()
    k = min(n, m)
    assert y.sum() == k and (y.sum(0) <= 1).all() and (y.sum(1) <= 1).all()
    best = -np.inf
    for chosen_rows in itertools.permutations(range(n), k):
        for chosen_cols in itertools.permutations(range(m), k):
            best = max(best, sum(theta[r, c] for r, c in zip(chosen_rows, chosen_cols)))
    assert float((theta * y).sum()) == pytest.approx(best, abs=1e-6)  # best: the optimum over every matching


def trees(n):
    """Every spanning tree of the complete graph on n nodes, as edge lists (brute force)."""
    edges = list(itertools.combinations(range(n), 2))
    for subset in itertools.combinations(edges, n - 1):
        parent = list(range(n))

        def find(x):
            while parent[x] != x:
                x = parent[x]
            return x
        joined = 0
        for a, b in subset:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
                joined += 1
        if joined == n - 1:
            yield subset


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 5), data=st.data())
def test_spanning_tree_is_optimal_against_brute_force(n, data):
    theta = data.draw(arrays(np.float64, (n, n), elements=weights))
    y = spanning_tree(torch.from_numpy(theta)[None])[0].numpy()
    assert (y == y.T).all() and y.sum() == 2 * (n - 1) and np.trace(y) == 0
    chosen = float((np.triu(y, 1) * theta).sum())
    best = max(sum(theta[a, b] for a, b in tree) for tree in trees(n))
    assert chosen == pytest.approx(best, abs=1e-6)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 5), scale=st.sampled_from([1e15, 1e16, 1e17, 1e100, 1e300]), data=st.data())
def test_spanning_tree_is_optimal_at_any_magnitude(n, scale, data):
    # exactly: the weights are small integers times a power of ten, compared as rationals
    from fractions import Fraction

    units = data.draw(arrays(np.int64, (n, n), elements=st.integers(0, 9)))
    theta = units.astype(np.float64) * scale
    y = spanning_tree(torch.from_numpy(theta)[None])[0].numpy()
    assert (y == y.T).all() and y.sum() == 2 * (n - 1) and np.trace(y) == 0
    chosen = sum(Fraction(int(units[a, b])) for a, b in zip(*np.nonzero(np.triu(y, 1))))
    best = max(sum(Fraction(int(units[a, b])) for a, b in tree) for tree in trees(n))
    assert chosen == best


def test_from_pyepo_is_optimal_against_our_ilp_on_a_knapsack():
    pytest.importorskip("ortools")
    from pyepo.model.ort import knapsackModel

    weights_, capacity = np.array([[3.0, 4.0, 5.0, 2.0, 6.0]]), np.array([9.0])
    model = from_pyepo(knapsackModel(weights=weights_, capacity=capacity))
    ours = ilp(A_ub=weights_, b_ub=capacity)
    values = torch.tensor([[3.0, 4.0, 5.0, 3.0, 7.0], [1.0, -2.0, 6.0, 2.0, 1.0]])
    a, b = model(values), ours(values)
    torch.testing.assert_close((a * values).sum(1), (b * values).sum(1))


@pytest.mark.parametrize("solver, theta", [
    (ilp(A_ub=[[1.0, 1.0, 1.0, 1.0]], b_ub=[2.0]), torch.randn(3, 4)),
    (assignment, torch.randn(3, 3, 3)),
    (spanning_tree, torch.randn(3, 4, 4)),
    (dag_shortest_path([(0, 1), (1, 3), (0, 2), (2, 3), (1, 2)], 0, 3), torch.randn(3, 5)),
    (knapsack([3, 1, 4, 1, 5], 7), torch.randn(3, 5)),
])
@pytest.mark.parametrize("estimator", ["imle", "adaptive", "blackbox", "perturbed"])
def test_every_solver_under_every_estimator(solver, theta, estimator):
    minimize = solver.sense == "min"  # the estimator in the solver's own sense
    layers = {
        "imle": lambda: imle(solver, noise_distribution=GumbelNoiseDistribution(), nb_samples=2, minimize=minimize),
        "adaptive": lambda: imle(solver, target_distribution=AdaptiveTargetDistribution(per_instance=False),
                                 noise_distribution=GumbelNoiseDistribution(), nb_samples=2, minimize=minimize),
        "blackbox": lambda: blackbox(solver, lambda_=5.0, minimize=minimize),
        "perturbed": lambda: perturbed(solver, nb_samples=3, minimize=minimize),
    }
    theta = theta.clone().requires_grad_()
    y = layers[estimator]()(theta)
    (y * torch.randn_like(y)).sum().backward()
    assert theta.grad.shape == theta.shape and torch.isfinite(theta.grad).all()


class Picky:
    """A PyEPO-like model (setObj, solve, modelSense) without a rebuild recipe, that refuses negative costs."""
    modelSense, num_cost = 1, 2

    def setObj(self, c):
        self.c = np.asarray(c)

    def solve(self):
        if (self.c < 0).any():
            raise RuntimeError("no negative costs")
        return (self.c == self.c.min()).astype(float), float(self.c.min())


def test_ilp_and_pyepo_models_over_processes_give_the_serial_solutions():
    pytest.importorskip("ortools")
    from pyepo.model.ort import knapsackModel

    weights_ = np.array([[3.0, 4.0, 5.0, 2.0, 6.0, 1.0]])
    values = torch.rand(24, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with ilp(A_ub=weights_, b_ub=[9.0], executor="process", workers=2) as spread, \
            from_pyepo(knapsackModel(weights=weights_, capacity=np.array([9.0])), executor="process", workers=2) as model:
        assert repr(spread) == "ilp(width=6, integer=True, minimize=False, executor='process')"
        serial = ilp(A_ub=weights_, b_ub=[9.0])(values)
        torch.testing.assert_close(spread(values), serial, rtol=0, atol=0)
        torch.testing.assert_close(model(values), serial, rtol=0, atol=0)  # no ties among random values
        torch.testing.assert_close(model(values), serial, rtol=0, atol=0)  # the workers' rebuilt models reused
    unbounded_when_rising = ilp(A_ub=[[1.0, -1.0]], b_ub=[0.0], bounds=(0, None), executor="process", workers=2)
    theta = torch.tensor([[-1.0, -1.0]] * 5 + [[1.0, 1.0]] + [[0.0, -2.0]] * 2)
    with unbounded_when_rising, pytest.raises(ValueError, match="integer linear program of instance 5 is unbounded"):
        unbounded_when_rising(theta)


@pytest.mark.parametrize("call, error, message", [
    (lambda: ilp(A_ub=[[1.0, 1.0]], b_ub=[-1.0])(torch.ones(2, 2)), ValueError,
     "integer linear program of instance 0 is infeasible"),
    (lambda: ilp(A_ub=[[1.0, -1.0]], b_ub=[0.0], bounds=(0, None))(torch.tensor([[0.0, 0.0], [1.0, 1.0]])),
     ValueError, "instance 1 is unbounded"),
    (lambda: ilp(A_ub=[[1.0, 1.0]], b_ub=[1.0])(torch.ones(2, 3)), ValueError, "theta has 3 variables per instance"),
    (lambda: ilp(A_ub=[[1.0, 1.0]])(torch.ones(2, 2)), ValueError, "A_ub and its right-hand side"),
    (lambda: assignment(torch.ones(2, 3)), ValueError, "theta must have 3 dimensions"),
    (lambda: spanning_tree(torch.ones(1, 2, 3)), ValueError, r"theta must be \[N, n, n\]"),
    (lambda: assignment(torch.tensor([[[float("nan")]]])), ValueError, "NaN or infinite"),
    (lambda: ilp(A_ub=[[1.0, 1.0]], b_ub=[1.0], bounds=[(0, 1)]), ValueError, "bounds must be one .* or 2 of them"),
    (lambda: ilp(A_ub=[[1.0, 1.0]], b_ub=[1.0], bounds=5), ValueError, "bounds must be one .* or 2 of them"),
    (lambda: ilp(bounds=("a", 1))(torch.ones(1, 2)), ValueError, "bounds must be one .* numbers or None"),
    (lambda: ilp(A_ub=[[1.0, 1.0]], b_ub=[1.0], bounds=(2, 1)), ValueError, "bounds must have low <= high"),
    (lambda: ilp(A_ub=[[1.0]], b_ub=[1.0], executor="threads"), ValueError, "executor must be one of"),
    (lambda: from_pyepo(object()), TypeError, "optmodel must be a PyEPO optModel"),
    (lambda: from_pyepo(Picky(), executor="process"), TypeError, "lacks .PyEPO >= 2.2 has it"),
    (lambda: from_pyepo(Picky())(torch.tensor([[1.0, 2.0], [-1.0, 2.0]])), ValueError,
     "the PyEPO model failed on instance 1: no negative costs"),
    (lambda: from_pyepo(Picky())(torch.ones(2, 3)), ValueError, "theta has 3 variables per instance but the PyEPO "
                                                                "model has 2 costs"),
])
def test_bad_inputs_name_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_import_imle_imports_neither_scipy_nor_pyepo():
    import subprocess
    import sys

    code = "import sys, imle, imle.solvers; print('scipy' in sys.modules, 'pyepo' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.split() == \
        ["False", "False"]


def test_every_shipped_solver_says_its_sense_and_an_estimator_refuses_the_other():
    from imle import imle
    from imle.aimle import aimle
    from imle.solvers import grid_max_weight_path, grid_shortest_path, mathias_select_k, select_k, top_k

    senses = {grid_shortest_path: "min", grid_max_weight_path: "max", top_k: "max", select_k: "max",
              mathias_select_k: "max", assignment: "max", spanning_tree: "max", knapsack([1, 2], 2): "max",
              dag_shortest_path([(0, 1)], 0, 1): "min", ilp(A_ub=[[1.0]], b_ub=[1.0]): "max",
              ilp(A_ub=[[1.0]], b_ub=[1.0], minimize=True): "min"}
    assert [solver.sense for solver in senses] == list(senses.values())
    with pytest.raises(ValueError, match=r"grid_shortest_path minimises the costs it is given \(sense 'min'\) but "
                                         r"the estimator has minimize=False; pass minimize=True"):
        imle(grid_shortest_path)
    with pytest.raises(ValueError, match="top_k maximises <theta, y> .* but the estimator has minimize=True; "
                                         "pass minimize=False"):
        blackbox(top_k, minimize=True)
    with pytest.raises(ValueError, match="has _is_minimization=False; pass _is_minimization=True"):
        aimle(grid_shortest_path)


def test_from_pyepo_reads_the_models_sense_and_refuses_a_contradicting_estimator():
    pytest.importorskip("ortools")
    from pyepo.model.ort import knapsackModel, shortestPathModel

    paths = from_pyepo(shortestPathModel(grid=(3, 3)))
    packing = from_pyepo(knapsackModel(weights=np.array([[3.0, 4.0]]), capacity=np.array([5.0])))
    assert (paths.sense, packing.sense) == ("min", "max")
    with pytest.raises(ValueError, match=r"from_pyepo\(shortestPathModel, executor='serial'\) minimises the costs it "
                                         r"is given \(sense 'min'\) but the estimator has minimize=False"):
        imle(paths)
    imle(paths, minimize=True)  # its own sense: fine
    with pytest.raises(TypeError, match="modelSense must be PyEPO's EPO.MINIMIZE or EPO.MAXIMIZE, got 0"):
        class NoSense(Picky):
            modelSense = 0
        from_pyepo(NoSense())


def test_without_scipy_the_solvers_that_need_it_say_how_to_install_it(monkeypatch):
    import sys

    for name in ("scipy", "scipy.optimize", "scipy.sparse", "scipy.sparse.csgraph"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed
    hint = r"needs SciPy, which is not installed: pip install 'imle\[solvers\]' \(or pip install scipy\)"
    with pytest.raises(ImportError, match="ilp " + hint):
        ilp(A_ub=[[1.0]], b_ub=[1.0])
    with pytest.raises(ImportError, match="assignment " + hint):
        assignment(torch.ones(1, 2, 2))
    with pytest.raises(ImportError, match="spanning_tree " + hint):
        spanning_tree(torch.ones(1, 3, 3))
