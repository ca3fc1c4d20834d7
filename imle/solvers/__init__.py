"""Batched MAP solvers shipped with imle.

All of them take a batch ([B, ...]) and return 0/1 solutions of the same shape, on the input's
device: ready to be wrapped by :func:`imle.imle`.
"""
from imle.solvers.combinatorial import assignment, from_pyepo, ilp, spanning_tree
from imle.solvers.dag import dag_shortest_path
from imle.solvers.grid import DEFAULT_BACKEND, grid_max_weight_path, grid_shortest_path
from imle.solvers.packing import knapsack
from imle.solvers.topk import mathias_select_k, select_k, top_k

__all__ = ["grid_shortest_path", "grid_max_weight_path", "dag_shortest_path", "top_k", "select_k", "mathias_select_k",
           "knapsack", "ilp", "assignment", "spanning_tree", "from_pyepo", "DEFAULT_BACKEND"]
