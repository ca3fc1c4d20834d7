"""Independent oracles for the tests: nothing here imports imle's solver code."""
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

OFFSETS = {
    8: [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)],
    4: [(-1, 0), (0, -1), (0, 1), (1, 0)],
}


def _graph(cost: np.ndarray, neighbourhood: int) -> csr_matrix:
    """The grid as a directed graph whose edge u -> v weighs v's cost (a vertex-weighted path's
    cost is then its first cell's cost plus its edges')."""
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
    # explicit zeros would be dropped as "no edge": keep them as the smallest positive weight
    return csr_matrix((np.maximum(weights, 1e-300), (rows, cols)), shape=(H * W, H * W))


def optimal_cost(cost: np.ndarray, neighbourhood: int, source: int = 0, target: int = -1) -> float:
    """Cheapest vertex-weighted path cost between two flat cells (default corner to corner), by
    scipy's Dijkstra (costs >= 0)."""
    dist = dijkstra(_graph(cost, neighbourhood), directed=True, indices=source)
    return float(dist[target] + cost.flat[source])


def fewest_cells(cost: np.ndarray, neighbourhood: int, source: int = 0, target: int = -1) -> int:
    """The fewest cells of a cheapest path between two flat cells (costs >= 0): a breadth-first
    walk from the source over the moves that keep to a cheapest path (by scipy's distances from
    the source and to the target, to a relative 1e-9)."""
    H, W = cost.shape
    target = target % (H * W)
    graph = _graph(cost, neighbourhood)
    from_source = dijkstra(graph, directed=True, indices=source)
    # on the reversed edges a path from the target to v weighs the costs after v through the target
    to_target = dijkstra(graph.T.tocsr(), directed=True, indices=target)
    best = from_source[target]
    close = lambda a, b: abs(a - b) <= 1e-9 * max(1.0, abs(b))  # noqa: E731
    on_best = [close(from_source[v] + to_target[v], best) for v in range(H * W)]
    steps, frontier = {source: 0}, [source]
    while frontier and target not in steps:
        following = []
        for u in frontier:
            r, c = divmod(u, W)
            for dr, dc in OFFSETS[neighbourhood]:
                if 0 <= r + dr < H and 0 <= c + dc < W:
                    v = (r + dr) * W + c + dc
                    if v not in steps and on_best[v] and close(from_source[u] + cost.flat[v], from_source[v]):
                        steps[v] = steps[u] + 1
                        following.append(v)
        frontier = following
    return steps[target] + 1


def is_path_between(mask: np.ndarray, neighbourhood: int, source: tuple, target: tuple) -> bool:
    """True when the 1-cells are connected and hold both ends."""
    cells = {(int(r), int(c)) for r, c in zip(*np.nonzero(mask))}
    if source not in cells or target not in cells:
        return False
    seen, stack = {source}, [source]
    while stack:
        r, c = stack.pop()
        for dr, dc in OFFSETS[neighbourhood]:
            nxt = (r + dr, c + dc)
            if nxt in cells and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return seen == cells


def check_cheapest_path(mask: np.ndarray, cost: np.ndarray, neighbourhood: int, source: tuple = (0, 0),
                        target: tuple = (-1, -1)) -> None:
    """Assert that ``mask`` is what the grid solver's rules ask for, by the oracles above: a
    connected set of cells holding both ends, of the cheapest cost and of the fewest cells among
    the cheapest paths (so itself a simple path). Costs below zero count as zero (the rule)."""
    H, W = cost.shape
    cost = np.maximum(np.asarray(cost, dtype=np.float64), 0.0)
    source, target = (source[0] % H, source[1] % W), (target[0] % H, target[1] % W)
    ends = source[0] * W + source[1], target[0] * W + target[1]
    mask = np.asarray(mask, dtype=np.float64)
    assert set(np.unique(mask)) <= {0.0, 1.0}
    assert is_path_between(mask, neighbourhood, source, target), "not a path between the ends"
    best = optimal_cost(cost, neighbourhood, *ends)
    assert abs((mask * cost).sum() - best) <= 1e-9 * max(1.0, best), ((mask * cost).sum(), best)
    assert int(mask.sum()) == fewest_cells(cost, neighbourhood, *ends)


def is_corner_path(mask: np.ndarray, neighbourhood: int) -> bool:
    """True when the 1-cells are connected and hold the corners (0, 0) and (H-1, W-1)."""
    H, W = mask.shape
    return is_path_between(mask, neighbourhood, (0, 0), (H - 1, W - 1))


def with_ctrl_c() -> None:
    """A subprocess's preexec_fn: SIGINT back to its default. A shell that starts a job in the
    background (`bash .ci/run &`, nohup) makes it ignore SIGINT, and a child inherits that: Python
    then never turns Ctrl-C into KeyboardInterrupt. A terminal's Ctrl-C comes with the default."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
