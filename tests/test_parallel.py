"""Per-instance solvers over serial, process and Ray backends: same results, clear failures."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import solvers_for_parallel as solvers
from helpers import with_ctrl_c
from imle import SumOfGammaNoiseDistribution, TargetDistribution, imle
from imle.solvers import parallel
from imle.parallel import SolverError, WorkerError, batched
from imle.solvers import grid_shortest_path

HERE = Path(__file__).resolve().parent


def random_maps(count=12, side=9, seed=0):
    return torch.rand(count, side, side, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) * 9 + 1


def imle_gradient(solver, costs):
    layer = imle(solver, target_distribution=TargetDistribution(beta=10.0), nb_samples=3,
                 noise_distribution=SumOfGammaNoiseDistribution(9.0, 20), minimize=True,
                 generator=torch.Generator().manual_seed(1))
    theta = costs.clone().requires_grad_()
    paths = layer(theta, neighbourhood=8)
    (paths * torch.linspace(-1, 1, paths[0].numel(), dtype=paths.dtype).view(paths[0].shape)).sum().backward()
    return paths.detach(), theta.grad


@pytest.fixture(scope="module")
def process_solver():
    with batched(solvers.grid_path, executor="process", workers=2) as solve:
        yield solve


def test_serial_matches_the_batched_solver_in_order():
    costs = random_maps()
    assert torch.equal(batched(solvers.grid_path)(costs), grid_shortest_path(costs))


def test_process_backend_gives_identical_masks_and_gradients(process_solver):
    costs = random_maps(seed=3)
    reference_paths, reference_grad = imle_gradient(grid_shortest_path, costs)
    paths, grad = imle_gradient(process_solver, costs)
    assert torch.equal(paths, reference_paths)
    assert torch.equal(grad, reference_grad)
    assert grad.abs().sum() > 0


def test_process_pool_is_reused_across_calls(process_solver):
    costs = random_maps(count=4)
    process_solver(costs)
    pool = process_solver._pool
    process_solver(costs)
    assert process_solver._pool is pool


def test_fast_solvers_get_one_chunk_per_worker_and_slow_ones_four(monkeypatch):
    w = torch.rand(400, 5, generator=torch.Generator().manual_seed(0))
    with batched(solvers.argmax, executor="process", workers=2) as fast, \
            batched(solvers.a_little_slow, executor="process", workers=2) as slow:
        assert fast._parts(40) == slow._parts(40) == 8  # nothing measured yet: four a worker
        expected = batched(solvers.argmax)(w)
        assert torch.equal(fast(w), expected) and torch.equal(slow(w[:4]), expected[:4])
        # argmaxes take microseconds (400 of them well under the 0.3 s that would make 40 worth a
        # third chunk even on a loaded machine): one round trip a worker; 0.4 s instances: four
        assert fast._parts(40) == 2 and slow._parts(40) == 8
        w = w[:40]
        assert torch.equal(fast(w), expected[:40])  # same answers in fewer chunks
        monkeypatch.setattr(parallel, "MIN_CHUNK_SECONDS", 0.0)  # no least size: four a worker again
        assert fast._parts(40) == 8


def test_results_keep_device_dtype_and_order(process_solver):
    costs = random_maps(count=7).float()
    out = process_solver(costs)
    assert out.dtype == torch.float32 and out.device == costs.device
    for b in range(7):
        assert torch.equal(out[b], grid_shortest_path(costs[b]))


@pytest.mark.parametrize("executor", ["serial", "process"])
def test_solver_exception_names_the_instance_and_the_message(executor):
    costs = torch.ones(5, 4, 4, dtype=torch.float64)
    costs[3, 0, 0] = 9.0
    with batched(solvers.failing, executor=executor, workers=2) as solve:
        with pytest.raises(SolverError, match=r"instance 3: ValueError: cost 9.0 at the start is too high"):
            solve(costs)


def test_a_dying_worker_is_an_error_not_a_hang_and_the_pool_recovers():
    costs = random_maps(count=3)
    with batched(solvers.dying, executor="process", workers=2) as solve:
        with pytest.raises(WorkerError, match="worker process died"):
            solve(costs)
        solve.solver = solvers.grid_path  # the next call builds a fresh pool
        assert torch.equal(solve(costs), grid_shortest_path(costs))


def test_timeout_stops_the_workers():
    start = time.perf_counter()
    with batched(solvers.sleepy, executor="process", workers=2, timeout=1.0) as solve:
        with pytest.raises(WorkerError, match="did not finish within timeout=1.0 s"):
            solve(random_maps(count=2))
    assert time.perf_counter() - start < 20


def test_ctrl_c_leaves_no_orphan_workers(tmp_path):
    pid_file = tmp_path / "pids"
    script = tmp_path / "interrupt.py"
    script.write_text(
        "import sys, torch\n"
        f"sys.path.insert(0, {str(HERE)!r})\n"
        "import solvers_for_parallel as s\n"
        "from imle.parallel import batched\n"
        "if __name__ == '__main__':\n"
        "    solve = batched(s.report_pid_then_sleep, executor='process', workers=2)\n"
        "    try:\n"
        "        solve(torch.zeros(4, 2))\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n"
        "        sys.exit(130)\n")
    env = dict(os.environ, IMLE_PID_FILE=str(pid_file))
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.PIPE, text=True,
                               preexec_fn=with_ctrl_c)
    deadline = time.time() + 60
    while time.time() < deadline and (not pid_file.exists() or len(pid_file.read_text().split()) < 2):
        time.sleep(0.2)
    workers = [int(p) for p in pid_file.read_text().split()]
    assert len(workers) == 2
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 130
    assert "interrupted" in process.stdout.read()
    time.sleep(0.5)
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_missing_ray_gives_an_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ImportError, match=r"pip install 'imle\[ray\]'"):
        batched(solvers.grid_path, executor="ray")


def test_the_library_does_not_import_ray_unless_asked():
    code = "import sys, imle, imle.parallel; print('ray' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(executor="threads"), ValueError, "executor must be one of serial, process, ray"),
        (dict(workers=0), ValueError, "workers must be a positive int"),
        (dict(timeout=-1), ValueError, "timeout must be a positive number"),
        (dict(address="auto"), ValueError, "address only applies to executor='ray'"),
    ],
)
def test_bad_settings(kwargs, error, message):
    with pytest.raises(error, match=message):
        batched(solvers.grid_path, **kwargs)


def test_bad_solver_and_input():
    with pytest.raises(TypeError, match="solver must be callable"):
        batched(42)
    with pytest.raises(TypeError, match="theta must be a torch.Tensor"):
        batched(solvers.grid_path)([[1.0]])
    with pytest.raises(ValueError, match="one solution of shape"):
        batched(lambda w: w[:1])(torch.ones(2, 3))


def test_ray_backend_matches_serial():
    ray = pytest.importorskip("ray", reason="the ray extra is not installed (CI installs it)")
    # a local Ray with 2 CPUs; its workers import this folder's solver module
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": str(HERE)}})
    try:
        with batched(solvers.grid_path, executor="ray", workers=2) as solve:
            costs = random_maps(seed=5)
            reference_paths, reference_grad = imle_gradient(grid_shortest_path, costs)
            paths, grad = imle_gradient(solve, costs)
            assert torch.equal(paths, reference_paths) and torch.equal(grad, reference_grad)
            failing = batched(solvers.failing, executor="ray", workers=2)
            bad = torch.ones(5, 4, 4, dtype=torch.float64)
            bad[2, 0, 0] = 7.0
            with pytest.raises(SolverError, match="instance 2: ValueError"):
                failing(bad)
    finally:
        ray.shutdown()


# ---- faults: a solver's exit or interrupt, a fork, threads, in-place solvers, overflow, ragged

def _indexed(batch: int = 3, size: int = 4) -> torch.Tensor:
    theta = torch.rand(batch, size, dtype=torch.float64)
    theta[:, 0] = torch.arange(batch, dtype=torch.float64)  # instance i starts with i
    return theta


@pytest.mark.parametrize("solver, kind", [(solvers.exiting, "SystemExit"),
                                          (solvers.interrupted, "KeyboardInterrupt")])
def test_a_solvers_exit_or_interrupt_in_a_worker_is_a_solver_error_naming_the_instance(solver, kind):
    with batched(solver, executor="process", workers=2) as layer:
        with pytest.raises(SolverError, match=f"instance 1: {kind}") as raised:
            layer(_indexed())
        assert raised.value.index == 1 and raised.value.kind == kind
        assert layer(_indexed()[[0, 2]]).shape == (2, 4)  # and the pool still works


def test_a_solvers_sys_exit_in_the_serial_executor_is_a_solver_error_too():
    with pytest.raises(SolverError, match="instance 1: SystemExit"):
        batched(solvers.exiting)(_indexed())


def test_a_solver_that_works_in_place_does_not_write_into_theta():
    from imle import blackbox

    theta = _indexed()
    kept = theta.clone()
    for executor in ("serial", "process"):
        with batched(solvers.normalising, executor=executor, workers=2) as solver:
            layer = blackbox(solver, lambda_=10.0)
            layer(theta)
            assert torch.equal(theta, kept), executor


def test_a_solution_that_overflows_thetas_dtype_is_a_solver_error():
    theta = torch.rand(2, 3).to(torch.float16)
    with pytest.raises(SolverError, match="instance 0 does not fit torch.float16"):
        batched(solvers.huge)(theta)
    assert torch.isfinite(batched(solvers.huge)(theta.double())).all()


def test_a_ragged_solution_names_its_instance():
    with pytest.raises(ValueError, match=r"got \(3,\) for instance 2"):
        batched(solvers.ragged)(_indexed())


def test_threads_calling_a_fresh_process_solver_share_one_pool():
    import threading

    from imle.solvers import parallel

    started = []
    original = parallel._new_process_pool

    def counting(workers):
        started.append(workers)
        return original(workers)

    parallel._new_process_pool = counting
    try:
        with batched(solvers.argmax, executor="process", workers=2) as layer:
            errors, results = [], []

            def call():
                try:
                    results.append(layer(_indexed()))
                except Exception as error:  # pragma: no cover - the failure the test would report
                    errors.append(error)

            threads = [threading.Thread(target=call) for _ in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert errors == [] and len(results) == 6 and len(started) == 1
    finally:
        parallel._new_process_pool = original


def test_a_child_forked_after_the_parent_used_the_pool_starts_its_own():
    with batched(solvers.argmax, executor="process", workers=1, timeout=60) as layer:
        expected = layer(_indexed())
        child = os.fork()
        if child == 0:  # the child: a fresh pool of its own (not the parent's workers), then out
            try:
                mask = layer(torch.eye(3, 4, dtype=torch.float64))
                os._exit(0 if torch.equal(mask, torch.eye(3, 4, dtype=torch.float64)) else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(child, 0)
        assert os.WEXITSTATUS(status) == 0
        assert torch.equal(layer(_indexed()).sum(1), expected.sum(1))  # and the parent's pool still works
