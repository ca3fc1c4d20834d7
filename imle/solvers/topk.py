"""Top-k subset selection: the MAP solver of the k-subset distribution.

Examples:
    >>> import torch
    >>> from imle.solvers import top_k
    >>> top_k(torch.tensor([[0.1, 3.0, 2.0, -1.0]]), k=2)
    tensor([[0., 1., 1., 0.]])
"""
from __future__ import annotations

import torch

from imle import _checks


def top_k(scores: torch.Tensor, k: int) -> torch.Tensor:
    """0/1 mask with exactly ``k`` ones per instance, at the ``k`` largest scores.

    An instance is everything after the first (batch) dimension: scores [B, ...] give a mask of
    the same shape whose every ``mask[b]`` sums to ``k``. Maximisation, the library's convention,
    so it drops into ``imle(...)`` as it is. Ties go to the lower flat index (a stable sort), so
    the result is deterministic.

    Args:
        scores: [B, ...] floating tensor, at least one value per instance.
        k: number of entries to select, 0 <= k <= values per instance.

    Returns:
        Mask of ``scores``' shape, dtype and device.
    """
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"scores must be a torch.Tensor, got {type(scores).__name__}")
    if not scores.is_floating_point():
        raise TypeError(f"scores must be a floating tensor, got dtype {scores.dtype}")
    if scores.dim() < 2:
        raise ValueError(f"scores must have shape [B, ...] with at least 2 dimensions, got {tuple(scores.shape)}")
    k = _checks.integer("k", k, minimum=0)  # numpy integers and 0-d integer tensors too
    if scores.shape[0] == 0:  # an empty batch: an empty mask (as every other solver gives)
        return torch.zeros_like(scores)
    flat = scores.detach().reshape(scores.shape[0], -1)
    if not 0 <= k <= flat.shape[1]:
        raise ValueError(f"k must be between 0 and {flat.shape[1]} (values per instance), got {k}")
    if torch.isnan(flat).any():
        raise ValueError("scores contains NaN; top-k needs comparable values")
    order = torch.sort(flat, dim=1, descending=True, stable=True).indices[:, :k]
    mask = torch.zeros_like(flat)
    mask.scatter_(1, order, 1.0)
    return mask.reshape(scores.shape)


def select_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """torch-adaptive-imle's ``select_k``: a 0/1 mask with exactly ``k`` ones along the last
    dimension, at ``torch.topk``'s ``k`` largest values (its choice among ties).

    Unlike `top_k` (whose instance is everything after the batch dimension), each row of the
    last dimension is selected on its own.

    Examples:
        >>> select_k(torch.tensor([[0.1, 3.0, 2.0, -1.0]]), 2)
        tensor([[0., 1., 1., 0.]])
    """
    _check_selection(logits, k)
    indices = torch.topk(logits.detach(), k, dim=-1, sorted=True).indices
    return torch.zeros_like(logits).scatter_(-1, indices, 1.0)


def mathias_select_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """torch-adaptive-imle's ``mathias_select_k``: ones where a value reaches the row's ``k``-th
    largest value (along the last dimension), so ties at the threshold give more than ``k`` ones.

    Examples:
        >>> mathias_select_k(torch.tensor([[0.1, 3.0, 2.0, 2.0]]), 2)
        tensor([[0., 1., 1., 1.]])
    """
    _check_selection(logits, k)
    threshold = torch.topk(logits.detach(), k, dim=-1, sorted=True).values[..., -1:]
    return (logits.detach() >= threshold).to(logits.dtype)


def _check_selection(logits: object, k: object) -> None:
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise TypeError(f"logits must be a floating torch.Tensor, got {type(logits).__name__}")
    if logits.dim() < 1:
        raise ValueError("logits must have at least one dimension")
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    if not 1 <= k <= logits.shape[-1]:
        raise ValueError(f"k must be between 1 and {logits.shape[-1]} (the last dimension), got {k}")


#: every solver says whether it maximises <theta, y> or minimises <costs, y> (imle.solvers docs)
top_k.sense = select_k.sense = mathias_select_k.sense = "max"
