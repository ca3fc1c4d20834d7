"""A layer behaves like a PyTorch module: a model holding any estimator's layer (all seven, every
shipped solver, both noises) pickles, saves and loads with torch.save, and gives the same outputs
for the same seed; a deep copy adapts its own target; the target's state is in the state_dict;
map() gives the noise-free prediction."""
import copy
import io
import pickle

import numpy as np
import pytest
import torch

from estimator_cases import ESTIMATORS, NOISES, SOLVERS, estimator
from imle import AdaptiveTargetDistribution, GumbelNoiseDistribution, TargetDistribution, imle
from imle.peers import blackbox
from imle.solvers import grid_shortest_path, top_k


class Model(torch.nn.Module):
    """A user's model: a linear map to theta, then the estimator's layer."""

    def __init__(self, layer, shape, args):
        super().__init__()
        self.shape, self.args = shape, args
        self.linear = torch.nn.Linear(3, int(np.prod(shape[1:])))
        self.layer = layer

    def forward(self, x):
        theta = torch.nn.functional.softplus(self.linear(x)).view(self.shape)
        return self.layer(theta, *self.args)


def step(model, x):
    """One training step's outputs and gradients (the model's own grads are cleared first)."""
    model.zero_grad()
    y = model(x)
    (y * torch.arange(1, y[0].numel() + 1, dtype=y.dtype).view(y.shape[1:])).sum().backward()
    return y.detach(), model.linear.weight.grad.clone()


@pytest.mark.parametrize("noise", list(NOISES))
@pytest.mark.parametrize("solver_name", list(SOLVERS))
@pytest.mark.parametrize("name", ESTIMATORS)
def test_a_model_holding_any_layer_pickles_and_saves_and_gives_the_same_outputs(name, solver_name, noise):
    make_solver, shape, args, minimize = SOLVERS[solver_name]
    torch.manual_seed(0)
    model = Model(estimator(name, make_solver(), NOISES[noise](), minimize), shape, args)
    x = torch.rand(shape[0], 3, generator=torch.Generator().manual_seed(1))
    pickled = pickle.loads(pickle.dumps(model))
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    loaded = torch.load(buffer, weights_only=False)
    expected = step(model, x)  # the original's next step: the copies' generators are where it was
    for copied in (pickled, loaded):
        assert copied.layer is not model.layer and type(copied.layer) is type(model.layer)
        y, grad = step(copied, x)
        assert torch.equal(y, expected[0]) and torch.equal(grad, expected[1])


def test_the_seeds_decorator_form_at_module_level_pickles():
    from layers_for_pickling import decorated_top_two

    copied = pickle.loads(pickle.dumps(decorated_top_two))
    assert copied.solver is decorated_top_two.solver and copied.__name__ == "decorated_top_two"
    theta = torch.randn(2, 5)
    assert torch.equal(copied(theta), decorated_top_two(theta))  # both generators at the same state


def test_a_deep_copy_adapts_its_own_target_and_the_state_is_in_the_state_dict():
    target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.25)
    model = Model(imle(top_k, target_distribution=target, nb_samples=2), (2, 6), (2,))
    assert {"layer.target_distribution.beta", "layer.target_distribution.grad_norm",
            "layer.target_distribution.previous_update"} <= set(model.state_dict())
    average = copy.deepcopy(model)  # as EMA / model-averaging code keeps a copy
    step(average, torch.zeros(2, 3))
    moved = float(average.layer.target_distribution.beta)
    assert moved in (0.75, 1.25)  # one update of the copy's own target
    assert float(target.beta) == 1.0 and float(model.layer.target_distribution.beta) == 1.0
    assert model.layer.target_distribution is target and average.layer.target_distribution is not target
    restored = Model(imle(top_k, target_distribution=AdaptiveTargetDistribution(), nb_samples=2), (2, 6), (2,))
    restored.load_state_dict(average.state_dict())
    assert float(restored.layer.target_distribution.beta) == moved


