import math
import platform
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import imle.noise as noise_module
from imle.noise import GumbelNoiseDistribution, SumOfGammaNoiseDistribution, standard_gamma

EULER_GAMMA = 0.5772156649


@pytest.fixture(params=[pytest.param("compiled", marks=pytest.mark.compiled), "torch"])
def backend(request, monkeypatch):
    """Run a test against the compiled CPU sampler and against the torch one (any device)."""
    if request.param == "torch":
        monkeypatch.setattr(noise_module, "_compiled", None)
    return request.param
GUMBEL_VARIANCE = math.pi ** 2 / 6


def ks_statistic_against_gumbel(draws: np.ndarray) -> float:
    x = np.sort(draws)
    cdf = np.exp(-np.exp(-x))
    n = len(x)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def assert_matches(draws: np.ndarray, mean: float, variance: float) -> None:
    """Draws of a Gumbel-like law with this mean and variance, for any seed: a KS distance to
    Gumbel(0, 1) that a Gumbel sample exceeds with probability about 1e-6, and the moments within 5
    standard errors (the variance's from the sample's own fourth moment)."""
    n, sample_mean, sample_variance = len(draws), draws.mean(), draws.var()
    assert ks_statistic_against_gumbel(draws) < math.sqrt(math.log(2 / 1e-6) / (2 * n))
    assert abs(sample_mean - mean) < 5 * math.sqrt(sample_variance / n)
    fourth = ((draws - sample_mean) ** 4).mean()
    assert abs(sample_variance - variance) < 5 * math.sqrt((fourth - sample_variance ** 2) / n)


@pytest.mark.parametrize("seed", range(5))
def test_sum_of_k_sum_of_gamma_draws_is_standard_gumbel(backend, seed):
    # the sum of k draws with s terms has mean H_s - log s and variance sum_{i<=s} 1 / i^2 (Gumbel's
    # as s grows); the next test pins them with 200,000 draws
    k, s = 20, 100
    noise = SumOfGammaNoiseDistribution(k=k, nb_iterations=s)
    draws = noise.sample([8192, k], generator=torch.Generator().manual_seed(seed)).double().sum(1).numpy()
    assert_matches(draws, sum(1 / i for i in range(1, s + 1)) - math.log(s), sum(1 / i ** 2 for i in range(1, s + 1)))


def test_sum_of_gamma_moments_with_many_draws_match_the_finite_s_values(backend):
    # for finite s the sum of k draws has mean H_s - log s and variance sum_{i<=s} 1 / i^2,
    # whatever k; k = 4 keeps this test fast
    k, s = 4, 100
    draws = SumOfGammaNoiseDistribution(k=k, nb_iterations=s).sample(
        [200_000, k], generator=torch.Generator().manual_seed(0)).double().sum(1).numpy()
    harmonic = sum(1 / i for i in range(1, s + 1))
    variance = sum(1 / i ** 2 for i in range(1, s + 1))
    assert abs(draws.mean() - (harmonic - math.log(s))) < 0.015   # 5 standard errors
    assert abs(draws.var() - variance) < 0.05                        # 5 standard errors
    assert ks_statistic_against_gumbel(draws) < 0.01


@pytest.mark.parametrize("seed", range(5))
def test_gumbel_sampler_is_standard_gumbel(seed):
    draws = GumbelNoiseDistribution().sample([8192], generator=torch.Generator().manual_seed(seed)).double().numpy()
    assert_matches(draws, EULER_GAMMA, GUMBEL_VARIANCE)


@pytest.mark.parametrize("concentration", [0.05, 0.5, 1.0, 3.7])
def test_standard_gamma_has_the_right_mean_and_variance(concentration):
    draws = standard_gamma(concentration, 200_000, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(1)).numpy()
    assert (draws >= 0).all()
    # Gamma(a, 1): mean a, variance a; tolerances are 5 standard errors
    assert abs(draws.mean() - concentration) < 5 * math.sqrt(concentration / len(draws))
    relative_tolerance = 0.05 if concentration >= 0.5 else 0.15  # small a: heavy right tail
    assert abs(draws.var() / concentration - 1) < relative_tolerance


