import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from helpers import check_cheapest_path, is_corner_path
from imle.solvers import grid_max_weight_path, grid_shortest_path
from imle import _extensions as imle_extensions
from imle.solvers import grid as grid_module

neighbourhoods = st.sampled_from([4, 8])


@st.composite
def positive_grids(draw, max_h=20, max_w=30):
    h = draw(st.integers(1, max_h))
    w = draw(st.integers(1, max_w))
    return draw(arrays(np.float64, (h, w), elements=st.floats(0.01, 100.0)))


@st.composite
def tie_heavy_grids(draw, max_side=12):
    """Small integer costs with zeros: ties everywhere, the hardest case for tie-breaking."""
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))
    return draw(arrays(np.float64, (h, w), elements=st.integers(0, 2).map(float)))


@given(positive_grids(), neighbourhoods)
def test_mask_is_a_cheapest_corner_path(cost, neighbourhood):
    check_cheapest_path(grid_shortest_path(cost, neighbourhood), cost, neighbourhood)


@pytest.mark.compiled
@given(tie_heavy_grids(), neighbourhoods)
def test_compiled_and_python_backends_agree_mask_for_mask(cost, neighbourhood):
    fast = grid_shortest_path(cost, neighbourhood, backend="c")
    slow = grid_shortest_path(cost, neighbourhood, backend="python")
    np.testing.assert_array_equal(fast, slow)


@given(st.integers(1, 6), st.integers(1, 9), st.integers(1, 9), neighbourhoods, st.integers(0, 2**31 - 1))
def test_batch_equals_per_instance(batch, h, w, neighbourhood, seed):
    costs = torch.rand(batch, h, w, generator=torch.Generator().manual_seed(seed)) * 10 - 2
    together = grid_shortest_path(costs, neighbourhood)
    for b in range(batch):
        torch.testing.assert_close(together[b], grid_shortest_path(costs[b], neighbourhood), rtol=0, atol=0)


def test_known_path_avoids_the_wall():
    costs = torch.tensor([[1.0, 9.0, 9.0], [1.0, 9.0, 9.0], [1.0, 1.0, 1.0]])
    expected = torch.tensor([[1.0, 0, 0], [1, 0, 0], [1, 1, 1]])
    assert torch.equal(grid_shortest_path(costs, neighbourhood=4), expected)
    # with diagonal moves the corner cell (2, 0) can be skipped: 1 + 1 + 1 + 1
    assert grid_shortest_path(costs, neighbourhood=8).sum() == 4


def test_flat_square_grid_gives_the_diagonal():
    assert torch.equal(grid_shortest_path(torch.ones(16, 16)), torch.eye(16))


def test_tie_breaking_rule_on_a_flat_grid_with_four_neighbours():
    # fewest cells first (all monotone paths tie), then the read-back prefers "up" over "left":
    # from the bottom-right cell the path climbs the right column, then runs along the top row.
    mask = grid_shortest_path(np.ones((3, 4)), neighbourhood=4)
    expected = np.array([[1, 1, 1, 1], [0, 0, 0, 1], [0, 0, 0, 1]], dtype=float)
    np.testing.assert_array_equal(mask, expected)


@pytest.mark.parametrize("neighbourhood, cells", [(8, 7), (4, 11)])
def test_fewest_cells_wins_among_equal_cost_paths(neighbourhood, cells):
    # on a zero-cost plateau every path costs the same: the one with the fewest cells wins
    mask = grid_shortest_path(np.zeros((5, 7)), neighbourhood)
    assert mask.sum() == cells and is_corner_path(mask, neighbourhood)


