"""What every estimator layer shares: checking settings and inputs, drawing noise, calling the
user's solver under the sign convention, and the function-or-decorator form."""
from __future__ import annotations

import functools
import inspect
from typing import Callable, Optional

import torch

from imle import _checks

Solver = Callable[..., torch.Tensor]


def check_non_negative(name: str, value: object) -> float:
    return _checks.real(name, value, minimum=0.0)


def check_positive(name: str, value: object) -> float:
    return _checks.real(name, value, positive=True)


def check_samples(nb_samples: object, minimum: int = 1) -> int:
    return _checks.integer("nb_samples", nb_samples, minimum=minimum)


check_flag, check_generator = _checks.flag, _checks.generator


def check_theta(theta: object) -> torch.Tensor:
    if not isinstance(theta, torch.Tensor):
        raise TypeError(f"theta must be a torch.Tensor of shape [B, ...], got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise TypeError(f"theta must be a floating tensor, got dtype {theta.dtype}")
    if theta.dim() < 1 or theta.shape[0] < 1:
        raise ValueError(f"theta must have shape [B, ...] with B >= 1, got {tuple(theta.shape)}")
    return theta


NoiseDraw = Callable[[torch.Size, torch.Tensor, Optional[torch.Generator]], torch.Tensor]


def _takes_placement_keywords(sample: Callable) -> bool:
    """Whether ``sample`` accepts ``device=``, ``dtype=`` and ``generator=`` (ours do; the seed's
    ``sample(shape)`` does not)."""
    try:
        parameters = inspect.signature(sample).parameters.values()
    except (TypeError, ValueError):  # a builtin or C callable without a signature
        return False
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return True
    names = {p.name for p in parameters if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
    return {"device", "dtype", "generator"} <= names


def adapt_noise(noise: object) -> NoiseDraw:
    """A user's noise object as one function ``draw(shape, theta, generator)`` -> noise of that
    shape on theta's device and dtype (zeros for ``None``). Decided once, when a layer is built:
    a ``sample`` taking ``device``/``dtype``/``generator`` keywords draws in place; the seed's
    ``sample(shape)`` (subclass or duck-typed) is called as it is and its draws moved."""
    if noise is None:
        return lambda shape, theta, generator: torch.zeros(shape, device=theta.device, dtype=theta.dtype)
    sample = getattr(noise, "sample", None)
    if not callable(sample):
        raise TypeError(f"noise_distribution must have a sample(shape) method, got {type(noise).__name__}")

    def checked(eps: object, shape: torch.Size, theta: torch.Tensor) -> torch.Tensor:
        if not isinstance(eps, torch.Tensor) or eps.shape != shape:
            got = tuple(eps.shape) if isinstance(eps, torch.Tensor) else type(eps).__name__
            raise ValueError(f"noise_distribution.sample(shape) must return a tensor of shape {tuple(shape)}, "
                             f"got {got}")
        return eps.to(device=theta.device, dtype=theta.dtype)

    if _takes_placement_keywords(sample):
        return lambda shape, theta, generator: checked(
            sample(shape, device=theta.device, dtype=theta.dtype, generator=generator), shape, theta)
    return lambda shape, theta, generator: checked(sample(shape), shape, theta)


def noise_shape(theta: torch.Tensor, samples: int) -> torch.Size:
    """[B, S, ...] for theta [B, ...]."""
    return torch.Size((theta.shape[0], samples) + tuple(theta.shape[1:]))


def call_solver(solver: Solver, theta_max: torch.Tensor, minimize: bool, args: tuple, kwargs: dict,
                keep_dtype: bool = False) -> torch.Tensor:
    """Call the user's solver on maximisation parameters [N, ...]; check and place its output (on
    theta's device, in theta's dtype unless ``keep_dtype``).

    A minimising solver gets costs, ``-theta_max``: the one place the sign convention is applied.
    """
    y = solver(-theta_max if minimize else theta_max, *args, **kwargs)
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"the solver must return a torch.Tensor of shape {tuple(theta_max.shape)}, "
                         f"got {type(y).__name__}")
    if y.shape != theta_max.shape:
        raise ValueError(f"the solver must return a tensor of shape {tuple(theta_max.shape)} (its input's shape), "
                         f"got {tuple(y.shape)}")
    return y.detach().to(device=theta_max.device, dtype=y.dtype if keep_dtype else theta_max.dtype)


def autograd_layer(function: Optional[Solver], function_class, make_config: Callable[[Solver], object],
                   attribute: str):
    """The layer ``f(theta, *args, **kwargs) = function_class.apply(theta, config, args, kwargs)``
    with ``config = make_config(solver)`` (kept on the layer as ``attribute``), or the decorator
    that builds it: what every estimator's public function returns."""
    def build(solver: Solver) -> Callable[..., torch.Tensor]:
        config = make_config(solver)

        def layer(theta: torch.Tensor, *args, **kwargs) -> torch.Tensor:
            return function_class.apply(check_theta(theta), config, args, kwargs)

        setattr(layer, attribute, config)
        return layer

    return layer_or_decorator(function, build)


def layer_or_decorator(function: Optional[Solver], build: Callable[[Solver], Callable]):
    """``build(function)`` when a solver is given, else the decorator that builds it."""
    def checked_build(solver: Solver) -> Callable:
        if not callable(solver):
            raise TypeError(f"the estimator must wrap a callable solver, got {type(solver).__name__}")
        layer = build(solver)
        return functools.wraps(solver)(layer)

    if function is not None and not callable(function):
        raise TypeError(f"function must be callable (the solver), got {type(function).__name__}")
    return checked_build if function is None else checked_build(function)
