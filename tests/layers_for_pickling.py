"""Layers written the seed's way at module level, for the pickling tests (pickle finds what it
saves by module and name)."""
import torch

from imle.noise import SumOfGammaNoiseDistribution
from imle.solvers import top_k
from imle.target import TargetDistribution
from imle.wrapper import imle


@imle(target_distribution=TargetDistribution(alpha=1.0, beta=10.0),
      noise_distribution=SumOfGammaNoiseDistribution(k=2.0, nb_iterations=10), nb_samples=3,
      generator=torch.Generator().manual_seed(0))
def decorated_top_two(weights: torch.Tensor) -> torch.Tensor:
    """The two largest weights of each instance (the seed's decorator form)."""
    return top_k(weights, 2)
