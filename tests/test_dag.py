"""Shortest paths on DAGs: optimal against brute force on random small graphs (any node order,
parallel arcs, negative costs), the same paths as PyEPO's own model on its grid, deterministic
ties, and one clear error for every malformed graph or input."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from imle.solvers import dag_shortest_path


def all_paths(arcs, source, sink):
    """Every source-to-sink path as a list of arc indices (depth-first; the graph is acyclic)."""
    if source == sink:
        return [[]]
    return [[index] + rest for index, (tail, head) in enumerate(arcs) if tail == source
            for rest in all_paths(arcs, head, sink)]


@st.composite
def dags(draw):
    n = draw(st.integers(2, 7))
    label = draw(st.permutations(range(n)))  # the topological order is not the numbering
    pairs = [(label[u], label[v]) for u in range(n) for v in range(u + 1, n)]
    arcs = draw(st.lists(st.sampled_from(pairs), min_size=n, max_size=16))  # repeats: parallel arcs
    if draw(st.integers(0, 3)):  # mostly near the ends of the order, where the paths are many
        return arcs, label[draw(st.integers(0, 1))], label[n - 1 - draw(st.integers(0, 1))]
    return arcs, draw(st.sampled_from(range(n))), draw(st.sampled_from(range(n)))


@settings(max_examples=150, deadline=None)
@given(graph=dags(), data=st.data())
def test_the_cheapest_path_against_brute_force(graph, data):
    arcs, source, sink = graph
    nodes = max(max(arc) for arc in arcs) + 1
    if source >= nodes or sink >= nodes:
        with pytest.raises(ValueError, match="must be a node of the arcs"):
            dag_shortest_path(arcs, source, sink)
        return
    paths = all_paths(arcs, source, sink)
    if not paths:
        with pytest.raises(ValueError, match=f"the sink {sink} cannot be reached from the source {source}"):
            dag_shortest_path(arcs, source, sink)
        return
    costs = torch.tensor(data.draw(st.lists(st.lists(st.floats(-10, 10, width=32), min_size=len(arcs),
                                                     max_size=len(arcs)), min_size=1, max_size=3)),
                         dtype=torch.float64)
    y = dag_shortest_path(arcs, source, sink)(costs)
    assert y.shape == costs.shape and y.dtype == torch.float64
    for cost, chosen in zip(costs, y):
        best = min(float(cost[path].sum()) for path in paths)
        assert float((cost * chosen).sum()) == pytest.approx(best, abs=1e-9)
        taken = [index for index in range(len(arcs)) if chosen[index] == 1.0]
        assert set(chosen.tolist()) <= {0.0, 1.0} and sorted(taken) in [sorted(path) for path in paths]


def test_the_batch_is_solved_as_each_instance_alone():
    arcs = [(0, 1), (1, 2), (0, 2), (2, 3), (1, 3)]
    costs = torch.randn(20, 5, generator=torch.Generator().manual_seed(0))
    solve = dag_shortest_path(arcs, 0, 3)
    assert torch.equal(solve(costs), torch.cat([solve(row[None]) for row in costs]))


def test_the_same_paths_as_pyepos_model_on_its_grid():
    pytest.importorskip("ortools")
    from pyepo.model.ort import shortestPathModel

    model = shortestPathModel(grid=(5, 5))
    costs = torch.randn(60, 40, generator=torch.Generator().manual_seed(1))  # negative costs too
    ours = dag_shortest_path(model.arcs, 0, 24)(costs)
    for cost, path in zip(costs, ours):
        model.setObj(cost.numpy())
        solution, _ = model.solve()
        assert np.array_equal(np.asarray(solution), path.numpy())


def test_ties_go_to_the_lower_arc_index_and_an_empty_path_is_zeros():
    diamond = [(0, 1), (1, 3), (0, 2), (2, 3)]
    assert dag_shortest_path(diamond, 0, 3)(torch.ones(1, 4)).tolist() == [[1.0, 1.0, 0.0, 0.0]]
    assert dag_shortest_path([(2, 3), (2, 1), (1, 3)], 2, 3)(torch.tensor([[2.0, 1.0, 1.0]])).tolist() == \
        [[1.0, 0.0, 0.0]]  # 2->3 (arc 0) ties 2->1->3 (arcs 1, 2) at node 3: arc 0
    assert dag_shortest_path(diamond, 1, 1)(torch.ones(2, 4)).tolist() == [[0.0] * 4] * 2
    # arcs into the source from unreachable nodes do not matter
    assert dag_shortest_path([(0, 1), (1, 2)], 1, 2)(torch.tensor([[-5.0, 3.0]])).tolist() == [[0.0, 1.0]]


@pytest.mark.parametrize("arcs, source, sink, message", [
    ([(0, 1), (1, 2), (2, 0), (2, 3)], 0, 3, "directed acyclic graph; node 0 is on or after a cycle"),
    ([(0, 1), (1, 1)], 0, 1, "arc 1 is a self-loop at node 1"),
    ([(0, 1), (1, 2, 3)], 0, 1, "arc 1 must be a .tail, head. pair"),
    ([(0, 1.5)], 0, 1, "arc 0's head must be a node number"),
    ([(0, -1)], 0, 1, "arc 0's head must be a node number .a non-negative int., got -1"),
    ([(True, 1)], 0, 1, "arc 0's tail must be a node number"),
    ([], 0, 1, "at least one arc"),
    (5, 0, 1, "arcs must be a sequence of .tail, head. pairs"),
    ([(0, 1)], 0, 2, "sink must be a node of the arcs .0 to 1., got 2"),
    ([(0, 1)], "0", 1, "source must be a node number"),
    ([(0, 1), (2, 1)], 0, 2, "the sink 2 cannot be reached from the source 0"),
])
def test_malformed_graphs_are_refused_in_one_line(arcs, source, sink, message):
    with pytest.raises(ValueError, match=message):
        dag_shortest_path(arcs, source, sink)


def test_numpy_and_torch_node_numbers_are_accepted():
    arcs = np.array([[0, 1], [1, 2]])
    assert dag_shortest_path(arcs, np.int64(0), torch.tensor(2))(torch.zeros(1, 2)).tolist() == [[1.0, 1.0]]


@pytest.mark.parametrize("costs, error, message", [
    ([[1.0, 2.0]], TypeError, "costs must be a floating torch.Tensor"),
    (torch.ones(2, 3), ValueError, r"costs must be \[N, 2\] \(one cost per arc\), got \(2, 3\)"),
    (torch.ones(2), ValueError, r"costs must be \[N, 2\]"),
    (torch.tensor([[1.0, float("nan")]]), ValueError, "NaN or infinite"),
    (torch.ones(1, 2, dtype=torch.long), TypeError, "floating"),
    (torch.tensor([[1.0, 1.0], [3e38, 3e38]]), ValueError, "path costs of instance 1 overflow torch.float32"),
])
def test_bad_costs_are_refused(costs, error, message):
    with pytest.raises(error, match=message):
        dag_shortest_path([(0, 1), (1, 2)], 0, 2)(costs)
