"""Target distributions: where the backward pass moves theta to build its surrogate target.

I-MLE's gradient is the difference between the current solution and the solution at the target
parameters ``theta' = params(theta, dy)``. Subclass :class:`BaseTargetDistribution` for your own.

Example:
    >>> import torch
    >>> from imle.target import TargetDistribution
    >>> TargetDistribution(alpha=1.0, beta=10.0).params(torch.tensor([1.0]), torch.tensor([0.5]))
    tensor([-4.])
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch


class BaseTargetDistribution(ABC):
    """Maps theta [N, ...] and the upstream gradient dy [N, ...] to target parameters [N, ...]."""

    @abstractmethod
    def params(self, theta: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        """Target parameters theta', same shape as theta."""


def _check_real(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return float(value)


class TargetDistribution(BaseTargetDistribution):
    """The perturbation-based target of torch-imle: ``theta' = alpha * theta - beta * dy``.

    ``beta`` is the step towards lower loss (maximisation convention: lowering the loss means
    raising theta where dy is negative). The gradient is *not* divided by beta, as in torch-imle.

    Args:
        alpha: weight of the current parameters (torch-imle's README uses 0.0 or 1.0).
        beta: size of the step along -dy, >= 0.
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1.0):
        self.alpha = _check_real("alpha", alpha)
        self.beta = _check_real("beta", beta)
        if self.beta < 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}")

    def params(self, theta: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        if theta.shape != dy.shape:
            raise ValueError(f"theta and dy must have the same shape, got {tuple(theta.shape)} and {tuple(dy.shape)}")
        return self.alpha * theta - self.beta * dy

    def __repr__(self) -> str:
        return f"TargetDistribution(alpha={self.alpha}, beta={self.beta})"
