"""Losses on a layer's samples, with the reduction said out loud.

The reduction of the loss is part of the estimator. I-MLE's target is ``theta - beta * dL/dy``:
summed over samples and cells, a Hamming loss has ``dL/dy = +-1`` on every cell and ``beta`` is
in the units of theta; averaged over a batch of B instances with S samples each, ``dL/dy`` is
B * S times smaller, the same ``beta`` moves the target B * S times less, and far fewer
gradient entries are non-zero (the gradient ``y - y'`` does not grow back: it is a difference of
solutions, whatever the loss's scale). Averaging is right for ``beta`` tuned that way, or with a
``beta`` multiplied by B * S: `hamming_loss` makes you choose.

Examples:
    >>> import torch
    >>> samples = torch.tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])   # B = 1 instance, S = 2 samples
    >>> gold = torch.tensor([[1.0, 1.0, 0.0]])                       # [B, ...]: broadcast to its samples
    >>> hamming_loss(samples, gold, reduction="none").tolist()
    [2.0, 2.0]
    >>> float(hamming_loss(samples, gold, reduction="sum")), float(hamming_loss(samples, gold, reduction="mean"))
    (4.0, 2.0)
"""
from __future__ import annotations

import torch

REDUCTIONS = ("sum", "mean", "none")


def hamming_loss(samples: torch.Tensor, gold: torch.Tensor, *, reduction: str) -> torch.Tensor:
    """The Hamming distance of each sample to its instance's gold solution, reduced as asked.

    ``y (1 - g) + (1 - y) g`` summed over a solution's entries: the number of entries where a 0/1
    sample and the gold differ, and linear in y, so an averaged solution (the perturbed
    optimiser's) gets its expected distance.

    Args:
        samples: [B * S, ...], a layer's output (instance-major: the S samples of instance 0
            first), or [B, ...].
        gold: [B, ...], broadcast to each instance's S samples, or the samples' own shape.
        reduction: no default, on purpose (see the module notes):

            * ``"sum"``: over entries, samples and instances; dL/dy = 1 - 2 gold (+-1);
            * ``"mean"``: the mean over the B * S samples of their distances; dL/dy = (1 - 2 gold) / (B S);
            * ``"none"``: each sample's distance, [B * S].

    Returns:
        A scalar tensor (or [B * S] with ``"none"``) in the samples' dtype.
    """
    if not isinstance(samples, torch.Tensor) or not isinstance(gold, torch.Tensor):
        raise TypeError(f"samples and gold must be tensors, got {type(samples).__name__} and {type(gold).__name__}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, got {reduction!r}")
    if samples.dim() < 1 or gold.dim() != samples.dim() or gold.shape[1:] != samples.shape[1:] or \
            gold.shape[0] < 1 or samples.shape[0] % gold.shape[0]:
        raise ValueError(f"gold must be [B, ...] with the samples' solution shape and B dividing their number "
                         f"[B * S, ...]; got samples {tuple(samples.shape)} and gold {tuple(gold.shape)}")
    per_instance = samples.shape[0] // gold.shape[0]
    target = gold.to(samples.dtype).repeat_interleave(per_instance, dim=0) if per_instance > 1 else gold.to(samples.dtype)
    distances = (samples * (1 - target) + (1 - samples) * target).reshape(samples.shape[0], -1).sum(dim=1)
    if reduction == "none":
        return distances
    return distances.sum() if reduction == "sum" else distances.mean()
