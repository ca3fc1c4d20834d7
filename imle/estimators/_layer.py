"""What every estimator's layer shares: the ``nn.Module`` base, the solver call under the sign
convention, the noise draw, checks, and the function-or-decorator form.

A layer is an `EstimatorLayer`, a ``torch.nn.Module``: its settings and any adapting
state (an `imle.target.AdaptiveTargetDistribution` is a submodule) live where
``state_dict()`` finds them, it pickles (``torch.save(model)``) and deep-copies into an
independent layer, and it compiles: under ``torch.compile`` and ``torch.func`` its solver and
noise calls go through the operators of `imle._ops`. Each estimator adds its settings and
one forward/setup_context/backward body, built into a traced and an eager autograd Function by
`autograd_functions`.

A user's noise object is adapted once, when the layer is built (`adapt_noise`): the
seed's ``sample(shape)`` and ours with ``device``/``dtype``/``generator`` keywords both work, and
the hot path never asks which it is.
"""
from __future__ import annotations

import collections
import importlib
import inspect
from typing import Callable, Optional

import torch

from imle import _checks, _ops

Solver = Callable[..., torch.Tensor]


def check_non_negative(name: str, value: object) -> float:
    return _checks.real(name, value, minimum=0.0)


def check_positive(name: str, value: object) -> float:
    return _checks.real(name, value, positive=True)


def check_samples(nb_samples: object, minimum: int = 1, name: str = "nb_samples") -> int:
    return _checks.integer(name, nb_samples, minimum=minimum)


check_flag, check_generator = _checks.flag, _checks.generator


def check_theta(theta: object) -> torch.Tensor:
    if not isinstance(theta, torch.Tensor):
        raise TypeError(f"theta must be a torch.Tensor of shape [B, ...], got {type(theta).__name__}")
    if not theta.is_floating_point():
        raise TypeError(f"theta must be a floating tensor, got dtype {theta.dtype}")
    if theta.dim() < 1 or theta.shape[0] < 1:
        raise ValueError(f"theta must have shape [B, ...] with B >= 1, got {tuple(theta.shape)}")
    return theta


def noise_shape(theta: torch.Tensor, samples: int) -> torch.Size:
    """[B, S, ...] for theta [B, ...]."""
    return torch.Size((theta.shape[0], samples) + tuple(theta.shape[1:]))


def flat(tensor: torch.Tensor) -> torch.Tensor:
    """[B, S, ...] -> [B * S, ...]."""
    return tensor.reshape((-1,) + tuple(tensor.shape[2:]))


# ---- noise: a user's object adapted once, into a picklable draw(shape, like, generator) ----

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


def _placed(eps: object, shape: torch.Size, like: torch.Tensor) -> torch.Tensor:
    if not isinstance(eps, torch.Tensor) or eps.shape != shape:
        got = tuple(eps.shape) if isinstance(eps, torch.Tensor) else type(eps).__name__
        raise ValueError(f"noise_distribution.sample(shape) must return a tensor of shape {tuple(shape)}, got {got}")
    return eps.to(device=like.device, dtype=like.dtype)


class _NoNoise:
    def __call__(self, shape: torch.Size, like: torch.Tensor, generator) -> torch.Tensor:
        return torch.zeros(shape, device=like.device, dtype=like.dtype)


class _PlacedNoise:
    """A noise whose ``sample`` takes our keywords: it draws in place, with the layer's generator."""

    def __init__(self, noise):
        self.sample = noise.sample  # looked up once

    def __call__(self, shape, like, generator):
        return _placed(self.sample(shape, device=like.device, dtype=like.dtype, generator=generator), shape, like)


class _ShapeOnlyNoise:
    """The seed's ``sample(shape)``: called as it is, its draws moved to theta's device and dtype."""

    def __init__(self, noise):
        self.sample = noise.sample

    def __call__(self, shape, like, generator):
        return _placed(self.sample(shape), shape, like)


