"""I-MLE on the torch-imle README map, in the terminal: sample paths, then the gradient.

Run: python examples/quickstart.py
"""
import torch

from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle
from imle.solvers import grid_shortest_path

# The README map: cost 1, walls of cost 100.
costs = torch.ones(16, 16)
costs[1:6, 0:12] = 100.0
costs[8:12, 1:16] = 100.0
costs[14:16, 6:10] = 100.0
gold = torch.eye(16)  # the gold path: the diagonal, the shortest path on a flat map

layer = imle(grid_shortest_path,
             target_distribution=TargetDistribution(alpha=1.0, beta=10.0),
             noise_distribution=SumOfGammaNoiseDistribution(k=float(grid_shortest_path(costs).sum()), nb_iterations=100),
             nb_samples=100, input_noise_temperature=1.0, target_noise_temperature=5.0,
             minimize=True, generator=torch.Generator().manual_seed(0))

theta = costs.unsqueeze(0).requires_grad_()      # [B=1, 16, 16] costs
paths = layer(theta)                             # [B * S = 100, 16, 16] sampled paths
loss = ((paths - gold) ** 2).sum(dim=(1, 2)).mean()  # Hamming loss to the gold path
loss.backward()

def show(grid, symbols):
    for row in grid:
        print(" ".join(symbols(v) for v in row.tolist()))

print("cost map (# = wall):")
show(costs, lambda v: "#" if v > 1 else ".")
print("\nshare of the 100 sampled paths through each cell (0-9, * = all):")
show(paths.mean(0), lambda v: "*" if v == 1 else (str(int(v * 10)) if v > 0 else "."))
print(f"\nmean Hamming loss to the diagonal: {loss.item():.1f}")
print("sign of dL/d cost: + positive (a descent step makes the cell cheaper), - negative (dearer), . zero")
show(theta.grad[0], lambda v: "+" if v > 0 else ("-" if v < 0 else "."))
