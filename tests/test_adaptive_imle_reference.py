"""Our aimle and imle against torch-adaptive-imle's own code on the same fixed noise: every target
kind (plain, plain divided by beta, adaptive), 1 or 2 marginal samples, symmetric or not,
minimising or not, three steps each. Their outputs were recorded by
tests/data/make_adaptive_imle_reference.py from a checkout of their repository (not on PyPI);
ours must be the same numbers, bit for bit, and the adaptive target's beta the same after each step.
"""
from pathlib import Path

import numpy as np
import pytest
import torch

from data.make_adaptive_imle_reference import Recorded
from imle.aimle import aimle
from imle.solvers import select_k
from imle.target import AdaptiveTargetDistribution, TargetDistribution
from imle.wrapper import imle

REFERENCE = np.load(Path(__file__).resolve().parent / "data" / "adaptive_imle_reference.npz")
CASES = sorted({name.split("_")[0] for name in REFERENCE.files}, key=lambda case: int(case[4:]))
K, SAMPLES = 4, 2


def test_every_configuration_was_recorded():
    configs = {tuple(REFERENCE[f"{case}_config"]) for case in CASES}
    assert len(CASES) == len(configs) == 36
    assert {c[1] for c in configs} == {"plain", "scaled", "adaptive"} and {c[2] for c in configs} == {"1", "2"}


@pytest.mark.parametrize("case", CASES, ids=lambda case: "-".join(REFERENCE[f"{case}_config"]))
def test_our_numbers_are_theirs(case):
    estimator, kind, marginals, symmetric, minimising = REFERENCE[f"{case}_config"]
    marginals, symmetric, minimising = int(marginals), symmetric == "True", minimising == "True"
    target = {"plain": lambda: TargetDistribution(alpha=0.7, beta=3.0),
              "scaled": lambda: TargetDistribution(alpha=0.7, beta=3.0, do_gradient_scaling=True),
              # as their code writes it; inside our imle() (their imle.imle) their norms are asked for
              "adaptive": lambda: AdaptiveTargetDistribution(initial_alpha=0.7, initial_beta=0.5, beta_update_step=0.05,
                                                             **({} if estimator == "aimle" else
                                                                {"per_instance": False}))}[kind]()
    settings = dict(target_distribution=target, noise_distribution=Recorded(REFERENCE[f"{case}_noise"]),
                    nb_samples=SAMPLES, nb_marginal_samples=marginals, theta_noise_temperature=1.5,
                    target_noise_temperature=0.5, _is_minimization=minimising)
    solver = (lambda c: select_k(-c, K)) if minimising else (lambda w: select_k(w, K))
    layer = aimle(solver, symmetric_perturbation=symmetric, **settings) if estimator == "aimle" else \
        imle(solver, **settings)
    for step in range(len(REFERENCE[f"{case}_y"])):
        theta = torch.from_numpy(REFERENCE[f"{case}_theta"][step]).requires_grad_()
        y = layer(theta)
        y.backward(torch.from_numpy(REFERENCE[f"{case}_dy"][step]))
        np.testing.assert_array_equal(y.detach().numpy(), REFERENCE[f"{case}_y"][step])
        np.testing.assert_array_equal(theta.grad.numpy(), REFERENCE[f"{case}_grad"][step])
        assert float(target.beta) == REFERENCE[f"{case}_beta"][step]
    assert np.abs(REFERENCE[f"{case}_grad"]).sum() > 0  # a real gradient was compared