@pytest.mark.parametrize("k", [20.8, 3.0, 1.25, 40.0, 1.0, 0.5])
def test_single_term_sum_of_gamma_is_gamma_one_over_k(backend, k):
    # with s = 1 the noise is X ~ Gamma(1/k, 1) itself: both samplers against scipy's CDF
    from scipy import stats

    draws = SumOfGammaNoiseDistribution(k, 1).sample(
        [100_000], dtype=torch.float64, generator=torch.Generator().manual_seed(11)).numpy()
    assert stats.kstest(draws, stats.gamma(a=1 / k).cdf).statistic < 0.006  # p ~ 1e-3 threshold


@pytest.mark.compiled
def test_compiled_sampler_does_not_depend_on_the_thread_count(monkeypatch):
    noise = SumOfGammaNoiseDistribution(k=7.0, nb_iterations=50)
    monkeypatch.setattr(noise_module, "PARALLEL_MIN_DRAWS", 1)
    results = []
    for threads in (1, 2, 5):
        monkeypatch.setattr(noise_module, "usable_threads", lambda: threads)
        results.append(noise.sample([3, 333], generator=torch.Generator().manual_seed(5)))
    assert torch.equal(results[0], results[1]) and torch.equal(results[0], results[2])


@pytest.mark.compiled
def test_concurrent_callers_each_get_their_own_numbers(monkeypatch):
    # four Python threads sampling at once, each splitting its call among pool threads
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr(noise_module, "PARALLEL_MIN_DRAWS", 1)
    monkeypatch.setattr(noise_module, "usable_threads", lambda: 2)
    noise = SumOfGammaNoiseDistribution(k=20.8, nb_iterations=20)

    def draw(seed):
        return noise.sample([20_000], generator=torch.Generator().manual_seed(seed))

    expected = [draw(seed) for seed in range(8)]
    with ThreadPoolExecutor(4) as executor:
        results = list(executor.map(draw, range(8)))
    assert all(torch.equal(a, b) for a, b in zip(expected, results))


def _split_draws():
    noise_module.PARALLEL_MIN_DRAWS, noise_module.usable_threads = 1, lambda: 2
    draws = SumOfGammaNoiseDistribution(20.8, 10).sample([50_000], generator=torch.Generator().manual_seed(3))
    return draws.numpy()  # numpy: a tensor would travel back through torch's shared-memory pickler


@pytest.mark.compiled  # the torch sampler in a forked child hits torch's own fork limits, not ours
@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork()")
def test_split_sampling_works_in_a_forked_child():
    # fork copies only the calling thread: the child must start its own pool, not wait forever
    # on the parent's (whose threads it does not have)
    import multiprocessing

    parent = _split_draws()  # in this process first: starts the pool's threads here
    with multiprocessing.get_context("fork").Pool(1) as child_pool:
        child = child_pool.apply(_split_draws, ())
    assert np.array_equal(child, parent)


IDLE_PROBE = """
import time, torch, imle.noise as noise
noise.PARALLEL_MIN_DRAWS = 1
sampler = noise.SumOfGammaNoiseDistribution(20.8, 100)
for _ in range(200):  # a burst of calls in quick succession, split among threads
    sampler.sample([1, 10, 16, 16])
start = time.process_time()
time.sleep(1.0)
print(time.process_time() - start)
"""


@pytest.mark.compiled  # the torch sampler's OpenMP threads spin briefly after work (5 ms measured): torch's
def test_an_idle_process_burns_no_cpu_after_a_burst_of_sampling():
    # threads that spun for the next call would burn a core here; blocking ones use nothing
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", IDLE_PROBE], capture_output=True, text=True, check=True)
    assert float(out.stdout) < 0.005


def test_standard_gamma_matches_scipy_distribution():
    from scipy import stats

    draws = standard_gamma(1 / 20.8, 50_000, dtype=torch.float64, generator=torch.Generator().manual_seed(2)).numpy()
    assert stats.kstest(draws, stats.gamma(a=1 / 20.8).cdf).statistic < 0.01


