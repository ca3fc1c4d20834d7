"""A drop-in for torch-imle and torch-adaptive-imle users: their code, written from their READMEs,
runs unchanged; their numbers, computed by hand on top-k cases with fixed noise, come out."""
import math

import numpy as np
import pytest
import torch

from imle.aimle import aimle
from imle.noise import BaseNoiseDistribution, SumOfGammaNoiseDistribution
from imle.solvers import top_k
from imle.target import AdaptiveTargetDistribution, TargetDistribution
from imle.wrapper import imle


class FixedNoise(BaseNoiseDistribution):
    """Noise as both original repositories write it: sample(self, shape) only; here fixed values."""

    def __init__(self, values):
        super().__init__()
        self.values = torch.as_tensor(values, dtype=torch.float32)

    def sample(self, shape):
        return self.values.reshape(shape)


def argmin_k(costs, k):
    """A solver that minimises: the k cheapest entries."""
    return top_k(-costs, k)


# ---- torch-imle style code, unchanged ----

def test_torch_imle_style_code_with_numpy_hyper_parameters_runs():
    # as in torch-imle's README, with numpy numbers where Python numbers were written
    target_distribution = TargetDistribution(alpha=np.float32(1.0), beta=torch.tensor(10.0))
    noise_distribution = SumOfGammaNoiseDistribution(k=np.int64(16), nb_iterations=np.int64(100))

    @imle(target_distribution=target_distribution, noise_distribution=noise_distribution,
          nb_samples=np.int64(4), input_noise_temperature=np.float32(1.0), target_noise_temperature=np.float64(1.0))
    def imle_solver(weights):
        return top_k(weights, 3)

    weights = torch.randn(2, 10, requires_grad=True)
    y = imle_solver(weights)
    assert y.shape == (8, 10)
    y.sum().backward()
    assert weights.grad.shape == (2, 10)


@pytest.mark.parametrize("bad, error, message", [
    (dict(nb_samples=np.int64(0)), ValueError, "nb_samples must be >= 1"),
    (dict(input_noise_temperature=np.float32(-1.0)), ValueError, "input_noise_temperature must be a finite number"),
    (dict(nb_samples=torch.tensor([1, 2])), TypeError, "nb_samples must be a number"),
])
def test_meaningless_numbers_of_any_type_stay_refused(bad, error, message):
    with pytest.raises(error, match=message):
        imle(top_k, **bad)


# ---- torch-adaptive-imle style code, unchanged ----

def test_torch_adaptive_imle_style_code_runs():
    target_distribution = AdaptiveTargetDistribution(initial_alpha=1.0, initial_beta=0.0, beta_update_step=0.0001,
                                                     beta_update_momentum=0.0, grad_norm_decay_rate=0.9,
                                                     target_norm=1.0)
    noise_distribution = SumOfGammaNoiseDistribution(k=3, nb_iterations=100)

    @aimle(target_distribution=target_distribution, noise_distribution=noise_distribution, nb_samples=2,
           nb_marginal_samples=3, theta_noise_temperature=1.0, target_noise_temperature=1.0,
           symmetric_perturbation=True)
    def aimle_solver(weights):
        return top_k(weights, 3)

    weights = torch.randn(4, 10, requires_grad=True)
    y = aimle_solver(weights)
    assert y.shape == (8, 10)
    y.sum().backward()
    assert weights.grad.shape == (4, 10)
    assert float(target_distribution.beta) > 0  # all-zero gradients at beta 0 raised beta


def test_their_keyword_names_for_the_targets():
    theirs = AdaptiveTargetDistribution(initial_alpha=0.5, initial_beta=2.0, grad_norm_decay_rate=0.7)
    assert (theirs.alpha, float(theirs.beta), theirs.grad_norm_decay) == (0.5, 2.0, 0.7)
    assert TargetDistribution(beta=2.0, do_gradient_scaling=True).divide_by_beta
    with pytest.raises(TypeError, match="unexpected keyword argument 'initial_gamma'"):
        AdaptiveTargetDistribution(initial_gamma=1.0)


# ---- aimle's numbers, by hand ----

THETA = [[3.0, 1.0, 2.0]]  # ||theta|| = sqrt(14)
DY = [0.0, -1.0, 0.0]     # the loss falls as y_1 rises


