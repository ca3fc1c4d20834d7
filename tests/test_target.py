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
        (dict(beta=-1.0), ValueError, "beta must be >= 0"),
        (dict(alpha=float("nan")), ValueError, "alpha must be finite"),
        (dict(beta=float("inf")), ValueError, "beta must be finite"),
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
