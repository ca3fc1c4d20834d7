"""Noise distributions for perturb-and-MAP.

Each distribution has the seed's ``sample(shape)`` and, beyond it, keyword-only ``device``,
``dtype`` and ``generator`` so that :func:`imle.imle` draws noise where theta lives.

Example:
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
from typing import Optional, Sequence, Union

import torch

Shape = Union[torch.Size, Sequence[int]]

#: Work per chunk of the Sum-of-Gamma sampler, in Gamma draws. Small enough to stay in cache and
#: to bound the temporary memory, large enough that per-call overhead is negligible.
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
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return float(value)


class BaseNoiseDistribution(ABC):
    """A noise distribution: ``sample(shape)`` returns a tensor of i.i.d. draws of that shape.

    Subclasses implement :meth:`sample`; ``device``, ``dtype`` and ``generator`` default to the
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

    Example:
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


def standard_gamma(concentration: float, n: int, *, device=None, dtype=torch.float32,
                   generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """``n`` draws of Gamma(concentration, rate 1), vectorised, for any concentration > 0.

    Marsaglia and Tsang's method (ACM TOMS 2000): one normal and one uniform per try, about 5%
    of tries rejected and redrawn for the rejected entries only; below concentration 1 the draw
    is boosted, Gamma(a) = Gamma(a + 1) * U ** (1 / a). Works on any device with a
    ``torch.Generator``; much faster than ``torch.distributions.Gamma`` on the CPU for small a.
    """
    boost = concentration < 1.0
    d = (concentration + 1.0 if boost else concentration) - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    out = torch.empty(n, device=device, dtype=dtype)
    todo = None  # indices still to draw; None means all of them
    while True:
        m = n if todo is None else todo.numel()
        if m == 0:
            break
        x = torch.randn(m, device=device, dtype=dtype, generator=generator)
        v = x.mul(c).add_(1.0)
        v = v * v * v
        log_u = torch.rand(m, device=device, dtype=dtype, generator=generator).log_()
        # accept when v > 0 and log u < x^2 / 2 + d - d v + d log v
        bound = v.clamp_min(1e-30).log_().sub_(v).add_(1.0).mul_(d).add_(x.mul_(x).mul_(0.5))
        accept = (v > 0) & (log_u < bound)
        draws = v.mul_(d)
        if todo is None:
            out.copy_(draws)
            todo = (~accept).nonzero().squeeze(1)
        else:
            out[todo[accept]] = draws[accept]
            todo = todo[~accept]
    if boost:
        u = torch.rand(n, device=device, dtype=dtype, generator=generator)
        out.mul_(u.log_().div_(concentration).exp_())
    return out


class SumOfGammaNoiseDistribution(BaseNoiseDistribution):
    """Sum-of-Gamma noise (Niepert et al., 2021): eps = (sum_i Gamma(1/k, i/k) - log s) / k.

    The sum of ``k`` independent draws is (as s grows) a standard Gumbel, so perturbing a
    k-subset's scores with this noise samples top-k structures like the Gumbel-max trick samples
    one-hot ones. ``k`` is usually the number of ones in a solution (a path's length).

    Sampled as sum_{i=1..s} X_i / i - (log s) / k with X_i ~ Gamma(1/k, 1): all ``s`` terms of a
    chunk of elements in one vectorised call, chunks bounded by :data:`GAMMA_CHUNK` draws.

    Args:
        k: the structure's size, > 0.
        nb_iterations: ``s``, the number of Gamma terms (the original's default is 10; the
            README's experiments use 100).
        device: default device for ``sample``; ``imle()`` passes theta's device instead.
        generator: default ``torch.Generator`` for ``sample``.

    Example:
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
        if isinstance(nb_iterations, bool) or not isinstance(nb_iterations, int):
            raise TypeError(f"nb_iterations must be an int, got {type(nb_iterations).__name__}")
        if nb_iterations < 1:
            raise ValueError(f"nb_iterations must be >= 1, got {nb_iterations}")
        self.nb_iterations = nb_iterations

    def sample(self, shape: Shape, *, device=None, dtype=None,
               generator: Optional[torch.Generator] = None) -> torch.Tensor:
        size = _check_shape(shape)
        device, dtype, generator = self._resolve(device, dtype, generator)
        # float16/bfloat16 lack the range for the boost's small powers: draw in float32.
        work_dtype = dtype if dtype in (torch.float32, torch.float64) else torch.float32
        s, n = self.nb_iterations, size.numel()
        out = torch.empty(n, device=device, dtype=work_dtype)
        inverse_i = 1.0 / torch.arange(1, s + 1, device=device, dtype=work_dtype)
        shift = math.log(s) / self.k
        rows = max(1, GAMMA_CHUNK // s)  # elements per chunk, all s terms each
        for start in range(0, n, rows):
            m = min(rows, n - start)
            terms = standard_gamma(1.0 / self.k, m * s, device=device, dtype=work_dtype, generator=generator)
            torch.mv(terms.view(m, s), inverse_i, out=out[start:start + m])
        return out.sub_(shift).to(dtype).view(size)