def gradient(layer, theta, dy, *args):
    theta = torch.tensor(theta, requires_grad=True)
    layer(theta, *args).backward(torch.tensor(dy))
    return theta.grad


def plain_target():
    return TargetDistribution(alpha=1.0, beta=1.0)


def test_aimle_one_sided_divides_by_lambda_d():
    # lambda_p = lambda_d = sqrt(14) with S = 1; left MAP(theta) = e0, right MAP(theta - lambda dy)
    # = argmax [3, 1 + 3.74, 2] = e1; (e0 - e1) / sqrt(14)
    grad = gradient(aimle(top_k, target_distribution=plain_target()), THETA, [DY], 1)
    torch.testing.assert_close(grad, torch.tensor([[1.0, -1.0, 0.0]]) / math.sqrt(14))


def test_aimle_with_two_samples_steps_sqrt2_further_than_it_divides():
    # dy for S = 2: ||dy|| = sqrt(2); lambda_p = sqrt(2 * 14) / sqrt(2) = sqrt(14), lambda_d = sqrt(14 / 2)
    grad = gradient(aimle(top_k, target_distribution=plain_target(), nb_samples=2), THETA, [DY, DY], 1)
    torch.testing.assert_close(grad, torch.tensor([[1.0, -1.0, 0.0]]) / math.sqrt(7))


def test_aimle_symmetric_is_a_central_difference():
    # MAP(theta + lambda_p dy) = argmax [3, 1 - 3.74, 2] = e0; MAP(theta - lambda_p dy) = e1;
    # (MAP(+) - MAP(-)) / (2 lambda_d) = (e0 - e1) / (2 sqrt(14))
    grad = gradient(aimle(top_k, target_distribution=plain_target(), symmetric_perturbation=True), THETA, [DY], 1)
    torch.testing.assert_close(grad, torch.tensor([[1.0, -1.0, 0.0]]) / (2 * math.sqrt(14)))


def test_aimle_minimisation_adds_the_noise_and_flips_the_signs():
    # costs [1, 3, 2], the solver takes the cheapest; noise [0, 0, 2] is ADDED: [1, 3, 4] -> e0
    costs = [[1.0, 3.0, 2.0]]
    layer = aimle(argmin_k, target_distribution=plain_target(), noise_distribution=FixedNoise([[0.0, 0.0, 2.0]]),
                  target_noise_temperature=0.0, _is_minimization=True)
    theta = torch.tensor(costs, requires_grad=True)
    y = layer(theta, 1)
    assert y.tolist() == [[1.0, 0.0, 0.0]]
    y.backward(torch.tensor([DY]))
    # target alpha c + lambda_p dy = [1, 3 - 3.74, 2] -> e1; gradient (e1 - e0) / sqrt(14): raising c_1
    # makes y_1 fall and the loss rise
    torch.testing.assert_close(theta.grad, torch.tensor([[-1.0, 1.0, 0.0]]) / math.sqrt(14))


def test_aimle_marginal_samples_average_the_solutions():
    noise = FixedNoise([[[0.0, 5.0, 0.0], [0.0, 0.0, 5.0]]])  # M = 2 inner samples of one outer sample
    layer = aimle(top_k, target_distribution=plain_target(), noise_distribution=noise, nb_marginal_samples=2)
    y = layer(torch.tensor(THETA), 1)
    assert y.tolist() == [[0.0, 0.5, 0.5]]


def test_aimle_gradient_is_zero_when_dy_is_zero_and_beta_adapts_once_per_forward():
    target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.5, per_instance=False)
    layer = aimle(top_k, target_distribution=target)
    theta = torch.tensor(THETA, requires_grad=True)
    y = layer(theta, 1)
    y.backward(torch.zeros(1, 3), retain_graph=True)
    y.backward(torch.zeros(1, 3))
    assert theta.grad.abs().sum() == 0 and float(target.beta) == 1.5  # one update, not two


def test_our_adaptive_target_with_per_instance_false_matches_aimle():
    # the same target semantics inside our imle(): their lambda_p for the step, lambda_d to divide,
    # and the left point is our forward sample (equal here: no noise, alpha 1)
    ours = imle(top_k, target_distribution=AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.0,
                                                                        per_instance=False), nb_samples=2)
    theirs = aimle(top_k, target_distribution=AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.0,
                                                                          per_instance=False), nb_samples=2)
    torch.testing.assert_close(gradient(ours, THETA, [DY, DY], 1), gradient(theirs, THETA, [DY, DY], 1))