def test_negative_costs_are_clamped_to_zero():
    cost = np.array([[1.0, -50.0, 1.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    clamped = np.maximum(cost, 0)
    np.testing.assert_array_equal(grid_shortest_path(cost), grid_shortest_path(clamped))
    # the result is a shortest path of the clamped grid, well defined even for huge negatives
    mask = grid_shortest_path(np.full((5, 5), -1e9), neighbourhood=8)
    assert is_corner_path(mask, 8) and mask.sum() == 5


def test_single_cell_and_single_row_grids():
    assert grid_shortest_path(np.array([[3.0]])).tolist() == [[1.0]]
    np.testing.assert_array_equal(grid_shortest_path(np.ones((1, 5))), np.ones((1, 5)))
    np.testing.assert_array_equal(grid_shortest_path(np.ones((4, 1))), np.ones((4, 1)))


def test_max_weight_path_is_shortest_path_on_negated_weights():
    theta = -torch.rand(3, 7, 5, generator=torch.Generator().manual_seed(1)) * 10
    assert torch.equal(grid_max_weight_path(theta), grid_shortest_path(-theta))


def test_output_keeps_type_dtype_and_leading_dimensions():
    costs64 = torch.rand(2, 3, 4, 5, dtype=torch.float64)
    out = grid_shortest_path(costs64)
    assert out.shape == (2, 3, 4, 5) and out.dtype == torch.float64
    assert grid_shortest_path(np.ones((4, 5), dtype=np.float32)).dtype == np.float32
    assert grid_shortest_path(torch.ones(3, 3, dtype=torch.int64)).dtype == torch.get_default_dtype()


def test_input_requiring_grad_is_accepted_and_not_tracked():
    costs = torch.rand(2, 4, 4, requires_grad=True)
    out = grid_shortest_path(costs)
    assert not out.requires_grad


@pytest.mark.parametrize("backend", ["c", "python"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_costs_raise(bad, dtype, backend):
    cost = np.ones((3, 3), dtype=dtype)
    cost[1, 2] = bad
    with pytest.raises(ValueError, match="costs contains NaN or infinite"):
        grid_shortest_path(cost, backend=backend)
    with pytest.raises(ValueError, match="weights contains NaN or infinite"):
        grid_max_weight_path(torch.from_numpy(cost), backend=backend)


def test_non_finite_value_in_one_thread_slice_raises(monkeypatch):
    monkeypatch.setattr(grid_module, "PARALLEL_MIN_CELLS", 1)
    monkeypatch.setattr(grid_module, "usable_threads", lambda: 3)
    costs = torch.ones(6, 4, 4, dtype=torch.float32)
    costs[5, 3, 3] = float("nan")  # in the last thread's slice only
    with pytest.raises(ValueError, match="costs contains NaN or infinite"):
        grid_shortest_path(costs)


@pytest.mark.parametrize("negate", [False, True])
def test_float32_values_are_solved_as_they_are_and_give_float32_masks(negate):
    # float32 goes to the compiled solver without a float64 copy; same masks as float64 values
    values = torch.rand(20, 9, 7, generator=torch.Generator().manual_seed(3)) * 4 - 1  # some negative
    solve = grid_max_weight_path if negate else grid_shortest_path
    out32 = solve(values)
    assert out32.dtype == torch.float32
    assert torch.equal(out32.double(), solve(values.double()))
    for mask, grid in zip(out32.numpy(), values.numpy()):
        check_cheapest_path(mask, -grid if negate else grid, 8)  # the oracle, on whichever back end is loaded
    if not imle_extensions.DISABLED:
        assert torch.equal(out32, solve(values, backend="python"))
    numpy_out = solve(values.numpy())
    assert numpy_out.dtype == np.float32 and np.array_equal(numpy_out, out32.numpy())


def test_negative_zero_and_negative_costs_count_as_zero():
    costs = np.array([[-0.0, -5.0, 3.0], [2.0, -0.0, -1.0], [9.0, 9.0, 0.0]])
    # all of the top row's and the diagonal's costs are <= 0: the 3-cell diagonal is cheapest
    assert grid_shortest_path(costs).astype(int).tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert np.array_equal(grid_max_weight_path(-costs), grid_shortest_path(costs))


def test_half_precision_input_keeps_its_dtype():
    costs = torch.rand(2, 5, 5).half()
    out = grid_shortest_path(costs)
    assert out.dtype == torch.float16 and torch.equal(out.float(), grid_shortest_path(costs.float()))


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: grid_shortest_path([[1.0]]), TypeError, "costs must be a torch.Tensor or numpy.ndarray"),
        (lambda: grid_shortest_path(np.ones(4)), ValueError, r"costs must have shape \[..., H, W\]"),
        (lambda: grid_shortest_path(np.ones((0, 3))), ValueError, "costs must have H >= 1"),
        (lambda: grid_shortest_path(np.ones((3, 3), dtype=complex)), TypeError, "costs must hold real numbers"),
        (lambda: grid_shortest_path(torch.ones(3, 3, dtype=torch.bool)), TypeError, "costs must hold real numbers"),
        (lambda: grid_shortest_path(np.ones((3, 3)), neighbourhood=6), ValueError, "neighbourhood must be 4 or 8"),
        (lambda: grid_shortest_path(np.ones((3, 3)), neighbourhood=True), ValueError, "neighbourhood must be 4 or 8"),
        (lambda: grid_shortest_path(np.ones((3, 3)), backend="gpu"), ValueError, "backend must be 'c' or 'python'"),
        (lambda: grid_max_weight_path("map"), TypeError, "weights must be a torch.Tensor"),
    ],
)
def test_bad_inputs_name_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.skipif(imle_extensions.DISABLED, reason="IMLE_NO_EXTENSIONS=1 asks for the fallbacks")
def test_compiled_extensions_are_built_and_loaded():
    # CI builds the extensions; a silent fallback would hide a 100x slowdown
    import imle.noise

    assert grid_module.DEFAULT_BACKEND == "c"
    assert imle.noise._compiled is not None


def test_threaded_batches_equal_single_threaded(monkeypatch):
    costs = np.random.default_rng(5).integers(0, 3, size=(9, 13, 11)).astype(float)  # ties galore
    single = grid_shortest_path(costs)
    for mask, grid in zip(single, costs):
        check_cheapest_path(mask, grid, 8)
    monkeypatch.setattr(grid_module, "PARALLEL_MIN_CELLS", 1)
    monkeypatch.setattr(grid_module, "usable_threads", lambda: 4)
    threaded = grid_shortest_path(costs)
    np.testing.assert_array_equal(threaded, single)
    if not imle_extensions.DISABLED:
        np.testing.assert_array_equal(threaded, grid_shortest_path(costs, backend="python"))


@pytest.mark.compiled
def test_imle_gradients_are_identical_with_the_compiled_and_python_solvers():
    from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle

    costs = torch.randint(0, 4, (3, 7, 9), generator=torch.Generator().manual_seed(2)).double()  # ties galore
    gradients = []
    for backend in ("c", "python"):
        layer = imle(grid_shortest_path, target_distribution=TargetDistribution(beta=3.0), nb_samples=4,
                     noise_distribution=SumOfGammaNoiseDistribution(9.0, 30), minimize=True,
                     generator=torch.Generator().manual_seed(0))
        theta = costs.clone().requires_grad_()
        paths = layer(theta, backend=backend)
        (paths * torch.arange(63.0, dtype=paths.dtype).view(7, 9)).sum().backward()
        gradients.append((paths.detach(), theta.grad))
    assert torch.equal(gradients[0][0], gradients[1][0])
    assert torch.equal(gradients[0][1], gradients[1][1]) and gradients[0][1].abs().sum() > 0


@given(positive_grids(), neighbourhoods, st.data())
def test_paths_between_any_two_cells_are_cheapest_and_the_same_on_both_backends(cost, neighbourhood, data):
    H, W = cost.shape
    source = (data.draw(st.integers(0, H - 1)), data.draw(st.integers(0, W - 1)))
    target = (data.draw(st.integers(0, H - 1)), data.draw(st.integers(0, W - 1)))
    mask = grid_shortest_path(cost, neighbourhood, source=source, target=target)
    check_cheapest_path(mask, cost, neighbourhood, source, target)
    if not imle_extensions.DISABLED:
        np.testing.assert_array_equal(mask, grid_shortest_path(cost, neighbourhood, source=source, target=target,
                                                               backend="python"))


def test_the_oracle_refuses_a_dearer_a_longer_and_a_broken_path():
    flat = np.zeros((5, 7))
    with pytest.raises(AssertionError):   # a cheapest path, but not one of the fewest cells (7 with diagonals)
        check_cheapest_path(grid_shortest_path(flat, 4), flat, 8)
    walled = np.array([[1.0, 9.0, 9.0], [1.0, 9.0, 9.0], [1.0, 1.0, 1.0]])
    with pytest.raises(AssertionError):   # through the wall
        check_cheapest_path(np.eye(3), walled, 4)
    with pytest.raises(AssertionError):   # both ends but not connected
        check_cheapest_path(np.array([[1.0, 0, 0], [0, 0, 0], [0, 0, 1.0]]), np.zeros((3, 3)), 8)


@pytest.mark.parametrize("cell, error, message", [
    ((5, 0), ValueError, r"source \(5, 0\) is outside the 4x4 grid"),
    ("a", TypeError, "source must be a \\(row, col\\) pair"),
])
def test_bad_source_cells(cell, error, message):
    with pytest.raises(error, match=message):
        grid_shortest_path(np.ones((4, 4)), source=cell)
