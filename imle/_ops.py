"""The two custom operators through which a layer reaches its solver and its noise when it is
traced: under ``torch.compile`` (Dynamo) and inside ``torch.func`` transforms.

Why operators: a solver is host code (numpy, a C extension, SciPy, a MIP solver). Dynamo would
trace into it (and into SciPy's Python, where it fails), and functorch's wrapped tensors have no
data a solver could read. Registered with ``torch.library``, each call is one opaque node: the
compiler neither traces nor reorders it, ``torch.func.vmap`` merges the vmapped dimension into
the solver's batch, and ``torch.func.grad`` passes it by (its outputs are never differentiated:
the estimators write their own backward passes). Noise is an operator for the same reasons and
one more: a compiled graph would otherwise draw Gumbel or uniform numbers with its own random
generator, not the layer's ``torch.Generator`` (which no operator schema can take), so compiled
and eager runs would differ for the same seed.

An operator takes tensors, numbers and strings only. The layer travels as an integer *token*
(`register`, made when the layer is built, never while tracing: Dynamo reads it as a
constant); the solver's extra arguments travel encoded (`encode_call`: numbers, strings,
tuples of numbers and None, which is what a traced call may pass). Eager calls do not come here:
a custom operator costs about 20 us a call, 14% of a small I-MLE step.

Examples:
    >>> import torch
    >>> class Layer:
    ...     def traced_solve(self, values, args, kwargs):
    ...         return values * args[0] + kwargs["shift"]
    >>> layer = Layer()
    >>> solve(torch.tensor([1.0, -2.0]), register(layer), *encode_call((3,), {"shift": 0.5}))
    tensor([ 3.5000, -5.5000])
"""
from __future__ import annotations

import functools
import itertools
import sys
import weakref
from typing import Callable, List, Sequence, Tuple, Union

import torch

_next_token = itertools.count(1)
#: token -> the live layer it names; an entry vanishes with its layer
_LAYERS: "weakref.WeakValueDictionary[int, object]" = weakref.WeakValueDictionary()

Number = Union[int, float, bool]
#: the separator of encoded strings and names (a unit separator: never typed in an argument)
SEPARATOR = "\x1f"


def register(layer: object) -> int:
    """A new token for ``layer`` (held weakly: the token dies with the layer)."""
    token = next(_next_token)
    _LAYERS[token] = layer
    return token


def _layer(token: int):
    try:
        return _LAYERS[token]
    except KeyError:
        raise RuntimeError(f"imle operator token {token} names no live layer (the layer was freed); a compiled "
                           "graph must not outlive the layer it was traced from") from None


def outside_compiled_graphs(function: Callable) -> Callable:
    """``torch.compiler.disable(function)`` without importing the compiler when imle is imported
    (that costs 1.5 s): until something in the process has loaded Dynamo nothing can be
    compiling, and the function is called as it is. For host bookkeeping (a few floats) that a
    compiler would only specialise on and recompile."""
    disabled = None

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        nonlocal disabled
        if "torch._dynamo" not in sys.modules:
            return function(*args, **kwargs)
        if disabled is None:
            disabled = torch.compiler.disable(function)
        return disabled(*args, **kwargs)

    return wrapper


def traced(tensor: torch.Tensor) -> bool:
    """Whether a layer must go through the operators: under Dynamo, or given a functorch-wrapped
    tensor (vmap's batched and grad's tracking tensors hold no data a solver could read)."""
    return torch.compiler.is_compiling() or torch._C._functorch.is_functorch_wrapped_tensor(tensor)


# ---- a call's extra arguments, as operator arguments (written so that Dynamo traces it) ----

def _kind(value: object) -> str:
    if value is None:
        return "0"
    if isinstance(value, bool):
        return "b"
    if isinstance(value, (int, float)):
        return "n"
    if isinstance(value, str):
        return "s"
    if isinstance(value, (tuple, list)) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                                for v in value):
        return "t"
    raise TypeError(f"under torch.compile and torch.func a layer's extra solver arguments must be numbers, strings, "
                    f"tuples of numbers or None, got {type(value).__name__}; close over it in the solver instead")