class Negated:
    """A draw with the other sign (``noise_sign``)."""

    def __init__(self, draw):
        self.draw = draw

    def __call__(self, shape, like, generator):
        return -self.draw(shape, like, generator)


def adapt_noise(noise: object) -> Callable:
    """A user's noise object as one picklable function ``draw(shape, like, generator)`` -> noise
    of that shape on ``like``'s device and dtype (zeros for ``None``)."""
    if noise is None:
        return _NoNoise()
    sample = getattr(noise, "sample", None)
    if not callable(sample):
        raise TypeError(f"noise_distribution must have a sample(shape) method, got {type(noise).__name__}")
    return _PlacedNoise(noise) if _takes_placement_keywords(sample) else _ShapeOnlyNoise(noise)


# ---- the solver, checked and placed ----

def call_solver(solver: Solver, values: torch.Tensor, args: tuple, kwargs: dict,
                keep_dtype: bool = False) -> torch.Tensor:
    """``solver(values, *args, **kwargs)``, checked (a tensor of the input's shape) and placed on
    the input's device, in its dtype unless ``keep_dtype``."""
    y = solver(values, *args, **kwargs)
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"the solver must return a torch.Tensor of shape {tuple(values.shape)}, "
                         f"got {type(y).__name__}")
    if y.shape != values.shape:
        raise ValueError(f"the solver must return a tensor of shape {tuple(values.shape)} (its input's shape), "
                         f"got {tuple(y.shape)}")
    return y.detach().to(device=values.device, dtype=y.dtype if keep_dtype else values.dtype)


# ---- activation checkpointing: a recomputed forward pass redraws the same noise ----

class NoiseReplay:
    """Activation checkpointing (``torch.utils.checkpoint``) runs a forward pass again inside the
    backward pass. torch restores its own random generators for that, not a layer's
    ``generator=``, so the recompute would draw other noise and the gradient would silently be
    another one. This keeps, for the last forward passes, the generator's state before its draw
    with a fingerprint of theta; a forward pass run inside a backward pass (a recompute:
    ``torch._C._current_graph_task_id()`` is set) whose theta matches draws from that state,
    leaving the generator where it is. Without a generator nothing is needed: torch restores the
    global generator itself.
    """

    SIZE = 64

    def __init__(self):
        self.entries: collections.deque = collections.deque(maxlen=self.SIZE)

    @staticmethod
    def _fingerprint(theta: torch.Tensor) -> torch.Tensor:
        # a weighted sum in float64 on theta's own device: equal for the bit-identical theta a
        # recompute produces, unequal otherwise but by chance; compared only during a recompute
        values = theta.detach().reshape(-1).to(torch.float64)
        weights = torch.arange(1, values.numel() + 1, device=values.device, dtype=torch.float64).mul_(0.7548776662).sin_()
        return values @ weights

    def generator_for(self, theta: torch.Tensor, generator: torch.Generator) -> torch.Generator:
        key = (tuple(theta.shape), theta.dtype, theta.device)
        if torch._C._current_graph_task_id() == -1:  # a forward pass of its own: remember where it drew from
            self.entries.append((key, self._fingerprint(theta), generator.get_state()))
            return generator
        fingerprint = self._fingerprint(theta)
        for index in range(len(self.entries) - 1, -1, -1):
            entry_key, entry_fingerprint, state = self.entries[index]
            if entry_key == key and bool(entry_fingerprint == fingerprint):
                del self.entries[index]
                replay = torch.Generator(device=generator.device)
                replay.set_state(state)
                return replay
        return generator


# ---- autograd: one body, two Functions ----

