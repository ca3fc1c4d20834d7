"""torch-adaptive-imle's ``sfe``, with its name and calling convention, computing what it computes.

``sfe(function, noise_distribution=None, noise_temperature=1.0)`` (function or decorator): the
forward pass is the solver on ``theta + noise_temperature * eps`` (one sample, [B, ...]); the
backward pass returns dy unchanged. Despite the name there is no score-function term: it is
:func:`imle.ste.ste` with ``nb_samples=1``. The score-function estimator (REINFORCE on
perturb-and-MAP, with a baseline) is :func:`imle.peers.score_function`.

Example:
    >>> import torch
    >>> from imle.sfe import sfe
    >>> from imle.solvers import select_k
    >>> theta = torch.tensor([[0.0, 2.0, 1.0]], requires_grad=True)
    >>> y = sfe(lambda weights: select_k(weights, 1))(theta)
    >>> y.backward(torch.tensor([[1.0, -1.0, 0.5]]))
    >>> y.tolist(), theta.grad.tolist()
    ([[0.0, 1.0, 0.0]], [[1.0, -1.0, 0.5]])
"""
from __future__ import annotations

from typing import Optional

import torch

from imle._layer import Solver
from imle.ste import ste


def sfe(function: Optional[Solver] = None, noise_distribution=None, noise_temperature: float = 1.0, *,
        generator: Optional[torch.Generator] = None):
    """torch-adaptive-imle's ``sfe``: the solver on one noisy sample, dy passed back unchanged."""
    return ste(function, noise_distribution=noise_distribution, noise_temperature=noise_temperature, nb_samples=1,
               generator=generator)
