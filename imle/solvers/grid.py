"""Batched shortest paths on grids, as 0/1 masks.

Two entry points with one rule set:

* `grid_shortest_path` minimises: it takes **costs** and returns the cheapest path. Use it
  with ``imle(..., minimize=True)``.
* `grid_max_weight_path` maximises ``<theta, y>`` over paths, the library's convention
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

Examples:
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
from typing import Tuple, Union

import numpy as np
import torch

from imle._extensions import load
from imle._threads import run_parallel, usable_threads
from imle.solvers import _grid_python

#: the compiled Dijkstra, or None (not built, or IMLE_NO_EXTENSIONS=1): then the Python one
_compiled = load("imle.solvers._gridpath")

Array = Union[torch.Tensor, np.ndarray]

DEFAULT_BACKEND = "c" if _compiled is not None else "python"
"""Which back end ``grid_shortest_path`` uses by default: ``"c"`` (the compiled Dijkstra, when it
was built and ``IMLE_NO_EXTENSIONS`` is not set) or ``"python"``."""
_warned_fallback = False
_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _check_neighbourhood(neighbourhood: object) -> int:
    if isinstance(neighbourhood, bool) or neighbourhood not in (4, 8):
        raise ValueError(f"neighbourhood must be 4 or 8, got {neighbourhood!r}")
    return int(neighbourhood)


def _as_value_grids(values: Array, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """Validate values [..., H, W]; return (values as C-contiguous float32 or float64 [B, H, W]
    numpy array on the host, original shape). Float32 and float64 input is not converted (the
    compiled solver reads both); other real dtypes become float64."""
    if isinstance(values, torch.Tensor):
        if not (values.is_floating_point() or values.dtype in _INT_DTYPES):
            raise TypeError(f"{name} must hold real numbers, got dtype {values.dtype}")
        dtype = values.dtype if values.dtype in (torch.float32, torch.float64) else torch.float64
        array = values.detach().to(device="cpu", dtype=dtype).numpy()
    elif isinstance(values, np.ndarray):
        if values.dtype.kind not in "fiu":
            raise TypeError(f"{name} must hold real numbers, got dtype {values.dtype}")
        array = values if values.dtype in (np.float32, np.float64) else values.astype(np.float64)
    else:
        raise TypeError(f"{name} must be a torch.Tensor or numpy.ndarray, got {type(values).__name__}")
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape [..., H, W] (at least 2 dimensions), got {tuple(array.shape)}")
    H, W = array.shape[-2:]
    if H < 1 or W < 1:
        raise ValueError(f"{name} must have H >= 1 and W >= 1, got {tuple(array.shape)}")
    return np.ascontiguousarray(array.reshape(-1, H, W)), tuple(array.shape)


def _value_error(name: str, code: int, cells: int) -> ValueError:
    """The error for a solver's check code: 1 NaN or infinite values, 2 values so large that a
    path's sum could overflow a double."""
    if code == 1:
        return ValueError(f"{name} contains NaN or infinite values; every cell needs a finite cost")
    return ValueError(f"{name} contains values so large (above {np.finfo(np.float64).max / cells:.3g} in size) that "
                      f"a path's sum over {cells} cells could overflow; rescale them")


def _solve_grids(grids: np.ndarray, neighbourhood: int, backend: str, negate: bool, name: str,
                 out_dtype: np.dtype, ends: Tuple[int, int] = (0, -1)) -> np.ndarray:
    """Masks [B, H, W] of dtype ``out_dtype`` (float32 or float64) for value grids [B, H, W]
    (float32 or float64): costs, or weights whose negatives are the costs when ``negate``;
    negative costs clamped; NaN or infinite values raise."""
    global _warned_fallback
    if backend not in ("c", "python"):
        raise ValueError(f"backend must be 'c' or 'python', got {backend!r}")
    if backend == "c" and _compiled is None:
        if not _warned_fallback:
            warnings.warn("imle's compiled grid solver is not loaded (not built, or IMLE_NO_EXTENSIONS=1); "
                          "using the Python solver, about 100x slower", RuntimeWarning)
            _warned_fallback = True
        backend = "python"
    if backend == "python":
        costs = -grids.astype(np.float64) if negate else grids.astype(np.float64, copy=False)
        cells = grids.shape[1] * grids.shape[2]
        if not np.isfinite(costs).all():
            raise _value_error(name, 1, cells)
        if costs.size and np.abs(costs).max() > np.finfo(np.float64).max / cells:
            raise _value_error(name, 2, cells)
        return _grid_python.solve(np.maximum(costs, 0.0), neighbourhood, *ends).astype(out_dtype)
    B, H, W = grids.shape
    out = np.empty((B, H, W), dtype=out_dtype)
    is_double, out_double = grids.dtype == np.float64, out.dtype == np.float64
    workers = min(usable_threads(), B)
    if workers < 2 or B * H * W < PARALLEL_MIN_CELLS:
        code = _compiled.solve(grids, B, H, W, neighbourhood, out, is_double, out_double, negate, *ends)
    else:
        # The compiled solver releases the GIL: threads solve disjoint slices of the batch at once.
        bounds = np.linspace(0, B, workers + 1).astype(int)
        code = max(run_parallel([functools.partial(_compiled.solve, grids[lo:hi], hi - lo, H, W, neighbourhood,
                                                     out[lo:hi], is_double, out_double, negate, *ends)
                                   for lo, hi in zip(bounds[:-1], bounds[1:])]))
    if code:
        raise _value_error(name, code, H * W)
    return out


