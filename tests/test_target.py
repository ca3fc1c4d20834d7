import pytest
import torch

from imle.target import TargetDistribution


def test_params_is_alpha_theta_minus_beta_dy():
    target = TargetDistribution(alpha=0.5, beta=3.0)
    theta = torch.tensor([[2.0, -1.0]])
    dy = torch.tensor([[1.0, 0.5]])
    assert target.params(theta, dy).tolist() == [[1.0 - 3.0, -0.5 - 1.5]]


def test_defaults_are_one_and_one():
    target = TargetDistribution()
    assert (target.alpha, target.beta) == (1.0, 1.0)
    assert repr(target) == "TargetDistribution(alpha=1.0, beta=1.0)"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(beta=-1.0), ValueError, "beta must be a finite number >= 0"),
        (dict(alpha=float("nan")), ValueError, "alpha must be finite"),
        (dict(beta=float("inf")), ValueError, "beta must be a finite number >= 0"),
        (dict(alpha="1"), TypeError, "alpha must be a number"),
        (dict(beta=None), TypeError, "beta must be a number"),
    ],
)
def test_bad_target_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        TargetDistribution(**kwargs)


def test_params_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"theta and dy must have the same shape, got \(2, 3\) and \(3,\)"):
        TargetDistribution().params(torch.ones(2, 3), torch.ones(3))


# ---- variants: dividing by beta, two-sided, adaptive (AIMLE) ----

from imle import imle  # noqa: E402
from imle.target import AdaptiveTargetDistribution, TwoSidedTargetDistribution  # noqa: E402


def one_hot_argmax(theta):
    return torch.nn.functional.one_hot(theta.argmax(dim=-1), theta.shape[-1]).to(theta.dtype)


class FixedNoise:
    def __init__(self, values):
        self.values = values

    def sample(self, shape):
        return self.values.clone()


def gradient(target, theta, dy, noise=None, samples=1, target_temperature=1.0):
    theta = theta.clone().requires_grad_()
    layer = imle(one_hot_argmax, target_distribution=target, nb_samples=samples,
                 noise_distribution=FixedNoise(noise) if noise is not None else None,
                 input_noise_temperature=0.0, target_noise_temperature=target_temperature)
    layer(theta).backward(dy)
    return theta.grad


def test_divide_by_beta_scales_the_gradient():
    theta, dy = torch.tensor([[1.0, 0.0, 0.5]]), torch.tensor([[0.0, 0.0, -1.0]])
    plain = gradient(TargetDistribution(beta=4.0), theta, dy)
    scaled = gradient(TargetDistribution(beta=4.0, divide_by_beta=True), theta, dy)
    # target [1, 0, 0.5 + 4] -> 2: y - y' = [1, 0, -1]
    assert plain.tolist() == [[1.0, 0.0, -1.0]]
    assert scaled.tolist() == [[0.25, 0.0, -0.25]]


def test_two_sided_solves_both_targets_in_one_call():
    calls = []

    def counting_argmax(theta):
        calls.append(theta.shape[0])
        return one_hot_argmax(theta)

    theta = torch.tensor([[1.0, 0.0, 0.5], [0.0, 2.0, 1.0]], requires_grad=True)
    dy = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    layer = imle(counting_argmax, target_distribution=TwoSidedTargetDistribution(alpha=1.0, beta=2.0))
    layer(theta).backward(dy)
    assert calls == [2, 4]  # forward: B = 2; backward: + and - targets together
    # instance 0: y([1, 2, .5]) = e1, y([1, -2, .5]) = e0 -> (e1 - e0) / 2; instance 1: dy = 0 -> 0
    assert theta.grad.tolist() == [[-0.5, 0.5, 0.0], [0.0, 0.0, 0.0]]


def test_adaptive_perturbation_size_is_per_instance_with_several_samples():
    target = AdaptiveTargetDistribution(beta=2.0)
    theta = torch.tensor([[3.0, 4.0], [0.0, 1.0]])                     # norms 5 and 1
    dy = torch.tensor([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 2.0], [0.0, 0.0]]])  # B = 2, S = 2
    sizes = target.perturbation_sizes(theta, dy)
    # instance 0: rms of dy over samples = sqrt(2) / sqrt(2) = 1 -> 2 * 5 / 1 = 10
    # instance 1: ||dy|| = 2, rms = 2 / sqrt(2) -> 2 * 1 / sqrt(2)
    torch.testing.assert_close(sizes, torch.tensor([10.0, 2.0 / 2 ** 0.5]))
    # the repeated-tensor norms of the original would mix the instances: ours do not
    assert target.perturbation_sizes(theta[:1], dy[:1])[0] == sizes[0]