def encode_call(args: tuple, kwargs: dict) -> Tuple[str, str, List[Number], str]:
    """(kinds, names, numbers, strings): one kind letter per argument (positional, then keyword),
    the keyword names, every number (a tuple as its length then its values), every string."""
    values = list(args) + [kwargs[name] for name in kwargs]
    kinds = "".join(_kind(value) for value in values)
    numbers: List[Number] = []
    for value in values:
        if isinstance(value, (tuple, list)):
            numbers.append(len(value))
            numbers.extend(value)
        elif isinstance(value, (int, float)):
            numbers.append(int(value) if isinstance(value, bool) else value)
    strings = SEPARATOR.join(value for value in values if isinstance(value, str))
    return kinds, SEPARATOR.join(kwargs), numbers, strings


def decode_call(kinds: str, names: str, numbers: Sequence[Number], strings: str) -> Tuple[tuple, dict]:
    """The (args, kwargs) that `encode_call` encoded."""
    numbers, texts = iter(numbers), iter(strings.split(SEPARATOR) if strings else [])
    values = []
    for kind in kinds:
        if kind == "0":
            values.append(None)
        elif kind == "b":
            values.append(bool(next(numbers)))
        elif kind == "n":
            values.append(next(numbers))
        elif kind == "s":
            values.append(next(texts))
        else:
            values.append(tuple(next(numbers) for _ in range(int(next(numbers)))))
    keywords = names.split(SEPARATOR) if names else []
    positional = len(values) - len(keywords)
    return tuple(values[:positional]), dict(zip(keywords, values[positional:]))


# ---- imle::solve: the layer's solver, one opaque call ----

@torch.library.custom_op("imle::solve", mutates_args=())
def _solve(values: torch.Tensor, token: int, kinds: str, names: str, numbers: Sequence[Number],
           strings: str) -> torch.Tensor:
    args, kwargs = decode_call(kinds, names, numbers, strings)
    return _layer(token).traced_solve(values, args, kwargs)


@_solve.register_fake
def _solve_fake(values, token, kinds, names, numbers, strings):
    return torch.empty_like(values)  # a solution has its input's shape, placed in its dtype


def _solve_vmap(info, in_dims, values, *call):
    """vmap: the vmapped dimension joins the solver's batch ([V, N, ...] -> [V * N, ...])."""
    if in_dims[0] is None:
        return _solve(values, *call), None
    stacked = values.movedim(in_dims[0], 0)
    merged = stacked.reshape((stacked.shape[0] * stacked.shape[1],) + tuple(stacked.shape[2:]))
    return _solve(merged, *call).reshape(stacked.shape), 0


_solve.register_vmap(_solve_vmap)


def solve(values: torch.Tensor, token: int, kinds: str, names: str, numbers: Sequence[Number],
          strings: str) -> torch.Tensor:
    """``imle::solve``: layer ``token``'s solver on ``values`` [N, ...] -> [N, ...] with the encoded
    extra arguments (called without gradient tracking: a solution is never differentiated through)."""
    with torch.no_grad():
        return _solve(values, token, kinds, names, numbers, strings)


# ---- imle::noise: a draw from the layer's noise and generator ----

@torch.library.custom_op("imle::noise", mutates_args=(), tags=(torch.Tag.nondeterministic_seeded,))
def _noise(shape: List[int], like: torch.Tensor, token: int) -> torch.Tensor:
    return _layer(token).traced_noise(torch.Size(shape), like)


@_noise.register_fake
def _noise_fake(shape, like, token):
    return like.new_empty(shape)


def _noise_vmap(info, in_dims, shape, like, token):
    """vmap: each vmapped example draws its own noise, all of it in one call ([V] + shape)."""
    plain = like if in_dims[1] is None else like.select(in_dims[1], 0)
    return _noise([info.batch_size] + list(shape), plain, token), 0


_noise.register_vmap(_noise_vmap)


def noise(shape: torch.Size, like: torch.Tensor, token: int) -> torch.Tensor:
    """``imle::noise``: a draw of the given shape from layer ``token``'s noise, on ``like``'s
    device and dtype. Tagged nondeterministic-seeded, so a compiler never merges two draws."""
    with torch.no_grad():
        return _noise(list(shape), like, token)
