"""The textbook baseline, written the way the original torch-imle code works.

* ``python_dijkstra``: a per-instance heapq Dijkstra over a numpy grid, reading cells one at a
  time, exploring the whole grid, then following stored parents back (blackbox-backprop's and
  torch-imle's example solver).
* ``LoopSumOfGamma``: Sum-of-Gamma noise drawn with a Python loop of one
  ``torch.distributions.Gamma`` sample per iteration.
* ``textbook_imle``: the original wrapper: an autograd Function class created per call.

Used by bench/run.py as contender (a); nothing in the library imports it.
"""
from __future__ import annotations

import heapq
import math
from functools import partial

import numpy as np
import torch

NEIGHBOURS = {
    8: [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)],
    4: [(-1, 0), (0, -1), (0, 1), (1, 0)],
}


def grid_neighbours(x: int, y: int, x_max: int, y_max: int, neighbourhood: int) -> list:
    """In-bounds neighbours of (x, y), built as a fresh list per call (as the original does)."""
    return [(x + dx, y + dy) for dx, dy in NEIGHBOURS[neighbourhood]
            if 0 <= x + dx < x_max and 0 <= y + dy < y_max]


def python_dijkstra(matrix: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    """Shortest-path mask of one [H, W] cost grid (vertex-weighted, corner to corner).

    Like the original, it indexes numpy cells one at a time, explores the whole grid, and does
    not skip stale heap entries (a popped cell that is already settled is expanded again).
    """
    x_max, y_max = matrix.shape
    neighbours = partial(grid_neighbours, x_max=x_max, y_max=y_max, neighbourhood=neighbourhood)
    costs = np.full_like(matrix, 1.0e10)
    costs[0][0] = matrix[0][0]
    queue = [(matrix[0][0], (0, 0))]
    certain = set()
    transitions = {}
    while queue:
        _, (cx, cy) = heapq.heappop(queue)
        for x, y in neighbours(cx, cy):
            if (x, y) not in certain:
                if matrix[x][y] + costs[cx][cy] < costs[x][y]:
                    costs[x][y] = matrix[x][y] + costs[cx][cy]
                    heapq.heappush(queue, (costs[x][y], (x, y)))
                    transitions[(x, y)] = (cx, cy)
        certain.add((cx, cy))
    on_path = np.zeros_like(matrix)
    on_path[-1][-1] = 1
    cx, cy = x_max - 1, y_max - 1
    while (cx, cy) != (0, 0):
        cx, cy = transitions[(cx, cy)]
        on_path[cx][cy] = 1.0
    return on_path


def textbook_torch_solver(weights_batch: torch.Tensor, neighbourhood: int = 8) -> torch.Tensor:
    """Maximisation convention like the library's: weights = -costs; one instance at a time."""
    weights = weights_batch.detach().cpu().numpy()
    y = np.asarray([python_dijkstra(np.maximum(-w, 0.0), neighbourhood) for w in weights])
    return torch.tensor(y, dtype=weights_batch.dtype)


class LoopSumOfGamma:
    """The original Sum-of-Gamma sampler: one Gamma sample of the whole shape per iteration."""

    def __init__(self, k: float, nb_iterations: int = 10):
        self.k, self.nb_iterations = k, nb_iterations

    def sample(self, shape) -> torch.Tensor:
        samples = torch.zeros(shape)
        for i in range(1, self.nb_iterations + 1):
            gamma = torch.distributions.Gamma(torch.tensor(1.0 / self.k), torch.tensor(i / self.k))
            samples = samples + gamma.sample(shape)
        return (samples - math.log(self.nb_iterations)) / self.k


def textbook_imle(function, alpha, beta, noise, nb_samples, input_temperature, target_temperature):
    """The original wrapper's structure: a new autograd.Function class on every call."""

    def wrapper(theta):
        class WrappedFunc(torch.autograd.Function):
            @staticmethod
            def forward(ctx, theta):
                b, rest = theta.shape[0], list(theta.shape[1:])
                shape = [b, nb_samples] + rest
                eps = noise.sample(torch.Size(shape))
                perturbed = theta.view(b, 1, -1).repeat(1, nb_samples, 1).view(shape) + input_temperature * eps
                z = function(perturbed.view([-1] + rest))
                ctx.save_for_backward(theta, eps, z)
                return z

            @staticmethod
            def backward(ctx, dy):
                theta, eps, z = ctx.saved_tensors
                b, rest = theta.shape[0], list(theta.shape[1:])
                shape = [b, nb_samples] + rest
                repeated = theta.view(b, 1, -1).repeat(1, nb_samples, 1).view([-1] + rest)
                target = alpha * repeated - beta * dy + target_temperature * eps.view([-1] + rest)
                z_prime = function(target)
                return (z - z_prime).view(shape).mean(dim=1)

        return WrappedFunc.apply(theta)

    return wrapper
