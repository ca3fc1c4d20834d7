"""torch-adaptive-imle's ``ste`` and ``sfe``: the straight-through estimator on perturb-and-MAP
samples, with their names and calling conventions.

``ste(function, noise_distribution=None, noise_temperature=1.0, nb_samples=1)`` (function or
decorator), for theta [B, ...] and S = ``nb_samples``:

* forward: eps [B, S, ...] from ``noise_distribution`` (none: zeros); the solver on
  ``theta + noise_temperature * eps``, stacked [B * S, ...];
* backward: dy [B * S, ...] averaged over each instance's S samples, [B, ...]: the solver is
  treated as the identity.

``sfe(function, noise_distribution=None, noise_temperature=1.0)`` computes what theirs computes:
the solver on one noisy sample forward, dy returned unchanged backward. Despite the name there is
no score-function term: it is ``ste`` with ``nb_samples=1``. Our score-function estimator
(REINFORCE on perturb-and-MAP, with a baseline) is `imle.peers.score_function`, and our
straight-through estimator without sampling `imle.peers.straight_through`.

Examples:
    >>> import torch
    >>> from imle.estimators.ste import ste
    >>> from imle.solvers import select_k
    >>> layer = ste(lambda weights: select_k(weights, 1), nb_samples=2)
    >>> theta = torch.tensor([[0.0, 2.0, 1.0]], requires_grad=True)
    >>> y = layer(theta)                                  # [B * S, 3]: no noise, both e1
    >>> y.backward(torch.tensor([[1.0, 0.0, 0.0], [3.0, 0.0, 0.0]]))
    >>> theta.grad                                        # the mean of the two dy
    tensor([[2., 0., 0.]])
"""
from __future__ import annotations

from typing import Optional

import torch
from torch.autograd.function import once_differentiable

from imle.estimators._layer import (EstimatorLayer, Solver, adapt_noise, autograd_functions, check_generator, check_non_negative,
                         check_samples, flat, layer_or_decorator, noise_shape)


class NoisyStraightThrough(EstimatorLayer):
    """The layer of `ste` (and `imle.sfe.sfe`): theta [B, ...] -> samples [B * S, ...]."""

    def __init__(self, solver: Solver, *, noise, temperature: float, nb_samples: int, generator=None):
        super().__init__(solver, generator=generator)
        self.noise_distribution = noise
        self._noise_draw = adapt_noise(noise)
        self.temperature, self.nb_samples = temperature, nb_samples

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, noise_temperature={self.temperature:g}, nb_samples={self.nb_samples}"


def _forward(theta, layer: NoisyStraightThrough, call):
    args, kwargs = call
    eps = layer.draw(noise_shape(theta, layer.nb_samples), theta)
    return (layer.solve(flat(theta.unsqueeze(1) + layer.temperature * eps), args, kwargs),)


def _setup_context(ctx, inputs, output):
    theta, layer, _ = inputs
    ctx.shape = noise_shape(theta, layer.nb_samples)


@once_differentiable
def _backward(ctx, dy):
    return dy.reshape(ctx.shape).mean(dim=1), None, None


_NoisyStraightThroughFunction, _NoisyStraightThroughEager = autograd_functions("_NoisyStraightThroughFunction",
                                                                               _forward, _setup_context, _backward)
NoisyStraightThrough._functions = (_NoisyStraightThroughFunction, _NoisyStraightThroughEager)


def ste(function: Optional[Solver] = None, noise_distribution=None, noise_temperature: float = 1.0,
        nb_samples: int = 1, *, generator: Optional[torch.Generator] = None):
    """torch-adaptive-imle's straight-through estimator on S noisy samples (see the module notes).

    Returns:
        The layer (an ``nn.Module``): theta [B, ...] -> samples [B * S, ...]; or the decorator.
    """
    settings = dict(noise=noise_distribution, temperature=check_non_negative("noise_temperature", noise_temperature),
                    nb_samples=check_samples(nb_samples), generator=check_generator(generator))
    adapt_noise(noise_distribution)  # refuse an object without sample() now
    # no sense to check: theta reaches the solver as it is, whatever it minimises or maximises
    return layer_or_decorator(function, lambda solver: NoisyStraightThrough(solver, **settings), sense_flag=None)


def sfe(function: Optional[Solver] = None, noise_distribution=None, noise_temperature: float = 1.0, *,
        generator: Optional[torch.Generator] = None):
    """torch-adaptive-imle's ``sfe``: the solver on one noisy sample, dy passed back unchanged.

    Examples:
        >>> import torch
        >>> from imle.solvers import select_k
        >>> theta = torch.tensor([[0.0, 2.0, 1.0]], requires_grad=True)
        >>> y = sfe(lambda weights: select_k(weights, 1))(theta)
        >>> y.backward(torch.tensor([[1.0, -1.0, 0.5]]))
        >>> y.tolist(), theta.grad.tolist()
        ([[0.0, 1.0, 0.0]], [[1.0, -1.0, 0.5]])
    """
    return ste(function, noise_distribution=noise_distribution, noise_temperature=noise_temperature, nb_samples=1,
               generator=generator)
