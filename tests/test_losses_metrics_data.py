"""What researchers otherwise write by hand: the Hamming loss with its reduction made explicit
(and what the reduction does to I-MLE's gradient), the metrics (regret against PyEPO's own
metric.regret on its model), and the Warcraft-like data generator."""
import numpy as np
import pytest
import torch

from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle
from imle.data import COSTS, TERRAINS, warcraft_maps
from imle.losses import hamming_loss
from imle.metrics import exact_match_accuracy, hamming_distance, optimal_cost_accuracy, regret
from imle.solvers import grid_shortest_path


# ---- the loss ----

def test_hamming_loss_broadcasts_the_gold_to_each_instances_samples():
    samples = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])  # B = 2, S = 2
    gold = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert hamming_loss(samples, gold, reduction="none").tolist() == [0.0, 1.0, 1.0, 0.0]
    assert float(hamming_loss(samples, gold, reduction="sum")) == 2.0
    assert float(hamming_loss(samples, gold, reduction="mean")) == 0.5
    assert hamming_loss(samples, samples, reduction="sum") == 0  # the gold may be [B * S, ...] too


def test_its_gradient_is_plus_minus_one_summed_and_that_over_b_s_averaged():
    gold = torch.tensor([[1.0, 0.0, 1.0]])
    for reduction, scale in (("sum", 1.0), ("mean", 1.0 / 4)):
        samples = torch.zeros(4, 3, requires_grad=True)  # B = 1, S = 4
        hamming_loss(samples, gold, reduction=reduction).backward()
        assert samples.grad.tolist() == [[-scale, scale, -scale]] * 4


def test_the_reduction_changes_i_mles_target_step():
    """A grid layer with B = 4 maps of 12x12 cells and S = 4 samples: averaged, the same beta
    moves the target B * S times less and fewer gradient entries are non-zero; with beta times B * S
    (a power of two: exact) averaging gives the summed loss's gradient exactly."""
    costs = torch.rand(4, 12, 12, generator=torch.Generator().manual_seed(0)) * 4 + 1
    gold = grid_shortest_path(torch.ones(4, 12, 12))

    def gradient(reduction, beta):
        layer = imle(grid_shortest_path, target_distribution=TargetDistribution(beta=beta), nb_samples=4,
                     noise_distribution=SumOfGammaNoiseDistribution(12.0, 20), input_noise_temperature=1.0,
                     minimize=True, generator=torch.Generator().manual_seed(1))
        theta = costs.clone().requires_grad_()
        hamming_loss(layer(theta), gold, reduction=reduction).backward()
        return theta.grad

    summed, averaged = gradient("sum", 2.0), gradient("mean", 2.0)
    assert torch.count_nonzero(averaged) < torch.count_nonzero(summed)
    assert torch.equal(gradient("mean", 2.0 * 16), summed)


@pytest.mark.parametrize("call, error, message", [
    (lambda: hamming_loss(torch.zeros(4, 3), torch.zeros(1, 3)), TypeError, "reduction"),
    (lambda: hamming_loss(torch.zeros(4, 3), torch.zeros(1, 3), reduction="average"), ValueError,
     "reduction must be one of 'sum', 'mean', 'none'"),
    (lambda: hamming_loss(torch.zeros(4, 3), torch.zeros(3, 3), reduction="sum"), ValueError, "B dividing"),
    (lambda: hamming_loss(torch.zeros(4, 3), torch.zeros(2, 4), reduction="sum"), ValueError, "solution shape"),
    (lambda: hamming_loss([[0.0]], torch.zeros(1, 1), reduction="sum"), TypeError, "must be tensors"),
])
def test_bad_loss_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ---- metrics ----

def pyepo_shortest_paths():
    """PyEPO's own data, model and DataLoader on its 5x5 grid, and a linear predictor."""
    pyepo = pytest.importorskip("pyepo")
    pytest.importorskip("ortools")
    from pyepo.model.ort import shortestPathModel

    model = shortestPathModel(grid=(5, 5))
    features, costs = pyepo.data.shortestpath.genData(num_data=60, num_features=4, grid=(5, 5), deg=4,
                                                      noise_width=0.5, seed=3)
    dataset = pyepo.data.dataset.optDataset(model, features, costs)
    torch.manual_seed(0)
    predictor = torch.nn.Linear(4, model.num_cost)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, shuffle=False)
    return pyepo, model, predictor, loader, dataset