# ---- the noise sign and the output dtype ----

def test_noise_sign_plus_adds_the_noise_to_the_costs_as_the_originals_do():
    noise = FixedNoise([[0.0, 0.0, -5.0]])
    costs = torch.tensor([[1.0, 3.0, 2.0]])
    ours = imle(argmin_k, noise_distribution=noise, minimize=True)(costs, 1)            # c - eps: [1, 3, 7]
    originals = imle(argmin_k, noise_distribution=noise, minimize=True, noise_sign=1)(costs, 1)  # c + eps
    assert ours.tolist() == [[1.0, 0.0, 0.0]] and originals.tolist() == [[0.0, 0.0, 1.0]]


def test_output_dtype_follows_theta_or_the_solver_on_request():
    def solver64(theta, k):
        return top_k(theta, k).double()

    theta = torch.zeros(1, 3, requires_grad=True)
    assert imle(solver64)(theta, 1).dtype == torch.float32
    y = imle(solver64, output_dtype="solver")(theta, 1)
    assert y.dtype == torch.float64
    y.sum().backward()
    assert theta.grad.dtype == torch.float32
    with pytest.raises(ValueError, match="noise_sign must be None, 1 or -1"):
        imle(top_k, noise_sign=2)


# ---- the PyEPO-equivalent settings against PyEPO itself ----

def test_pyepo_implicit_mle_settings_give_pyepos_gradient_bit_for_bit():
    """PyEPO's implicitMLE on its OR-Tools shortest-path model, and ours with the settings of the
    README's migration table, on the same fixed noise: the same solutions and gradients. PyEPO
    returns the mean over samples and differentiates through it; a loss linear in that mean has
    the same gradient as the same loss on the sum of our per-sample outputs. lambda = 8 and 4
    samples make every division and mean exact in float32, so the two agree bit for bit (PyEPO
    divides by lambda + 1e-8, which float32 rounds to lambda)."""
    pytest.importorskip("ortools")
    pyepo_func = pytest.importorskip("pyepo.func")
    from pyepo.model.ort import shortestPathModel

    model = shortestPathModel(grid=(4, 4))
    batch, samples, sigma, lambd = 3, 4, 1.0, 8.0
    generator = torch.Generator().manual_seed(0)
    costs = torch.rand(batch, model.num_cost, generator=generator) + 0.1
    noise = SumOfGammaNoiseDistribution(k=5.0, nb_iterations=10).sample([batch, samples, model.num_cost],
                                                                         generator=generator)
    weights = torch.randn(batch, model.num_cost, generator=generator)  # the loss <w, solution>

    class PyEPONoise:
        def sample(self, size, device=None, dtype=torch.float32):
            return noise.to(dtype).reshape(size)

    def solve_each(cost_batch):  # PyEPO's model, one instance at a time, minimising
        solutions = []
        for cost in cost_batch:
            model.setObj(cost.detach().numpy())
            solution, _ = model.solve()
            solutions.append(torch.as_tensor(np.asarray(solution), dtype=cost_batch.dtype))
        return torch.stack(solutions)

    theirs_cost = costs.clone().requires_grad_()
    layer = pyepo_func.implicitMLE(model, n_samples=samples, sigma=sigma, lambd=lambd, distribution=PyEPONoise())
    theirs_mean = layer(theirs_cost)
    (theirs_mean * weights).sum().backward()

    ours_cost = costs.clone().requires_grad_()
    ours = imle(solve_each, target_distribution=TargetDistribution(beta=lambd, divide_by_beta=True),
                noise_distribution=FixedNoise(noise), nb_samples=samples, input_noise_temperature=sigma,
                target_noise_temperature=sigma, minimize=True, noise_sign=1)
    ours_samples = ours(ours_cost).view(batch, samples, -1)
    (ours_samples.sum(dim=1) * weights).sum().backward()

    assert torch.equal(ours_samples.mean(dim=1), theirs_mean)
    assert (ours_cost.grad - theirs_cost.grad).abs().max().item() == 0.0
    assert ours_cost.grad.abs().sum() > 0  # a real gradient, not two zeros
