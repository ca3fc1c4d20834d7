"""Record torch-adaptive-imle's outputs on fixed cases, for tests/test_adaptive_imle_reference.py.

    python tests/data/make_adaptive_imle_reference.py --checkout PATH   # a checkout of
        https://github.com/EdinburghNLP/torch-adaptive-imle (its package is also called imle)

Runs *their* ``imle.aimle.aimle`` and ``imle.imle.imle`` (imported from the checkout, never ours)
on top-k cases with fixed inputs, noise and upstream gradients, over every target kind (plain,
plain with do_gradient_scaling, adaptive), M in {1, 2} marginal samples, symmetric or not and
minimising or not, three steps each (the adaptive target's beta moves between them), and writes
what came out to adaptive_imle_reference.npz beside this file. That file is numbers only; the
test replays the same cases on our package and requires the same numbers.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
BATCH, SIZE, K, SAMPLES, STEPS = 3, 12, 4, 2, 3


class Recorded:
    """Noise that returns the next of the recorded draws, in both packages' noise protocol
    (sample(shape)); torch is imported on use, so that the recording imports theirs."""

    def __init__(self, draws):
        self.draws, self.index = draws, 0

    def sample(self, shape):
        import torch

        draw = torch.from_numpy(self.draws[self.index]).reshape(shape)
        self.index += 1
        return draw


def configurations():
    """(estimator, target kind, marginals, symmetric, minimising), every combination that exists."""
    for estimator, kind, marginals, symmetric, minimising in itertools.product(
            ("aimle", "imle"), ("plain", "scaled", "adaptive"), (1, 2), (False, True), (False, True)):
        if estimator == "imle" and symmetric:
            continue  # their imle has no symmetric variant
        yield estimator, kind, marginals, symmetric, minimising


def inputs(rng: np.random.Generator, marginals: int) -> dict:
    count = SAMPLES * marginals
    return dict(theta=rng.normal(size=(STEPS, BATCH, SIZE)).astype(np.float32),
                noise=rng.gumbel(size=(STEPS, BATCH, count, SIZE)).astype(np.float32) / 4,
                dy=rng.normal(size=(STEPS, BATCH * count, SIZE)).astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkout", required=True, type=Path, help="a torch-adaptive-imle checkout")
    args = parser.parse_args()
    sys.path.insert(0, str(args.checkout.resolve()))
    import torch
    import imle as theirs

    assert Path(theirs.__file__).resolve().is_relative_to(args.checkout.resolve()), theirs.__file__
    from imle.aimle import aimle
    from imle.imle import imle
    from imle.solvers import select_k
    from imle.target import AdaptiveTargetDistribution, TargetDistribution

    record = {}
    rng = np.random.default_rng(0)
    for number, (estimator, kind, marginals, symmetric, minimising) in enumerate(configurations()):
        data = inputs(rng, marginals)
        target = {"plain": lambda: TargetDistribution(alpha=0.7, beta=3.0),
                  "scaled": lambda: TargetDistribution(alpha=0.7, beta=3.0, do_gradient_scaling=True),
                  "adaptive": lambda: AdaptiveTargetDistribution(initial_alpha=0.7, initial_beta=0.5,
                                                                 beta_update_step=0.05)}[kind]()
        settings = dict(target_distribution=target, noise_distribution=Recorded(data["noise"]), nb_samples=SAMPLES,
                        nb_marginal_samples=marginals, theta_noise_temperature=1.5, target_noise_temperature=0.5,
                        _is_minimization=minimising)
        solver = (lambda c: select_k(-c, K)) if minimising else (lambda w: select_k(w, K))
        layer = aimle(solver, symmetric_perturbation=symmetric, **settings) if estimator == "aimle" else \
            imle(solver, **settings)
        outputs, gradients, betas = [], [], []
        for step in range(STEPS):
            theta = torch.from_numpy(data["theta"][step]).requires_grad_()
            y = layer(theta)
            y.backward(torch.from_numpy(data["dy"][step]))
            outputs.append(y.detach().numpy())
            gradients.append(theta.grad.numpy())
            betas.append(float(getattr(target, "beta")))
        prefix = f"case{number}_"
        record.update({prefix + name: value for name, value in data.items()})
        record[prefix + "config"] = np.array([estimator, kind, str(marginals), str(symmetric), str(minimising)])
        record[prefix + "y"], record[prefix + "grad"] = np.stack(outputs), np.stack(gradients)
        record[prefix + "beta"] = np.array(betas)
    np.savez_compressed(HERE / "adaptive_imle_reference.npz", **record)
    print(f"{number + 1} cases written to {HERE / 'adaptive_imle_reference.npz'}")


if __name__ == "__main__":
    main()