def autograd_functions(name: str, forward: Callable, setup_context: Callable, backward: Callable) -> tuple:
    """(traced, eager): two ``torch.autograd.Function`` classes with one body.

    ``traced`` is in the ``forward``/``setup_context`` form, which ``torch.func`` needs (with a
    generated vmap rule), and is what a traced layer applies; ``eager`` runs the same functions in
    the ``forward(ctx, ...)`` form, because ``Function.apply`` binds a setup_context-form
    forward's arguments with ``inspect.signature`` on every call: about 50 us, a tenth of a small
    I-MLE step. Both are module-level names of the caller's module (so layers pickle)."""
    module = forward.__module__

    def eager_forward(ctx, *inputs):
        output = forward(*inputs)
        setup_context(ctx, inputs, output)
        return output

    traced = type(name, (torch.autograd.Function,), dict(
        __module__=module, __qualname__=name, generate_vmap_rule=True, forward=staticmethod(forward),
        setup_context=staticmethod(setup_context), backward=staticmethod(backward)))
    eager = type(f"{name}Eager", (torch.autograd.Function,), dict(
        __module__=module, __qualname__=f"{name}Eager", forward=staticmethod(eager_forward),
        backward=staticmethod(backward)))
    return traced, eager


# ---- the layer ----

class _DecoratedSolver:
    """Stands in, in a pickle, for a solver written as ``@estimator(...) def f``: the module-level
    name ``f`` is then the layer, so the function is found again through it."""

    def __init__(self, module: str, qualname: str):
        self.module, self.qualname = module, qualname

    def __reduce__(self):
        return _decorated_solver, (self.module, self.qualname)


def _decorated_solver(module: str, qualname: str) -> Solver:
    layer = importlib.import_module(module)
    for part in qualname.split("."):
        layer = getattr(layer, part)
    return layer.solver


