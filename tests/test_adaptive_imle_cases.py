"""torch-adaptive-imle's own property test, on our package: on its random top-k cases (drawn from
its RandomState stream in its order: sizes 32-1023, k, alpha and beta up to 1e4, noise
temperatures up to 100, constant noise), our ``aimle`` with a plain target gives exactly our
``imle``'s gradient (its left point alpha theta + noise selects what theta + noise selects), and
the symmetric variant differs somewhere.

Their test runs 2**12 cases per variant; CI runs the first CASES of the same stream
(IMLE_ALL_CASES=1 runs all of them, about 2.5 minutes here).
"""
import os

import numpy as np
import pytest
import torch
from torch import nn

from imle.aimle import aimle
from imle.solvers import mathias_select_k, select_k
from imle.target import TargetDistribution
from imle.wrapper import imle

CASES = 2 ** 12 if os.environ.get("IMLE_ALL_CASES") else 2 ** 10


class ConstantNoise:
    """Noise as their test writes it: every draw the same constant (sample(shape) only)."""

    def __init__(self, constant: float):
        self.constant = torch.tensor(constant, dtype=torch.float)

    def sample(self, shape):
        return torch.zeros(shape) + self.constant


def cases(noisy: bool, batch: int):
    """Their cases, in their order: (size, k, alpha, beta, temperature, noise, theta [batch, size])."""
    rs = np.random.RandomState(0)
    for _ in range(CASES):
        size = rs.randint(32, 1024)
        k = rs.randint(1, size)
        alpha, beta = rs.uniform(0, 10000), rs.uniform(0, 10000)
        if noisy:
            temperature = rs.uniform(0, 100.0)
            noise = ConstantNoise(rs.uniform(-0.01, -0.01))  # a constant, as theirs (the draw is still made)
        else:
            temperature, noise = 1.0, None
        yield size, k, alpha, beta, temperature, noise, rs.randn(batch, size)


@pytest.mark.parametrize("select", [select_k, mathias_select_k], ids=["select_k", "mathias_select_k"])
@pytest.mark.parametrize("noisy, samples, batch", [(False, 1, 1), (False, 10, 1), (True, 1, 1), (True, 10, 1),
                                                   (True, 5, 3)], ids=["v1", "v1-10", "v2", "v2-10", "v3"])
def test_aimle_with_a_plain_target_is_imle_on_their_cases(select, noisy, samples, batch):
    torch.manual_seed(0)
    symmetric_differs = 0
    for size, k, alpha, beta, temperature, noise, init in cases(noisy, batch):
        target = TargetDistribution(alpha=alpha, beta=beta)
        settings = dict(target_distribution=target, noise_distribution=noise, nb_samples=samples,
                        theta_noise_temperature=temperature, target_noise_temperature=temperature)
        layers = [imle(lambda w: select(w, k), **settings), aimle(lambda w: select(w, k), **settings),
                  aimle(lambda w: select(w, k), symmetric_perturbation=True, **settings)]
        linear = nn.Linear(size, 1)
        thetas = [torch.tensor(init, dtype=torch.float, requires_grad=True) for _ in layers]
        outputs = [linear(layer(theta)) for layer, theta in zip(layers, thetas)]
        per_instance = sum(outputs).view(batch, samples)
        assert torch.allclose(per_instance, per_instance[:, :1].expand_as(per_instance), atol=1e-3, rtol=1e-3)
        sum(output.sum() for output in outputs).backward()
        imle_grad, aimle_grad, symmetric_grad = (theta.grad for theta in thetas)
        assert torch.equal(aimle_grad, imle_grad), (size, k, alpha, beta, temperature)
        symmetric_differs += not torch.equal(symmetric_grad, imle_grad)
    assert symmetric_differs > 0