@pytest.mark.parametrize("chunk", [noise_module.GAMMA_CHUNK, 7])
def test_sum_of_gamma_mean_is_harmonic_minus_log_over_k(monkeypatch, chunk, backend):
    monkeypatch.setattr(noise_module, "GAMMA_CHUNK", chunk)  # tiny chunks: same distribution
    k, s = 4.0, 100
    n = 200_000 if chunk > 100 else 2_000
    draws = SumOfGammaNoiseDistribution(k, s).sample([n], generator=torch.Generator().manual_seed(3))
    harmonic = sum(1 / i for i in range(1, s + 1))
    # each draw has variance sum_i (1/k) / i^2 / 1 < 1.65 / k: 5 standard errors
    tolerance = 5 * math.sqrt(1.65 / k / n)
    assert draws.double().mean().item() == pytest.approx((harmonic - math.log(s)) / k, abs=tolerance)


def test_same_generator_seed_same_noise(backend):
    noise = SumOfGammaNoiseDistribution(k=5.0, nb_iterations=30)
    a = noise.sample([3, 7, 11], generator=torch.Generator().manual_seed(9))
    b = noise.sample([3, 7, 11], generator=torch.Generator().manual_seed(9))
    assert torch.equal(a, b)
    c = noise.sample([3, 7, 11], generator=torch.Generator().manual_seed(10))
    assert not torch.equal(a, c)


def test_distribution_level_generator_and_device_and_dtype(backend):
    noise = SumOfGammaNoiseDistribution(k=3.0, nb_iterations=5, device="cpu",
                                        generator=torch.Generator().manual_seed(4))
    first = noise.sample([4])
    noise.generator.manual_seed(4)
    assert torch.equal(first, noise.sample([4]))
    assert noise.sample([2, 2], dtype=torch.float64).dtype == torch.float64
    assert noise.sample([2, 2], dtype=torch.bfloat16).dtype == torch.bfloat16
    assert GumbelNoiseDistribution().sample([2], dtype=torch.float64).dtype == torch.float64
    assert noise.sample([0, 3]).shape == (0, 3)


def test_seed_style_call_with_positional_shape():
    noise = SumOfGammaNoiseDistribution(20.8, 100)
    assert noise.sample(torch.Size([1, 100, 16, 16])).shape == (1, 100, 16, 16)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: SumOfGammaNoiseDistribution(k=0), ValueError, "k must be a positive finite number"),
        (lambda: SumOfGammaNoiseDistribution(k=float("inf")), ValueError, "k must be a positive finite number"),
        (lambda: SumOfGammaNoiseDistribution(k="5"), TypeError, "k must be a number"),
        (lambda: SumOfGammaNoiseDistribution(k=5, nb_iterations=0), ValueError, "nb_iterations must be >= 1"),
        (lambda: SumOfGammaNoiseDistribution(k=5, nb_iterations=2.5), TypeError, "nb_iterations must be an int"),
        (lambda: SumOfGammaNoiseDistribution(k=5, generator=1), TypeError, "generator must be a torch.Generator"),
        (lambda: SumOfGammaNoiseDistribution(k=5).sample([-1]), ValueError, "shape must not have negative sizes"),
        (lambda: SumOfGammaNoiseDistribution(k=5).sample("big"), TypeError, "shape must be a sequence"),
        (lambda: GumbelNoiseDistribution().sample([2], dtype=torch.int64), TypeError, "dtype must be a floating dtype"),
        (lambda: GumbelNoiseDistribution().sample([2], generator="g"), TypeError, "generator must be a torch.Generator"),
        (lambda: standard_gamma(0.0, 5), ValueError, "concentration must be a positive finite number"),
        (lambda: standard_gamma(1.0, -1), ValueError, "n must be an int >= 0"),
        (lambda: standard_gamma(1.0, 3, dtype=torch.int32), TypeError, "dtype must be a floating dtype"),
    ],
)
def test_bad_noise_arguments(build, error, message):
    with pytest.raises(error, match=message):
        build()


@pytest.mark.compiled
@pytest.mark.parametrize("k", [20.8, 3.0, 1.25, 40.0, 1.0, 0.5])
@pytest.mark.parametrize("s", [1, 7, 100])
def test_compiled_simd_path_is_an_exact_shortcut_of_the_scalar_reference(k, s):
    # the SIMD common path must compute what the scalar reference computes, bit for bit; 77
    # elements: two full groups of lanes and a short one
    simd, scalar = np.empty(77), np.empty(77)
    noise_module._compiled.sample(simd, 0, 77, s, k, 12345, True)
    noise_module._compiled.sample(scalar, 0, 77, s, k, 12345, True, True)
    assert np.array_equal(simd, scalar)
    assert len(np.unique(simd)) == 77


