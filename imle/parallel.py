"""The import path ``imle.parallel`` of the per-instance solver adapter, which lives beside the
solvers it adapts, in `imle.solvers.parallel`."""
from imle.solvers.parallel import (EXECUTORS, MIN_CHUNK_SECONDS, STARTUP_TIMEOUT, BatchedSolver, SolverError,
                                   WorkerError, batched, worker_pool)

__all__ = ["batched", "BatchedSolver", "SolverError", "WorkerError", "worker_pool", "EXECUTORS", "MIN_CHUNK_SECONDS",
           "STARTUP_TIMEOUT"]
