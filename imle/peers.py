"""The peer estimators of I-MLE, behind :func:`imle.imle`'s calling convention.

Each is a function or decorator that wraps a batched solver (maximising ``<theta, y>``, or
minimising a cost with ``minimize=True``, which as for ``imle`` means: theta is the cost, the
solver gets it as it is, and the gradient is with respect to it). Extra arguments of the layer
reach the solver. Sign conventions of the original papers are translated once, here.

* :func:`blackbox` - blackbox differentiation (Vlastelica et al., ICLR 2020). Forward
  ``y(theta)``, [B, ...]; backward ``(y(theta) - y(theta - lambda dy)) / lambda``.
* :func:`perturbed` - perturbed optimisers (Berthet et al., NeurIPS 2020). Forward the mean of
  ``y(theta + sigma Z_s)`` over S samples, [B, ...]; backward the Monte-Carlo Jacobian
  ``mean_s <y_s, dy> grad_nu(Z_s) / sigma`` with ``grad_nu(z) = z`` for normal Z and
  ``1 - exp(-z)`` for Gumbel Z.
* :func:`straight_through` - forward ``y(theta)``; backward the identity, ``dy``.
* :func:`score_function` - REINFORCE on perturb-and-MAP. Forward ``y_s = y(theta + sigma Z_s)``
  stacked [B * S, ...] like ``imle``; backward ``mean_s (f_s - b_s) grad_nu(Z_s) / sigma`` with
  ``f_s = <y_s, dy_s>`` and the leave-one-out mean baseline ``b_s`` (the mean of the other
  samples' f, which keeps the estimator unbiased). Inside backpropagation only dL/dy is
  available, not L: ``f_s`` is the loss up to a constant for losses linear in y (the Hamming
  loss, any ``<y, c>``), and the baseline removes the constant; for other losses it is their
  first-order value.

Example:
    >>> import torch
    >>> from imle.peers import blackbox
    >>> from imle.solvers import top_k
    >>> theta = torch.tensor([[1.0, 0.0, 0.5]], requires_grad=True)
    >>> y = blackbox(top_k, lambda_=2.0)(theta, 1)           # [B, 3]: the argmax, e0
    >>> y.backward(torch.tensor([[0.0, 0.0, -1.0]]))         # theta - 2 dy = [1, 0, 2.5] -> e2
    >>> theta.grad
    tensor([[ 0.5000,  0.0000, -0.5000]])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch
from torch.autograd.function import once_differentiable

from imle._layer import (Solver, autograd_layer, call_solver, check_flag, check_generator, check_positive,
                         check_samples)
from imle.noise import GumbelNoiseDistribution

NOISES = ("gumbel", "normal")


@dataclass(frozen=True)
class _Settings:
    solver: Solver
    minimize: bool
    size: float = 1.0                    # lambda (blackbox) or sigma (perturbed, score function)
    nb_samples: int = 1
    noise: str = "gumbel"
    generator: Optional[torch.Generator] = None


def _noise_and_score(settings: _Settings, theta: torch.Tensor) -> tuple:
    """(Z [B, S, ...], grad_nu(Z)) on theta's device and dtype."""
    shape = (theta.shape[0], settings.nb_samples) + tuple(theta.shape[1:])
    if settings.noise == "normal":
        z = torch.randn(shape, device=theta.device, dtype=theta.dtype, generator=settings.generator)
        return z, z
    z = GumbelNoiseDistribution().sample(shape, device=theta.device, dtype=theta.dtype, generator=settings.generator)
    return z, 1.0 - torch.exp(-z)


def _perturbed_solutions(settings: _Settings, theta: torch.Tensor, args: tuple, kwargs: dict) -> tuple:
    """(y(theta + sigma Z_s) [B * S, ...], grad_nu(Z) [B, S, ...]): one batched solver call."""
    z, score = _noise_and_score(settings, theta)
    perturbed_theta = _flat(_sign(settings, theta).unsqueeze(1) + settings.size * z)
    return call_solver(settings.solver, perturbed_theta, settings.minimize, args, kwargs), score


def _check_noise(noise: object) -> str:
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
    return noise


def _sign(settings: _Settings, theta: torch.Tensor) -> torch.Tensor:
    """theta in the maximisation convention (costs are negated)."""
    return -theta if settings.minimize else theta