def _reference_if_decorated(solver: object, layer: "EstimatorLayer") -> object:
    """``solver``, or a `_DecoratedSolver` when its global name is an estimator layer of it."""
    module, qualname = getattr(solver, "__module__", None), getattr(solver, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        return solver
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return solver
    if isinstance(found, EstimatorLayer) and found.solver is solver:
        return _DecoratedSolver(module, qualname)
    return solver


class EstimatorLayer(torch.nn.Module):
    """The base of every estimator's layer: ``layer(theta, *args, **kwargs)``, the extra arguments
    reaching the solver in both passes.

    Subclasses set ``_functions``, their (traced, eager) autograd Functions from
    `autograd_functions` (applied as ``function.apply(theta, layer, (args, kwargs))``,
    first output returned), and their settings.

    Besides the estimator's sampled forward pass, `map` gives the noise-free MAP solution.
    """

    _functions: tuple

    def __init__(self, solver: Solver, *, minimize: bool = False, generator: Optional[torch.Generator] = None):
        super().__init__()
        if not callable(solver):
            raise TypeError(f"the estimator must wrap a callable solver, got {type(solver).__name__}")
        self.solver = solver
        self.minimize = check_flag("minimize", minimize)
        self.generator = check_generator(generator)
        #: the layer's noise, draw(shape, like, generator) (subclasses that sample set it)
        self._noise_draw: Callable = _NoNoise()
        self._reset_caches()

    def _reset_caches(self) -> None:
        self._replay = NoiseReplay()
        self._token = _ops.register(self)  # how the operators find this layer when it is traced

    def forward(self, theta: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        traced, eager = self._functions
        return (traced if _ops.traced(check_theta(theta)) else eager).apply(theta, self, (args, kwargs))[0]

    @torch.no_grad()
    def map(self, theta: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        """The noise-free MAP solution for theta [B, ...] (the costs under ``minimize``), [B, ...]
        on theta's device and dtype: what a trained model predicts, without calling the solver
        by hand. The layer's own forward pass stays the estimator's (sampled, in training and
        evaluation alike)."""
        theta = check_theta(theta)
        return self.solve(-theta if self.minimize else theta, args, kwargs)

    # ---- the solver and the noise, eager or through the operators ----
    def solve(self, theta_max: torch.Tensor, args: tuple, kwargs: dict, keep_dtype: bool = False) -> torch.Tensor:
        """The solver on maximisation parameters [N, ...] (given their negation, the costs, under
        ``minimize``: the one place the sign convention is applied), checked, on theta_max's
        device, in its dtype (the solver's with ``keep_dtype``)."""
        values = -theta_max if self.minimize else theta_max
        if _ops.traced(values):
            if keep_dtype:
                raise NotImplementedError("output_dtype='solver' cannot be traced by torch.compile or torch.func (the "
                                          "solver's dtype is known only by running it); give output_dtype a dtype")
            return _ops.solve(values, self._token, *_ops.encode_call(args, kwargs))
        return call_solver(self.solver, values, args, kwargs, keep_dtype)

    def traced_solve(self, values: torch.Tensor, args: tuple, kwargs: dict) -> torch.Tensor:
        """What ``imle::solve`` runs: the solver on plain tensors, contiguous (as its fake is)."""
        return call_solver(self.solver, values, args, kwargs).contiguous()

    def draw(self, shape: torch.Size, like: torch.Tensor) -> torch.Tensor:
        """The layer's noise of that shape on ``like``'s device and dtype, from its generator
        (replayed in a recompute: `NoiseReplay`)."""
        if _ops.traced(like):
            return _ops.noise(shape, like, self._token)
        generator = self.generator
        if generator is not None:
            generator = self._replay.generator_for(like, generator)
        return self._noise_draw(shape, like, generator)

    def traced_noise(self, shape: torch.Size, like: torch.Tensor) -> torch.Tensor:
        """What ``imle::noise`` runs: a draw from the generator (no replay inside a compiled graph)."""
        return self._noise_draw(shape, like, self.generator)

    # ---- pickling and copying ----
    def __getstate__(self) -> dict:
        state = super().__getstate__()
        state.pop("_replay", None)
        state.pop("_token", None)
        for name in ("solver", "__wrapped__"):
            if name in state:
                state[name] = _reference_if_decorated(state[name], self)
        return state

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        self._reset_caches()

    def extra_repr(self) -> str:
        name = getattr(self.solver, "__name__", None) or repr(self.solver)
        return f"solver={name}, minimize={self.minimize}"


def check_sense(solver: object, minimize: bool, flag: str = "minimize") -> None:
    """Refuse, in one line naming both, a solver whose ``sense`` ("min": it minimises the costs it
    is given; "max": it maximises <theta, y>) contradicts the estimator's ``minimize``. A solver
    without ``sense`` (a user's function) is not checked."""
    sense = getattr(solver, "sense", None)
    if sense is None:
        return
    if sense not in ("min", "max"):
        raise ValueError(f"a solver's sense must be 'min' or 'max', got {sense!r}")
    if (sense == "min") != minimize:
        name = getattr(solver, "__name__", None) or repr(solver)
        does = "minimises the costs it is given" if sense == "min" else "maximises <theta, y>"
        raise ValueError(f"{name} {does} (sense {sense!r}) but the estimator has {flag}={minimize}; pass "
                         f"{flag}={sense == 'min'}")


def layer_or_decorator(function: Optional[Solver], build: Callable[[Solver], EstimatorLayer],
                       sense_flag: Optional[str] = "minimize"):
    """``build(function)`` when a solver is given, else the decorator that builds it; the layer
    takes the solver's name and docstring (the seed's decorator form). A solver's ``sense`` is
    checked against the layer's ``minimize`` (called ``sense_flag`` in the messages; None for an
    estimator with no sense, which hands the solver theta as it is)."""
    def checked_build(solver: Solver) -> EstimatorLayer:
        if not callable(solver):
            raise TypeError(f"the estimator must wrap a callable solver, got {type(solver).__name__}")
        layer = build(solver)
        if sense_flag is not None:
            check_sense(solver, layer.minimize, sense_flag)
        for name in ("__module__", "__name__", "__qualname__", "__doc__"):
            if hasattr(solver, name) and getattr(solver, name) is not None:
                object.__setattr__(layer, name, getattr(solver, name))
        object.__setattr__(layer, "__wrapped__", solver)
        return layer

    if function is not None and not callable(function):
        raise TypeError(f"function must be callable (the solver), got {type(function).__name__}")
    return checked_build if function is None else checked_build(function)

