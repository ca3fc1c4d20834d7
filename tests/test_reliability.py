"""Faults: real signals to real processes, orphaned workers, timeouts, double backward,
overflowing numbers, hostile files, a full disk, and a fuzz test over every command."""
import errno
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from imle_cli.main import app

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


# ---- signals, by subprocess ----

def start_long_sample(out: Path) -> subprocess.Popen:
    """`imle-cli sample --samples 2000` into out; returns once it is writing temporaries there."""
    process = subprocess.Popen([sys.executable, "-m", "imle_cli", "sample", "--samples", "2000", "--out", str(out)],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if out.is_dir() and any(p.name.endswith(".tmp") for p in out.iterdir()):
            return process
        time.sleep(0.05)
    process.kill()
    pytest.fail("the command wrote no temporary within 60 s")


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_sigterm_and_sighup_remove_temporaries_and_created_folders(tmp_path, signum, code):
    out = tmp_path / "a" / "b" / "c"  # three folders this run creates
    process = start_long_sample(out)
    process.send_signal(signum)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == code
    assert stderr.strip().splitlines()[-1] == \
        f"imle-cli: terminated by {signal.Signals(signum).name}; nothing was written"
    assert "Traceback" not in stderr
    assert list(tmp_path.iterdir()) == []  # a, a/b and a/b/c are gone again


def test_after_a_sigkill_the_next_run_into_the_folder_removes_the_leftover_temporaries(tmp_path):
    out = tmp_path / "out"
    process = start_long_sample(out)
    process.kill()
    process.communicate(timeout=30)
    left = [p.name for p in out.iterdir()]
    assert left and all(name.startswith(".") and ".tmp" in name for name in left)  # hidden temporaries only
    assert run("sample", "--samples", 2, "--out", out, "--quiet").exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == ["distribution.gif", "distribution.png", "map.png", "paths.gif"]


def test_a_nested_out_left_by_a_failed_run_is_removed(tmp_path):
    result = run("sample", "--samples", 0, "--out", tmp_path / "x" / "y")
    assert result.exit_code == 2 and list(tmp_path.iterdir()) == []


# ---- process pools: orphans and timeouts ----

PARENT = """
import sys, time, multiprocessing.resource_tracker as tracker
sys.path.insert(0, {tests!r})
import torch
from imle.parallel import batched
from solvers_for_parallel import argmax
solver = batched(argmax, executor="process", workers=2)
solver(torch.zeros(4, 3))
print(*solver._pool._processes, flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state  # a zombie has exited; only its parent has not reaped it


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_die_with_their_parent_even_on_sigkill(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(tests=str(Path(__file__).parent))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(alive(pid) for pid in workers)
    parent.kill()
    parent.wait(timeout=10)
    time.sleep(2)
    assert not [pid for pid in workers if alive(pid)]
    parent.stderr.read()  # nobody holds the pipes any more: this returns


def test_timeout_bounds_the_whole_call_and_the_next_call_works():
    from imle.parallel import WorkerError, batched
    from solvers_for_parallel import a_little_slow, argmax

    with batched(a_little_slow, executor="process", workers=2, timeout=1.0) as solver:
        assert solver(torch.zeros(2, 3)).shape == (2, 3)  # starts the pool (not counted) and fits in 1 s
        start = time.monotonic()
        with pytest.raises(WorkerError, match="did not finish within timeout=1.0 s"):
            solver(torch.zeros(8, 3))  # 8 x 0.4 s over 2 workers: 1.6 s of work
        assert time.monotonic() - start < 3.0  # the whole call, not each 0.4 s chunk, got 1 s (per chunk: no error)
        assert solver(torch.zeros(2, 3)).shape == (2, 3)  # fresh workers
    # start-up (spawning workers that import torch) does not count against a short timeout
    with batched(argmax, executor="process", workers=2, timeout=0.5) as solver:
        assert solver(torch.eye(3)).tolist() == torch.eye(3).tolist()


@pytest.mark.parametrize("bad, message", [("nan", "NaN or infinite values for instance 1"),
                                          ("complex", "complex128 values for instance 1")])
def test_parallel_results_must_be_real_and_finite(bad, message):
    from imle.parallel import SolverError, batched
    from solvers_for_parallel import bad_second

    with pytest.raises(SolverError, match=message):
        batched(bad_second)(torch.zeros(3, 2), bad)


# ---- numbers ----

def test_double_backward_raises_instead_of_returning_zeros():
    from imle import imle
    from imle.peers import blackbox
    from imle.solvers import top_k

    for layer in (imle(top_k), blackbox(top_k)):
        theta = torch.randn(2, 4, requires_grad=True)
        y = layer(theta, 2)
        (grad,) = torch.autograd.grad((y * torch.randn_like(y)).sum(), theta, create_graph=True)
        with pytest.raises(RuntimeError, match="once_differentiable|does not require grad"):
            grad.sum().backward()


@pytest.mark.parametrize("k, dtype", [(5e-324, torch.float64), (1e-40, torch.float32)])
def test_sum_of_gamma_refuses_a_k_too_small_for_its_dtype(k, dtype):
    from imle.noise import SumOfGammaNoiseDistribution

    with pytest.raises(ValueError, match="too small for torch.float"):
        SumOfGammaNoiseDistribution(k, 10).sample([4], dtype=dtype)


def test_grid_costs_whose_path_sums_could_overflow_are_refused():
    from imle.solvers import grid_shortest_path

    for backend in ("c", "python"):
        with pytest.raises(ValueError, match="a path's sum over 16 cells could overflow"):
            grid_shortest_path(np.full((4, 4), 2e307), backend=backend)
    assert grid_shortest_path(np.full((4, 4), 1e307)).sum() == 4  # just below the limit: solved


# ---- hostile files and odd options: one line, exit 2, nothing written ----

def short_png(path: Path) -> Path:
    """A complete PNG whose header says 200x200 but whose data holds 10 rows."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([128] * 200) for _ in range(10))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 200, 200, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return path


def written(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def npz_with_text(path: Path) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("costs.npy", b"this is not an array")
    return path


@pytest.mark.parametrize("make, culprit", [
    (lambda t: short_png(t / "short.png"), "is truncated: its header says 200x200 pixels but its data holds 10"),
    (lambda t: npz_with_text(t / "odd.npz"), "holds a member that is not a .npy array"),
    (lambda t: written(t / "blank.csv", "\n"), "input contained no data"),
])
def test_hostile_map_files(tmp_path, make, culprit):
    path = make(tmp_path)
    result = run("sample", path, "--out", tmp_path / "out")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0] and not (tmp_path / "out").exists()


def test_a_huge_grid_number_is_one_short_line(tmp_path):
    result = run("sample", "--grid", "9" * 5000, "--out", tmp_path / "out")
    assert result.exit_code == 2 and len(result.stderr) < 200 and "--grid must be N or HxW" in result.stderr


def test_an_image_above_the_pixel_budget_is_refused_before_decoding(tmp_path):
    result = run("sample", ROOT / "assets" / "terrain.png", "--max-pixels", 1000, "--out", tmp_path / "out")
    assert result.exit_code == 2
    assert "is 384x384 = 147,456 pixels, above the budget of 1,000 (--max-pixels)" in result.stderr


def test_markup_in_user_text_is_printed_as_it_is(tmp_path):
    out = tmp_path / "x[/b]y"
    result = run("sample", "--samples", 2, "--out", out)
    assert result.exit_code == 0, result.stderr
    assert "x[/b]y" in result.stdout


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    from PIL import Image

    def full(self, fp, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(fp))

    monkeypatch.setattr(Image.Image, "save", full)
    out = tmp_path / "out"
    result = run("sample", "--samples", 2, "--out", out)
    assert result.exit_code == 2
    assert result.stderr.strip().startswith("imle-cli: error: no space left on device writing ")
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    """A write that fails for a full disk carries no file name (only a failed open does): the
    message names the file all the same, not its hidden temporary."""
    import io

    from imle_cli.render.gif import GifStream

    add = GifStream.add

    def full(self, frame):
        if isinstance(self.handle, io.BytesIO):  # the size estimate before sampling: memory
            return add(self, frame)
        raise OSError(errno.ENOSPC, "No space left on device")  # as a buffered write raises it

    monkeypatch.setattr(GifStream, "add", full)
    out = tmp_path / "out"
    result = run("sample", "--samples", 2, "--out", out)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"imle-cli: error: no space left on device writing {out / 'paths.gif'}; " \
                                    "nothing was written"
    assert not out.exists()


def test_a_really_full_disk(tmp_path):
    """A 300 KB tmpfs, nearly full: the run says which file did not fit and leaves nothing there.
    (Needs permission to mount: root on Linux; skipped elsewhere.)"""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (disk / "filler").write_bytes(bytes(250_000))
        process = subprocess.run([sys.executable, "-m", "imle_cli", "sample", "--samples", "3", "--out",
                                  str(disk / "o")], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert process.returncode == 2, process.stderr
        last = process.stderr.strip().splitlines()[-1]
        assert re.fullmatch(rf"imle-cli: error: no space left on device writing {re.escape(str(disk / 'o'))}/"
                            r"(map\.png|paths\.gif|distribution\.gif|distribution\.png); nothing was written", last), last
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


#: each command with small settings, so that a run that gets through is quick
COMMANDS = {
    "sample": ["--samples", "2"], "gradients": ["--samples", "2"], "annotate": [],
    "learn": ["--steps", "3", "--samples", "2"], "compare": ["--samples", "2", "--estimators", "imle"],
    "all": ["--samples", "2", "--steps", "3", "--every", "1", "--learn-samples", "2"], "noise": ["--draws", "100"],
    "sweep": ["--steps", "3", "--every", "1", "--input-temperatures", "1", "--target-temperatures", "1",
              "--sample-counts", "2", "--workers", "0"],
}
OPTIONS = ["--samples", "--k", "--temperature", "--grid", "--neighbourhood", "--fps", "--min-cost", "--max-cost",
           "--via", "--dpi", "--format", "--max-gif-mb", "--steps", "--lr", "--every", "--key", "--seed"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(sorted(COMMANDS)), suffix=st.sampled_from([".png", ".npy", ".csv", ".npz", ".jpg"]),
       content=st.one_of(st.binary(max_size=300), st.sampled_from(["png", "npy"])), cut=st.floats(0.05, 0.95),
       option=st.sampled_from(OPTIONS), value=st.text(max_size=12))
def test_fuzz_every_command_ends_cleanly(tmp_path_factory, command, suffix, content, cut, option, value):
    """Random bytes, truncated real files and random option values: exit code 0 or 2, never a
    traceback, and nothing left in --out after a failure."""
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / f"input{suffix}"
    if content in ("png", "npy"):  # a real file, truncated somewhere
        source = ROOT / "assets" / "terrain.png"
        if content == "npy":
            np.save(folder / "whole.npy", np.random.default_rng(0).uniform(0, 9, (6, 7)))
            source = folder / "whole.npy"
        data = source.read_bytes()
        path.write_bytes(data[:int(len(data) * cut)])
    else:
        path.write_bytes(content)
    out = folder / "out"
    inputs = {"sample": [str(path)], "gradients": [str(path)], "annotate": [str(path)], "compare": [str(path)],
              "all": [str(path)], "learn": ["--gold", str(path)], "sweep": ["--gold", str(path)], "noise": []}[command]
    result = CliRunner().invoke(app, [command, *inputs, *COMMANDS[command], option, value, "--out", str(out),
                                      "--quiet"])
    assert result.exit_code in (0, 2), (command, option, value, result.exit_code, result.stderr, result.exception)
    assert "Traceback" not in (result.stderr or "") + (result.stdout or "")
    if result.exit_code == 2:
        assert not out.exists() or list(out.iterdir()) == []


# ---- a commit and a cleanup are not cut short; what the run says is true

def _cli(args, env=None, **options):
    import os

    return subprocess.Popen([sys.executable, "-m", "imle_cli", *map(str, args)], cwd=ROOT, text=True,
                            env={**os.environ, **(env or {})}, **options)


def test_a_sigterm_during_the_commit_waits_for_it_and_says_the_files_were_written(tmp_path):
    out = tmp_path / "o"
    process = _cli(["sample", "--samples", 3, "--out", out], env={"IMLE_TEST_SLOW_COMMIT": "0.4"},
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out / "map.png").exists() and time.monotonic() < deadline:  # the first rename is done
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143
    assert stderr.strip().splitlines()[-1] == f"imle-cli: terminated by SIGTERM; its files were written to {out}/"
    assert sorted(p.name for p in out.iterdir()) == ["distribution.gif", "distribution.png", "map.png", "paths.gif"]


@pytest.mark.parametrize("delay", [0.6, 1.0, 1.5, 2.5])  # once the tool has loaded (below ~0.4 s: Python's own imports)
def test_an_impatient_ctrl_c_leaves_nothing_behind(tmp_path, delay):
    from helpers import with_ctrl_c

    out = tmp_path / "a" / "b"
    process = _cli(["sample", "--samples", 300, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   preexec_fn=with_ctrl_c)
    time.sleep(delay)
    for _ in range(3):  # three Ctrl-Cs 1 ms apart
        process.send_signal(signal.SIGINT)
        time.sleep(0.001)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode in (130, 0), stderr
    if process.returncode == 130:
        assert "Traceback" not in stderr and list(tmp_path.iterdir()) == [], stderr


def test_a_ctrl_c_at_any_instant_of_the_start_is_one_line(tmp_path):
    """Ctrl-C every 20 ms of the first half second: while typer and the commands load (the Ctrl-C
    waits until they have), while click parses (typer makes that a silent exit 130), while the
    command imports torch. Before Python has set its handler the default action ends the process
    (-SIGINT, silent); while Python itself starts (site's .pth files, before any imle-cli code)
    Python prints its own traceback or "Exception ignored": allowed, nothing else."""
    from helpers import with_ctrl_c

    for index in range(26):
        out = tmp_path / str(index) / "o"
        process = _cli(["sample", "--samples", 50, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       preexec_fn=with_ctrl_c)
        time.sleep(0.02 * index)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        if "Traceback" in stderr:  # only Python's own start-up (site's .pth files, runpy, importlib), no frame of ours
            assert re.search(r'File "<frozen (site|runpy|importlib)', stderr), (index, stderr)
            assert not re.search(r'File "[^"]*/imle_cli/', stderr), (index, stderr)
            continue
        assert process.returncode in (-signal.SIGINT, 130, 0), (index, process.returncode, stderr)
        if process.returncode == 130:
            assert stderr.strip() == "imle-cli: interrupted; nothing was written", (index, stderr)
        if process.returncode != 0:
            folder = tmp_path / str(index)
            assert not folder.exists() or not any(folder.rglob("*")), index


def test_a_closed_stdout_is_not_the_runs_failure(tmp_path):
    process = _cli(["sample", "--samples", 3, "--out", tmp_path / "o"], stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE)
    process.stdout.close()  # the reader went away (| true)
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert process.returncode == 0 and "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr
    assert len(list((tmp_path / "o").iterdir())) == 4


def test_a_full_stdout_says_the_files_were_written(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with open("/dev/full", "w") as full:
        process = _cli(["sample", "--samples", 3, "--out", tmp_path / "o"], stdout=full, stderr=subprocess.PIPE)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert stderr.strip().splitlines()[-1] == ("imle-cli: error: no space left on device writing the summary to "
                                               f"stdout; its files were written to {tmp_path / 'o'}/")
    assert len(list((tmp_path / "o").iterdir())) == 4


def test_ctrl_c_to_the_process_group_while_a_pool_runs_prints_no_worker_traceback(tmp_path):
    import os

    process = _cli(["sample", "--samples", 400, "--workers", 2, "--out", tmp_path / "o"], stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None and \
            len([p for p in Path("/proc").glob("[0-9]*") if _in_group(p, process.pid)]) < 3:
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does: the whole group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "imle-cli: interrupted; nothing was written"


def _in_group(proc: Path, group: int) -> bool:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2]) == group
    except (OSError, ValueError, IndexError):
        return False


# ---- one run at a time into a folder

def test_a_folder_another_run_is_writing_is_refused_in_one_line(tmp_path):
    import fcntl
    import os

    out = tmp_path / "o"
    out.mkdir()
    held = os.open(out, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_SH)  # as a script reading the folder holds it (a run holds LOCK_EX)
    try:
        result = run("sample", "--samples", 2, "--out", out, "--quiet")
        assert result.exit_code == 2
        assert result.stderr.strip() == (f"imle-cli: error: --out {str(out)!r} is being written by another imle-cli "
                                         "run; wait for it to end, or give another --out")
        assert list(out.iterdir()) == []
    finally:
        os.close(held)
    assert run("sample", "--samples", 2, "--out", out, "--quiet").exit_code == 0  # free again: it runs


def test_two_runs_into_one_folder_never_mix(tmp_path):
    out = tmp_path / "o"
    slow = _cli(["sample", "--samples", 3, "--seed", 1, "--out", out], env={"IMLE_TEST_SLOW_COMMIT": "3"},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (out / "map.png").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    second = _cli(["sample", "--samples", 3, "--seed", 2, "--out", out], stdout=subprocess.DEVNULL,
                  stderr=subprocess.PIPE)
    _, second_err = second.communicate(timeout=60)
    slow.communicate(timeout=60)
    assert slow.returncode == 0
    assert second.returncode == 2 and "is being written by another imle-cli run" in second_err


SAMPLE_FILES = ["distribution.gif", "distribution.png", "map.png", "paths.gif"]


def _files(folder: Path) -> dict:
    return {name: (folder / name).read_bytes() for name in SAMPLE_FILES}


def test_a_run_killed_halfway_through_its_renames_is_finished_by_the_next_run(tmp_path):
    """SIGKILL between two renames of a commit leaves a mix of two runs' files and the journal;
    the next run into the folder (another command) finishes the killed run's renames first."""
    from imle_cli.render.outputs import JOURNAL

    out, reference = tmp_path / "o", tmp_path / "reference"
    assert run("sample", "--samples", 3, "--seed", 1, "--out", out, "--quiet").exit_code == 0
    first = _files(out)
    assert run("sample", "--samples", 3, "--seed", 2, "--out", reference, "--quiet").exit_code == 0
    second = _files(reference)
    assert first["paths.gif"] != second["paths.gif"] and first["distribution.gif"] != second["distribution.gif"]
    killed = _cli(["sample", "--samples", 3, "--seed", 2, "--out", out], env={"IMLE_TEST_SLOW_COMMIT": "5"},
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    # the commit renames in the order the files were written: map.png (the same map), then paths.gif
    while time.monotonic() < deadline and (out / "paths.gif").read_bytes() == first["paths.gif"]:
        time.sleep(0.01)
    killed.kill()
    killed.wait(timeout=30)
    assert (out / JOURNAL).exists()
    mixed = _files(out)
    assert mixed["paths.gif"] == second["paths.gif"] and mixed["distribution.gif"] == first["distribution.gif"]
    finisher = run("noise", "--out", out)
    assert finisher.exit_code == 0, finisher.output
    assert " ".join(finisher.stderr.split()) == (f"note: a run killed while renaming its files into {out}/ left "
                                                 "them half renamed: finished (distribution.gif, distribution.png)")
    assert _files(out) == second  # the killed run's whole set
    assert sorted(p.name for p in out.iterdir()) == sorted(SAMPLE_FILES + ["noise.png"])  # no journal, no temporary


def test_the_commit_journal_moves_nothing_out_of_its_folder_nor_a_live_runs_files(tmp_path):
    import json
    import os

    from imle_cli.render.outputs import JOURNAL, finish_interrupted_commit

    folder = tmp_path / "o"
    folder.mkdir()
    (folder / ".a.png.1.x.tmp").write_bytes(b"a")
    (folder / ".b.png.1.y.tmp").write_bytes(b"b")
    crafted = [[".a.png.1.x.tmp", "../escaped.png"], ["../.b.png.1.y.tmp", "b.png"], ["not-a-temporary", "c.png"],
               [".b.png.1.y.tmp", "b.png"], "junk", [".gone.png.1.z.tmp", "gone.png"]]
    (folder / JOURNAL).write_text(json.dumps({"pid": 2 ** 22 + 12345, "renames": crafted}))
    assert finish_interrupted_commit(folder) == ["b.png"]  # a dead PID: finished, the bad entries skipped
    assert sorted(p.name for p in folder.iterdir()) == [".a.png.1.x.tmp", "b.png"]
    assert not (tmp_path / "escaped.png").exists()
    # a live run's commit (no lock here) is left to it; with the lock held, any journal is a dead run's
    (folder / JOURNAL).write_text(json.dumps({"pid": os.getppid(), "renames": [[".a.png.1.x.tmp", "a.png"]]}))
    assert finish_interrupted_commit(folder) == [] and (folder / JOURNAL).exists()
    assert finish_interrupted_commit(folder, locked=True) == ["a.png"] and not (folder / JOURNAL).exists()
    (folder / JOURNAL).write_text("{truncated")  # not a journal: removed, nothing moved
    assert finish_interrupted_commit(folder) == [] and not (folder / JOURNAL).exists()


def test_temporaries_of_a_live_pid_are_stale_when_the_folder_is_free(tmp_path):
    import os

    out = tmp_path / "o"
    out.mkdir()
    # another PID namespace's run that died: its PID may be alive here (ours, say), its lock is free
    leftover = out / f".paths.gif.{os.getppid()}.abc123.tmp"
    leftover.write_bytes(b"partial")
    assert run("sample", "--samples", 2, "--out", out, "--quiet").exit_code == 0
    assert not leftover.exists()


# ---- a signal at any instant of a command's start

@pytest.mark.parametrize("command", [["sample", "--samples", 50], ["gradients", "--samples", 20],
                                     ["learn", "--steps", 40, "--samples", 5]])
def test_a_sigterm_at_any_instant_of_the_first_two_seconds_ends_cleanly(tmp_path, command):
    for index, delay in enumerate([0.05, 0.25, 0.5, 0.65, 0.9, 1.3, 2.0]):
        out = tmp_path / str(index) / "o"
        process = _cli([*command, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        # before Python has read the command line the default action ends it (the shell's 143, no
        # word, nothing written); from then on one line and exit 143 (or 0: it finished)
        assert process.returncode in (-signal.SIGTERM, 143, 0), (delay, process.returncode, stderr)
        assert "Traceback" not in stderr and "terminate called" not in stderr, (delay, stderr)
        if process.returncode == 143:
            assert len(stderr.strip().splitlines()) == 1 and "terminated by SIGTERM" in stderr, (delay, stderr)
        if process.returncode != 0:
            assert not (tmp_path / str(index)).exists() or not any((tmp_path / str(index)).rglob("*")), delay
