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
    assert y.shape == (24, 10)  # B * S * M: every marginal sample, as theirs returns
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


def adaptive():
    """torch-adaptive-imle's adaptive target, beta held still."""
    return AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.0, per_instance=False)


def test_aimle_with_a_plain_target_steps_by_beta_and_does_not_divide():
    # right MAP(theta - 5 dy) = argmax [3, 6, 2] = e1; left MAP(alpha theta) = e0: e0 - e1, as it is
    grad = gradient(aimle(top_k, target_distribution=TargetDistribution(alpha=1.0, beta=5.0)), THETA, [DY], 1)
    assert grad.tolist() == [[1.0, -1.0, 0.0]]
    scaled = aimle(top_k, target_distribution=TargetDistribution(alpha=1.0, beta=5.0, do_gradient_scaling=True))
    torch.testing.assert_close(gradient(scaled, THETA, [DY], 1), torch.tensor([[0.2, -0.2, 0.0]]))
    # beta 1: argmax [3, 2, 2] = e0 on both sides, no gradient (the old adaptive step gave one)
    assert gradient(aimle(top_k, target_distribution=TargetDistribution()), THETA, [DY], 1).abs().sum() == 0


def test_aimle_left_point_is_alpha_theta_not_the_forward_sample():
    # alpha = -1: the left point argmax(-theta) = e1, the forward sample argmax(theta) = e0
    layer = aimle(top_k, target_distribution=TargetDistribution(alpha=-1.0, beta=0.0))
    assert gradient(layer, THETA, [DY], 1).tolist() == [[0.0, 0.0, 0.0]]  # right = left = argmax(-theta)
    ours = imle(top_k, target_distribution=TargetDistribution(alpha=-1.0, beta=0.0))
    assert gradient(ours, THETA, [DY], 1).tolist() == [[1.0, -1.0, 0.0]]  # e0 - e1


def test_aimle_adaptive_target_divides_by_lambda_d():
    # lambda_p = lambda_d = sqrt(14) with S = 1; left MAP(theta) = e0, right MAP(theta - lambda dy)
    # = argmax [3, 1 + 3.74, 2] = e1; (e0 - e1) / sqrt(14)
    grad = gradient(aimle(top_k, target_distribution=adaptive()), THETA, [DY], 1)
    torch.testing.assert_close(grad, torch.tensor([[1.0, -1.0, 0.0]]) / math.sqrt(14))


def test_aimle_adaptive_with_two_samples_steps_sqrt2_further_than_it_divides():
    # dy for S = 2: ||dy|| = sqrt(2); lambda_p = sqrt(2 * 14) / sqrt(2) = sqrt(14), lambda_d = sqrt(14 / 2)
    grad = gradient(aimle(top_k, target_distribution=adaptive(), nb_samples=2), THETA, [DY, DY], 1)
    torch.testing.assert_close(grad, torch.tensor([[1.0, -1.0, 0.0]]) / math.sqrt(7))


def test_aimle_symmetric_is_a_central_difference():
    # plain, beta 5: MAP(theta + 5 dy) = argmax [3, -4, 2] = e0; MAP(theta - 5 dy) = e1: (e0 - e1) / 2
    plain = aimle(top_k, target_distribution=TargetDistribution(beta=5.0), symmetric_perturbation=True)
    assert gradient(plain, THETA, [DY], 1).tolist() == [[0.5, -0.5, 0.0]]
    # adaptive: the same solutions, then divided by lambda_d = sqrt(14)
    grad = gradient(aimle(top_k, target_distribution=adaptive(), symmetric_perturbation=True), THETA, [DY], 1)
    torch.testing.assert_close(grad, torch.tensor([[1.0, -1.0, 0.0]]) / (2 * math.sqrt(14)))


def test_aimle_minimisation_adds_the_noise_and_flips_the_signs():
    # costs [1, 3, 2], the solver takes the cheapest; noise [0, 0, 2] is ADDED: [1, 3, 4] -> e0
    costs = [[1.0, 3.0, 2.0]]
    layer = aimle(argmin_k, target_distribution=TargetDistribution(beta=5.0),
                  noise_distribution=FixedNoise([[0.0, 0.0, 2.0]]), target_noise_temperature=0.0,
                  _is_minimization=True)
    theta = torch.tensor(costs, requires_grad=True)
    y = layer(theta, 1)
    assert y.tolist() == [[1.0, 0.0, 0.0]]
    y.backward(torch.tensor([DY]))
    # right: alpha c + beta dy = [1, 3 - 5, 2] -> e1; left: c -> e0; their gradient -(e0 - e1):
    # raising c_1 makes y_1 fall and the loss rise
    assert theta.grad.tolist() == [[-1.0, 1.0, 0.0]]


