"""torch-adaptive-imle's ``aimle``: its names and its numbers.

For code written against torch-adaptive-imle (Minervini, Franceschi, Niepert, AAAI 2023). It
differs from `imle.imle` in one place, the left point of the difference: with theta
[B, ...], S = ``nb_samples``, M = ``nb_marginal_samples`` and noise eps [B, S * M, ...],

* forward: y = MAP(theta + tau_in eps), all B * S * M samples stacked [B * S * M, ...]
  (instance-major), as there;
* backward, given dy [B * S * M, ...], through the target's protocol (`imle.target`: its
  ``params`` moves theta, its ``process`` scales the gradient): the right point
  ``MAP(params(theta, dy) + tau_t eps)``, the left point ``MAP(params(theta, None) + tau_t eps)``
  (``symmetric_perturbation``: ``MAP(params(theta, -dy) + tau_t eps)`` and the difference halved),
  both averaged over the M marginal samples; ``process(theta, dy, left - right)``; the mean over
  the S samples. With a plain `imle.target.TargetDistribution` that is
  ``alpha theta - beta dy``, divided by beta only with ``do_gradient_scaling``; with
  `imle.target.AdaptiveTargetDistribution` (``per_instance=False``) the adaptive step
  beta ||theta repeated|| / ||dy|| and divisor beta ||theta|| / ||dy||;
* ``_is_minimization``: theta is a cost and the solver minimises; the noise is added to it
  (c + tau eps, as there), the target moves along +dy (alpha c + beta dy) and the gradient's
  sign flips.

The default target is theirs, ``TargetDistribution(alpha=1.0, beta=1.0)``.

Examples:
    >>> import torch
    >>> from imle.aimle import aimle
    >>> from imle.solvers import top_k
    >>> from imle.target import TargetDistribution
    >>> layer = aimle(top_k, target_distribution=TargetDistribution(alpha=1.0, beta=5.0))
    >>> theta = torch.tensor([[3.0, 1.0, 2.0]], requires_grad=True)
    >>> layer(theta, 1).backward(torch.tensor([[0.0, -1.0, 0.0]]))
    >>> theta.grad   # MAP([3, 1, 2]) - MAP([3, 1 + 5, 2]) = e0 - e1
    tensor([[ 1., -1.,  0.]])
"""
from __future__ import annotations

from typing import Optional

from imle.estimators._layer import Solver, check_flag
from imle.estimators.imle import _build


def aimle(function: Optional[Solver] = None, target_distribution=None, noise_distribution=None,
          nb_samples: int = 1, nb_marginal_samples: int = 1, theta_noise_temperature: float = 1.0,
          target_noise_temperature: float = 1.0, symmetric_perturbation: bool = False,
          _is_minimization: bool = False, *, generator=None):
    """torch-adaptive-imle's ``aimle``, as a function or a decorator (see the module notes).

    Args:
        function: the batched solver [N, ...] -> [N, ...] (maximises <theta, y>, or with
            ``_is_minimization`` minimises the cost it is given).
        target_distribution: any target of the protocol of `imle.target` (theirs too); default
            ``TargetDistribution(alpha=1.0, beta=1.0)``.
        noise_distribution: the perturbation; None for none.
        nb_samples, nb_marginal_samples: S and M.
        theta_noise_temperature, target_noise_temperature: tau_in and tau_t.
        symmetric_perturbation: central differences around alpha theta + tau_t eps.
        _is_minimization: the solver minimises a cost.
        generator: a ``torch.Generator`` for the noise (ours; theirs draws from the global one).

    Returns:
        The layer (an ``nn.Module``): theta [B, ...] -> samples [B * S * M, ...].
    """
    return _build(function, target_distribution, noise_distribution, nb_samples, None, target_noise_temperature,
                  nb_marginal_samples=nb_marginal_samples, theta_noise_temperature=theta_noise_temperature,
                  minimize=None, is_minimization=check_flag("_is_minimization", _is_minimization),
                  generator=generator, noise_sign=None, output_dtype=None, left="unmoved",
                  symmetric=check_flag("symmetric_perturbation", symmetric_perturbation),
                  names=("_is_minimization", "theta_noise_temperature"))
