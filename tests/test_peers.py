"""Peer estimators: gradients pinned on hand-computed cases, and the sign of a descent step."""
import math

import pytest
import torch

import imle.estimators.peers as peers
from imle import GumbelNoiseDistribution, TargetDistribution, imle
from imle.peers import blackbox, perturbed, score_function, straight_through
from imle.solvers import top_k


def argmax(theta):
    return torch.nn.functional.one_hot(theta.argmax(dim=-1), theta.shape[-1]).to(theta.dtype)


def fix_noise(monkeypatch, z, score):
    """Both peer noises draw z; the score is the noise's own formula (checked against ``score``)."""
    for kind in (peers._Gumbel, peers._Normal):
        monkeypatch.setattr(kind, "__call__", lambda self, shape, like, generator: z.to(like.dtype))
    assert any(torch.allclose(kind.score(z), score) for kind in (peers._Gumbel, peers._Normal))


def test_blackbox_hand_computed():
    theta = torch.tensor([[1.0, 0.0, 0.5], [0.0, 2.0, 1.0]], requires_grad=True)
    y = blackbox(argmax, lambda_=2.0)(theta)
    assert y.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    y.backward(torch.tensor([[0.0, 0.0, -1.0], [0.0, 0.1, 0.0]]))
    # instance 0: theta - 2 dy = [1, 0, 2.5] -> e2: (e0 - e2) / 2
    # instance 1: [0, 1.8, 1] -> e1 = y: 0
    assert theta.grad.tolist() == [[0.5, 0.0, -0.5], [0.0, 0.0, 0.0]]


def test_blackbox_minimize_is_vlastelicas_rule_on_costs():
    costs = torch.tensor([[1.0, 0.0, 0.5]], requires_grad=True)   # argmin -> e1
    y = blackbox(lambda c: argmax(-c), lambda_=2.0, minimize=True)(costs)
    assert y.tolist() == [[0.0, 1.0, 0.0]]
    y.backward(torch.tensor([[0.0, 1.0, 0.0]]))
    # Vlastelica: w' = w + lambda dy = [1, 2, .5] -> e2; grad = (y(w') - y(w)) / lambda
    assert costs.grad.tolist() == [[0.0, -0.5, 0.5]]


def test_perturbed_normal_hand_computed(monkeypatch):
    z = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]]])
    fix_noise(monkeypatch, z, z)
    theta = torch.zeros(1, 3, requires_grad=True)
    y = perturbed(argmax, nb_samples=2, noise="normal")(theta)
    assert y.tolist() == [[0.5, 0.0, 0.5]]            # the mean of e0 and e2
    y.backward(torch.tensor([[1.0, 2.0, 3.0]]))
    # (<e0, dy> z1 + <e2, dy> z2) / 2 = ([1, 0, 0] + 3 [0, 0, 2]) / 2
    assert theta.grad.tolist() == [[0.5, 0.0, 3.0]]


def test_perturbed_gumbel_score_is_one_minus_exp_minus_z(monkeypatch):
    z = torch.tensor([[[math.log(2.0), 0.0, 0.0], [0.0, 0.0, math.log(4.0)]]])
    fix_noise(monkeypatch, z, 1.0 - torch.exp(-z))
    theta = torch.zeros(1, 3, requires_grad=True)
    perturbed(argmax, nb_samples=2)(theta).backward(torch.tensor([[1.0, 2.0, 3.0]]))
    # scores [.5, 0, 0] and [0, 0, .75]: (1 [.5, 0, 0] + 3 [0, 0, .75]) / 2
    torch.testing.assert_close(theta.grad, torch.tensor([[0.25, 0.0, 1.125]]))


def test_real_gumbel_score_function_matches_its_formula():
    layer = perturbed(argmax, nb_samples=3, generator=torch.Generator().manual_seed(0))
    z, _ = layer.perturbed_solutions(torch.zeros(2, 4), (), {})[1], None
    assert z.shape == (2, 3, 4)
    torch.testing.assert_close(layer._noise.score(z), 1.0 - torch.exp(-z))
    again = perturbed(argmax, nb_samples=3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.perturbed_solutions(torch.zeros(2, 4), (), {})[1], z)  # the generator's stream