def test_aimle_returns_every_marginal_sample_and_averages_them_inside_the_gradient():
    noise = FixedNoise([[[0.0, 5.0, 0.0], [0.0, 0.0, 5.0]]])  # M = 2 marginal samples of one sample
    layer = aimle(top_k, target_distribution=TargetDistribution(beta=0.0), noise_distribution=noise,
                  nb_marginal_samples=2)
    theta = torch.tensor(THETA, requires_grad=True)
    y = layer(theta, 1)
    assert y.tolist() == [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]  # [B * S * M, ...]
    y.backward(torch.tensor([DY, DY]))
    assert theta.grad.abs().sum() == 0  # beta 0: both points are the same: the mean over M of 0


def test_aimle_gradient_is_zero_when_dy_is_zero_and_beta_adapts_once_per_forward():
    target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.5, per_instance=False)
    layer = aimle(top_k, target_distribution=target)
    theta = torch.tensor(THETA, requires_grad=True)
    y = layer(theta, 1)
    y.backward(torch.zeros(1, 3), retain_graph=True)
    y.backward(torch.zeros(1, 3))
    assert theta.grad.abs().sum() == 0 and float(target.beta) == 1.5  # one update, not two


def test_our_adaptive_target_with_per_instance_false_in_imle_is_theirs_with_the_forward_sample():
    # inside imle() the same target semantics, the left point being the forward sample (equal to
    # aimle's here: no noise, alpha 1)
    ours = imle(top_k, target_distribution=adaptive(), nb_samples=2)
    theirs = aimle(top_k, target_distribution=adaptive(), nb_samples=2)
    torch.testing.assert_close(gradient(ours, THETA, [DY, DY], 1), gradient(theirs, THETA, [DY, DY], 1))


def test_imle_takes_torch_adaptive_imles_keywords():
    noise = FixedNoise([[0.0, 0.0, 2.0]])
    theirs = imle(argmin_k, noise_distribution=noise, theta_noise_temperature=1.0, _is_minimization=True)
    assert theirs.minimize and theirs.noise_sign == 1  # their sign: the noise added to costs
    assert theirs(torch.tensor([[1.0, 3.0, 2.0]]), 1).tolist() == [[1.0, 0.0, 0.0]]  # [1, 3, 4] -> e0
    with pytest.raises(TypeError, match="not both"):
        imle(top_k, input_noise_temperature=1.0, theta_noise_temperature=2.0)
    with pytest.raises(ValueError, match="disagree"):
        imle(top_k, minimize=False, _is_minimization=True)


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


def test_what_differs_from_pyepos_adaptive_implicit_mle():
    """PyEPO's adaptiveImplicitMLE beside our closest settings (the adaptive target with
    torch-adaptive-imle's norms, PyEPO's step and noise sign, the sum trick of the implicitMLE
    row), on the same fixed noise: the same samples and the same target step, but PyEPO divides by
    lambda where we divide by lambda / sqrt(S), and it adapts on another statistic (the share of
    non-zero entries of the mean gradient, against 1) than ours (non-zero entries per sample)."""
    pytest.importorskip("ortools")
    pyepo_func = pytest.importorskip("pyepo.func")
    from pyepo.model.ort import shortestPathModel

    model = shortestPathModel(grid=(4, 4))
    batch, samples, sigma = 3, 4, 1.0
    generator = torch.Generator().manual_seed(0)
    costs = torch.rand(batch, model.num_cost, generator=generator) + 0.1
    noise = SumOfGammaNoiseDistribution(k=5.0, nb_iterations=10).sample([batch, samples, model.num_cost],
                                                                         generator=generator)
    weights = torch.randn(batch, model.num_cost, generator=generator)

    class PyEPONoise:
        def sample(self, size, device=None, dtype=torch.float32):
            return noise.to(dtype).reshape(size)

    def solve_each(cost_batch):
        solutions = []
        for cost in cost_batch:
            model.setObj(cost.detach().numpy())
            solutions.append(torch.as_tensor(np.asarray(model.solve()[0]), dtype=cost_batch.dtype))
        return torch.stack(solutions)

    theirs_cost = costs.clone().requires_grad_()
    theirs = pyepo_func.adaptiveImplicitMLE(model, n_samples=samples, sigma=sigma, distribution=PyEPONoise())
    theirs_mean = theirs(theirs_cost)
    (theirs_mean * weights).sum().backward()

    target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=1e-3, per_instance=False)
    ours_cost = costs.clone().requires_grad_()
    ours = imle(solve_each, target_distribution=target, noise_distribution=FixedNoise(noise), nb_samples=samples,
                input_noise_temperature=sigma, target_noise_temperature=sigma, minimize=True, noise_sign=1)
    summed = ours(ours_cost).view(batch, samples, -1).sum(dim=1)
    ((summed.detach() / samples + (summed - summed.detach())) * weights).sum().backward()

    assert torch.equal(summed / samples, theirs_mean)  # the same samples
    assert theirs_cost.grad.abs().sum() > 0
    torch.testing.assert_close(ours_cost.grad / math.sqrt(samples), theirs_cost.grad, rtol=1e-5, atol=1e-6)
    share = float((theirs_cost.grad.abs() > 1e-8).double().mean())  # PyEPO's statistic: a share, <= 1
    assert theirs.grad_norm_avg == pytest.approx(0.9 + 0.1 * share) and theirs.alpha == pytest.approx(1.001)
    # ours: the mean count of non-zero entries per sample, several here, so beta falls instead
    assert float(target.grad_norm) > 1.0 and float(target.beta) == pytest.approx(0.999)


