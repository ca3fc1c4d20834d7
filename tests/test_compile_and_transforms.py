"""Layers under torch.compile, torch.func and activation checkpointing: every estimator with every
shipped solver compiles and gives eager's outputs and gradients for the same seed; top_k and the
grid solver compile with fullgraph=True under both noises; torch.func.grad gives backward's
gradient and vmap merges an extra batch dimension; a checkpointed recompute redraws the same
noise, with a generator or without, reentrant or not."""
import pytest
import torch
from torch.func import grad, vmap
from torch.utils.checkpoint import checkpoint

from estimator_cases import ESTIMATORS, NOISES, SOLVERS, estimator
from imle import GumbelNoiseDistribution, SumOfGammaNoiseDistribution, TargetDistribution, imle
from imle.estimators._layer import NoiseReplay
from imle.aimle import aimle
from imle.solvers import grid_shortest_path, top_k
from imle.ste import ste


def weights(y: torch.Tensor) -> torch.Tensor:
    """A loss's weights for every entry of one solution (irregular: weights that grow by row and
    column give every matching the same total): the loss <w, y> summed over the batch."""
    return torch.sin(torch.arange(y[0].numel(), dtype=y.dtype) * 1.7 + 0.3).view(y.shape[1:])


def loss(y: torch.Tensor) -> torch.Tensor:
    return (y * weights(y)).sum()


def outputs_and_gradient(layer, theta, args, run=None):
    """(y, dL/dtheta) of the loss <w, y> through ``run`` (default: the layer itself)."""
    theta = theta.clone().requires_grad_()
    y = (run or layer)(theta, *args)
    loss(y).backward()
    return y.detach(), theta.grad


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


@pytest.mark.parametrize("solver_name", list(SOLVERS))
@pytest.mark.parametrize("name", ESTIMATORS)
def test_every_layer_compiles_and_gives_eagers_outputs_and_gradients(name, solver_name):
    make_solver, shape, args, minimize = SOLVERS[solver_name]
    solver = make_solver()
    theta = torch.rand(shape, generator=torch.Generator().manual_seed(0)) + 0.1
    eager = outputs_and_gradient(estimator(name, solver, GumbelNoiseDistribution(), minimize), theta, args)
    layer = estimator(name, solver, GumbelNoiseDistribution(), minimize)
    compiled = outputs_and_gradient(layer, theta, args, run=torch.compile(lambda t, *a: layer(t, *a)))
    assert torch.equal(compiled[0], eager[0])
    # the solutions are equal; a gradient summed over samples by a compiled kernel may round differently
    torch.testing.assert_close(compiled[1], eager[1], rtol=1e-5, atol=1e-6)
    assert eager[1].abs().sum() > 0


FULLGRAPH = ["imle", "imle-two-sided", "blackbox", "perturbed", "straight-through", "score-function"]


@pytest.mark.parametrize("noise", list(NOISES))
@pytest.mark.parametrize("solver_name", ["grid_shortest_path", "top_k"])
@pytest.mark.parametrize("name", FULLGRAPH)
def test_top_k_and_the_grid_solver_compile_as_one_graph(name, solver_name, noise):
    make_solver, shape, args, minimize = SOLVERS[solver_name]
    theta = torch.rand(shape, generator=torch.Generator().manual_seed(0)) + 0.1
    eager = outputs_and_gradient(estimator(name, make_solver(), NOISES[noise](), minimize), theta, args)
    layer = estimator(name, make_solver(), NOISES[noise](), minimize)
    run = torch.compile(lambda t, *a: layer(t, *a), fullgraph=True)  # a graph break would raise
    compiled = outputs_and_gradient(layer, theta, args, run=run)
    assert torch.equal(compiled[0], eager[0])
    torch.testing.assert_close(compiled[1], eager[1], rtol=1e-5, atol=1e-6)


def test_a_compiled_model_trains_like_the_eager_one():
    """A small CNN and the layer compiled together, three Adam steps: the same paths and losses."""
    def train(compiled: bool) -> list:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(4, 1, 1),
                                  torch.nn.Softplus())
        layer = imle(grid_shortest_path, target_distribution=TargetDistribution(beta=10.0), nb_samples=4,
                     noise_distribution=SumOfGammaNoiseDistribution(6.0, 20), minimize=True,
                     generator=torch.Generator().manual_seed(1))
        model = torch.nn.Sequential(net, torch.nn.Flatten(0, 1), layer)
        step = torch.compile(model) if compiled else model
        optimiser = torch.optim.Adam(net.parameters(), lr=0.1)
        x = torch.rand(2, 1, 6, 6, generator=torch.Generator().manual_seed(2))
        gold = torch.eye(6).expand(8, 6, 6)
        history = []
        for _ in range(3):
            optimiser.zero_grad()
            paths = step(x)
            loss = (paths * (1 - gold) + (1 - paths) * gold).sum()
            loss.backward()
            optimiser.step()
            history.append((paths.detach(), loss.item()))
        return history

    for (eager_paths, eager_loss), (compiled_paths, compiled_loss) in zip(train(False), train(True)):
        assert torch.equal(eager_paths, compiled_paths) and eager_loss == compiled_loss


