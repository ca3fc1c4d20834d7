"""Batched shortest paths on grids, as 0/1 masks.

Two entry points with one rule set:

* :func:`grid_shortest_path` minimises: it takes **costs** and returns the cheapest path. Use it
  with ``imle(..., minimize=True)``.
* :func:`grid_max_weight_path` maximises ``<theta, y>`` over paths, the library's convention
  (``theta = -costs``). Use it with a plain ``imle(...)``, as in the torch-imle README.

Rules (the same for the compiled and the Python back end; tests compare them mask for mask):

* **Vertex-weighted**: a path's cost is the sum of the costs of every cell it visits, both ends
  included. Paths run from the top-left cell to the bottom-right cell; grids may be rectangular.
* **Neighbourhood**: 8 (king moves, default) or 4 (rook moves).
* **Negative costs are clamped to zero** before solving (the rule of blackbox-backprop and the
  adaptive I-MLE code). Perturbed costs go negative all the time (noise, and the backward pass
  shifts costs by ``beta * dy``), and Dijkstra is not defined on them; clamping keeps the result
  a true shortest path of a well-defined cost grid. This happens here and nowhere else.
* **NaN or infinite costs** raise ``ValueError``.
* **Ties**: among cheapest paths, the one with the fewest cells wins; remaining ties are broken
  by reading the path back from the bottom-right cell and stepping, at each cell, to the first
  neighbour in reading order (up-left, up, up-right, left, right, down-left, down, down-right)
  that lies on such a path.

Devices: the solve runs on the CPU (compiled Dijkstra, the GIL released), with one transfer to
the host and one back per batch; a CUDA tensor in gives a CUDA tensor out.

Example:
    >>> import torch
    >>> from imle.solvers import grid_shortest_path
    >>> costs = torch.tensor([[1., 9., 9.], [1., 9., 9.], [1., 1., 1.]])
    >>> grid_shortest_path(costs, neighbourhood=4)
    tensor([[1., 0., 0.],
            [1., 0., 0.],
            [1., 1., 1.]])
"""
from __future__ import annotations

import functools
import warnings
from typing import Union

import numpy as np
import torch

from imle._threads import run_parallel
from imle.solvers import _grid_python

try:
    from imle.solvers import _gridpath as _compiled
except ImportError:  # pragma: no cover - exercised only where no compiler was available
    _compiled = None

Array = Union[torch.Tensor, np.ndarray]

#: Which back end ``grid_shortest_path`` uses by default: "c" (compiled) or "python".
DEFAULT_BACKEND = "c" if _compiled is not None else "python"
_warned_fallback = False
_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _check_neighbourhood(neighbourhood: object) -> int:
    if isinstance(neighbourhood, bool) or neighbourhood not in (4, 8):
        raise ValueError(f"neighbourhood must be 4 or 8, got {neighbourhood!r}")
    return int(neighbourhood)


