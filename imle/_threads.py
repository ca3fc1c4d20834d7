"""One shared thread pool for compiled kernels that release the GIL: the grid solver's batches,
and the Sum-of-Gamma sampler where it was built without its own POSIX thread pool."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, List, Optional

_pool: Optional[ThreadPoolExecutor] = None
_pool_workers = 0


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
