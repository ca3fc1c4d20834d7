"""One protocol each for noise and targets: a user's object is adapted once, when the layer is
built; the seed's sample(shape) and ours with keywords both work; adaptive state is checkpointed
and moves once per forward pass."""
import io

import pytest
import torch

from imle import AdaptiveTargetDistribution, TargetDistribution, imle
from imle.noise import BaseNoiseDistribution
from imle.solvers import top_k


class SeedStyleNoise(BaseNoiseDistribution):
    """Written as both original repositories write noise: sample(self, shape) only."""

    def sample(self, shape):
        return torch.arange(torch.Size(shape).numel(), dtype=torch.float64).reshape(shape) / 10


class DuckNoise:
    """No base class, but our keywords: it must receive theta's device, dtype and generator."""

    def __init__(self):
        self.calls = []

    def sample(self, shape, *, device=None, dtype=None, generator=None):
        self.calls.append((device, dtype, generator))
        return torch.zeros(shape, device=device, dtype=dtype)


def test_a_seed_style_noise_subclass_with_sample_shape_only_works():
    theta = torch.zeros(1, 4, dtype=torch.float32, requires_grad=True)
    y = imle(top_k, noise_distribution=SeedStyleNoise(), nb_samples=2)(theta, 1)
    # noise [1, 2, 4] = [[0, .1, .2, .3], [.4, .5, .6, .7]]: the argmax of each sample is the last entry
    assert y.dtype == torch.float32 and y.tolist() == [[0, 0, 0, 1], [0, 0, 0, 1]]
    y.sum().backward()
    assert theta.grad.shape == (1, 4)


def test_a_duck_typed_noise_with_keywords_gets_thetas_placement_and_the_generator():
    noise, generator = DuckNoise(), torch.Generator()
    imle(top_k, noise_distribution=noise, generator=generator)(torch.zeros(2, 3, dtype=torch.float64), 1)
    assert noise.calls == [(torch.device("cpu"), torch.float64, generator)]


class CountingLookups:
    """Counts how often the layer looks up its methods."""

    def __init__(self, inner):
        self.inner, self.lookups = inner, 0

    def __getattr__(self, name):
        self.lookups += 1
        return getattr(self.inner, name)


def test_noise_and_target_are_adapted_once_when_the_layer_is_built():
    noise = CountingLookups(DuckNoise())
    target = CountingLookups(TargetDistribution(beta=2.0))
    layer = imle(top_k, noise_distribution=noise, target_distribution=target)
    built = (noise.lookups, target.lookups)
    for _ in range(3):
        layer(torch.randn(2, 5, requires_grad=True), 2).sum().backward()
    assert (noise.lookups, target.lookups) == built


def test_a_noise_sample_of_the_wrong_shape_is_reported():
    class Wrong:
        def sample(self, shape):
            return torch.zeros(3)

    with pytest.raises(ValueError, match=r"must return a tensor of shape \(2, 1, 4\), got \(3,\)"):
        imle(top_k, noise_distribution=Wrong())(torch.zeros(2, 4), 1)


def test_objects_without_the_protocol_are_refused_when_the_layer_is_built():
    with pytest.raises(TypeError, match="noise_distribution must have a sample"):
        imle(top_k, noise_distribution=object())
    with pytest.raises(TypeError, match="target_distribution must have a params"):
        imle(top_k, target_distribution=object())


# ---- adaptive target: state in buffers, one update per forward pass ----

def adaptive_step(layer, step: int) -> None:
    theta = torch.tensor([[3.0, 4.0, 1.0], [1.0, 0.0, 2.0]]) * (1 + step % 3)
    dy = torch.tensor([[0.0, 1.0, -1.0], [1.0, 0.0, 0.0]]) * (step % 2)
    theta.requires_grad_()
    layer(theta, 1).backward(dy)


def adaptive_layer(target):
    return imle(top_k, target_distribution=target)


def test_adaptive_beta_moves_once_per_forward_pass_even_when_backward_runs_twice():
    once, twice = (AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.1) for _ in range(2))
    theta = torch.tensor([[3.0, 4.0]], requires_grad=True)
    adaptive_layer(once)(theta, 1).backward(torch.zeros(1, 2))
    y = adaptive_layer(twice)(theta, 1)
    y.backward(torch.zeros(1, 2), retain_graph=True)
    y.backward(torch.zeros(1, 2))
    assert float(once.beta) == float(twice.beta) == pytest.approx(1.1)


def test_adaptive_state_survives_a_checkpoint():
    steps = 8
    uninterrupted = AdaptiveTargetDistribution(beta=0.5, beta_update_step=0.05, beta_update_momentum=0.5)
    betas = []
    for step in range(steps):
        adaptive_step(adaptive_layer(uninterrupted), step)
        betas.append(float(uninterrupted.beta))

    first = AdaptiveTargetDistribution(beta=0.5, beta_update_step=0.05, beta_update_momentum=0.5)
    for step in range(steps // 2):
        adaptive_step(adaptive_layer(first), step)
    checkpoint = io.BytesIO()
    torch.save(first.state_dict(), checkpoint)
    checkpoint.seek(0)
    resumed = AdaptiveTargetDistribution(beta=0.5, beta_update_step=0.05, beta_update_momentum=0.5)
    resumed.load_state_dict(torch.load(checkpoint))
    resumed_betas = [float(resumed.beta)]
    for step in range(steps // 2, steps):
        adaptive_step(adaptive_layer(resumed), step)
        resumed_betas.append(float(resumed.beta))
    assert resumed_betas == betas[steps // 2 - 1:]
    assert len(set(betas)) > 2  # beta really moved


def test_adaptive_target_travels_in_its_models_state_dict():
    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(2, 2)
            self.target = AdaptiveTargetDistribution(beta=3.0)

    state = Model().state_dict()
    assert {"target.beta", "target.grad_norm", "target.previous_update"} <= set(state)
    assert float(state["target.beta"]) == 3.0
