"""One shared pool of plain, blocking threads for compiled kernels that release the GIL: the
grid solver's batches and the Sum-of-Gamma sampler's large calls.

No spinning and no runtime of our own: idle threads sleep on the executor's queue, so they cost
nothing between calls and never compete with torch's intra-op threads for the cores.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List, Optional

import torch

_pool: Optional[ThreadPoolExecutor] = None
_pool_workers = 0


def _forget_pool_in_child() -> None:
    # fork() copies only the calling thread: a forked child must start its own pool
    global _pool, _pool_workers
    _pool, _pool_workers = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def usable_threads() -> int:
    """torch's intra-op thread count, capped by the CPUs this process may run on (taskset,
    cgroups' cpusets): more threads than cores would only take turns."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(torch.get_num_threads(), cpus))


def run_parallel(jobs: List[Callable[[], Any]]) -> List[Any]:
    """Run the jobs at once (the first on the calling thread, the others on the pool) and return
    their results in order; re-raise the first error."""
    global _pool, _pool_workers
    if len(jobs) > 1 and (_pool is None or _pool_workers < len(jobs) - 1):
        _pool_workers = len(jobs) - 1
        _pool = ThreadPoolExecutor(max_workers=_pool_workers, thread_name_prefix="imle")
    futures = [_pool.submit(job) for job in jobs[1:]] if len(jobs) > 1 else []
    first = [jobs[0]()] if jobs else []
    return first + [future.result() for future in futures]
