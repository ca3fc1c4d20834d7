"""Noise distributions for perturb-and-MAP.

Each distribution has the seed's ``sample(shape)`` and, beyond it, keyword-only ``device``,
``dtype`` and ``generator`` so that `imle.imle` draws noise where theta lives.

Examples:
    >>> import torch
    >>> from imle.noise import SumOfGammaNoiseDistribution
    >>> noise = SumOfGammaNoiseDistribution(k=5.0, nb_iterations=100)
    >>> eps = noise.sample(torch.Size([2, 10, 4, 4]), generator=torch.Generator().manual_seed(0))
    >>> eps.shape, eps.dtype
    (torch.Size([2, 10, 4, 4]), torch.float32)
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
import functools
from typing import Optional, Sequence, Union

import numpy as np
import torch

from imle import _checks
from imle._extensions import load
from imle._threads import run_parallel, usable_threads

#: the compiled CPU sampler, or None (not built, or IMLE_NO_EXTENSIONS=1): then the torch sampler
_compiled = load("imle._sumofgamma")

Shape = Union[torch.Size, Sequence[int]]

#: Most Gamma draws per chunk of the torch Sum-of-Gamma sampler (the one for non-CPU devices):
#: large enough that per-call overhead is small, small enough to stay in cache. Chunks are also
#: kept below the output's size, which bounds the temporary memory to a few times the output.
GAMMA_CHUNK = 1 << 16


def _check_shape(shape: Shape) -> torch.Size:
    try:
        size = torch.Size(shape)
    except TypeError:
        raise TypeError(f"shape must be a sequence of non-negative ints, got {shape!r}") from None
    if any(n < 0 for n in size):
        raise ValueError(f"shape must not have negative sizes, got {tuple(size)}")
    return size


def _check_positive(name: str, value: object) -> float:
    return _checks.real(name, value, positive=True)


class BaseNoiseDistribution(ABC):
    """A noise distribution: ``sample(shape)`` returns a tensor of i.i.d. draws of that shape.

    Subclasses implement `sample`; ``device``, ``dtype`` and ``generator`` default to the
    distribution's own (``device`` given at construction, the default dtype, the global RNG).
    """

    def __init__(self, device: Optional[Union[str, torch.device]] = None,
                 generator: Optional[torch.Generator] = None):
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        self.device = torch.device(device) if device is not None else None
        self.generator = generator

    def _resolve(self, device, dtype, generator):
        device = torch.device(device) if device is not None else (self.device or torch.device("cpu"))
        dtype = dtype if dtype is not None else torch.get_default_dtype()
        if not dtype.is_floating_point:
            raise TypeError(f"dtype must be a floating dtype, got {dtype}")
        generator = generator if generator is not None else self.generator
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        return device, dtype, generator

    @abstractmethod
    def sample(self, shape: Shape, *, device=None, dtype=None,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Draws of the given shape."""