def test_straight_through_passes_dy():
    theta = torch.tensor([[1.0, 0.0, 0.5]], requires_grad=True)
    straight_through(argmax)(theta).backward(torch.tensor([[0.25, -1.0, 2.0]]))
    assert theta.grad.tolist() == [[0.25, -1.0, 2.0]]
    costs = torch.tensor([[1.0, 0.0, 0.5]], requires_grad=True)
    straight_through(argmax, minimize=True)(costs).backward(torch.tensor([[0.25, -1.0, 2.0]]))
    assert costs.grad.tolist() == [[-0.25, 1.0, -2.0]]


def test_score_function_hand_computed(monkeypatch):
    z = torch.eye(3).unsqueeze(0)  # S = 3 samples: e0, e1, e2 as noise
    fix_noise(monkeypatch, z, z)
    theta = torch.zeros(1, 3, requires_grad=True)
    y = score_function(argmax, nb_samples=3, sigma=2.0, noise="normal")(theta)
    assert y.tolist() == torch.eye(3).tolist()  # [B * S, 3]
    y.backward(torch.tensor([[1.0, 2.0, 3.0]] * 3))
    # f = [1, 2, 3]; leave-one-out baselines [2.5, 2, 1.5]; advantages [-1.5, 0, 1.5]
    # grad = mean_s advantage_s z_s / sigma = ([-1.5, 0, 0] + [0, 0, 1.5]) / 3 / 2
    torch.testing.assert_close(theta.grad, torch.tensor([[-0.25, 0.0, 0.25]]))


def test_top_k_through_perturbed_optimiser_with_extra_argument():
    theta = torch.tensor([[3.0, 2.0, 1.0, 0.0]], requires_grad=True)
    y = perturbed(top_k, nb_samples=50, sigma=0.01, generator=torch.Generator().manual_seed(0))(theta, 2)
    assert y.tolist() == [[1.0, 1.0, 0.0, 0.0]]


ESTIMATORS = {
    "imle": lambda: imle(argmax, target_distribution=TargetDistribution(beta=1.0), nb_samples=4000,
                         noise_distribution=GumbelNoiseDistribution(), input_noise_temperature=1.0,
                         target_noise_temperature=1.0, generator=torch.Generator().manual_seed(1)),
    "blackbox": lambda: blackbox(argmax, lambda_=3.0),
    "perturbed": lambda: perturbed(argmax, nb_samples=4000, generator=torch.Generator().manual_seed(1)),
    "straight-through": lambda: straight_through(argmax),
    "score-function": lambda: score_function(argmax, nb_samples=4000, generator=torch.Generator().manual_seed(1)),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_a_descent_step_on_a_quadratic_loss_moves_the_output_towards_the_target(name):
    # Under Gumbel perturbation an argmax picks index i with probability softmax(theta)_i: the
    # expected output moves towards the target e_2 iff softmax(theta)_2 grows after the step.
    theta = torch.tensor([[2.0, 1.0, 0.0, -1.0]], requires_grad=True)
    target = torch.tensor([[0.0, 0.0, 1.0, 0.0]])
    y = ESTIMATORS[name]()(theta)
    loss = ((y - target.expand_as(y)) ** 2).sum(-1).mean()
    loss.backward()
    stepped = theta.detach() - 0.5 * theta.grad
    before, after = torch.softmax(theta.detach(), -1)[0, 2], torch.softmax(stepped, -1)[0, 2]
    assert after > before, (name, theta.grad)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: blackbox(argmax, lambda_=0.0), ValueError, "lambda_ must be a positive finite number"),
        (lambda: blackbox(argmax, lambda_="big"), TypeError, "lambda_ must be a number"),
        (lambda: perturbed(argmax, sigma=-1.0), ValueError, "sigma must be a positive finite number"),
        (lambda: perturbed(argmax, nb_samples=0), ValueError, "nb_samples must be >= 1"),
        (lambda: perturbed(argmax, noise="uniform"), ValueError, "noise must be one of gumbel, normal"),
        (lambda: score_function(argmax, nb_samples=1), ValueError, "nb_samples must be >= 2"),
        (lambda: straight_through(argmax, minimize="no"), TypeError, "minimize must be True or False"),
        (lambda: score_function(argmax, generator=3), TypeError, "generator must be a torch.Generator"),
        (lambda: blackbox(5), TypeError, "function must be callable"),
        (lambda: blackbox(argmax)("theta"), TypeError, "theta must be a torch.Tensor"),
    ],
)
def test_bad_peer_settings(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_decorator_form():
    @straight_through(minimize=False)
    def layer(theta):
        return argmax(theta)

    assert layer(torch.tensor([[0.0, 1.0]])).tolist() == [[0.0, 1.0]]
