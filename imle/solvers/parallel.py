"""Per-instance solvers as batched torch solvers: serially, over a process pool, or on Ray.

The solvers people bring (an ILP through a MIP solver, a C++ matching code, a simulator) solve
one instance at a time and are slow; I-MLE calls them 2 x batch x samples times per step.
`batched` turns ``solver(w) -> y`` (one numpy array in, one solution out, like the
torch-imle README's ``solver``) into ``f(theta [B, ...]) -> y [B, ...]`` usable by
`imle.imle` and the peer estimators, and spreads the instances over:

* ``"serial"`` - this process, in order (the default; no overhead);
* ``"process"`` - a local pool of ``workers`` processes, created on the first call and reused
  until `BatchedSolver.close` (or the interpreter's exit);
* ``"ray"`` - Ray tasks on an existing cluster (``address="auto"`` after ``ray start --head``)
  or a local Ray started on first use. Ray is optional: ``pip install 'imle[ray]'``.

A call sends its instances in chunks, one round trip each: four a worker at first (which
balances uneven instances), then as few as keep each chunk at `MIN_CHUNK_SECONDS` of work
by the last call's pace (one a worker for fast solvers).

Results come back in input order, on the input's device and dtype. Failures are errors, never
hangs: an exception in the solver re-raises here as `SolverError` naming the instance
and the original message; a worker that dies raises `WorkerError` (the pool is rebuilt
on the next call); ``timeout`` (seconds) bounds a whole call, start-up excluded: a new pool first
starts its workers and waits for them (at most `STARTUP_TIMEOUT` seconds, its own limit),
then the call's clock starts; a call that runs out of time stops its workers, and the next call
starts fresh ones. Ctrl-C stops the pool's processes before re-raising, and the workers exit
when their parent dies, even by SIGKILL (``prctl(PR_SET_PDEATHSIG)`` on Linux, a watchdog thread
elsewhere), so no orphans are left behind. Every solution must be real and finite (else
`SolverError` names the instance).

The solver and its extra arguments must be picklable for ``"process"`` (a module-level
function; ``"ray"`` also takes closures). Extra arguments of a call reach every instance's
solve unchanged.

Examples:
    >>> import numpy as np, torch
    >>> def argmax(w):
    ...     y = np.zeros_like(w); y[np.argmax(w)] = 1.0; return y
    >>> solve = batched(argmax)                      # serial
    >>> solve(torch.tensor([[0.0, 2.0, 1.0], [5.0, 0.0, 0.0]]))
    tensor([[0., 1., 0.],
            [1., 0., 0.]])
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Callable, Iterator, List, Optional, Sequence

import numpy as np
import torch

EXECUTORS = ("serial", "process", "ray")

#: Seconds of solving a chunk of instances should hold at least: each chunk costs a round trip
#: through the pool (about a millisecond on a busy 2-core machine), so chunks of 20 ms keep that
#: under 5%. Fast solvers get fewer, larger chunks; slow ones up to four per worker, which
#: balances instances of uneven difficulty.
MIN_CHUNK_SECONDS = 0.02

#: Seconds a new process pool may take to start its workers (spawned: each imports torch), apart
#: from any call's ``timeout``.
STARTUP_TIMEOUT = 120.0


#: True in a pool's worker process (set by its initializer): there a KeyboardInterrupt can only be
#: the solver's own (workers ignore SIGINT), so it is reported as the instance's failure.
_IN_WORKER = False


def _die_with_parent(parent: int) -> None:
    """Process-pool initializer: make this worker exit when its parent process dies, SIGKILL
    included, so that no worker outlives it holding the parent's stdout and stderr; and ignore
    SIGINT: a Ctrl-C reaches the whole process group, and the parent decides (it stops the pool),
    so no worker prints a KeyboardInterrupt traceback."""
    global _IN_WORKER
    _IN_WORKER = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watchdog = True
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            watchdog = libc.prctl(1, int(signal.SIGKILL), 0, 0, 0) != 0  # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            watchdog = True
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)
    if watchdog:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="imle-watchdog").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _ready() -> int:
    return os.getpid()


def _terminate_pool(pool: ProcessPoolExecutor) -> None:
    """Shut a pool down now: cancel queued work and stop its processes."""
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(timeout=5)
        if process.is_alive():
            process.kill()


_spawner: Optional[ThreadPoolExecutor] = None


def _forget_spawner_in_child() -> None:
    global _spawner
    _spawner = None  # fork() copies only the calling thread


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_spawner_in_child)


def _new_process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes (clean: no copied torch threads or locks, on every
    platform) that exit with this process, started now: returns once they run (or raises
    WorkerError after STARTUP_TIMEOUT seconds).

    Linux's PR_SET_PDEATHSIG fires when the *thread* that started a worker ends, not the
    process: a pool started from a short-lived thread (a data loader's, a server's) would have
    its workers killed with it. So the workers are started from the main thread, or from one
    long-lived thread of ours."""
    global _spawner
    if threading.current_thread() is threading.main_thread():
        return _start_process_pool(workers)
    if _spawner is None:
        _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imle-pool-starter")
    return _spawner.submit(_start_process_pool, workers).result()