class GumbelNoiseDistribution(BaseNoiseDistribution):
    """Standard Gumbel(0, 1) noise: the Gumbel-max trick's perturbation.

    Examples:
        >>> import torch
        >>> GumbelNoiseDistribution().sample([3], generator=torch.Generator().manual_seed(0)).shape
        torch.Size([3])
    """

    def sample(self, shape: Shape, *, device=None, dtype=None,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        size = _check_shape(shape)
        device, dtype, generator = self._resolve(device, dtype, generator)
        # -log(E) with E ~ Exp(1) is Gumbel(0, 1); exponential_ never returns 0.
        exponential = torch.empty(size, device=device, dtype=dtype).exponential_(generator=generator)
        return exponential.log_().neg_()


def _marsaglia_tsang(concentration: float, tries: int, device, dtype, generator) -> torch.Tensor:
    """The accepted draws of ``tries`` Marsaglia-Tsang tries (about 96% of them), in order.

    Below concentration 1 the draw is boosted, Gamma(a) = Gamma(a + 1) * U ** (1 / a), and U is
    not drawn afresh: given acceptance, u / min(1, p(x)) is uniform and independent of the draw
    (p the acceptance probability), so the acceptance test's own uniform serves twice.
    Three float buffers of ``tries`` in flight, updated in place.
    """
    boost = concentration < 1.0
    d = (concentration + 1.0 if boost else concentration) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    x = torch.randn(tries, device=device, dtype=dtype, generator=generator)
    v = torch.mul(x, c).add_(1.0).pow_(3)
    # log acceptance probability x^2 / 2 + d (1 - v + log v); NaN where v <= 0, which rejects
    log_p = torch.log(v).sub_(v).add_(1.0).mul_(d).addcmul_(x, x, value=0.5)
    log_u = torch.rand(tries, device=device, dtype=dtype, generator=generator, out=x).log_()
    accepted = log_u < log_p
    draws = v.mul_(d)
    if boost:
        draws.mul_(log_u.sub_(log_p.clamp_max_(0.0)).div_(concentration).exp_())
    if draws.device.type == "cpu":  # numpy's boolean compaction is about 3x faster than torch's
        return torch.from_numpy(draws.numpy()[accepted.numpy()])
    return draws[accepted]


#: Marsaglia-Tsang accepts at least 95.1% of tries for every concentration (the worst case is
#: concentration 1, or a boosted 0+): n / 0.95 tries plus four standard deviations fill n draws in
#: one round nearly always, so rejections never cost rounds of small kernel calls.
_TRIES_PER_DRAW = 1.0 / 0.95


def _tries_for(n: int) -> int:
    return int(n * _TRIES_PER_DRAW + 4.0 * math.sqrt(n) + 32)


def standard_gamma(concentration: float, n: int, *, device=None, dtype=torch.float32,
                   generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``n`` draws of Gamma(concentration, rate 1), vectorised, for any concentration > 0.

    Marsaglia and Tsang's method (ACM TOMS 2000): one normal and one uniform per try, with enough
    tries that one round almost always yields ``n`` accepted draws (a short extra round
    otherwise). Works on any device with a ``torch.Generator``; several times faster than
    ``torch.distributions.Gamma`` on the CPU for small concentrations.
    """
    concentration = _check_positive("concentration", concentration)
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be an int >= 0, got {n!r}")
    if not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating dtype, got {dtype}")
    out = None
    filled = 0
    while filled < n:
        missing = n - filled
        draws = _marsaglia_tsang(concentration, _tries_for(missing), device, dtype, generator)
        if out is None and draws.numel() >= n:
            return draws[:n]
        if out is None:
            out = torch.empty(n, device=device, dtype=dtype)
        take = min(missing, draws.numel())
        out[filled:filled + take] = draws[:take]
        filled += take
    return out if out is not None else torch.empty(0, device=device, dtype=dtype)


class SumOfGammaNoiseDistribution(BaseNoiseDistribution):
    """Sum-of-Gamma noise (Niepert et al., 2021): eps = (sum_i Gamma(1/k, i/k) - log s) / k.

    The sum of ``k`` independent draws is (as s grows) a standard Gumbel, so perturbing a
    k-subset's scores with this noise samples top-k structures like the Gumbel-max trick samples
    one-hot ones. ``k`` is usually the number of ones in a solution (a path's length).

    Sampled as sum_{i=1..s} X_i / i - (log s) / k with X_i ~ Gamma(1/k, 1). On the CPU a
    compiled SIMD sampler (``imle/_sumofgamma.c``: Ahrens-Dieter GS rejection, about 6 ns a
    Gamma draw) draws them with no temporaries, each element from its own random stream seeded
    from the generator, so the output does not depend on the thread count; on other devices (or
    without the compiled module) vectorised torch kernels (Marsaglia-Tsang) draw all ``s`` terms
    of a chunk of elements at once, chunks bounded by `GAMMA_CHUNK` draws. Same
    distribution, different streams. (For k above ~100 a few percent of the single terms
    underflow to 0 in float64, as Gamma(1/k) puts that much mass below 1e-308: harmless, the sum
    is dominated by its largest terms.)

    Args:
        k: the structure's size, > 0.
        nb_iterations: ``s``, the number of Gamma terms (the original's default is 10; the
            README's experiments use 100).
        device: default device for ``sample``; ``imle()`` passes theta's device instead.
        generator: default ``torch.Generator`` for ``sample``.

    Examples:
        >>> import torch
        >>> eps = SumOfGammaNoiseDistribution(k=20.0, nb_iterations=100).sample([8192, 20],
        ...     generator=torch.Generator().manual_seed(0))
        >>> abs(eps.sum(1).mean().item() - 0.5772) < 0.05  # the sum over k draws is Gumbel
        True
    """

    def __init__(self, k: float, nb_iterations: int = 10, device=None,
                 generator: Optional[torch.Generator] = None):
        super().__init__(device=device, generator=generator)
        self.k = _check_positive("k", k)
        self.nb_iterations = _checks.integer("nb_iterations", nb_iterations)

    def sample(self, shape: Shape, *, device=None, dtype=None,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        size = _check_shape(shape)
        device, dtype, generator = self._resolve(device, dtype, generator)
        # float16/bfloat16 lack the range for the boost's small powers: draw in float32.
        work_dtype = dtype if dtype in (torch.float32, torch.float64) else torch.float32
        # Gamma(1/k) draws are about 1/k: beyond the dtype's range they would be inf and the noise NaN
        limit = torch.finfo(work_dtype).max / 1e6
        if 1.0 / self.k > limit:
            raise ValueError(f"k={self.k!r} is too small for {work_dtype}: its Gamma(1/k) draws would overflow; "
                             f"k must be at least {1.0 / limit:.3g}")
        if device.type == "cpu" and _compiled is not None:
            out = _sample_compiled(size.numel(), self.nb_iterations, self.k, work_dtype, generator)
        else:
            out = _sample_torch(size.numel(), self.nb_iterations, self.k, device, work_dtype, generator)
        out = out.to(dtype).view(size)
        # one pass, against the s Gamma draws per element; numpy on the CPU, as a torch reduction
        # there would use torch's OpenMP pool, which hangs in a process forked after using it
        finite = np.isfinite(out.numpy()).all() if out.device.type == "cpu" and out.dtype in (
            torch.float32, torch.float64) else bool(torch.isfinite(out).all())
        if not finite:
            raise FloatingPointError(f"Sum-of-Gamma noise with k={self.k!r} overflowed {dtype}; use a larger k "
                                     "or a wider dtype")
        return out


#: Gamma draws per thread at least before a call is split among threads: a blocking pool thread
#: takes 20-80 us to wake on a virtual machine (a few thousand draws), and the caller waits for
#: the slowest slice of a fixed split.
PARALLEL_MIN_DRAWS = 40_000


def _sample_compiled(n: int, s: int, k: float, dtype: torch.dtype, generator) -> torch.Tensor:
    """CPU: the compiled sampler, split among up to torch's thread count of blocking threads."""
    seed = int(torch.randint(0, 2 ** 63 - 1, (), generator=generator))
    out = torch.empty(n, dtype=dtype)
    buffer, is_double = out.numpy(), dtype == torch.float64
    workers = max(1, min(usable_threads(), n * s // PARALLEL_MIN_DRAWS))
    # Element j's numbers depend on (seed, j) only, so any split gives the same output; slices
    # start on multiples of LANES, the elements the sampler handles side by side.
    lanes = _compiled.LANES
    groups = -(-n // lanes)
    cuts = [min(n, groups * i // workers * lanes) for i in range(workers + 1)]
    run_parallel([functools.partial(_compiled.sample, buffer, lo, hi, s, k, seed, is_double)
                  for lo, hi in zip(cuts[:-1], cuts[1:]) if hi > lo])
    return out


def _sample_torch(n: int, s: int, k: float, device, dtype, generator) -> torch.Tensor:
    """Any device: vectorised torch kernels, chunks of elements with all s terms each."""
    out = torch.empty(n, device=device, dtype=dtype)
    inverse_i = 1.0 / torch.arange(1, s + 1, device=device, dtype=dtype)
    draws_per_chunk = min(GAMMA_CHUNK, max(n * 3 // 4, 1024))
    rows = max(1, draws_per_chunk // s)  # elements per chunk
    for start in range(0, n, rows):
        m = min(rows, n - start)
        terms = standard_gamma(1.0 / k, m * s, device=device, dtype=dtype, generator=generator)
        torch.mv(terms.view(m, s), inverse_i, out=out[start:start + m])
    return out.sub_(math.log(s) / k)
