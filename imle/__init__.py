"""imle: Implicit Maximum Likelihood Estimation for PyTorch.

Gradients through combinatorial solvers (Niepert, Minervini, Franceschi, NeurIPS 2021).

Examples:
    >>> import torch, imle
    >>> layer = imle.imle(imle.solvers.top_k, nb_samples=2,
    ...                   noise_distribution=imle.GumbelNoiseDistribution())
    >>> y = layer(torch.randn(3, 5, requires_grad=True), 2)   # k = 2 reaches the solver
    >>> y.shape
    torch.Size([6, 5])
"""
from imle import data, estimators, losses, metrics, peers, solvers
from imle.noise import BaseNoiseDistribution, GumbelNoiseDistribution, SumOfGammaNoiseDistribution
from imle.peers import blackbox, perturbed, score_function, straight_through
from imle.target import (AdaptiveTargetDistribution, BaseTargetDistribution, TargetDistribution,
                         TwoSidedTargetDistribution)
from imle.wrapper import imle

__version__ = "0.1.0"

__all__ = [
    "imle",
    "blackbox",
    "perturbed",
    "straight_through",
    "score_function",
    "peers",
    "estimators",
    "solvers",
    "losses",
    "metrics",
    "data",
    "AdaptiveTargetDistribution",
    "TwoSidedTargetDistribution",
    "BaseNoiseDistribution",
    "GumbelNoiseDistribution",
    "SumOfGammaNoiseDistribution",
    "BaseTargetDistribution",
    "TargetDistribution",
]