def test_state_dict_of_a_plain_layer_holds_nothing_but_its_model():
    model = Model(imle(top_k, target_distribution=TargetDistribution(beta=2.0)), (2, 6), (2,))
    assert set(model.state_dict()) == {"linear.weight", "linear.bias"}


def test_map_gives_the_noise_free_prediction_and_the_forward_pass_stays_sampled():
    costs = torch.tensor([[[1.0, 9.0, 9.0], [1.0, 9.0, 9.0], [1.0, 1.0, 1.0]]])
    layer = imle(grid_shortest_path, noise_distribution=GumbelNoiseDistribution(), nb_samples=20,
                 input_noise_temperature=20.0, minimize=True, generator=torch.Generator().manual_seed(0))
    assert torch.equal(layer.map(costs, neighbourhood=4), grid_shortest_path(costs, neighbourhood=4))
    assert not layer.map(costs.clone().requires_grad_()).requires_grad
    layer.eval()  # evaluation mode changes nothing: the seed's layer has no modes
    samples = layer(costs, neighbourhood=4)
    assert samples.shape == (20, 3, 3) and len({s.numpy().tobytes() for s in samples}) > 1
    blackbox_layer = blackbox(top_k, lambda_=1.0)
    assert torch.equal(blackbox_layer.map(torch.tensor([[0.5, 2.0, 1.0]]), 1), torch.tensor([[0.0, 1.0, 0.0]]))


def test_a_layer_is_a_module_with_a_readable_repr():
    layer = imle(top_k, target_distribution=TargetDistribution(beta=3.0), nb_samples=4)
    assert isinstance(layer, torch.nn.Module)
    text = repr(layer)
    assert text.startswith("IMLE(") and "solver=top_k" in text and "nb_samples=4" in text and "beta=3.0" in text


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64], ids=str)
@pytest.mark.parametrize("solver_name", list(SOLVERS))
def test_every_solver_takes_any_floating_dtype_and_answers_in_it(solver_name, dtype):
    make_solver, shape, args, minimize = SOLVERS[solver_name]
    solver = make_solver()
    values = (torch.rand(shape, generator=torch.Generator().manual_seed(0)) + 0.1).to(dtype)
    direct = solver(values, *args)
    assert direct.dtype == dtype and direct.shape == values.shape
    # the solution of the same (rounded) values in float32: nothing lost on the way to the host
    assert torch.equal(direct.float(), solver(values.float(), *args))
    layer = estimator("imle", solver, GumbelNoiseDistribution(), minimize)
    theta = values.clone().requires_grad_()
    y = layer(theta, *args)
    y.sum().backward()
    assert y.dtype == dtype and theta.grad.dtype == dtype


def test_the_process_backend_takes_bfloat16():
    from imle.parallel import batched
    from solvers_for_parallel import argmax

    theta = torch.tensor([[0.5, 2.0, 1.0], [3.0, 0.0, 1.0]], dtype=torch.bfloat16)
    with batched(argmax, executor="process", workers=2) as solver:
        y = solver(theta)
    assert y.dtype == torch.bfloat16 and y.tolist() == [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]


def test_a_layer_over_a_running_process_pool_pickles_as_its_settings():
    from imle.solvers import ilp

    with ilp(A_ub=[[1.0, 1.0, 1.0]], b_ub=[2.0], executor="process", workers=2) as solver:
        layer = imle(solver, noise_distribution=GumbelNoiseDistribution(), nb_samples=2,
                     generator=torch.Generator().manual_seed(0))
        theta = torch.tensor([[3.0, -1.0, 2.0], [0.5, 1.0, 2.0]])
        layer(theta)  # the pool is running now
        assert solver._batched._pool is not None
        copied = pickle.loads(pickle.dumps(layer))
        with copied.solver:
            assert copied.solver._batched._pool is None  # it starts its own on its first call
            assert torch.equal(copied(theta), layer(theta))
