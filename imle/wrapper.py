"""The I-MLE estimator: wrap a batched MAP solver into a differentiable layer.

Compatible with torch-imle: ``imle(solver, target_distribution=..., noise_distribution=...,
nb_samples=..., input_noise_temperature=..., target_noise_temperature=...)`` and the decorator
form ``@imle(...)``.

Semantics, for theta of shape [B, ...] and S = nb_samples:

* forward: draw eps [B, S, ...] once; return y_s = solver(theta + tau_in * eps_s), stacked as
  [B * S, ...] (instance-major: the S samples of instance 0 first);
* backward, given dy [B * S, ...]: for each instance, the mean over s of
  y_s - solver(target.params(theta, dy_s) + tau_t * eps_s), reusing the same eps_s; shaped like
  theta. With the default target this is theta' = alpha * theta - beta * dy.

Solvers maximise ``<theta, y>``. For a solver that minimises a cost (a shortest path on
costs), pass ``minimize=True`` and feed it the costs: internally theta = -costs, so the forward
pass solves costs - tau_in * eps, the target is alpha * costs + beta * dy - tau_t * eps, and the
returned gradient is with respect to the costs. No negation by hand.

Example:
    >>> import torch
    >>> from imle.wrapper import imle
    >>> from imle.noise import SumOfGammaNoiseDistribution
    >>> from imle.target import TargetDistribution
    >>> from imle.solvers import grid_shortest_path
    >>> costs = torch.ones(1, 5, 5, requires_grad=True)
    >>> layer = imle(grid_shortest_path, target_distribution=TargetDistribution(beta=10.0),
    ...              noise_distribution=SumOfGammaNoiseDistribution(k=5.0), nb_samples=4,
    ...              minimize=True)
    >>> paths = layer(costs)                      # [B * S, 5, 5] = [4, 5, 5]
    >>> gold = torch.eye(5).expand(4, 5, 5)
    >>> ((paths - gold) ** 2).sum().backward()  # Hamming loss against the diagonal
    >>> costs.grad.shape
    torch.Size([1, 5, 5])
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

import torch
from torch.autograd.function import once_differentiable

from imle._layer import (NoiseDraw, Solver, adapt_noise, autograd_layer, call_solver, check_flag, check_generator,
                         check_non_negative, check_samples, noise_shape)
from imle.noise import BaseNoiseDistribution
from imle.target import BaseTargetDistribution, Estimate, TargetDistribution, adapt_target


@dataclass(frozen=True)
class _Config:
    solver: Solver
    target: BaseTargetDistribution  # as the user gave it
    noise: Any                      # as the user gave it (None for no noise)
    draw_noise: NoiseDraw           # the noise and the target, adapted once (imle._layer, imle.target)
    estimate: Estimate
    update: Callable[[torch.Tensor], None]
    nb_samples: int
    output_dtype: Any  # None (theta's), "solver" or a torch.dtype
    input_temperature: float
    target_temperature: float
    minimize: bool
    generator: Optional[torch.Generator]


class _IMLEFunction(torch.autograd.Function):
    """One autograd Function for every imle() layer; the layer's settings travel in _Config."""

    @staticmethod
    def forward(ctx, theta: torch.Tensor, config: _Config, args: tuple, kwargs: dict) -> torch.Tensor:
        theta_max = -theta if config.minimize else theta
        eps = config.draw_noise(noise_shape(theta, config.nb_samples), theta, config.generator)
        batch, samples = theta.shape[0], config.nb_samples
        perturbed = torch.add(theta_max.unsqueeze(1), eps, alpha=config.input_temperature)
        y = call_solver(config.solver, perturbed.reshape((batch * samples,) + tuple(theta.shape[1:])), config.minimize,
                        args, kwargs, keep_dtype=config.output_dtype is not None)
        ctx.config, ctx.args, ctx.kwargs = config, args, kwargs
        ctx.updated = False  # the target's state moves once per forward pass, however often backward runs
        ctx.save_for_backward(theta, eps, y.to(theta.dtype))
        if config.output_dtype not in (None, "solver"):
            return y.to(config.output_dtype)
        return y

    @staticmethod
    @once_differentiable  # the solver has no second derivative: a double backward raises
    def backward(ctx, dy: torch.Tensor):
        theta, eps, y = ctx.saved_tensors
        config: _Config = ctx.config
        per_sample = (theta.shape[0], config.nb_samples) + tuple(theta.shape[1:])
        theta_max = -theta if config.minimize else theta

        def solve(params: torch.Tensor) -> torch.Tensor:
            return call_solver(config.solver, params, config.minimize, ctx.args, ctx.kwargs)

        per_sample_grad = config.estimate(solve, theta_max, dy.reshape(per_sample).to(theta.dtype),
                                          config.target_temperature * eps, y.view(per_sample))
        if not ctx.updated:
            config.update(per_sample_grad)
            ctx.updated = True
        grad = per_sample_grad[:, 0] if config.nb_samples == 1 else per_sample_grad.mean(dim=1)
        return (-grad if config.minimize else grad).to(theta.dtype), None, None, None


