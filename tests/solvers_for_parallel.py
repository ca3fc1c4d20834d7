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


def exiting(w: np.ndarray) -> np.ndarray:
    """A solver that calls sys.exit(3) on instance 1 (the caller must see a SolverError, not exit)."""
    import sys

    if w.flat[0] == 1.0:
        sys.exit(3)
    return argmax(w)


def interrupted(w: np.ndarray) -> np.ndarray:
    """A solver that raises KeyboardInterrupt itself on instance 1."""
    if w.flat[0] == 1.0:
        raise KeyboardInterrupt("the solver's own")
    return argmax(w)


def normalising(w: np.ndarray) -> np.ndarray:
    """A solver that works in place on its input (w -= w.max())."""
    w -= w.max()
    return (w == 0).astype(w.dtype)


def huge(w: np.ndarray) -> np.ndarray:
    """A solver whose solution is finite in float64 but not in float16."""
    return np.full_like(w, 1e6, dtype=np.float64)


def ragged(w: np.ndarray) -> np.ndarray:
    """A solver that returns a solution of the wrong size for instance 2."""
    return argmax(w)[:-1] if w.flat[0] == 2.0 else argmax(w)
