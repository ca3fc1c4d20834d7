"""Shortest paths on a directed acyclic graph, a whole batch at once (dynamic programming).

PyEPO's shortest-path benchmark (a grid whose arcs go right and down), monotone lattice paths
and alignments are such graphs: a path's cost is the sum of its arcs' costs, and the cheapest
path from a source to a sink follows from one pass over the nodes in topological order. The
pass runs level by level (nodes whose longest path from a root has the same length), each level
one vectorised step over the batch, so a call costs a few torch operations per level whatever
the batch size, on theta's device. Negative costs are fine (there are no cycles).

Examples:
    >>> import torch
    >>> solve = dag_shortest_path([(0, 1), (1, 3), (0, 2), (2, 3)], source=0, sink=3)
    >>> solve(torch.tensor([[1.0, 1.0, 0.5, 2.0], [1.0, 5.0, 0.5, 2.0]]))   # arc costs [N, 4]
    tensor([[1., 1., 0., 0.],
            [0., 0., 1., 1.]])
"""
from __future__ import annotations

import operator
from typing import List, Sequence

import torch

from imle._checks import solver_batch


class DAGShortestPath:
    """What `dag_shortest_path` returns: ``solver(costs [N, E]) -> y [N, E]``."""

    sense = "min"  # it takes costs: use it under an estimator's minimize=True

    def __init__(self, tails: List[int], heads: List[int], nodes: int, source: int, sink: int):
        self.tails, self.heads, self.nodes, self.source, self.sink = tails, heads, nodes, source, sink
        arcs = len(tails)
        levels = _levels(tails, heads, nodes)
        # per level: its nodes [L] and their in-arcs [L, most in-arcs], padded with arc index E, a
        # column of +inf costs, so that a level is one gather and one min
        self._steps = []
        incoming: List[List[int]] = [[] for _ in range(nodes)]
        for arc, head in enumerate(heads):
            incoming[head].append(arc)
        for level in levels[1:]:
            # the source's own in-arcs never lie on a path from it (no cycles): it keeps cost 0
            level = [node for node in level if incoming[node] and node != source]
            width = max(len(incoming[node]) for node in level) if level else 0
            if not width:
                continue
            padded = [incoming[node] + [arcs] * (width - len(incoming[node])) for node in level]
            self._steps.append((torch.tensor(level), torch.tensor(padded)))
        self._tail_of = torch.tensor(tails + [source])  # the padding arc leads nowhere new
        self._on_device: dict = {}  # the index tables above, copied once to each device used
        self._depth = len(levels)
        reached = self._distances(torch.zeros(1, arcs, dtype=torch.float64))[0][0, sink]
        if not torch.isfinite(reached):
            raise ValueError(f"the sink {sink} cannot be reached from the source {source}")

    def _distances(self, costs: torch.Tensor):
        """(cheapest cost from the source to every node [N, V], the arc chosen into each [N, V])."""
        n, device = costs.shape[0], costs.device
        padded = torch.cat([costs, torch.full((n, 1), float("inf"), dtype=costs.dtype, device=device)], dim=1)
        steps, tail_of = self._tables(device)
        distance = torch.full((n, self.nodes), float("inf"), dtype=costs.dtype, device=device)
        distance[:, self.source] = 0.0
        chosen = torch.full((n, self.nodes), len(self.tails), dtype=torch.long, device=device)
        for level, in_arcs, positions in steps:
            candidates = distance[:, tail_of[in_arcs]] + padded[:, in_arcs]  # [N, L, most in-arcs]
            best, which = candidates.min(dim=2)  # ties: the first in-arc, the lowest arc index
            distance[:, level] = best
            chosen[:, level] = in_arcs[positions, which]
        return distance, chosen

    def _tables(self, device: torch.device) -> tuple:
        """(per level: nodes, in-arcs, row positions; the tail of each arc) on ``device``."""
        if device not in self._on_device:
            self._on_device[device] = (
                [(level.to(device), in_arcs.to(device), torch.arange(len(level), device=device))
                 for level, in_arcs in self._steps], self._tail_of.to(device))
        return self._on_device[device]

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_on_device": {}}  # the per-device copies are rebuilt where used

    def __call__(self, costs: torch.Tensor) -> torch.Tensor:
        given = solver_batch("costs", costs, 2, width=len(self.tails), per="one cost per arc").detach()
        # path sums in half precision would choose wrong paths: float16/bfloat16 costs are added up in float32
        costs = given if given.dtype in (torch.float32, torch.float64) else given.float()
        distance, chosen = self._distances(costs)
        overflowed = torch.nonzero(~torch.isfinite(distance[:, self.sink]))
        if len(overflowed):  # the sink is reachable: only a sum beyond the dtype's range leaves it infinite
            raise ValueError(f"the path costs of instance {int(overflowed[0, 0])} overflow {costs.dtype}; rescale "
                             "the costs or use float64")
        n, device = costs.shape[0], costs.device
        path = torch.zeros(n, len(self.tails) + 1, dtype=costs.dtype, device=device)
        rows = torch.arange(n, device=device)
        at = torch.full((n,), self.sink, dtype=torch.long, device=device)
        tail_of = self._tables(device)[1]
        for _ in range(self._depth):  # a path has fewer arcs than there are levels
            arc = chosen[rows, at]  # the padding arc once at the source
            path[rows, arc] = 1.0
            at = tail_of[arc]
        return path[:, :-1].to(given.dtype).contiguous()

    def __repr__(self) -> str:
        return f"dag_shortest_path({len(self.tails)} arcs, {self.nodes} nodes, source={self.source}, sink={self.sink})"


