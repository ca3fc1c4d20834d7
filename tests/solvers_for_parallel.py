"""Module-level per-instance solvers for the parallel tests (the process backend pickles them)."""
import os
import time

import numpy as np

from imle.solvers import grid_shortest_path


def grid_path(costs: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    """One map's shortest path, through the library's batched solver (one instance at a time)."""
    return grid_shortest_path(costs, neighbourhood)


def failing(costs: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    if costs.flat[0] > 5.0:
        raise ValueError(f"cost {costs.flat[0]:.1f} at the start is too high")
    return grid_path(costs, neighbourhood)


def dying(costs: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    os._exit(3)


def sleepy(costs: np.ndarray, neighbourhood: int = 8) -> np.ndarray:
    time.sleep(30)
    return grid_path(costs, neighbourhood)


def report_pid_then_sleep(costs: np.ndarray) -> np.ndarray:
    with open(os.environ["IMLE_PID_FILE"], "a") as handle:
        handle.write(f"{os.getpid()}\n")
    time.sleep(60)
    return costs
