"""The I-MLE estimator: wrap a batched MAP solver into a differentiable layer.

Compatible with torch-imle: ``imle(solver, target_distribution=..., noise_distribution=...,
nb_samples=..., input_noise_temperature=..., target_noise_temperature=...)`` and the decorator
form ``@imle(...)``; torch-adaptive-imle's ``imle.imle.imle`` keywords (``theta_noise_temperature``,
``nb_marginal_samples``, ``_is_minimization``) are accepted too and compute what it computes.

Semantics, for theta of shape [B, ...], S = nb_samples and M = nb_marginal_samples (1 by default):

* forward: draw eps [B, S * M, ...] once; return y = solver(theta + tau_in * eps), stacked as
  [B * S * M, ...] (instance-major: the samples of instance 0 first);
* backward, given dy [B * S * M, ...]: the target's recipe (`imle.target`), with the
  forward sample as the left point: for each sample, y - solver(target.params(theta, dy) +
  tau_t * eps) with the same eps, averaged over its M marginal samples, scaled by the target's
  ``process``; the mean over the S samples, shaped like theta. With the default target this is
  theta' = alpha * theta - beta * dy, not divided by beta (as in torch-imle).

**The loss's reduction is part of the estimator.** The target step is ``beta * dy``, and dy is
the gradient of your loss: summed over samples and cells, dy is +-1 on a Hamming loss; averaged
over B * S samples it is B * S times smaller, the same beta then barely moves the target, and far
fewer gradient entries are non-zero. Choose it on purpose (`imle.losses.hamming_loss`
makes it explicit).

Solvers maximise ``<theta, y>``. For a solver that minimises a cost (a shortest path on
costs), pass ``minimize=True`` and feed it the costs: internally theta = -costs, so the forward
pass solves costs - tau_in * eps, the target is alpha * costs + beta * dy - tau_t * eps, and the
returned gradient is with respect to the costs. No negation by hand.

The layer is an ``nn.Module`` (`imle._layer.EstimatorLayer`): it pickles, deep-copies,
compiles and goes through ``torch.func.grad``/``vmap``; `imle._layer.EstimatorLayer.map`
gives the noise-free MAP prediction.

Examples:
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
    >>> ((paths - gold) ** 2).sum().backward()  # Hamming loss against the diagonal, summed
    >>> costs.grad.shape
    torch.Size([1, 5, 5])
    >>> layer.map(costs).squeeze(0).diagonal().tolist()   # the noise-free prediction
    [1.0, 1.0, 1.0, 1.0, 1.0]
"""
from __future__ import annotations

from typing import Optional

import torch
from torch.autograd.function import once_differentiable

from imle.estimators._layer import (EstimatorLayer, Negated, Solver, adapt_noise, autograd_functions, check_flag, check_generator,
                         check_non_negative, check_samples,
                         layer_or_decorator, noise_shape)
from imle.noise import BaseNoiseDistribution
from imle.target import BaseTargetDistribution, TargetDistribution, adapt_target, per_sample_gradients

#: how the noise perturbs a sample: "ours" subtracts it from costs (theta + tau eps on theta = -c),
#: "added" adds it to what the solver is given (torch-adaptive-imle and PyEPO)
NOISE_SIGNS = (None, 1, -1)


class IMLE(EstimatorLayer):
    """The layer `imle` builds: theta [B, ...] -> samples [B * S * M, ...]."""

    def __init__(self, solver: Solver, *, target, noise, nb_samples: int, nb_marginal_samples: int,
                 input_temperature: float, target_temperature: float, minimize: bool, generator, noise_sign,
                 output_dtype, left: str = "sample", symmetric: bool = False):
        super().__init__(solver, minimize=minimize, generator=generator)
        self.target_distribution = target  # an nn.Module target (adaptive) becomes a submodule here
        self.noise_distribution = noise
        self._target = adapt_target(target, per_instance=left == "sample")  # aimle: theirs, whole tensors
        draw = adapt_noise(noise)
        # the other sign than ours: the noise added to costs (minimising) or subtracted from theta
        flipped = (minimize and noise_sign == 1) or (not minimize and noise_sign == -1)
        self._noise_draw = Negated(draw) if flipped else draw
        self.nb_samples, self.nb_marginal_samples = nb_samples, nb_marginal_samples
        self.input_temperature, self.target_temperature = input_temperature, target_temperature
        self.noise_sign, self.output_dtype, self.left = noise_sign, output_dtype, left
        self.symmetric = symmetric or self._target.symmetric

    def extra_repr(self) -> str:
        return (f"{super().extra_repr()}, nb_samples={self.nb_samples}, nb_marginal_samples={self.nb_marginal_samples}, "
                f"input_temperature={self.input_temperature:g}, target_temperature={self.target_temperature:g}, "
                f"target={self.target_distribution!r}")