def _as_cost_grids(values: Array, name: str, negate: bool = False) -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate values [..., H, W]; return (float64 costs [B, H, W], negatives clamped; shape).

    ``negate`` turns maximisation weights into costs (costs = -weights).
    """
    if isinstance(values, torch.Tensor):
        if not (values.is_floating_point() or values.dtype in _INT_DTYPES):
            raise TypeError(f"{name} must hold real numbers, got dtype {values.dtype}")
        array = values.detach().to(device="cpu", dtype=torch.float64).numpy()
    elif isinstance(values, np.ndarray):
        if values.dtype.kind not in "fiu":
            raise TypeError(f"{name} must hold real numbers, got dtype {values.dtype}")
        array = values.astype(np.float64, copy=False)
    else:
        raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(values).__name__}")
    if negate:
        array = -array
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape [..., H, W] (at least 2 dimensions), got {tuple(array.shape)}")
    H, W = array.shape[-2:]
    if H < 1 or W < 1:
        raise ValueError(f"{name} must have H >= 1 and W >= 1, got {tuple(array.shape)}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values; every cell needs a finite cost")
    grids = np.ascontiguousarray(np.maximum(array.reshape(-1, H, W), 0.0))
    return grids, tuple(array.shape)


def _solve_grids(grids: np.ndarray, neighbourhood: int, backend: str) -> np.ndarray:
    """uint8 masks [B, H, W] for validated float64 cost grids [B, H, W]."""
    global _warned_fallback
    if backend == "c" and _compiled is None:
        if not _warned_fallback:
            warnings.warn("imle's compiled grid solver is not built; using the slow Python solver", RuntimeWarning)
            _warned_fallback = True
        backend = "python"
    if backend == "python":
        return _grid_python.solve(grids, neighbourhood)
    if backend != "c":
        raise ValueError(f"backend must be 'c' or 'python', got {backend!r}")
    B, H, W = grids.shape
    out = np.empty((B, H, W), dtype=np.uint8)
    workers = min(torch.get_num_threads(), B)
    if workers < 2 or B * H * W < PARALLEL_MIN_CELLS:
        _compiled.solve(grids, B, H, W, neighbourhood, out)
        return out
    # The compiled solver releases the GIL: threads solve disjoint slices of the batch at once.
    bounds = np.linspace(0, B, workers + 1).astype(int)
    run_parallel([functools.partial(_compiled.solve, grids[lo:hi], hi - lo, H, W, neighbourhood, out[lo:hi])
                  for lo, hi in zip(bounds[:-1], bounds[1:])])
    return out


#: Batches with fewer cells than this are solved on the calling thread (threads cost ~50 us).
PARALLEL_MIN_CELLS = 16_384


def _like_input(masks: np.ndarray, shape: tuple[int, ...], like: Array) -> Array:
    masks = masks.reshape(shape)
    if isinstance(like, torch.Tensor):
        dtype = like.dtype if like.is_floating_point() else torch.get_default_dtype()
        return torch.from_numpy(masks).to(device=like.device, dtype=dtype)
    dtype = like.dtype if like.dtype.kind == "f" else np.float64
    return masks.astype(dtype)


def grid_shortest_path(costs: Array, neighbourhood: int = 8, *, backend: str | None = None) -> Array:
    """Cheapest top-left to bottom-right path on each cost grid, as a 0/1 mask.

    Args:
        costs: [..., H, W] tensor or array of cell costs (any leading batch dimensions).
        neighbourhood: 8 (default) or 4.
        backend: "c" (compiled, default when built) or "python" (reference); same results.

    Returns:
        A mask of ``costs``' shape: 1 on the path's cells, 0 elsewhere. Same type, device and
        (floating) dtype as ``costs``; integer input gives the default float dtype.

    Example:
        >>> import numpy as np
        >>> grid_shortest_path(np.ones((2, 3)), neighbourhood=4).astype(int).tolist()
        [[1, 1, 1], [0, 0, 1]]
    """
    neighbourhood = _check_neighbourhood(neighbourhood)
    grids, shape = _as_cost_grids(costs, "costs")
    masks = _solve_grids(grids, neighbourhood, backend or DEFAULT_BACKEND)
    return _like_input(masks, shape, costs)


def grid_max_weight_path(weights: Array, neighbourhood: int = 8, *, backend: str | None = None) -> Array:
    """Path maximising ``<weights, y>``: the shortest path on costs ``-weights``.

    The library's sign convention (solvers maximise), so this is the drop-in solver for a plain
    ``imle(...)`` call whose upstream model outputs ``theta = -costs``. Positive weights are
    costs below zero and are clamped (see the module notes).

    Args:
        weights: [..., H, W] tensor or array.
        neighbourhood: 8 (default) or 4.

    Returns:
        A 0/1 mask of ``weights``' shape, type, device and dtype.

    Example:
        >>> import torch
        >>> from imle.wrapper import imle
        >>> theta = -torch.ones(2, 4, 4, requires_grad=True)  # [B, H, W], theta = -costs
        >>> paths = imle(grid_max_weight_path, nb_samples=3)(theta)  # [B * S, H, W]
        >>> paths.shape
        torch.Size([6, 4, 4])
    """
    neighbourhood = _check_neighbourhood(neighbourhood)
    grids, shape = _as_cost_grids(weights, "weights", negate=True)
    masks = _solve_grids(grids, neighbourhood, backend or DEFAULT_BACKEND)
    return _like_input(masks, shape, weights)