#: Batches with fewer cells than this are solved on the calling thread (threads cost ~50 us).
PARALLEL_MIN_CELLS = 16_384


def _cell_index(cell: object, shape: Tuple[int, ...], what: str) -> int:
    """(row, col) -> flat index in an [H, W] grid; negative indices count from the end."""
    H, W = shape[-2:]
    try:
        row, col = (int(i) for i in cell)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a (row, col) pair of ints, got {cell!r}") from None
    if not (-H <= row < H and -W <= col < W):
        raise ValueError(f"{what} {(row, col)} is outside the {H}x{W} grid")
    return (row % H) * W + col % W


def _solve(values: Array, neighbourhood: object, backend: str | None, negate: bool, name: str,
           source: object = None, target: object = None) -> Array:
    """Validate, solve, and return masks of ``values``' shape, type, device and float dtype."""
    neighbourhood = _check_neighbourhood(neighbourhood)
    grids, shape = _as_value_grids(values, name)
    ends = (0 if source is None else _cell_index(source, shape, "source"),
            -1 if target is None else _cell_index(target, shape, "target"))
    if isinstance(values, torch.Tensor):
        dtype = values.dtype if values.is_floating_point() else torch.get_default_dtype()
        host_dtype = dtype if dtype in (torch.float32, torch.float64) else torch.float32
        host_numpy_dtype = np.dtype(np.float64 if host_dtype == torch.float64 else np.float32)
        masks = torch.from_numpy(_solve_grids(grids, neighbourhood, backend or DEFAULT_BACKEND, negate, name,
                                              host_numpy_dtype, ends))
        return masks.reshape(shape).to(device=values.device, dtype=dtype)
    dtype = values.dtype if values.dtype.kind == "f" else np.dtype(np.float64)
    out_dtype = dtype if dtype in (np.float32, np.float64) else np.dtype(np.float32)
    masks = _solve_grids(grids, neighbourhood, backend or DEFAULT_BACKEND, negate, name, out_dtype, ends)
    return masks.reshape(shape).astype(dtype, copy=False)


def grid_shortest_path(costs: Array, neighbourhood: int = 8, *, backend: str | None = None,
                       source: Tuple[int, int] | None = None, target: Tuple[int, int] | None = None) -> Array:
    """Cheapest top-left to bottom-right path on each cost grid, as a 0/1 mask.

    Args:
        costs: [..., H, W] tensor or array of cell costs (any leading batch dimensions).
        neighbourhood: 8 (default) or 4.
        backend: "c" (compiled, default when built) or "python" (reference); same results.
        source, target: other end cells, (row, col) (negative indices count from the end), the
            same for every grid of the batch; default the top-left and the bottom-right cell.

    Returns:
        A mask of ``costs``' shape: 1 on the path's cells, 0 elsewhere. Same type, device and
        (floating) dtype as ``costs``; integer input gives the default float dtype.

    Examples:
        >>> import numpy as np
        >>> grid_shortest_path(np.ones((2, 3)), neighbourhood=4).astype(int).tolist()
        [[1, 1, 1], [0, 0, 1]]
    """
    return _solve(costs, neighbourhood, backend, negate=False, name="costs", source=source, target=target)


grid_shortest_path.sense = "min"


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

    Examples:
        >>> import torch
        >>> from imle.wrapper import imle
        >>> theta = -torch.ones(2, 4, 4, requires_grad=True)  # [B, H, W], theta = -costs
        >>> paths = imle(grid_max_weight_path, nb_samples=3)(theta)  # [B * S, H, W]
        >>> paths.shape
        torch.Size([6, 4, 4])
    """
    return _solve(weights, neighbourhood, backend, negate=True, name="weights")


grid_max_weight_path.sense = "max"