def _levels(tails: List[int], heads: List[int], nodes: int) -> List[List[int]]:
    """The nodes by the length of the longest path reaching them (Kahn's algorithm), or
    ValueError naming a node on a cycle."""
    indegree = [0] * nodes
    outgoing: List[List[int]] = [[] for _ in range(nodes)]
    for tail, head in zip(tails, heads):
        indegree[head] += 1
        outgoing[tail].append(head)
    level = [node for node in range(nodes) if indegree[node] == 0]
    levels, placed = [], 0
    while level:
        levels.append(level)
        placed += len(level)
        following = []
        for node in level:
            for head in outgoing[node]:
                indegree[head] -= 1
                if indegree[head] == 0:
                    following.append(head)
        level = sorted(following)
    if placed < nodes:
        on_cycle = min(node for node in range(nodes) if indegree[node] > 0)
        raise ValueError(f"the arcs must form a directed acyclic graph; node {on_cycle} is on or after a cycle")
    return levels


def _node(value: object, what: str) -> int:
    """A node number (an int, a numpy or torch integer), or ValueError naming ``what``."""
    try:
        if isinstance(value, bool):
            raise TypeError
        node = operator.index(value)
    except TypeError:
        raise ValueError(f"{what} must be a node number (a non-negative int), got {value!r}") from None
    if node < 0:
        raise ValueError(f"{what} must be a node number (a non-negative int), got {node}")
    return node


def dag_shortest_path(arcs: Sequence, source: int, sink: int) -> DAGShortestPath:
    """A batched solver ``costs [N, E] -> y [N, E]``: the 0/1 arc indicator of the cheapest path
    from ``source`` to ``sink`` in a directed acyclic graph whose E arcs are ``arcs`` (pairs
    ``(tail, head)`` of node numbers 0..V-1), for every instance's arc costs.

    It minimises, as `grid_shortest_path` does: use it under an estimator's
    ``minimize=True``. Costs may be negative. Ties go to the lower arc index at each node, from
    the sink back, so the result is deterministic. Exact: the dynamic programme is the optimum.

    Raises ValueError for a malformed arc, a self-loop, a cycle, a source or sink not among the
    nodes, or a sink the source cannot reach (all checked here, once).
    """
    try:
        pairs = [tuple(arc) for arc in arcs]
    except TypeError:
        raise ValueError("arcs must be a sequence of (tail, head) pairs of node numbers") from None
    if not pairs:
        raise ValueError("arcs must hold at least one arc")
    for index, pair in enumerate(pairs):
        if len(pair) != 2:
            raise ValueError(f"arc {index} must be a (tail, head) pair of node numbers, got {pair!r}")
    tails = [_node(pair[0], f"arc {index}'s tail") for index, pair in enumerate(pairs)]
    heads = [_node(pair[1], f"arc {index}'s head") for index, pair in enumerate(pairs)]
    loops = [index for index, (tail, head) in enumerate(zip(tails, heads)) if tail == head]
    if loops:
        raise ValueError(f"arc {loops[0]} is a self-loop at node {tails[loops[0]]}")
    nodes = max(tails + heads) + 1
    source, sink = _node(source, "source"), _node(sink, "sink")
    for name, node in (("source", source), ("sink", sink)):
        if node >= nodes:
            raise ValueError(f"{name} must be a node of the arcs (0 to {nodes - 1}), got {node}")
    return DAGShortestPath(tails, heads, nodes, source, sink)