def test_regret_is_pyepos_regret_on_its_own_model():
    pyepo, model, predictor, loader, dataset = pyepo_shortest_paths()
    with torch.no_grad():
        predicted = predictor(torch.as_tensor(dataset.feats, dtype=torch.float32))
    solutions = []  # the decisions PyEPO's metric takes: its model's, on the predicted costs
    for cost in predicted.numpy():
        model.setObj(cost)
        solutions.append(model.solve()[0])
    solutions = torch.as_tensor(np.array(solutions))
    costs, objectives = torch.as_tensor(dataset.costs), torch.as_tensor(dataset.objs).reshape(-1)
    for reduction in ("normalized", "sum", "mean"):
        ours = regret(solutions, costs, objectives, reduction=reduction)
        theirs = pyepo.metric.regret(predictor, model, loader, reduction=reduction)
        assert ours == pytest.approx(float(theirs), rel=1e-6, abs=1e-9), reduction
    np.testing.assert_allclose(regret(solutions, costs, torch.as_tensor(dataset.sols), reduction="none").numpy(),
                               pyepo.metric.regret(predictor, model, loader, reduction="none"), rtol=1e-6, atol=1e-9)
    assert regret(solutions, costs, objectives) > 0


def test_regret_when_maximising_and_the_accuracies():
    values = torch.tensor([[3.0, 1.0], [2.0, 2.0], [1.0, 5.0]])
    chosen = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    best = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])  # instance 1 ties: a different choice, same value
    assert regret(chosen, values, best, sense="max", reduction="none").tolist() == [2.0, 0.0, 0.0]
    assert regret(chosen, values, best, sense="max") == pytest.approx(2.0 / 10.0)
    assert optimal_cost_accuracy(chosen, values, best, sense="max") == pytest.approx(2 / 3)
    assert exact_match_accuracy(chosen, best) == pytest.approx(1 / 3)
    assert hamming_distance(chosen, best).tolist() == [2.0, 2.0, 0.0]


@pytest.mark.parametrize("call, message", [
    (lambda: regret(torch.zeros(2, 3), torch.zeros(2, 4), torch.zeros(2)), "same shape"),
    (lambda: regret(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(3)), "optimal must be"),
    (lambda: regret(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2), sense="minimum"), "sense must be"),
    (lambda: regret(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2), reduction="median"), "reduction must be"),
    (lambda: hamming_distance(torch.zeros(2, 3), torch.zeros(3, 3)), "same shape"),
])
def test_bad_metric_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---- data ----

def test_warcraft_maps_are_seeded_and_consistent():
    maps = warcraft_maps(6, grid=(7, 9), tile=5, seed=4)
    assert maps.images.shape == (6, 3, 35, 45) and maps.images.dtype == torch.float32
    assert 0 <= maps.images.min() and maps.images.max() <= 1
    assert torch.equal(maps.costs, torch.as_tensor(COSTS, dtype=torch.float32)[maps.terrain])
    assert torch.equal(maps.paths, grid_shortest_path(maps.costs))
    assert (maps.terrain == 0).any(dim=(1, 2)).all()  # every map has a road
    again = warcraft_maps(6, grid=(7, 9), tile=5, seed=4)
    assert all(torch.equal(a, b) for a, b in zip((maps.images, maps.costs), (again.images, again.costs)))
    assert not torch.equal(warcraft_maps(6, grid=(7, 9), tile=5, seed=5).costs, maps.costs)
    image, costs, path = maps[2]
    assert image.shape == (3, 35, 45) and torch.equal(costs, maps.costs[2]) and len(maps) == 6


def test_a_map_image_shows_its_terrain():
    """Each terrain's tiles differ in mean colour from every other terrain's: the costs can be read
    from the pixels (what the CNN learns)."""
    maps = warcraft_maps(20, grid=10, tile=6, seed=0)
    tiles = maps.images.unfold(2, 6, 6).unfold(3, 6, 6).mean(dim=(-1, -2))  # [N, 3, H, W] mean colour per tile
    means = torch.stack([tiles.permute(0, 2, 3, 1)[maps.terrain == kind].mean(0) for kind in range(len(TERRAINS))])
    gaps = torch.cdist(means, means) + torch.eye(len(TERRAINS))
    assert gaps.min() > 0.1


@pytest.mark.parametrize("kwargs, message", [(dict(count=0), "count must be an int >= 1"),
                                             (dict(count=2, grid=1), "grid must be an int >= 2"),
                                             (dict(count=2, tile=0), "tile must be an int >= 1")])
def test_bad_data_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        warcraft_maps(**kwargs)
