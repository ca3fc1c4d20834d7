import pytest
import torch

from imle.noise import BaseNoiseDistribution, SumOfGammaNoiseDistribution
from imle.solvers import grid_max_weight_path, grid_shortest_path, top_k
from imle.target import BaseTargetDistribution, TargetDistribution
from imle.estimators.imle import _IMLEFunctionEager
from imle.wrapper import imle


class FixedNoise:
    """A user's noise distribution with only the seed's sample(shape): returns given values."""

    def __init__(self, values):
        self.values = values

    def sample(self, shape):
        return self.values.clone()


def one_hot_argmax(theta):
    return torch.nn.functional.one_hot(theta.argmax(dim=-1), theta.shape[-1]).to(theta.dtype)


# B = 2 instances of 3 scores, S = 3 samples; every argmax below is worked out by hand.
THETA = torch.tensor([[1.0, 0.0, 0.5], [0.0, 2.0, 1.0]])
EPS = torch.tensor([
    [[0.0, 0.0, 0.0], [0.0, 3.0, 0.0], [0.0, 0.0, 2.0]],
    [[0.0, 0.0, 0.0], [5.0, 0.0, 0.0], [0.0, 0.0, 3.0]],
])
DY = torch.tensor([
    [1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, -1.0, 2.0],
    [0.0, 1.0, 0.0], [6.0, 0.0, 0.0], [0.0, 0.0, 0.5],
])


def hand_computed_layer(**extra):
    return imle(one_hot_argmax, target_distribution=TargetDistribution(alpha=0.5, beta=2.0),
                noise_distribution=FixedNoise(EPS), nb_samples=3,
                input_noise_temperature=0.5, target_noise_temperature=2.0, **extra)


def test_forward_and_backward_match_the_hand_computed_case():
    theta = THETA.clone().requires_grad_()
    y = hand_computed_layer()(theta)
    # forward: theta + 0.5 eps
    #   b0: [1, 0, .5] -> 0;  [1, 1.5, .5] -> 1;  [1, 0, 1.5] -> 2
    #   b1: [0, 2, 1] -> 1;   [2.5, 2, 1] -> 0;   [0, 2, 2.5] -> 2
    expected_y = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0], [0, 0, 1]])
    assert torch.equal(y, expected_y)
    y.backward(DY)
    # target: 0.5 theta - 2 dy + 2 eps
    #   b0 s0: [.5-2, 0, .25] = [-1.5, 0, .25] -> 2; y - y' = [1, 0, -1]
    #   b0 s1: [.5, 0+6, .25] -> 1;                   y - y' = 0
    #   b0 s2: [.5, 0+2, .25-4+4] -> 1;                y - y' = [0, -1, 1]
    #   b1 s0: [0, 1-2, .5] -> 2;                      y - y' = [0, 1, -1]
    #   b1 s1: [0-12+10, 1, .5] = [-2, 1, .5] -> 1;    y - y' = [1, -1, 0]
    #   b1 s2: [0, 1, .5-1+6] -> 2;                    y - y' = 0
    expected_grad = torch.tensor([[1.0, -1.0, 0.0], [1.0, 0.0, -1.0]]) / 3
    torch.testing.assert_close(theta.grad, expected_grad)


def test_minimize_flag_is_the_maximisation_estimator_on_negated_costs():
    costs = torch.rand(2, 6, 6, generator=torch.Generator().manual_seed(3)) * 5 + 1
    gold = torch.eye(6).expand(2 * 4, 6, 6)
    settings = dict(target_distribution=TargetDistribution(alpha=1.0, beta=10.0), nb_samples=4,
                    input_noise_temperature=1.0, target_noise_temperature=5.0)
    noise = SumOfGammaNoiseDistribution(k=6.0, nb_iterations=50)

    c = costs.clone().requires_grad_()
    y_min = imle(grid_shortest_path, noise_distribution=noise, minimize=True,
                 generator=torch.Generator().manual_seed(7), **settings)(c)
    ((y_min - gold) ** 2).sum().backward()

    theta = (-costs).clone().requires_grad_()
    y_max = imle(grid_max_weight_path, noise_distribution=noise,
                 generator=torch.Generator().manual_seed(7), **settings)(theta)
    ((y_max - gold) ** 2).sum().backward()

    assert torch.equal(y_min, y_max)
    torch.testing.assert_close(c.grad, -theta.grad)
    assert c.grad.abs().sum() > 0


def test_descent_on_costs_with_minimize_moves_the_path_towards_gold():
    # walls everywhere except the diagonal's complement: the gold diagonal is dear at first
    costs = torch.full((1, 5, 5), 1.0)
    costs[0, 1:4, 1:4] = 3.0
    gold = torch.eye(5).unsqueeze(0)
    c = costs.clone().requires_grad_()
    layer = imle(grid_shortest_path, target_distribution=TargetDistribution(beta=10.0), minimize=True)
    y = layer(c)
    ((y - gold) ** 2).sum().backward()
    on_gold_only = (gold[0] == 1) & (y[0].detach() == 0)
    on_path_only = (gold[0] == 0) & (y[0].detach() == 1)
    assert on_gold_only.any() and on_path_only.any()
    assert (c.grad[0][on_gold_only] > 0).all()  # descent (minus the gradient) makes gold cells cheaper
    assert (c.grad[0][on_path_only] < 0).all()  # and the off-gold cells of the path dearer


def test_no_noise_gives_the_unperturbed_solution_for_every_sample():
    theta = torch.randn(2, 5)
    y = imle(one_hot_argmax, nb_samples=4)(theta)
    assert torch.equal(y, one_hot_argmax(theta).repeat_interleave(4, dim=0))


