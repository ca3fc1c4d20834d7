"""Pure-Python grid shortest path: the reference the compiled solver is tested against.

Same rules as ``_gridpath.c`` (see the module comment there): vertex-weighted costs (finite,
>= 0, already validated), source (0, 0) and target (H - 1, W - 1) unless given as flat cell
indices, Dijkstra on the key
(cost, cells), and the path read back from the target by taking, at each cell, the first
neighbour in reading order whose key plus the cell's own (cost, 1) equals the cell's key.

It is also the fallback when the C extension could not be built: correct, about 100x slower.
"""
from __future__ import annotations

import heapq

import numpy as np

OFFSETS = {
    8: ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)),
    4: ((-1, 0), (0, -1), (0, 1), (1, 0)),
}


def solve_one(cost: np.ndarray, neighbourhood: int, source: int = 0, target: int = -1) -> np.ndarray:
    """Shortest-path mask of one [H, W] float64 cost grid (finite, >= 0), flat cell source to target."""
    H, W = cost.shape
    flat = cost.ravel().tolist()
    n = H * W
    target = target % n
    offsets = OFFSETS[neighbourhood]
    dist = [float("inf")] * n
    cells = [0] * n
    settled = [False] * n
    dist[source], cells[source] = flat[source], 1
    heap = [(flat[source], 1, source)]
    while heap:
        d, h, u = heapq.heappop(heap)
        if settled[u] or (d, h) != (dist[u], cells[u]):
            continue
        settled[u] = True
        if u == target:
            break
        r, c = divmod(u, W)
        for dr, dc in offsets:
            rr, cc = r + dr, c + dc
            if 0 <= rr < H and 0 <= cc < W:
                v = rr * W + cc
                if settled[v]:
                    continue
                key = (d + flat[v], h + 1)
                if key < (dist[v], cells[v]) or cells[v] == 0:
                    dist[v], cells[v] = key
                    heapq.heappush(heap, (key[0], key[1], v))

    mask = np.zeros(n, dtype=np.uint8)
    v = target
    mask[v] = 1
    while v != source:
        r, c = divmod(v, W)
        for dr, dc in offsets:
            rr, cc = r + dr, c + dc
            if 0 <= rr < H and 0 <= cc < W:
                u = rr * W + cc
                if settled[u] and cells[u] + 1 == cells[v] and dist[u] + flat[v] == dist[v]:
                    break
        else:  # pragma: no cover - keys are consistent for valid input
            raise RuntimeError("grid path read-back failed")
        v = u
        mask[v] = 1
    return mask.reshape(H, W)


def solve(costs: np.ndarray, neighbourhood: int, source: int = 0, target: int = -1) -> np.ndarray:
    """Masks [B, H, W] (uint8) for costs [B, H, W] (float64, finite, >= 0)."""
    out = np.empty(costs.shape, dtype=np.uint8)
    for b in range(costs.shape[0]):
        out[b] = solve_one(costs[b], neighbourhood, source, target)
    return out