def _forward(theta: torch.Tensor, layer: IMLE, call: tuple):
    args, kwargs = call
    count = layer.nb_samples * layer.nb_marginal_samples
    theta_max = -theta if layer.minimize else theta
    eps = layer.draw(noise_shape(theta, count), theta)
    # theta + (tau eps), rounded as torch-adaptive-imle and PyEPO round it (no fused multiply-add;
    # a temperature of 1 multiplies by nothing, which changes no bit)
    scaled = eps if layer.input_temperature == 1.0 else layer.input_temperature * eps
    perturbed = theta_max.unsqueeze(1) + scaled
    y = layer.solve(perturbed.reshape((theta.shape[0] * count,) + tuple(theta.shape[1:])), args, kwargs,
                    keep_dtype=layer.output_dtype == "solver")
    if isinstance(layer.output_dtype, torch.dtype):
        y = y.to(layer.output_dtype)
    return y, eps


def _setup_context(ctx, inputs, output):
    theta, layer, (args, kwargs) = inputs
    y, eps = output
    ctx.mark_non_differentiable(eps)
    ctx.set_materialize_grads(False)  # no zeros made for eps, which gets no gradient
    ctx.layer, ctx.args, ctx.kwargs = layer, args, kwargs
    ctx.updated = False  # the target's state moves once per forward pass, however often backward runs
    ctx.save_for_backward(theta, eps, y)


@once_differentiable  # the solver has no second derivative: a double backward raises
def _backward(ctx, dy: torch.Tensor, _deps=None):
    theta, eps, y = ctx.saved_tensors
    layer: IMLE = ctx.layer
    per_sample = (theta.shape[0], eps.shape[1]) + tuple(theta.shape[1:])
    theta_max = -theta if layer.minimize else theta

    def solve(params: torch.Tensor) -> torch.Tensor:
        return layer.solve(params, ctx.args, ctx.kwargs)

    gradients = per_sample_gradients(layer._target, solve, theta_max, dy.reshape(per_sample).to(theta.dtype),
                                     eps if layer.target_temperature == 1.0 else layer.target_temperature * eps,
                                     y.to(theta.dtype).view(per_sample),
                                     marginals=layer.nb_marginal_samples, left=layer.left, symmetric=layer.symmetric)
    if layer._target.has_update and not ctx.updated:
        layer._target.update(gradients)
        ctx.updated = True
    grad = gradients[:, 0] if gradients.shape[1] == 1 else gradients.mean(dim=1)
    return (-grad if layer.minimize else grad).to(theta.dtype), None, None


#: the autograd Functions of every IMLE layer (and of aimle's): traced and eager forms of one body
_IMLEFunction, _IMLEFunctionEager = autograd_functions("_IMLEFunction", _forward, _setup_context, _backward)
IMLE._functions = (_IMLEFunction, _IMLEFunctionEager)


def _check_noise_sign(noise_sign: object) -> Optional[int]:
    if isinstance(noise_sign, bool) or noise_sign not in NOISE_SIGNS:
        raise ValueError(f"noise_sign must be None, 1 or -1, got {noise_sign!r}")
    return noise_sign


def _check_output_dtype(output_dtype: object):
    if output_dtype not in (None, "solver") and not isinstance(output_dtype, torch.dtype):
        raise TypeError(f"output_dtype must be None, 'solver' or a torch.dtype, got {output_dtype!r}")
    return output_dtype


