"""The peer estimators of I-MLE, behind `imle.imle`'s calling convention.

Each is a function or decorator that wraps a batched solver (maximising ``<theta, y>``, or
minimising a cost with ``minimize=True``, which as for ``imle`` means: theta is the cost, the
solver gets it as it is, and the gradient is with respect to it). Extra arguments of the layer
reach the solver. Sign conventions of the original papers are translated once, here.

* `blackbox` - blackbox differentiation (Vlastelica et al., ICLR 2020). Forward
  ``y(theta)``, [B, ...]; backward ``(y(theta) - y(theta - lambda dy)) / lambda``.
* `perturbed` - perturbed optimisers (Berthet et al., NeurIPS 2020). Forward the mean of
  ``y(theta + sigma Z_s)`` over S samples, [B, ...]; backward the Monte-Carlo Jacobian
  ``mean_s <y_s, dy> grad_nu(Z_s) / sigma`` with ``grad_nu(z) = z`` for normal Z and
  ``1 - exp(-z)`` for Gumbel Z.
* `straight_through` - forward ``y(theta)``; backward the identity, ``dy``.
* `score_function` - REINFORCE on perturb-and-MAP. Forward ``y_s = y(theta + sigma Z_s)``
  stacked [B * S, ...] like ``imle``; backward ``mean_s (f_s - b_s) grad_nu(Z_s) / sigma`` with
  ``f_s = <y_s, dy_s>`` and the leave-one-out mean baseline ``b_s`` (the mean of the other
  samples' f, which keeps the estimator unbiased). Inside backpropagation only dL/dy is
  available, not L: ``f_s`` is the loss up to a constant for losses linear in y (the Hamming
  loss, any ``<y, c>``), and the baseline removes the constant; for other losses it is their
  first-order value.

Examples:
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

from typing import Optional

import torch
from torch.autograd.function import once_differentiable

from imle.estimators._layer import (EstimatorLayer, Solver, autograd_functions, check_flag, check_generator, check_positive,
                         check_samples, flat, layer_or_decorator, noise_shape)
from imle.noise import GumbelNoiseDistribution

NOISES = ("gumbel", "normal")
"""The noises of the perturbed optimiser and the score function: ``noise="gumbel"`` (standard
Gumbel) or ``noise="normal"`` (standard normal), each scaled by ``sigma``."""


class _Gumbel:
    """Standard Gumbel draws and their score grad_nu(z) = 1 - exp(-z)."""

    def __call__(self, shape, like, generator):
        return GumbelNoiseDistribution().sample(shape, device=like.device, dtype=like.dtype, generator=generator)

    @staticmethod
    def score(z: torch.Tensor) -> torch.Tensor:
        return 1.0 - torch.exp(-z)


class _Normal:
    """Standard normal draws and their score grad_nu(z) = z."""

    def __call__(self, shape, like, generator):
        return torch.randn(shape, device=like.device, dtype=like.dtype, generator=generator)

    @staticmethod
    def score(z: torch.Tensor) -> torch.Tensor:
        return z


class PeerLayer(EstimatorLayer):
    """The layer of a peer estimator: its solver, sense, size (lambda or sigma), samples and noise."""

    def __init__(self, solver: Solver, estimator: str, *, minimize: bool, size: float = 1.0, nb_samples: int = 1,
                 noise: str = "gumbel", generator: Optional[torch.Generator] = None):
        super().__init__(solver, minimize=minimize, generator=generator)
        self.estimator, self._functions = estimator, FUNCTIONS[estimator]
        self.size, self.nb_samples, self.noise = size, nb_samples, noise
        self._noise = self._noise_draw = _Gumbel() if noise == "gumbel" else _Normal()

    def perturbed_solutions(self, theta: torch.Tensor, args: tuple, kwargs: dict) -> tuple:
        """(y(theta + sigma Z_s) [B * S, ...], Z [B, S, ...]): one batched solver call."""
        z = self.draw(noise_shape(theta, self.nb_samples), theta)
        theta_max = -theta if self.minimize else theta
        return self.solve(flat(theta_max.unsqueeze(1) + self.size * z), args, kwargs), z

    def extra_repr(self) -> str:
        return f"{self.estimator}, {super().extra_repr()}, size={self.size:g}, nb_samples={self.nb_samples}, " \
               f"noise={self.noise!r}"


def _solution(theta, layer: PeerLayer, call):
    """Forward of blackbox and straight-through: the solver on theta itself, [B, ...]."""
    args, kwargs = call
    return (layer.solve(-theta if layer.minimize else theta, args, kwargs),)


def _blackbox_context(ctx, inputs, output):
    theta, layer, (args, kwargs) = inputs
    ctx.layer, ctx.args, ctx.kwargs = layer, args, kwargs
    ctx.save_for_backward(theta, output[0])


@once_differentiable
def _blackbox_backward(ctx, dy):
    theta, y = ctx.saved_tensors
    layer = ctx.layer
    theta_max = -theta if layer.minimize else theta
    shifted = layer.solve(theta_max - layer.size * dy.to(theta.dtype), ctx.args, ctx.kwargs)
    grad = (y - shifted) / layer.size
    return (-grad if layer.minimize else grad), None, None


def _perturbed_forward(theta, layer: PeerLayer, call):
    args, kwargs = call
    y, z = layer.perturbed_solutions(theta, args, kwargs)
    ys = y.view(z.shape)
    return ys.mean(dim=1), ys, z


def _perturbed_context(ctx, inputs, output):
    _, ys, z = output
    ctx.mark_non_differentiable(ys, z)
    ctx.layer = inputs[1]
    ctx.save_for_backward(ys, z)


@once_differentiable
def _perturbed_backward(ctx, dy, _dys=None, _dz=None):
    ys, z = ctx.saved_tensors
    layer = ctx.layer
    score = layer._noise.score(z)
    weights = (ys * dy.unsqueeze(1)).flatten(2).sum(-1)  # <y_s, dy>, [B, S]
    grad = (weights.view(weights.shape + (1,) * (score.dim() - 2)) * score).mean(dim=1) / layer.size
    return (-grad if layer.minimize else grad), None, None


def _straight_through_context(ctx, inputs, output):
    ctx.minimize = inputs[1].minimize


@once_differentiable
def _straight_through_backward(ctx, dy):
    return (-dy if ctx.minimize else dy), None, None


def _score_function_forward(theta, layer: PeerLayer, call):
    args, kwargs = call
    return layer.perturbed_solutions(theta, args, kwargs)


def _score_function_context(ctx, inputs, output):
    y, z = output
    ctx.mark_non_differentiable(z)
    ctx.layer = inputs[1]
    ctx.save_for_backward(y, z)


@once_differentiable
def _score_function_backward(ctx, dy, _dz=None):
    y, z = ctx.saved_tensors
    layer = ctx.layer
    score = layer._noise.score(z)
    batch, samples = score.shape[0], score.shape[1]
    values = (y * dy.reshape(y.shape)).reshape(batch, samples, -1).sum(-1)  # f_s, [B, S]
    baseline = (values.sum(dim=1, keepdim=True) - values) / (samples - 1)   # leave-one-out mean
    advantage = (values - baseline).view((batch, samples) + (1,) * (score.dim() - 2))
    grad = (advantage * score).mean(dim=1) / layer.size
    return (-grad if layer.minimize else grad), None, None


_Blackbox, _BlackboxEager = autograd_functions("_Blackbox", _solution, _blackbox_context, _blackbox_backward)
_Perturbed, _PerturbedEager = autograd_functions("_Perturbed", _perturbed_forward, _perturbed_context,
                                                 _perturbed_backward)
_StraightThrough, _StraightThroughEager = autograd_functions("_StraightThrough", _solution, _straight_through_context,
                                                             _straight_through_backward)
_ScoreFunction, _ScoreFunctionEager = autograd_functions("_ScoreFunction", _score_function_forward,
                                                         _score_function_context, _score_function_backward)
#: estimator name -> its (traced, eager) autograd Functions
FUNCTIONS = {"blackbox": (_Blackbox, _BlackboxEager), "perturbed": (_Perturbed, _PerturbedEager),
             "straight-through": (_StraightThrough, _StraightThroughEager),
             "score-function": (_ScoreFunction, _ScoreFunctionEager)}


def _check_noise(noise: object) -> str:
    if noise not in NOISES:
        raise ValueError(f"noise must be one of {', '.join(NOISES)}, got {noise!r}")
    return noise


def _make(function, estimator: str, **settings):
    return layer_or_decorator(function, lambda solver: PeerLayer(solver, estimator, **settings))


def blackbox(function: Optional[Solver] = None, *, lambda_: float = 1.0, minimize: bool = False):
    """Blackbox differentiation: theta [B, ...] -> y(theta) [B, ...].

    Backward: ``(y(theta) - y(theta - lambda_ dy)) / lambda_`` (maximisation; with
    ``minimize=True`` this is Vlastelica et al.'s ``(y(w + lambda dy) - y(w)) / lambda`` on costs w).
    """
    return _make(function, "blackbox", minimize=check_flag("minimize", minimize), size=check_positive("lambda_", lambda_))


def perturbed(function: Optional[Solver] = None, *, nb_samples: int = 10, sigma: float = 1.0,
              noise: str = "gumbel", minimize: bool = False, generator: Optional[torch.Generator] = None):
    """Perturbed optimiser: theta [B, ...] -> mean_s y(theta + sigma Z_s) [B, ...].

    Backward: the Monte-Carlo Jacobian-vector product ``mean_s <y_s, dy> grad_nu(Z_s) / sigma``.
    ``noise``: "gumbel" (grad_nu(z) = 1 - exp(-z)) or "normal" (grad_nu(z) = z).
    """
    return _make(function, "perturbed", minimize=check_flag("minimize", minimize), size=check_positive("sigma", sigma),
                 nb_samples=check_samples(nb_samples), noise=_check_noise(noise), generator=check_generator(generator))


def straight_through(function: Optional[Solver] = None, *, minimize: bool = False):
    """Straight-through: theta [B, ...] -> y(theta) [B, ...]; backward passes dy on unchanged."""
    return _make(function, "straight-through", minimize=check_flag("minimize", minimize))


def score_function(function: Optional[Solver] = None, *, nb_samples: int = 10, sigma: float = 1.0,
                   noise: str = "gumbel", minimize: bool = False, generator: Optional[torch.Generator] = None):
    """REINFORCE on perturb-and-MAP: theta [B, ...] -> y(theta + sigma Z_s) stacked [B * S, ...].

    Backward: ``mean_s (f_s - b_s) grad_nu(Z_s) / sigma``, ``f_s = <y_s, dy_s>``, ``b_s`` the
    mean of the other samples' f (so ``nb_samples`` must be at least 2).
    """
    return _make(function, "score-function", minimize=check_flag("minimize", minimize),
                 size=check_positive("sigma", sigma), nb_samples=check_samples(nb_samples, minimum=2),
                 noise=_check_noise(noise), generator=check_generator(generator))