# ---- torch.func ----

TRANSFORMED = ESTIMATORS + ["ste"]


def transformed(name):
    if name == "ste":
        return ste(grid_shortest_path, noise_distribution=SumOfGammaNoiseDistribution(5.0, 10), nb_samples=3,
                   generator=torch.Generator().manual_seed(7))
    return estimator(name, grid_shortest_path, SumOfGammaNoiseDistribution(5.0, 10), True)


THETA = torch.rand(2, 5, 5, generator=torch.Generator().manual_seed(0)) + 0.1


@pytest.mark.parametrize("name", TRANSFORMED)
def test_torch_func_grad_is_the_backward_passes_gradient(name):
    _, expected = outputs_and_gradient(transformed(name), THETA, ())
    layer = transformed(name)
    got = grad(lambda theta: loss(layer(theta)))(THETA)
    assert torch.equal(got, expected) and got.abs().sum() > 0


@pytest.mark.parametrize("name", TRANSFORMED)
def test_vmap_over_an_extra_batch_dimension_is_the_merged_batch(name):
    merged = transformed(name)(THETA)
    layer = transformed(name)
    stacked = vmap(layer)(THETA.view(2, 1, 5, 5))  # two vmapped examples of one instance each
    assert stacked.shape == (2, merged.shape[0] // 2, 5, 5) and torch.equal(stacked.reshape(merged.shape), merged)


def test_vmap_of_grad_is_each_examples_gradient():
    layer = transformed("imle")
    per_example = vmap(grad(lambda theta: loss(layer(theta))))(THETA.view(2, 1, 5, 5))
    _, together = outputs_and_gradient(transformed("imle"), THETA, ())
    assert torch.equal(per_example.view(2, 5, 5), together)


# ---- activation checkpointing ----

def checkpointed_gradient(layer, theta, reentrant: bool) -> torch.Tensor:
    theta = theta.clone().requires_grad_()
    calls = []

    def block(x):
        calls.append(1)
        return loss(layer(x * 1.0))

    checkpoint(block, theta, use_reentrant=reentrant).backward()
    assert len(calls) == 2  # the forward pass, then its recompute in the backward pass
    return theta.grad


@pytest.mark.parametrize("reentrant", [False, True], ids=["non-reentrant", "reentrant"])
@pytest.mark.parametrize("with_generator", [True, False], ids=["generator", "global-rng"])
@pytest.mark.parametrize("name", ["imle", "aimle", "imle-two-sided", "perturbed", "score-function", "ste"])
def test_a_checkpointed_recompute_redraws_the_same_noise(name, with_generator, reentrant):
    def layer():
        built = transformed(name)
        if not with_generator:
            built.generator = None
            torch.manual_seed(3)
        return built

    _, plain = outputs_and_gradient(layer(), THETA, ())
    assert torch.equal(checkpointed_gradient(layer(), THETA, reentrant), plain)


def test_without_the_replay_a_generators_recompute_would_draw_other_noise(monkeypatch):
    _, plain = outputs_and_gradient(transformed("imle"), THETA, ())
    monkeypatch.setattr(NoiseReplay, "generator_for", lambda self, theta, generator: generator)
    assert not torch.equal(checkpointed_gradient(transformed("imle"), THETA, False), plain)


def test_aimle_with_their_plain_target_goes_through_grad_and_compile():
    def layer():
        return aimle(top_k, target_distribution=TargetDistribution(beta=5.0), nb_samples=2,
                     noise_distribution=GumbelNoiseDistribution(), generator=torch.Generator().manual_seed(0))

    theta = torch.randn(3, 6, generator=torch.Generator().manual_seed(1))
    _, expected = outputs_and_gradient(layer(), theta, (2,))
    built = layer()
    assert torch.equal(grad(lambda t: loss(built(t, 2)))(theta), expected)
    built = layer()
    _, compiled = outputs_and_gradient(built, theta, (2,), run=torch.compile(lambda t, k: built(t, k), fullgraph=True))
    torch.testing.assert_close(compiled, expected, rtol=1e-5, atol=1e-6)
