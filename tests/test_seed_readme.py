"""The torch-imle README's two code blocks, pasted unchanged, run against this library."""
from torch import nn

from imle.solvers import grid_max_weight_path

# What the README assumes exists: a per-instance black-box solver and a few settings.
solver = grid_max_weight_path  # solver(w): one [H, W] weight map -> its best path (maximises <w, y>)
k = 16.0
input_noise_temperature = 1.0
target_noise_temperature = 5.0


def test_seed_readme_code_blocks_run_unchanged_and_give_gradients():
    # ---- first code block of the README, unchanged ----
    import numpy as np

    import torch
    from torch import Tensor

    def torch_solver(weights_batch: Tensor) -> Tensor:
        weights_batch = weights_batch.detach().cpu().numpy()
        y_batch = np.asarray([solver(w) for w in list(weights_batch)])
        return torch.tensor(y_batch, requires_grad=False)

    # ---- second code block of the README, unchanged ----
    from imle.wrapper import imle
    from imle.target import TargetDistribution
    from imle.noise import SumOfGammaNoiseDistribution

    target_distribution = TargetDistribution(alpha=0.0, beta=10.0)
    noise_distribution = SumOfGammaNoiseDistribution(k=k, nb_iterations=100)

    def torch_solver(weights_batch: Tensor) -> Tensor:
        weights_batch = weights_batch.detach().cpu().numpy()
        y_batch = np.asarray([solver(w) for w in list(weights_batch)])
        return torch.tensor(y_batch, requires_grad=False)

    imle_solver = imle(torch_solver,
                       target_distribution=target_distribution,
                        noise_distribution=noise_distribution,
                        nb_samples=10,
                        input_noise_temperature=input_noise_temperature,
                        target_noise_temperature=target_noise_temperature)

    # ---- the annotation form, unchanged ----
    @imle(target_distribution=target_distribution,
          noise_distribution=noise_distribution,
          nb_samples=10,
          input_noise_temperature=input_noise_temperature,
          target_noise_temperature=target_noise_temperature)
    def imle_solver_annotated(weights_batch: Tensor) -> Tensor:
        return torch_solver(weights_batch)

    # ---- use both, with an upstream parameter ----
    torch.manual_seed(0)
    gold = torch.eye(16).expand(2 * 10, 16, 16)
    for layer in (imle_solver, imle_solver_annotated):
        weights = nn.Parameter(-torch.rand(2, 16, 16) * 10)  # theta = -costs
        paths = layer(weights)
        assert paths.shape == (20, 16, 16)
        loss = ((paths - gold) ** 2).sum()
        loss.backward()
        assert weights.grad.shape == weights.shape
        assert weights.grad.abs().sum() > 0
