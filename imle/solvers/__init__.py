"""Batched MAP solvers shipped with imle.

All of them take a batch ([B, ...]) and return 0/1 solutions of the same shape, on the input's
device: ready to be wrapped by `imle.imle`. Each says its ``sense``: ``"max"`` (it
maximises ``<theta, y>``, the library's convention: ``top_k``, ``grid_max_weight_path``,
``knapsack``, ``assignment``, ``spanning_tree``, ``ilp()``) or ``"min"`` (it minimises the costs it
is given: ``grid_shortest_path``, ``dag_shortest_path``, ``ilp(minimize=True)``, a minimising
PyEPO model); an estimator is built with ``minimize=True`` exactly for the ``"min"`` ones and
refuses the other combination in one line. `imle.solvers.parallel` turns per-instance
solvers into batched ones.

Examples:
    >>> from imle.solvers import grid_shortest_path, top_k
    >>> grid_shortest_path.sense, top_k.sense
    ('min', 'max')
"""
from imle.solvers.combinatorial import assignment, from_pyepo, ilp, spanning_tree
from imle.solvers.dag import dag_shortest_path
from imle.solvers.grid import DEFAULT_BACKEND, grid_max_weight_path, grid_shortest_path
from imle.solvers.packing import knapsack
from imle.solvers.topk import mathias_select_k, select_k, top_k

__all__ = ["grid_shortest_path", "grid_max_weight_path", "dag_shortest_path", "top_k", "select_k", "mathias_select_k",
           "knapsack", "ilp", "assignment", "spanning_tree", "from_pyepo", "DEFAULT_BACKEND"]