def test_adaptive_gradient_is_divided_by_lambda():
    target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.0)
    theta, dy = torch.tensor([[3.0, 4.0]]), torch.tensor([[1.0, 0.0]])
    # lambda = 1 * 5 / 1 = 5; target [3 - 5, 4] -> argmax 1 = y; gradient 0
    assert gradient(target, theta, dy).tolist() == [[0.0, 0.0]]
    theta, dy = torch.tensor([[4.0, 3.0]]), torch.tensor([[1.0, 0.0]])
    # lambda 5; target [-1, 3] -> e1; y = e0: (e0 - e1) / 5
    torch.testing.assert_close(gradient(target, theta, dy), torch.tensor([[0.2, -0.2]]))


def test_adaptive_beta_rises_when_gradients_vanish_and_falls_when_dense():
    target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.1, grad_norm_decay=0.5, target_norm=1.0)
    zeros = torch.zeros(2, 3, 4)
    target.update(zeros)      # grad_norm = 0.5 * 1 + 0.5 * 0 = 0.5 < 1: beta up
    assert target.grad_norm == 0.5 and target.beta == pytest.approx(1.1)
    target.update(zeros)      # grad_norm = 0.25
    assert target.beta == pytest.approx(1.2)
    dense = torch.ones(2, 3, 4)  # 4 non-zero entries per sample
    target.update(dense)      # grad_norm = 0.5 * 0.25 + 0.5 * 4 = 2.125 > 1: beta down
    assert target.grad_norm == pytest.approx(2.125) and target.beta == pytest.approx(1.1)
    target.reset()
    assert (target.beta, target.grad_norm, target.previous_update) == (1.0, 1.0, 0.0)


def test_adaptive_beta_never_goes_below_zero_and_momentum_accumulates():
    target = AdaptiveTargetDistribution(beta=0.05, beta_update_step=0.1, beta_update_momentum=0.5,
                                        grad_norm_decay=0.0)
    target.update(torch.ones(1, 1, 5))
    assert target.beta == 0.0 and target.previous_update == pytest.approx(-0.1)
    target.update(torch.zeros(1, 1, 5))  # update = 0.5 * -0.1 + 0.1 = 0.05
    assert target.beta == pytest.approx(0.05)


def test_adaptive_updates_after_every_backward_through_the_layer():
    target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.01)
    theta = torch.tensor([[3.0, 4.0], [1.0, 0.0]])
    for _ in range(3):
        gradient(target, theta, torch.zeros(2, 2))
    # zero dy: lambda = 0, target = theta, gradients all zero: beta rose three times
    assert target.beta == pytest.approx(1.03)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: TargetDistribution(beta=0.0, divide_by_beta=True), ValueError, "beta must be > 0 when divide_by_beta"),
        (lambda: TargetDistribution(divide_by_beta=1), TypeError, "divide_by_beta must be True or False"),
        (lambda: AdaptiveTargetDistribution(beta=-1.0), ValueError, "beta must be a finite number >= 0"),
        (lambda: AdaptiveTargetDistribution(target_norm=0.0), ValueError, "target_norm must be a positive finite number"),
        (lambda: AdaptiveTargetDistribution(grad_norm_decay=1.0), ValueError, r"grad_norm_decay must be in \[0, 1\)"),
        (lambda: AdaptiveTargetDistribution(beta_update_momentum=-0.1), ValueError, "beta_update_momentum must be in"),
        (lambda: AdaptiveTargetDistribution(beta_update_step=-1.0), ValueError, "beta_update_step must be a finite number >= 0"),
    ],
)
def test_bad_variant_settings(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_the_recipe_with_a_plain_target_is_y_minus_the_solution_at_alpha_theta_minus_beta_dy():
    from imle.solvers import top_k
    from imle.target import adapt_target, per_sample_gradients

    generator = torch.Generator().manual_seed(0)
    theta = torch.randn(3, 12, generator=generator)
    dy, noise = torch.randn(3, 4, 12, generator=generator), torch.randn(3, 4, 12, generator=generator)
    y = torch.rand(3, 4, 12, generator=generator).round()
    target = TargetDistribution(alpha=0.5, beta=2.0)
    recipe = per_sample_gradients(adapt_target(target), lambda p: top_k(p, 4), theta, dy, noise, y)
    direct = y - top_k((0.5 * theta.unsqueeze(1) - 2.0 * dy + noise).reshape(12, 12), 4).view(3, 4, 12)
    assert recipe.shape == (3, 4, 12) and torch.equal(recipe, direct)
    assert recipe.abs().sum() > 0


def test_a_subclass_params_is_used_by_the_recipe():
    from imle.target import adapt_target, per_sample_gradients

    class Doubled(TargetDistribution):
        def params(self, theta, dy):
            return 2 * super().params(theta, dy)

    seen = []
    solve = lambda p: seen.append(p.clone()) or torch.zeros_like(p)  # noqa: E731
    theta, dy = torch.tensor([[1.0, -2.0]]), torch.tensor([[[0.5, 0.0]]])
    per_sample_gradients(adapt_target(Doubled(alpha=1.0, beta=2.0)), solve, theta, dy, torch.zeros(1, 1, 2),
                         torch.zeros(1, 1, 2))
    assert seen[0].tolist() == [[2 * (1.0 - 1.0), 2 * -2.0]]
