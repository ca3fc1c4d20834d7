import itertools

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from imle.solvers import top_k


@given(arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 7)),
              elements=st.floats(-10, 10)), st.data())
def test_top_k_selects_k_entries_of_maximal_total(scores, data):
    k = data.draw(st.integers(0, scores.shape[1]))
    mask = top_k(torch.from_numpy(scores), k).numpy()
    assert set(np.unique(mask)) <= {0.0, 1.0}
    for b in range(scores.shape[0]):
        assert mask[b].sum() == k
        best = max((sum(scores[b][list(c)]) for c in itertools.combinations(range(scores.shape[1]), k)), default=0.0)
        assert (mask[b] * scores[b]).sum() == pytest.approx(best)


def test_top_k_ties_go_to_the_lower_index_and_shape_is_kept():
    scores = torch.tensor([[[1.0, 2.0], [2.0, 0.0]], [[5.0, 5.0], [5.0, 5.0]]])
    mask = top_k(scores, 1)
    assert mask.shape == scores.shape
    assert mask.tolist() == [[[0.0, 1.0], [0.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]]


@pytest.mark.parametrize(
    "scores, k, error, message",
    [
        ([1.0, 2.0], 1, TypeError, "scores must be a torch.Tensor"),
        (torch.ones(3), 1, ValueError, r"scores must have shape \[B, ...\]"),
        (torch.ones(2, 3, dtype=torch.int64), 1, TypeError, "scores must be a floating tensor"),
        (torch.ones(2, 3), 4, ValueError, "k must be between 0 and 3"),
        (torch.ones(2, 3), -1, ValueError, "k must be >= 0, got -1"),
        (torch.ones(2, 3), 1.5, TypeError, "k must be an int"),
        (torch.tensor([[1.0, float("nan")]]), 1, ValueError, "scores contains NaN"),
    ],
)
def test_top_k_bad_inputs(scores, k, error, message):
    with pytest.raises(error, match=message):
        top_k(scores, k)


def test_a_numpy_integer_k_and_an_empty_batch_are_taken():
    scores = torch.tensor([[0.1, 3.0, 2.0, -1.0]])
    assert torch.equal(top_k(scores, np.int64(2)), top_k(scores, 2))
    assert torch.equal(top_k(scores, torch.tensor(2)), top_k(scores, 2))
    empty = top_k(torch.zeros(0, 5), 3)
    assert empty.shape == (0, 5) and empty.dtype == torch.float32