@pytest.mark.compiled
def test_compiled_elements_depend_on_the_seed_and_their_index_only():
    whole = np.empty(100)
    noise_module._compiled.sample(whole, 0, 100, 20, 20.8, 7, True)
    pieces = np.empty(100)
    for start, stop in ((0, 5), (5, 38), (38, 99), (99, 100)):  # any split, aligned or not
        noise_module._compiled.sample(pieces, start, stop, 20, 20.8, 7, True)
    assert np.array_equal(whole, pieces)
    single = np.empty(100, dtype=np.float32)
    noise_module._compiled.sample(single, 0, 100, 20, 20.8, 7, False)
    assert np.array_equal(single, whole.astype(np.float32))  # float32 is the float64 value, rounded


@pytest.mark.parametrize("arguments", [
    (np.empty(10), -1, 5, 10, 2.0, 0, True),     # negative start
    (np.empty(10), 6, 5, 10, 2.0, 0, True),      # stop before start
    (np.empty(10), 0, 11, 10, 2.0, 0, True),     # past the buffer
    (np.empty(10, np.float32), 0, 6, 10, 2.0, 0, True),  # float32 buffer read as float64
    (np.empty(10), 0, 5, 0, 2.0, 0, True),       # s = 0
    (np.empty(10), 0, 5, 10, 0.0, 0, True),      # k = 0
    (np.empty(10), 0, 5, 10, float("nan"), 0, True),
    (np.empty(10), 0, 5, 10, float("inf"), 0, True),
    (np.empty(10), 0, 2 ** 62, 10, 2.0, 0, True),  # stop * 8 would overflow
])
@pytest.mark.compiled
def test_compiled_sampler_rejects_bad_arguments(arguments):
    with pytest.raises(ValueError, match="_sumofgamma.sample: bad arguments"):
        noise_module._compiled.sample(*arguments)


def _cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return {flag for line in cpuinfo if line.startswith("flags") for flag in line.split(":")[1].split()}
    except OSError:
        return set()


@pytest.mark.compiled
@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not shutil.which("gcc"),
                    reason="builds the sampler with gcc for several x86 instruction sets")
def test_sampler_builds_for_each_instruction_set_give_the_same_numbers(tmp_path):
    # the shipped module picks its SIMD width at load time; every width must give the same bits
    import importlib.util
    import subprocess
    import sysconfig

    source = (Path(noise_module.__file__).parent / "_sumofgamma.c").read_text()
    source = re.sub(r"#define SIMD_CLONES __attribute__.*", "#define SIMD_CLONES", source)
    flags = _cpu_flags()
    isas = ["-mno-avx", "-msse4.2"] + [f"-m{isa}" for isa in ("avx2", "avx512f") if isa in flags]
    outputs = []
    for index, isa in enumerate(isas):
        folder = tmp_path / str(index)
        folder.mkdir()
        (folder / "_sumofgamma.c").write_text(source)
        library = folder / ("_sumofgamma" + sysconfig.get_config_var("EXT_SUFFIX"))
        subprocess.run(["gcc", "-O3", "-ffp-contract=off", "-fno-trapping-math", isa, "-shared", "-fPIC",
                        "-I" + sysconfig.get_paths()["include"], "-I" + str(Path(noise_module.__file__).parent),
                        str(folder / "_sumofgamma.c"), "-o", str(library)],
                       check=True)
        spec = importlib.util.spec_from_file_location("_sumofgamma", library)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        draws = []
        for k in (20.8, 3.0, 1.25, 0.5):
            out = np.empty(999)
            module.sample(out, 0, 999, 30, k, 2024, True)
            draws.append(out)
        outputs.append(np.concatenate(draws))
    shipped = [np.empty(999) for _ in range(4)]
    for out, k in zip(shipped, (20.8, 3.0, 1.25, 0.5)):
        noise_module._compiled.sample(out, 0, 999, 30, k, 2024, True)
    for output in outputs:
        assert np.array_equal(output, np.concatenate(shipped))