def imle(function: Optional[Solver] = None,
         target_distribution: Optional[BaseTargetDistribution] = None,
         noise_distribution: Optional[BaseNoiseDistribution] = None,
         nb_samples: int = 1,
         input_noise_temperature: Optional[float] = None,
         target_noise_temperature: float = 1.0,
         *,
         nb_marginal_samples: int = 1,
         theta_noise_temperature: Optional[float] = None,
         minimize: Optional[bool] = None,
         _is_minimization: Optional[bool] = None,
         generator: Optional[torch.Generator] = None,
         noise_sign: Optional[int] = None,
         output_dtype=None):
    """Turn a batched MAP solver into a layer whose backward pass is the I-MLE gradient.

    The loss's reduction matters: the target step is ``beta * dL/dy``, so a loss averaged over
    the B * S samples moves the target B * S times less than the summed one with the same beta
    (see the module notes; `imle.losses.hamming_loss` takes the reduction explicitly).

    Args:
        function: the solver, [N, ...] -> [N, ...] tensor; maximises <theta, y> (or minimises,
            with ``minimize=True``). Extra positional and keyword arguments given to the layer
            are passed to it unchanged, in both passes. Leave it out to use ``@imle(...)``.
        target_distribution: the target protocol of `imle.target`; None means alpha = beta = 1.
        noise_distribution: perturbation for perturb-and-MAP; None means no noise.
        nb_samples: S, samples per instance, >= 1.
        input_noise_temperature: tau_in, scale of the forward noise, >= 0 (default 1;
            ``theta_noise_temperature``, torch-adaptive-imle's name, is the same).
        target_noise_temperature: tau_t, scale of the noise at the target, >= 0.
        nb_marginal_samples: M, samples averaged inside each sample's gradient (torch-adaptive-imle's);
            the layer returns all B * S * M of them.
        minimize: the solver minimises a cost; theta is the cost and so is the gradient's sign.
        _is_minimization: torch-adaptive-imle's name: ``minimize=True`` with its noise sign
            (added to the costs, ``noise_sign=1``), unless ``noise_sign`` is given.
        generator: a ``torch.Generator`` for the noise (for ``imle.noise`` distributions).
        noise_sign: None (ours): the noise perturbs the maximisation parameters, theta + tau eps,
            which under ``minimize`` is c - tau eps, the perturb-and-MAP sample of theta = -c; +1
            adds the noise to what the solver is given (c + tau eps under ``minimize``, as
            torch-adaptive-imle and PyEPO do); -1 subtracts it. The target noise follows.
        output_dtype: None: the samples in theta's dtype (default); "solver": in the dtype the
            solver returns (as torch-imle does); or a torch.dtype.

    Returns:
        The layer (an `IMLE` ``nn.Module``): theta [B, ...] -> solutions [B * S * M, ...]
        on theta's device and dtype; or, without ``function``, a decorator that builds it.
    """
    return _build(function, target_distribution, noise_distribution, nb_samples, input_noise_temperature,
                  target_noise_temperature, nb_marginal_samples=nb_marginal_samples,
                  theta_noise_temperature=theta_noise_temperature, minimize=minimize,
                  is_minimization=_is_minimization, generator=generator, noise_sign=noise_sign,
                  output_dtype=output_dtype, left="sample", symmetric=False,
                  names=("minimize", "input_noise_temperature"))


def _build(function, target_distribution, noise_distribution, nb_samples, input_noise_temperature,
           target_noise_temperature, *, nb_marginal_samples, theta_noise_temperature, minimize, is_minimization,
           generator, noise_sign, output_dtype, left, symmetric, names):
    """The checks and the layer of `imle` and `imle.aimle.aimle` (which differ in their
    left point and their defaults); ``names`` are the caller's names for the sense and the input
    temperature, for the messages."""
    if input_noise_temperature is not None and theta_noise_temperature is not None:
        raise TypeError("give input_noise_temperature or theta_noise_temperature (its torch-adaptive-imle name), "
                        "not both")
    temperature = next((t for t in (input_noise_temperature, theta_noise_temperature) if t is not None), 1.0)
    if minimize is not None and is_minimization is not None and bool(minimize) != bool(is_minimization):
        raise ValueError(f"{names[0]}={minimize!r} and _is_minimization={is_minimization!r} disagree")
    noise_sign = _check_noise_sign(noise_sign)
    if is_minimization is not None:
        check_flag("_is_minimization", is_minimization)
        if is_minimization and noise_sign is None and minimize is None:
            noise_sign = 1  # torch-adaptive-imle adds the noise to the costs
    sense = bool(is_minimization) if is_minimization is not None else (False if minimize is None else minimize)
    target = TargetDistribution(alpha=1.0, beta=1.0) if target_distribution is None else target_distribution
    settings = dict(target=target, noise=noise_distribution, nb_samples=check_samples(nb_samples),
                    nb_marginal_samples=check_samples(nb_marginal_samples, name="nb_marginal_samples"),
                    input_temperature=check_non_negative("theta_noise_temperature" if theta_noise_temperature
                                                         is not None else names[1], temperature),
                    target_temperature=check_non_negative("target_noise_temperature", target_noise_temperature),
                    minimize=check_flag(names[0], sense), generator=check_generator(generator), noise_sign=noise_sign,
                    output_dtype=_check_output_dtype(output_dtype), left=left, symmetric=symmetric)
    adapt_target(target)  # refuse a target without params() now, not at the first backward
    adapt_noise(noise_distribution)
    return layer_or_decorator(function, lambda solver: IMLE(solver, **settings), sense_flag=names[0])