def imle(function: Optional[Solver] = None,
         target_distribution: Optional[BaseTargetDistribution] = None,
         noise_distribution: Optional[BaseNoiseDistribution] = None,
         nb_samples: int = 1,
         input_noise_temperature: float = 1.0,
         target_noise_temperature: float = 1.0,
         *,
         minimize: bool = False,
         generator: Optional[torch.Generator] = None,
         noise_sign: Optional[int] = None,
         output_dtype=None):
    """Turn a batched MAP solver into a layer whose backward pass is the I-MLE gradient.

    Args:
        function: the solver, [N, ...] -> [N, ...] tensor; maximises <theta, y> (or minimises,
            with ``minimize=True``). Extra positional and keyword arguments given to the layer
            are passed to it unchanged, in both passes. Leave it out to use ``@imle(...)``.
        target_distribution: gives theta' from (theta, dy); None means alpha = beta = 1.
        noise_distribution: perturbation for perturb-and-MAP; None means no noise.
        nb_samples: S, samples per instance, >= 1.
        input_noise_temperature: tau_in, scale of the forward noise, >= 0.
        target_noise_temperature: tau_t, scale of the noise at the target, >= 0.
        minimize: the solver minimises a cost; theta is the cost and so is the gradient's sign.
        generator: a ``torch.Generator`` for the noise (for ``imle.noise`` distributions).
        noise_sign: None (ours): the noise perturbs the maximisation parameters, theta + tau eps,
            which under ``minimize`` is c - tau eps, the perturb-and-MAP sample of theta = -c; +1
            adds the noise to what the solver is given (c + tau eps under ``minimize``, as
            torch-adaptive-imle and PyEPO do); -1 subtracts it. The target noise follows.
        output_dtype: None: the samples in theta's dtype (default); "solver": in the dtype the
            solver returns (as torch-imle does); or a torch.dtype.

    Returns:
        The layer ``f(theta, *args, **kwargs)``: theta [B, ...] -> solutions [B * S, ...] on
        theta's device and dtype; or, without ``function``, a decorator that builds it.
    """
    if target_distribution is None:
        target_distribution = TargetDistribution(alpha=1.0, beta=1.0)
    estimate, update = adapt_target(target_distribution)
    draw_noise = adapt_noise(noise_distribution)
    if noise_sign not in (None, 1, -1) or isinstance(noise_sign, bool):
        raise ValueError(f"noise_sign must be None, 1 or -1, got {noise_sign!r}")
    if output_dtype not in (None, "solver") and not isinstance(output_dtype, torch.dtype):
        raise TypeError(f"output_dtype must be None, 'solver' or a torch.dtype, got {output_dtype!r}")
    if (minimize and noise_sign == 1) or (not minimize and noise_sign == -1):  # the other sign than ours
        unsigned = draw_noise
        draw_noise = lambda shape, theta, generator: -unsigned(shape, theta, generator)  # noqa: E731
    nb_samples = check_samples(nb_samples)
    input_temperature = check_non_negative("input_noise_temperature", input_noise_temperature)
    target_temperature = check_non_negative("target_noise_temperature", target_noise_temperature)
    check_flag("minimize", minimize)
    check_generator(generator)

    return autograd_layer(function, _IMLEFunction, lambda solver: _Config(
        solver=solver, target=target_distribution, noise=noise_distribution, draw_noise=draw_noise,
        estimate=estimate, update=update, nb_samples=nb_samples, output_dtype=output_dtype,
        input_temperature=input_temperature, target_temperature=target_temperature, minimize=minimize,
        generator=generator), "imle_config")
