"""The 0/1 knapsack with integer weights, a whole batch at once (dynamic programming).

``max <values, y>`` subject to ``<weights, y> <= capacity``, y in {0, 1}^d, for every instance's
values and one set of integer weights (PyEPO's knapsack benchmark, once its two-decimal weights
are scaled by 100). The classic table over capacities 0..C, one vectorised step per item for the
whole batch, then a walk back from the full capacity: exact, in about d x N x C operations.

Examples:
    >>> import torch
    >>> solve = knapsack(weights=[3, 4, 2], capacity=5)
    >>> solve(torch.tensor([[4.0, 5.0, 3.0], [1.0, 5.0, 0.5]]))
    tensor([[1., 0., 1.],
            [0., 1., 0.]])
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

from imle._checks import solver_batch

#: Bytes of the "take this item" table one chunk of the batch may hold (d x chunk x (C + 1)).
TABLE_BYTES = 1 << 28


class Knapsack:
    """What `knapsack` returns: ``solver(values [N, d]) -> y [N, d]``."""

    sense = "max"

    def __init__(self, weights: np.ndarray, capacity: int):
        self.weights, self.capacity = weights, capacity

    def __call__(self, values: torch.Tensor) -> torch.Tensor:
        d = len(self.weights)
        values = solver_batch("values", values, 2, width=d, per="one value per item").detach()
        # sums in half precision would choose wrong packings: float16/bfloat16 values are added up in float32
        work = values if values.dtype in (torch.float32, torch.float64) else values.float()
        chunk = max(1, TABLE_BYTES // (d * (self.capacity + 1)))
        solved = [self._solve(part) for part in work.split(chunk)]
        return (torch.cat(solved) if solved else torch.zeros_like(work)).to(values.dtype)

    def _solve(self, values: torch.Tensor) -> torch.Tensor:
        n, device = values.shape[0], values.device
        capacity = self.capacity
        best = torch.zeros(n, capacity + 1, dtype=values.dtype, device=device)  # best value within capacity c
        take = torch.zeros(len(self.weights), n, capacity + 1, dtype=torch.bool, device=device)
        for item, weight in enumerate(self.weights.tolist()):
            if weight > capacity:
                continue
            with_item = best[:, :capacity + 1 - weight] + values[:, item:item + 1]  # a copy: read before written
            without = best[:, weight:]
            torch.gt(with_item, without, out=take[item, :, weight:])  # strict: a tie leaves the item out
            torch.maximum(without, with_item, out=without)
        chosen = torch.zeros(n, len(self.weights), dtype=values.dtype, device=device)
        room = torch.full((n,), capacity, dtype=torch.long, device=device)
        rows = torch.arange(n, device=device)
        for item in range(len(self.weights) - 1, -1, -1):  # walk back from the full capacity
            taken = take[item, rows, room]
            chosen[:, item] = taken.to(values.dtype)
            room = room - taken.long() * int(self.weights[item])
        return chosen

    def __repr__(self) -> str:
        return f"knapsack({len(self.weights)} items, capacity={self.capacity})"


#: The largest weight `knapsack` takes: whole numbers are exact in float64 up to 2**53.
MAX_EXACT_WEIGHT = 2 ** 53


def knapsack(weights: Sequence, capacity) -> Knapsack:
    """A batched solver ``values [N, d] -> y [N, d]``: the 0/1 selection of maximum total value
    whose total weight is at most ``capacity``, for every instance's values.

    Args:
        weights: d non-negative integer weights (ints, or floats with integer values: scale
            decimal weights first, e.g. PyEPO's by 100).
        capacity: a non-negative number; items fit while their weights sum to at most it.

    It maximises, the library's convention. Items of negative value are never taken; a tie
    leaves the later item out. Exact, with sums in the values' dtype (pass float64 values for
    float64 sums). Time and the table's memory grow with d x N x capacity (the batch is split so
    that the table stays under `TABLE_BYTES`).
    """
    try:
        array = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"weights must be a sequence of non-negative integers, got {weights!r}") from None
    if array.ndim != 1 or not len(array):
        raise ValueError(f"weights must be a non-empty sequence of d numbers, got shape {array.shape}")
    if not np.isfinite(array).all() or (array < 0).any() or (array != np.round(array)).any():
        bad = next(index for index, w in enumerate(array) if not (np.isfinite(w) and w >= 0 and w == np.round(w)))
        raise ValueError(f"weights must be non-negative integers (scale decimal weights first); weight {bad} is "
                         f"{float(array[bad])}")
    if (array > MAX_EXACT_WEIGHT).any():  # beyond 2**53 float64 loses whole numbers, beyond 2**63 int64 wraps
        bad = int(np.argmax(array > MAX_EXACT_WEIGHT))
        raise ValueError(f"weights must be at most 2**53 = {MAX_EXACT_WEIGHT:,} (exact whole numbers in float64); "
                         f"weight {bad} is {float(array[bad]):.4g}: scale the weights and the capacity down")
    if isinstance(capacity, bool) or not isinstance(capacity, (int, float, np.integer, np.floating)) or \
            not np.isfinite(capacity) or capacity < 0:
        raise ValueError(f"capacity must be a non-negative number, got {capacity!r}")
    # a capacity above the total weight holds every item: the same problem, and a table no larger than it needs
    return Knapsack(array.astype(np.int64), int(np.floor(min(float(capacity), float(array.sum())))))
