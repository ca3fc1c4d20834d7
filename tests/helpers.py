"""Independent oracles for the tests: nothing here imports imle's solver code."""
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

OFFSETS = {
    8: [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)],
    4: [(-1, 0), (0, -1), (0, 1), (1, 0)],
}


def optimal_cost(cost: np.ndarray, neighbourhood: int, source: int = 0, target: int = -1) -> float:
    """Cheapest vertex-weighted path cost between two flat cells (default corner to corner), by
    scipy's Dijkstra (costs > 0)."""
    H, W = cost.shape
    rows, cols, weights = [], [], []
    for r in range(H):
        for c in range(W):
            for dr, dc in OFFSETS[neighbourhood]:
                rr, cc = r + dr, c + dc
                if 0 <= rr < H and 0 <= cc < W:
                    rows.append(r * W + c)
                    cols.append(rr * W + cc)
                    weights.append(cost[rr, cc])
    graph = csr_matrix((weights, (rows, cols)), shape=(H * W, H * W))
    dist = dijkstra(graph, directed=True, indices=source)
    return float(dist[target] + cost.flat[source])


def is_corner_path(mask: np.ndarray, neighbourhood: int) -> bool:
    """True when the 1-cells form one simple path from (0, 0) to (H-1, W-1)."""
    H, W = mask.shape
    cells = {(int(r), int(c)) for r, c in zip(*np.nonzero(mask))}
    if (0, 0) not in cells or (H - 1, W - 1) not in cells:
        return False
    # walk from the start; every cell must be reachable within the set
    seen, stack = {(0, 0)}, [(0, 0)]
    while stack:
        r, c = stack.pop()
        for dr, dc in OFFSETS[neighbourhood]:
            nxt = (r + dr, c + dc)
            if nxt in cells and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen == cells