def _flat(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.reshape((-1,) + tuple(tensor.shape[2:]))


class _Blackbox(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta, settings: _Settings, args, kwargs):
        theta_max = _sign(settings, theta)
        y = call_solver(settings.solver, theta_max, settings.minimize, args, kwargs)
        ctx.settings, ctx.args, ctx.kwargs = settings, args, kwargs
        ctx.save_for_backward(theta_max, y)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        theta_max, y = ctx.saved_tensors
        settings = ctx.settings
        shifted = call_solver(settings.solver, theta_max - settings.size * dy.to(theta_max.dtype), settings.minimize,
                              ctx.args, ctx.kwargs)
        grad = (y - shifted) / settings.size
        return (-grad if settings.minimize else grad), None, None, None


class _Perturbed(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta, settings: _Settings, args, kwargs):
        y, score = _perturbed_solutions(settings, theta, args, kwargs)
        ys = y.view(score.shape)
        ctx.settings = settings
        ctx.save_for_backward(ys, score)
        return ys.mean(dim=1)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        ys, score = ctx.saved_tensors
        settings = ctx.settings
        weights = (ys * dy.unsqueeze(1)).flatten(2).sum(-1)  # <y_s, dy>, [B, S]
        grad = (weights.view(weights.shape + (1,) * (score.dim() - 2)) * score).mean(dim=1) / settings.size
        return (-grad if settings.minimize else grad), None, None, None


class _StraightThrough(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta, settings: _Settings, args, kwargs):
        ctx.minimize = settings.minimize
        return call_solver(settings.solver, _sign(settings, theta), settings.minimize, args, kwargs)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        return (-dy if ctx.minimize else dy), None, None, None


class _ScoreFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta, settings: _Settings, args, kwargs):
        y, score = _perturbed_solutions(settings, theta, args, kwargs)
        ctx.settings = settings
        ctx.save_for_backward(y, score)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        y, score = ctx.saved_tensors
        settings = ctx.settings
        batch, samples = score.shape[0], score.shape[1]
        values = (y * dy.reshape(y.shape)).reshape(batch, samples, -1).sum(-1)  # f_s, [B, S]
        baseline = (values.sum(dim=1, keepdim=True) - values) / (samples - 1)   # leave-one-out mean
        advantage = (values - baseline).view((batch, samples) + (1,) * (score.dim() - 2))
        grad = (advantage * score).mean(dim=1) / settings.size
        return (-grad if settings.minimize else grad), None, None, None


def _make(function, function_class, settings: dict) -> Callable:
    return autograd_layer(function, function_class, lambda solver: _Settings(solver=solver, **settings),
                          "estimator_settings")


def blackbox(function: Optional[Solver] = None, *, lambda_: float = 1.0, minimize: bool = False):
    """Blackbox differentiation: theta [B, ...] -> y(theta) [B, ...].

    Backward: ``(y(theta) - y(theta - lambda_ dy)) / lambda_`` (maximisation; with
    ``minimize=True`` this is Vlastelica et al.'s ``(y(w + lambda dy) - y(w)) / lambda`` on costs w).
    """
    return _make(function, _Blackbox, dict(minimize=check_flag("minimize", minimize),
                                           size=check_positive("lambda_", lambda_)))


def perturbed(function: Optional[Solver] = None, *, nb_samples: int = 10, sigma: float = 1.0,
              noise: str = "gumbel", minimize: bool = False, generator: Optional[torch.Generator] = None):
    """Perturbed optimiser: theta [B, ...] -> mean_s y(theta + sigma Z_s) [B, ...].

    Backward: the Monte-Carlo Jacobian-vector product ``mean_s <y_s, dy> grad_nu(Z_s) / sigma``.
    ``noise``: "gumbel" (grad_nu(z) = 1 - exp(-z)) or "normal" (grad_nu(z) = z).
    """
    return _make(function, _Perturbed, dict(minimize=check_flag("minimize", minimize),
                                            size=check_positive("sigma", sigma), nb_samples=check_samples(nb_samples),
                                            noise=_check_noise(noise), generator=check_generator(generator)))


def straight_through(function: Optional[Solver] = None, *, minimize: bool = False):
    """Straight-through: theta [B, ...] -> y(theta) [B, ...]; backward passes dy on unchanged."""
    return _make(function, _StraightThrough, dict(minimize=check_flag("minimize", minimize)))


def score_function(function: Optional[Solver] = None, *, nb_samples: int = 10, sigma: float = 1.0,
                   noise: str = "gumbel", minimize: bool = False, generator: Optional[torch.Generator] = None):
    """REINFORCE on perturb-and-MAP: theta [B, ...] -> y(theta + sigma Z_s) stacked [B * S, ...].

    Backward: ``mean_s (f_s - b_s) grad_nu(Z_s) / sigma``, ``f_s = <y_s, dy_s>``, ``b_s`` the
    mean of the other samples' f (so ``nb_samples`` must be at least 2).
    """
    return _make(function, _ScoreFunction, dict(minimize=check_flag("minimize", minimize),
                                                 size=check_positive("sigma", sigma),
                                                 nb_samples=check_samples(nb_samples, minimum=2),
                                                 noise=_check_noise(noise), generator=check_generator(generator)))