def _start_process_pool(workers: int) -> ProcessPoolExecutor:
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))
    try:
        for future in [pool.submit(_ready) for _ in range(workers)]:
            future.result(timeout=STARTUP_TIMEOUT)
    except FutureTimeout:
        _terminate_pool(pool)
        raise WorkerError(f"the solver's worker processes did not start within {STARTUP_TIMEOUT:g} s") from None
    except BaseException:
        _terminate_pool(pool)
        raise
    return pool


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A ``ProcessPoolExecutor`` of ``workers`` spawned processes that exit with this process (even
    when it is killed), started before it is handed over and stopped on leaving the block, queued
    work cancelled (done, failed, interrupted or terminated alike): the pool `batched` uses,
    for callers that spread work of their own (the command-line sweep's learning runs)."""
    pool = _new_process_pool(workers)
    try:
        yield pool
    finally:
        _terminate_pool(pool)


class Closeable:
    """``close()`` and the ``with`` block that calls it: one implementation for every solver that
    holds a process pool (`BatchedSolver`, and the ILP and PyEPO solvers over it)."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class SolverError(RuntimeError):
    """The user's solver failed on an instance; the message names it and the original error.

    Attributes: ``index`` (the instance), ``kind`` (the original exception's class name, or None
    for an unusable solution) and ``detail`` (its message), for callers that word their own error.
    """

    def __init__(self, message: str, index: int, kind: Optional[str] = None, detail: str = ""):
        super().__init__(message)
        self.index, self.kind, self.detail = index, kind, detail


class WorkerError(RuntimeError):
    """A worker process died, or the backend failed, before returning its instances."""


def _solve_chunk(solver: Callable, instances: Sequence[np.ndarray], start: int, args: tuple, kwargs: dict) -> list:
    """Run in a worker: solve each instance; on an exception return ('error', index, class name,
    message) in place of the chunk's solutions."""
    results = []
    for offset, instance in enumerate(instances):
        try:
            results.append(np.asarray(solver(instance, *args, **kwargs)))
        except BaseException as error:  # reported to the caller with the instance's index
            # a solver's sys.exit() is its failure, not the caller's exit; a KeyboardInterrupt is
            # the user's Ctrl-C in this process (serial), the solver's own in a worker
            if isinstance(error, (KeyboardInterrupt, GeneratorExit)) and not _IN_WORKER:
                raise
            return [("error", start + offset, type(error).__name__, str(error))]
    return results


def _chunks(count: int, parts: int) -> List[range]:
    bounds = np.linspace(0, count, min(parts, count) + 1).round().astype(int)
    return [range(lo, hi) for lo, hi in zip(bounds[:-1], bounds[1:]) if hi > lo]


def _check_results(chunks: List[list]) -> List[np.ndarray]:
    """The chunks' solutions in order; a solver error, or a solution that is not real and finite,
    raises SolverError naming the instance (never a silently converted or NaN result)."""
    flat = []
    for results in chunks:
        if results and isinstance(results[0], tuple) and results[0][:1] == ("error",):
            _, index, kind, detail = results[0]
            raise SolverError(f"the solver failed on instance {index}: {kind}: {detail}", index, kind, detail)
        flat.extend(results)
    for index, result in enumerate(flat):
        array = np.asarray(result)
        if array.dtype.kind not in "biuf":
            raise SolverError(f"the solver returned {array.dtype} values for instance {index}; solutions must be "
                              "real numbers", index)
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise SolverError(f"the solver returned NaN or infinite values for instance {index}", index)
    return flat


_LIVE: "weakref.WeakSet[BatchedSolver]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for solver in list(_LIVE):
        solver.close()


class BatchedSolver(Closeable):
    """``f(theta [B, ...], *args, **kwargs) -> y [B, ...]`` over a per-instance solver.

    Build it with `batched`. Usable as a context manager (closes its pool on exit).
    """

    def __init__(self, solver: Callable, executor: str, workers: Optional[int], timeout: Optional[float],
                 address: Optional[str], to_numpy: bool, sense: Optional[str] = None):
        self.solver, self.executor, self.timeout = solver, executor, timeout
        self.workers = workers or os.cpu_count() or 1
        self.address, self.to_numpy = address, to_numpy
        #: "min" or "max" as given, else the wrapped solver's own, if it says one (see imle.solvers)
        self.sense = sense if sense is not None else getattr(solver, "sense", None)
        self._pool: Optional[ProcessPoolExecutor] = None
        self._pool_pid = 0  # the process that started the pool: a forked child starts its own
        self._pool_lock = threading.Lock()  # threads calling a fresh solver share one pool
        self._remote = None
        self._pace: Optional[float] = None  # seconds of one worker per instance, by the last call
        _LIVE.add(self)

    # ---- public ----
    def __call__(self, theta: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        if not isinstance(theta, torch.Tensor):
            raise TypeError(f"theta must be a torch.Tensor of shape [B, ...], got {type(theta).__name__}")
        if theta.dim() < 1:
            raise ValueError(f"theta must have shape [B, ...], got {tuple(theta.shape)}")
        host = theta.detach().cpu()
        if host.dtype not in (torch.float32, torch.float64):  # numpy has no bfloat16; solvers get float32
            host = host.float()
        # each instance a copy: a solver that works in place (w -= w.max()) must not write into theta
        instances = [np.array(x) for x in host.numpy()] if self.to_numpy else [x.clone() for x in host]
        if not instances:
            return torch.empty_like(theta)
        if self.executor == "serial":
            results = _check_results([_solve_chunk(self.solver, instances, 0, args, kwargs)])
        elif self.executor == "process":
            self._pool_or_new()  # started before the call's clock, and the pace's, start
            results = self._spread(lambda parts: self._run_process(instances, parts, args, kwargs), instances)
        else:
            self._ray_ready()
            results = self._spread(lambda parts: self._run_ray(instances, parts, args, kwargs), instances)
        for index, result in enumerate(results):
            if np.shape(result) != tuple(theta.shape[1:]):
                raise ValueError(f"the solver must return one solution of shape {tuple(theta.shape[1:])} per "
                                 f"instance, got {np.shape(result)} for instance {index}")
        out = torch.from_numpy(np.stack([np.asarray(r) for r in results])).to(device=theta.device, dtype=theta.dtype)
        if out.is_floating_point() and not bool(torch.isfinite(out).all()):  # finite, but not in theta's dtype
            index = int((~torch.isfinite(out.reshape(len(out), -1))).any(1).nonzero()[0])
            raise SolverError(f"the solver's solution for instance {index} does not fit {theta.dtype} (it overflows "
                              "to infinity)", index)
        return out

    def __getstate__(self) -> dict:
        # a pickle (torch.save of a model) or a deep copy holds the settings, not the running pool:
        # the copy starts its own on its first call
        state = {**self.__dict__, "_pool": None, "_pool_pid": 0, "_remote": None}
        state.pop("_pool_lock", None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._pool_lock = threading.Lock()
        _LIVE.add(self)

    def close(self) -> None:
        """Stop the process pool (if any; a pool a parent process started is its parent's to stop).
        Ray's cluster is left as it is."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            if self._pool_pid == os.getpid():
                _terminate_pool(pool)

    def __repr__(self) -> str:
        return f"BatchedSolver({getattr(self.solver, '__name__', self.solver)!r}, executor={self.executor!r}, " \
               f"workers={self.workers})"

    def _parts(self, count: int) -> int:
        """How many chunks to cut ``count`` instances into: four per worker, but no more than keep
        each at MIN_CHUNK_SECONDS of work at the last call's pace (and at least one per worker)."""
        most = 4 * self.workers
        if self._pace is None or MIN_CHUNK_SECONDS <= 0:
            return most
        return max(self.workers, min(most, int(count * self._pace / MIN_CHUNK_SECONDS)))

    def _spread(self, run, instances) -> List[np.ndarray]:
        """Run a pool call (``run(chunks)``, its pool started) and note its pace for the next call's
        chunks."""
        start = time.perf_counter()
        results = run(_chunks(len(instances), self._parts(len(instances))))
        self._pace = (time.perf_counter() - start) * min(self.workers, len(instances)) / len(instances)
        return results

    # ---- process pool ----
    def _pool_or_new(self) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is not None and self._pool_pid != os.getpid():
                self._pool = None  # forked after the parent started it: its workers are the parent's
            if self._pool is None:
                self._pool = _new_process_pool(self.workers)  # started before the call's clock starts
                self._pool_pid = os.getpid()
            return self._pool

    def _run_process(self, instances, parts: List[range], args, kwargs) -> List[np.ndarray]:
        pool = self._pool_or_new()
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        try:
            futures = [pool.submit(_solve_chunk, self.solver, instances[part.start:part.stop], part.start, args, kwargs)
                       for part in parts]
            return _check_results([future.result(timeout=None if deadline is None
                                                 else max(0.0, deadline - time.monotonic()))
                                   for future in futures])
        except BrokenProcessPool:
            self.close()
            raise WorkerError("a solver worker process died (killed, out of memory, or the solver exited); "
                              "the pool will be restarted on the next call") from None
        except FutureTimeout:
            self.close()
            raise WorkerError(f"the solver did not finish within timeout={self.timeout} s; "
                              "its worker processes were stopped") from None
        except KeyboardInterrupt:
            self.close()  # no orphans: stop the workers before giving the interrupt back
            raise
        except Exception as error:
            if "pickle" in type(error).__name__.lower() or "pickle" in str(error).lower():
                raise TypeError("the process backend needs a picklable solver (a module-level function) and "
                                f"picklable arguments: {error}") from None
            raise

    # ---- Ray ----
    def _ray_ready(self) -> None:
        ray = _import_ray()
        if not ray.is_initialized():
            ray.init(address=self.address, num_cpus=None if self.address else self.workers,
                     include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
        if self._remote is None:
            self._remote = ray.remote(_solve_chunk)

    def _run_ray(self, instances, parts: List[range], args, kwargs) -> List[np.ndarray]:
        ray = _import_ray()
        solver_ref = ray.put(self.solver)
        refs = [self._remote.remote(solver_ref, instances[part.start:part.stop], part.start, args, kwargs)
                for part in parts]
        try:
            return _check_results(ray.get(refs, timeout=self.timeout))
        except ray.exceptions.GetTimeoutError:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise WorkerError(f"the solver did not finish within timeout={self.timeout} s on Ray") from None
        except (ray.exceptions.WorkerCrashedError, ray.exceptions.RayTaskError) as error:
            cause = getattr(error, "cause", None)
            lines = [line for line in str(cause if cause is not None else error).splitlines() if line.strip()]
            reason = f"{type(cause).__name__}: {lines[-1]}" if cause is not None and lines else (lines or ["?"])[-1]
            raise WorkerError(f"a Ray worker failed ({reason}); a solver defined outside an installed module must "
                              "be importable on the workers (Ray's runtime_env)") from None
        except KeyboardInterrupt:
            for ref in refs:
                ray.cancel(ref, force=True)
            raise


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ImportError("the 'ray' executor needs Ray, which is not installed: pip install 'imle[ray]' "
                          "(or pip install ray)") from None
    return ray


def batched(solver: Callable, *, executor: str = "serial", workers: Optional[int] = None,
            timeout: Optional[float] = None, address: Optional[str] = None, to_numpy: bool = True,
            sense: Optional[str] = None) -> BatchedSolver:
    """Turn a per-instance solver into a batched torch solver.

    Args:
        solver: ``solver(w, *args, **kwargs) -> y``, one instance [...] to one solution [...].
        executor: "serial" (default), "process" or "ray".
        workers: processes for "process" (default: the CPU count); Ray CPUs for a local "ray".
        timeout: seconds a whole call may take, the pool's start-up excluded (None: no limit).
        address: Ray cluster address ("auto" for the one `ray start` runs); None starts a local Ray.
        to_numpy: give the solver numpy arrays (default) or CPU tensors.
        sense: "min" if the solver minimises the costs it is given, "max" if it maximises
            <theta, y>; an estimator then checks its ``minimize`` against it (default: the
            solver's own ``sense`` attribute, or unchecked).

    Returns:
        A `BatchedSolver`: theta [B, ...] -> solutions [B, ...] on theta's device and dtype.
    """
    if not callable(solver):
        raise TypeError(f"solver must be callable, got {type(solver).__name__}")
    if executor not in EXECUTORS:
        raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if sense not in (None, "min", "max"):
        raise ValueError(f"sense must be None, 'min' or 'max', got {sense!r}")
    if address is not None and executor != "ray":
        raise ValueError("address only applies to executor='ray'")
    if executor == "ray":
        _import_ray()  # fail now, with the install hint, not in the middle of training
    return BatchedSolver(solver, executor, workers, timeout, address, bool(to_numpy), sense)