def test_works_inside_no_grad_on_float64_and_keeps_dtype():
    theta = torch.randn(3, 4, dtype=torch.float64)
    with torch.no_grad():
        y = imle(top_k, nb_samples=2)(theta, 2)
    assert y.dtype == torch.float64 and y.shape == (6, 4) and not y.requires_grad


def test_extra_positional_and_keyword_arguments_reach_the_solver():
    seen = []

    def solver(theta, k, *, tag):
        seen.append((k, tag))
        return top_k(theta, k)

    theta = torch.randn(2, 6, requires_grad=True)
    y = imle(solver, noise_distribution=FixedNoise(torch.zeros(2, 1, 6)))(theta, 3, tag="x")
    y.sum().backward()
    assert seen == [(3, "x"), (3, "x")]
    assert (y.sum(dim=1) == 3).all()


def test_solver_output_is_moved_to_theta_dtype():
    def float64_numpy_style_solver(theta):
        return one_hot_argmax(theta.detach().cpu()).to(torch.float64)

    theta = torch.randn(2, 3, requires_grad=True)
    y = imle(float64_numpy_style_solver)(theta)
    assert y.dtype == torch.float32
    y.sum().backward()
    assert theta.grad.dtype == torch.float32


def test_autograd_function_is_defined_once():
    layer_a = imle(top_k)
    layer_b = imle(one_hot_argmax)
    a = layer_a(torch.randn(1, 3, requires_grad=True), 1)
    b = layer_b(torch.randn(1, 3, requires_grad=True))
    assert type(a.grad_fn) is type(b.grad_fn)  # one Function for every layer, not one per layer
    assert a.grad_fn.__class__.__name__ == _IMLEFunctionEager.__name__ + "Backward"  # eager calls: the ctx form


def test_custom_target_distribution_subclass():
    class ScaledTarget(BaseTargetDistribution):
        def params(self, theta, dy):
            return theta - 100.0 * dy

    theta = torch.tensor([[1.0, 0.0]], requires_grad=True)
    y = imle(one_hot_argmax, target_distribution=ScaledTarget())(theta)
    y.backward(torch.tensor([[0.1, 0.0]]))
    # target [1 - 10, 0] -> argmax 1; gradient y - y' = [1, -1]
    assert theta.grad.tolist() == [[1.0, -1.0]]


def test_noise_is_drawn_on_theta_dtype():
    class RecordingNoise(BaseNoiseDistribution):
        def sample(self, shape, *, device=None, dtype=None, generator=None):
            self.seen = (device, dtype)
            return torch.zeros(shape, device=device, dtype=dtype)

    noise = RecordingNoise()
    imle(one_hot_argmax, noise_distribution=noise)(torch.randn(2, 3, dtype=torch.float64))
    assert noise.seen == (torch.device("cpu"), torch.float64)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(nb_samples=0), ValueError, "nb_samples must be >= 1, got 0"),
        (dict(nb_samples=2.0), TypeError, "nb_samples must be an int"),
        (dict(input_noise_temperature=-1.0), ValueError, "input_noise_temperature must be a finite number >= 0"),
        (dict(target_noise_temperature=-0.5), ValueError, "target_noise_temperature must be a finite number >= 0"),
        (dict(target_noise_temperature="hot"), TypeError, "target_noise_temperature must be a number"),
        (dict(target_distribution=object()), TypeError, "target_distribution must have a params"),
        (dict(noise_distribution=object()), TypeError, "noise_distribution must have a sample"),
        (dict(minimize="yes"), TypeError, "minimize must be True or False"),
        (dict(generator=0), TypeError, "generator must be a torch.Generator"),
    ],
)
def test_bad_settings_raise_at_construction(kwargs, error, message):
    with pytest.raises(error, match=message):
        imle(one_hot_argmax, **kwargs)
    with pytest.raises(error, match=message):
        imle(**kwargs)  # the decorator form checks as early


def test_bad_solver_and_theta():
    with pytest.raises(TypeError, match="function must be callable"):
        imle(42)
    with pytest.raises(ValueError, match=r"solver must return a torch.Tensor of shape \(2, 3\), got ndarray"):
        imle(lambda t: t.numpy())(torch.randn(2, 3))
    with pytest.raises(ValueError, match=r"solver must return a tensor of shape \(2, 3\) \(its input's shape\), got \(2,\)"):
        imle(lambda t: t.argmax(-1))(torch.randn(2, 3))
    layer = imle(one_hot_argmax)
    with pytest.raises(TypeError, match="theta must be a torch.Tensor"):
        layer([[1.0, 2.0]])
    with pytest.raises(TypeError, match="theta must be a floating tensor"):
        layer(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"theta must have shape \[B, ...\] with B >= 1"):
        layer(torch.ones(0, 3))
    with pytest.raises(ValueError, match=r"noise_distribution.sample\(shape\) must return a tensor of shape \(2, 1, 3\)"):
        imle(one_hot_argmax, noise_distribution=FixedNoise(torch.zeros(2, 3)))(torch.ones(2, 3))


def test_target_returning_wrong_shape_is_reported_in_backward():
    class BadTarget(BaseTargetDistribution):
        def params(self, theta, dy):
            return theta[:1]

    theta = torch.randn(2, 3, requires_grad=True)
    y = imle(one_hot_argmax, target_distribution=BadTarget())(theta)
    with pytest.raises(ValueError, match=r"target_distribution.params must return a tensor of shape \(2, 3\)"):
        y.sum().backward()
