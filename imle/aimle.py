"""torch-adaptive-imle's ``aimle``: its names and its numbers.

For code written against torch-adaptive-imle (Minervini, Franceschi, Niepert, AAAI 2023).
With theta [B, ...], S = ``nb_samples``, M = ``nb_marginal_samples``, noise eps [B, S, M, ...],
the target's ``alpha`` and ``beta``, tau_in / tau_t the two temperatures, and every norm taken
over a whole tensor:

* forward: y_s = mean over m of MAP(theta + tau_in eps_sm), stacked [B * S, ...] (instance-major;
  with M = 1 the samples themselves);
* backward, given dy [B * S, ...]: theta_rep = theta repeated S times; the perturbation step
  lambda_p = beta ||theta_rep|| / ||dy|| and the divisor lambda_d = beta ||theta|| / ||dy|| (so
  lambda_p = sqrt(S) lambda_d; both 0, and the gradient 0, when dy is 0);
  one-sided: (MAP(alpha theta + tau_t eps) - MAP(alpha theta - lambda_p dy + tau_t eps)) / lambda_d,
  symmetric: (MAP(alpha theta + lambda_p dy + tau_t eps) - MAP(alpha theta - lambda_p dy + tau_t eps))
  / (2 lambda_d); the mean over m and over s; shaped like theta. The target's ``update`` (an
  :class:`~imle.target.AdaptiveTargetDistribution` adapts beta) then sees the per-sample
  gradients [B, S, ...], once per forward pass.
* ``_is_minimization``: theta is a cost and the solver minimises; the noise is added to it
  (c + tau eps, as there), the target's sign of dy flips (alpha c + lambda_p dy + tau_t eps) and
  so does the returned gradient.

Differences from :func:`imle.imle` (ours): norms over whole tensors (ours: per instance), a
divisor ``lambda_d``, the left point MAP(alpha theta + tau_t eps) rather than the forward sample,
and the noise added to costs under minimisation (ours subtracts it: the perturb-and-MAP sample of
theta = -c). The README's migration table lists them all.

Example:
    >>> import torch
    >>> from imle.aimle import aimle
    >>> from imle.solvers import top_k
    >>> from imle.target import TargetDistribution
    >>> layer = aimle(top_k, target_distribution=TargetDistribution(alpha=1.0, beta=1.0))
    >>> theta = torch.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    >>> layer(theta, 1).backward(torch.tensor([[0.0, -1.0, 0.0]]))
    >>> [round(v, 4) for v in theta.grad[0].tolist()]   # (e0 - e1) / ||theta||
    [0.2673, -0.2673, 0.0]
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch.autograd.function import once_differentiable

from imle import _checks
from imle._layer import NoiseDraw, Solver, adapt_noise, autograd_layer
from imle.target import AdaptiveTargetDistribution


@dataclass(frozen=True)
class _AIMLEConfig:
    solver: Solver
    target: Any
    draw_noise: NoiseDraw
    update: Callable[[torch.Tensor], None]
    nb_samples: int
    nb_marginal_samples: int
    input_temperature: float
    target_temperature: float
    symmetric: bool
    minimize: bool


def _solve(config: _AIMLEConfig, params: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
    """The solver on its own inputs (costs under minimisation), placed and checked."""
    y = config.solver(params, *args, **kwargs)
    if not isinstance(y, torch.Tensor) or y.shape != params.shape:
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"the solver must return a tensor of shape {tuple(params.shape)}, got {got}")
    return y.detach().to(device=params.device, dtype=params.dtype)


class _AIMLEFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, theta, config: _AIMLEConfig, args, kwargs):
        batch, rest = theta.shape[0], tuple(theta.shape[1:])
        samples, marginals = config.nb_samples, config.nb_marginal_samples
        eps = config.draw_noise(torch.Size((batch, samples * marginals) + rest), theta, None)
        eps = eps.view((batch, samples, marginals) + rest)
        perturbed = theta.view((batch, 1, 1) + rest) + config.input_temperature * eps
        y = _solve(config, perturbed.reshape((-1,) + rest), args, kwargs).view((batch, samples, marginals) + rest)
        ctx.config, ctx.args, ctx.kwargs, ctx.updated = config, args, kwargs, False
        ctx.save_for_backward(theta, eps)
        return y.mean(dim=2).reshape((batch * samples,) + rest)

    @staticmethod
    @once_differentiable
    def backward(ctx, dy):
        theta, eps = ctx.saved_tensors
        config: _AIMLEConfig = ctx.config
        batch, rest = theta.shape[0], tuple(theta.shape[1:])
        samples, marginals = config.nb_samples, config.nb_marginal_samples
        dy = dy.to(theta.dtype)
        dy_norm, theta_norm = float(dy.norm()), float(theta.norm())
        beta, alpha = float(config.target.beta), float(config.target.alpha)
        if dy_norm == 0 or beta == 0 or theta_norm == 0:
            per_sample = torch.zeros((batch, samples) + rest, dtype=theta.dtype, device=theta.device)
        else:
            step = beta * math.sqrt(samples) * theta_norm / dy_norm  # lambda_p: ||theta_rep|| = sqrt(S) ||theta||
            divisor = beta * theta_norm / dy_norm                    # lambda_d
            shift = step * dy.view((batch, samples, 1) + rest)
            if config.minimize:
                shift = -shift  # the target moves along +dy on costs
            centre = alpha * theta.view((batch, 1, 1) + rest) + config.target_temperature * eps
            if config.symmetric:
                first, second, divisor = centre - shift, centre + shift, 2 * divisor
            else:
                first, second = centre, centre - shift
            both = _solve(config, torch.cat([first.reshape((-1,) + rest), second.reshape((-1,) + rest)]),
                          ctx.args, ctx.kwargs)
            y_first, y_second = both.chunk(2)
            difference = (y_first - y_second) if not config.symmetric else (y_second - y_first)
            if config.minimize:  # with the target's dy flipped above, the gradient flips too
                difference = -difference
            per_sample = (difference / divisor).view((batch, samples, marginals) + rest).mean(dim=2)
        if not ctx.updated:
            config.update(per_sample)
            ctx.updated = True
        return per_sample.mean(dim=1), None, None, None


def aimle(function: Optional[Solver] = None, target_distribution=None, noise_distribution=None,
          nb_samples: int = 1, nb_marginal_samples: int = 1, theta_noise_temperature: float = 1.0,
          target_noise_temperature: float = 1.0, symmetric_perturbation: bool = False,
          _is_minimization: bool = False):
    """torch-adaptive-imle's ``aimle``, as a function or a decorator (see the module notes).

    Args:
        function: the batched solver [N, ...] -> [N, ...] (maximises <theta, y>, or with
            ``_is_minimization`` minimises the cost it is given).
        target_distribution: anything with ``alpha`` and ``beta`` (and ``update(gradients)`` to
            adapt); default ``AdaptiveTargetDistribution(per_instance=False)``, theirs.
        noise_distribution: the perturbation; None for none.
        nb_samples, nb_marginal_samples: S and M.
        theta_noise_temperature, target_noise_temperature: tau_in and tau_t.
        symmetric_perturbation: central differences around alpha theta + tau_t eps.
        _is_minimization: the solver minimises a cost.
    """
    target = AdaptiveTargetDistribution(per_instance=False) if target_distribution is None else target_distribution
    if not all(hasattr(target, name) for name in ("alpha", "beta")):
        raise TypeError(f"target_distribution must have alpha and beta, got {type(target).__name__}")
    update = getattr(target, "update", None)
    settings = dict(target=target, draw_noise=adapt_noise(noise_distribution),
                    update=update if callable(update) else (lambda gradient: None),
                    nb_samples=_checks.integer("nb_samples", nb_samples),
                    nb_marginal_samples=_checks.integer("nb_marginal_samples", nb_marginal_samples),
                    input_temperature=_checks.real("theta_noise_temperature", theta_noise_temperature, minimum=0.0),
                    target_temperature=_checks.real("target_noise_temperature", target_noise_temperature,
                                                    minimum=0.0),
                    symmetric=_checks.flag("symmetric_perturbation", symmetric_perturbation),
                    minimize=_checks.flag("_is_minimization", _is_minimization))

    return autograd_layer(function, _AIMLEFunction, lambda solver: _AIMLEConfig(solver=solver, **settings),
                          "aimle_config")