def test_the_adaptive_targets_norms_are_the_estimators_unless_it_says():
    """One instance of norm 5 and one of norm 1: per instance (imle's default) each gets its own step;
    with the whole-tensor norms (aimle's default, theirs) both share one."""
    theta = [[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]
    dy = [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]

    def steps(layer):
        seen = []
        solver = lambda params, k: seen.append(params.detach().clone()) or top_k(params, k)  # noqa: E731
        gradient(layer(solver), theta, dy, 1)
        return seen[-1][-2:]  # the right points of the backward pass's solve

    held = dict(beta=1.0, beta_update_step=0.0)
    ours = steps(lambda s: imle(s, target_distribution=AdaptiveTargetDistribution(**held)))
    theirs = steps(lambda s: aimle(s, target_distribution=AdaptiveTargetDistribution(**held)))
    # per instance: lambda_0 = 5, lambda_1 = 1; whole tensors: ||theta|| / ||dy|| = sqrt(26) / sqrt(2)
    torch.testing.assert_close(ours, torch.tensor([[3.0, -1.0, 0.0], [-1.0, 0.0, 1.0]]))
    shared = math.sqrt(26) / math.sqrt(2)
    torch.testing.assert_close(theirs, torch.tensor([[3.0, 4.0 - shared, 0.0], [-shared, 0.0, 1.0]]))
    forced = steps(lambda s: imle(s, target_distribution=AdaptiveTargetDistribution(per_instance=False, **held)))
    torch.testing.assert_close(forced, theirs)


# ---- torch-adaptive-imle's ste, sfe and selections ----

def test_ste_samples_the_noisy_solver_and_averages_dy_over_the_samples():
    from imle.ste import ste

    noise = FixedNoise([[[0.0, 0.0, 3.0], [4.0, 0.0, 0.0]]])  # S = 2 samples of one instance
    layer = ste(lambda w: top_k(w, 1), noise_distribution=noise, noise_temperature=0.5, nb_samples=2)
    theta = torch.tensor([[0.0, 1.0, 0.0]], requires_grad=True)
    y = layer(theta)  # theta + 0.5 eps: [0, 1, 1.5] -> e2; [2, 1, 0] -> e0
    assert y.tolist() == [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    y.backward(torch.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, -1.0]]))
    assert theta.grad.tolist() == [[2.0, 1.0, 1.0]]


def test_sfe_is_ste_with_one_sample_and_passes_dy_unchanged():
    from imle.sfe import sfe

    noise = FixedNoise([[0.0, 0.0, 3.0]])
    theta = torch.tensor([[0.0, 1.0, 0.0]], requires_grad=True)
    y = sfe(lambda w: top_k(w, 1), noise_distribution=noise)(theta)
    assert y.tolist() == [[0.0, 0.0, 1.0]]
    y.backward(torch.tensor([[0.5, -1.0, 2.0]]))
    assert theta.grad.tolist() == [[0.5, -1.0, 2.0]]


def test_select_k_chooses_k_per_row_and_mathias_keeps_ties():
    from imle.solvers import mathias_select_k, select_k

    logits = torch.tensor([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 5.0]])
    chosen = select_k(logits, 2)
    assert chosen.sum(dim=1).tolist() == [2.0, 2.0] and chosen[0, 1] == chosen[0, 2] == 1 and chosen[1, 3] == 1
    assert mathias_select_k(logits, 2).tolist() == [[0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 1.0, 1.0]]
    assert torch.equal(select_k(torch.randn(5, 9, generator=torch.Generator().manual_seed(0)), 3).sum(1),
                       torch.full((5,), 3.0))
    with pytest.raises(ValueError, match="k must be between 1 and 4"):
        select_k(logits, 5)
    with pytest.raises(TypeError, match="logits must be a floating"):
        mathias_select_k(torch.ones(2, 3, dtype=torch.int64), 1)
