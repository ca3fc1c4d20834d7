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


def argmax(w: np.ndarray) -> np.ndarray:
    y = np.zeros_like(w)
    y[np.argmax(w)] = 1.0
    return y


def a_little_slow(w: np.ndarray) -> np.ndarray:
    """0.4 s an instance (for timeouts that bound a whole call)."""
    time.sleep(0.4)
    return argmax(w)


def bad_second(w, kind):
    """The argmax, but instance 1's solution is NaN or complex (for the result checks)."""
    y = argmax(w).astype(float)
    if bad_second.calls == 1:
        y = y * np.nan if kind == "nan" else y.astype(complex)
    bad_second.calls = (bad_second.calls + 1) % 3
    return y


bad_second.calls = 0
