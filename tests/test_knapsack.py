"""The batched 0/1 knapsack: optimal against brute force (hypothesis), the same optimum as
PyEPO's own model on its data (weights scaled to integers), and one clear error per bad input."""
import itertools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from imle.solvers import knapsack


@settings(max_examples=150, deadline=None)
@given(d=st.integers(1, 8), data=st.data())
def test_the_best_packing_against_brute_force(d, data):
    weights = data.draw(st.lists(st.integers(0, 6), min_size=d, max_size=d))
    capacity = data.draw(st.integers(0, 15))
    values = torch.tensor(data.draw(st.lists(st.lists(st.floats(-10, 10, width=32), min_size=d, max_size=d),
                                             min_size=1, max_size=3)), dtype=torch.float64)
    y = knapsack(weights, capacity)(values)
    packings = [np.array(p) for p in itertools.product((0.0, 1.0), repeat=d) if np.dot(p, weights) <= capacity]
    for value, chosen in zip(values.numpy(), y.numpy()):
        assert set(np.unique(chosen)) <= {0.0, 1.0} and np.dot(chosen, weights) <= capacity
        assert float(value @ chosen) == pytest.approx(max(float(value @ p) for p in packings), abs=1e-9)
        assert not (chosen * (value < 0)).any()  # never an item of negative value


def test_ties_leave_the_later_item_out_and_chunks_change_nothing(monkeypatch):
    assert knapsack([2, 2], 2)(torch.tensor([[1.0, 1.0]])).tolist() == [[1.0, 0.0]]
    assert knapsack([1, 1], 5)(torch.tensor([[0.0, 2.0]])).tolist() == [[0.0, 1.0]]  # value 0: left out
    values = torch.randn(30, 6, generator=torch.Generator().manual_seed(0))
    whole = knapsack([3, 1, 4, 1, 5, 9], 10)(values)
    monkeypatch.setattr("imle.solvers.packing.TABLE_BYTES", 6 * 11 * 4)  # four instances a chunk
    assert torch.equal(knapsack([3, 1, 4, 1, 5, 9], 10)(values), whole)
    assert whole.dtype == values.dtype


def test_the_same_optimum_as_pyepos_model_on_its_data():
    pytest.importorskip("ortools")
    from pyepo.data import knapsack as knapsack_data
    from pyepo.model.ort import knapsackModel

    weights, _, costs = knapsack_data.genData(40, 5, 16, dim=1, deg=4, noise_width=0.5, seed=3)
    capacity = 0.5 * weights.sum()
    model = knapsackModel(weights=weights, capacity=np.array([capacity]))
    values = torch.from_numpy(costs + np.random.default_rng(0).gumbel(size=costs.shape))  # float64
    ours = knapsack(np.round(weights[0] * 100), capacity * 100)(values)  # two-decimal weights
    for value, chosen in zip(values.numpy(), ours.numpy()):
        model.setObj(value)
        _, optimum = model.solve()
        assert float(value @ chosen) >= optimum - 1e-6 and weights[0] @ chosen <= capacity + 1e-9


@pytest.mark.parametrize("weights, capacity, message", [
    ([1.5, 2], 3, "weights must be non-negative integers .scale decimal weights first.; weight 0 is 1.5"),
    ([1, -2], 3, "weight 1 is -2.0"),
    ([1, float("nan")], 3, "weight 1 is nan"),
    ([], 3, "non-empty sequence"),
    ([[1, 2]], 3, "non-empty sequence of d numbers"),
    (["a"], 3, "weights must be a sequence of non-negative integers"),
    ([1, 2], -1, "capacity must be a non-negative number, got -1"),
    ([1, 2], True, "capacity must be a non-negative number"),
    ([1, 2], float("inf"), "capacity must be a non-negative number"),
])
def test_bad_weights_and_capacities(weights, capacity, message):
    with pytest.raises(ValueError, match=message):
        knapsack(weights, capacity)


@pytest.mark.parametrize("values, error, message", [
    ([[1.0, 2.0]], TypeError, "values must be a floating torch.Tensor"),
    (torch.ones(2, 3), ValueError, r"values must be \[N, 2\] \(one value per item\), got \(2, 3\)"),
    (torch.tensor([[1.0, float("inf")]]), ValueError, "NaN or infinite"),
])
def test_bad_values(values, error, message):
    with pytest.raises(error, match=message):
        knapsack([1, 2], 2)(values)


def test_weights_beyond_exact_float64_are_refused_naming_the_weight():
    with pytest.raises(ValueError, match=r"weight 0 is 9.223e\+18: scale the weights"):
        knapsack([2 ** 63, 1], 5)
    with pytest.raises(ValueError, match="at most 2\\*\\*53"):
        knapsack([1, 2 ** 53 + 2], 5)
    assert knapsack([2 ** 53, 1], 1)(torch.tensor([[5.0, 1.0]])).tolist() == [[0.0, 1.0]]


def test_a_capacity_above_the_total_weight_takes_every_item_it_pays_to_take():
    solver = knapsack([3, 1, 4], 1e300)
    values = torch.tensor([[1.0, 2.0, 3.0], [1.0, -1.0, 2.0]])
    assert solver(values).tolist() == [[1.0, 1.0, 1.0], [1.0, 0.0, 1.0]]
