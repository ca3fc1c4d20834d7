"""Target distributions: where the backward pass moves theta to build its surrogate target, and
how the resulting gradient is scaled.

I-MLE's gradient is the difference between a solution and the solution at target parameters
``theta'`` built from (theta, dy). One protocol, torch-adaptive-imle's, in the library's
maximisation convention (``imle(minimize=True)`` and ``aimle(_is_minimization=True)`` convert
costs before a target sees them):

* ``params(theta, dy) -> theta'`` (required): theta and dy are [N, ...], theta repeated for each
  of an instance's samples; ``dy=None`` asks for the point that is not moved (``alpha theta``);
* ``process(theta, dy, gradient) -> gradient`` (optional): scales the per-sample gradients
  ``gradient`` [B, S, ...] (theta [B, ...], dy [N, ...]); by default they stay as they are;
* ``update(gradient)`` (optional): state that adapts during training, called once per forward
  pass with that pass's per-sample gradients [B, S, ...], however often backward runs;
* ``symmetric`` (optional attribute): the left point of the difference is ``params(theta, -dy)``
  (central differences) instead of the forward sample;
* ``estimate`` (optional): replaces the recipe below, in `imle.imle` (one-sided), with the
  target's own (our per-instance adaptive target uses it); None means the recipe.

The recipe (`per_sample_gradients`), shared by `imle.imle` and `imle.aimle.aimle`:
``right = MAP(params(theta, dy) + tau_t eps)``; ``left`` the forward sample (``imle``), ``MAP(params(
theta, None) + tau_t eps)`` (``aimle``) or ``MAP(params(theta, -dy) + tau_t eps)`` (symmetric);
both averaged over the marginal samples; ``process(left - right)`` (halved when symmetric).

The classes here:

* `TargetDistribution` - ``theta' = alpha theta - beta dy``; the gradient divided by beta
  with ``divide_by_beta=True`` (torch-adaptive-imle's ``do_gradient_scaling``);
* `TwoSidedTargetDistribution` - the same, symmetric;
* `AdaptiveTargetDistribution` - Adaptive I-MLE (AIMLE, Minervini, Franceschi, Niepert,
  AAAI 2023): the step adapts to theta and dy, and beta adapts to keep gradients sparse but not
  empty.

Examples:
    >>> import torch
    >>> from imle.target import TargetDistribution
    >>> TargetDistribution(alpha=1.0, beta=10.0).params(torch.tensor([1.0]), torch.tensor([0.5]))
    tensor([-4.])
"""
from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from typing import Callable, Optional

import torch

from imle import _checks
from imle._ops import outside_compiled_graphs

Solve = Callable[[torch.Tensor], torch.Tensor]
#: estimate(solve, theta [B, ...], dy [B, S, ...], noise [B, S, ...], y [B, S, ...]) -> [B, S, ...]
Estimate = Callable[[Solve, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]

#: torch-adaptive-imle divides by max(beta, EPS) (do_gradient_scaling)
EPS = 1e-7


def _flat(tensor: torch.Tensor) -> torch.Tensor:
    """[B, S, ...] -> [B * S, ...]."""
    return tensor.reshape((-1,) + tuple(tensor.shape[2:]))


class AdaptedTarget:
    """A user's target object, adapted once when a layer is built: its hooks looked up, the
    defaults filled in. Picklable; asks the object nothing per step."""

    def __init__(self, target: object, per_instance: bool = True):
        if not callable(getattr(target, "params", None)):
            raise TypeError(f"target_distribution must have a params(theta, dy) method, got {type(target).__name__}")
        hooks = {name: getattr(target, name, None) for name in ("process", "update", "estimate")}
        self._params = target.params
        self._process = hooks["process"] if callable(hooks["process"]) else None
        self._update = hooks["update"] if callable(hooks["update"]) else None
        self.estimate = hooks["estimate"] if callable(hooks["estimate"]) else None
        if getattr(target, "per_instance", False) is None:
            # a target that leaves its norms to the estimator: per instance in imle(), whole
            # tensors (torch-adaptive-imle's) in aimle()
            self._params = functools.partial(target.params, per_instance=per_instance)
            self._process = functools.partial(target.process, per_instance=per_instance)
            self.estimate = self.estimate if per_instance else None
        self.has_update = self._update is not None
        self.symmetric = bool(getattr(target, "symmetric", False))
        # our plain target's params (not a subclass's own) are elementwise: theta can be broadcast
        # over the samples instead of copied for each (the same values, one copy fewer)
        self.shifted = target.shifted if getattr(type(target), "params", None) is TargetDistribution.params else None

    def params(self, theta: torch.Tensor, dy: Optional[torch.Tensor]) -> torch.Tensor:
        params = self._params(theta, dy)
        if not isinstance(params, torch.Tensor) or params.shape != theta.shape:
            got = tuple(params.shape) if isinstance(params, torch.Tensor) else type(params).__name__
            raise ValueError(f"target_distribution.params must return a tensor of shape {tuple(theta.shape)}, "
                             f"got {got}")
        return params

    def process(self, theta: torch.Tensor, dy: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
        return gradient if self._process is None else self._process(theta, dy, gradient)

    def update(self, gradient: torch.Tensor) -> None:
        if self._update is not None:
            self._update(gradient)


def adapt_target(target: object, per_instance: bool = True) -> AdaptedTarget:
    """A user's target object adapted once (see `AdaptedTarget`); ``per_instance`` is the
    estimator's choice of norms for a target that leaves it open (``per_instance=None``)."""
    return AdaptedTarget(target, per_instance)


def per_sample_gradients(target: AdaptedTarget, solve: Solve, theta: torch.Tensor, dy: torch.Tensor,
                         noise: torch.Tensor, y: torch.Tensor, *, marginals: int = 1, left: str = "sample",
                         symmetric: bool = False) -> torch.Tensor:
    """The per-sample gradients [B, S, ...] of the recipe (module notes), in the maximisation
    convention.

    Args:
        target: the adapted target.
        solve: the solver on maximisation parameters, [K, ...] -> [K, ...].
        theta: [B, ...].
        dy, noise, y: [B, N, ...], N = S * marginals: the upstream gradient, the noise scaled by
            the target temperature, the forward solutions.
        marginals: M, the marginal samples averaged inside each sample.
        left: "sample" (the forward solution, I-MLE) or "unmoved" (``params(theta, None)``,
            torch-adaptive-imle's aimle).
        symmetric: the left point ``params(theta, -dy)`` instead, the difference halved (a
            symmetric target, or aimle's ``symmetric_perturbation``).
    """
    symmetric = symmetric or target.symmetric
    if target.estimate is not None and left == "sample" and not symmetric:
        per_sample = target.estimate(solve, theta, dy, noise, y)
        return _marginal_mean(per_sample, marginals)
    batch, count = dy.shape[0], dy.shape[1]
    rest = tuple(theta.shape[1:])
    flat_dy, flat_noise = _flat(dy), _flat(noise)
    if target.shifted is not None:
        def moved_by(shift):  # [B, 1, ...] theta broadcast against [B, N, ...]: no copy of theta
            return _flat(target.shifted(theta.unsqueeze(1), shift) + noise)
        right = moved_by(dy)
    else:
        # theta repeated for every sample, materialised as torch-adaptive-imle's repeat() does (a
        # norm over an expanded view sums in another order; expand + contiguous is the same copy,
        # 3x faster), flat [N, ...] as its targets receive it
        repeated = theta.reshape(batch, 1, -1).expand(batch, count, -1).contiguous().view((batch * count,) + rest)

        def moved_by(shift):
            return target.params(repeated, None if shift is None else _flat(shift)) + flat_noise
        right = moved_by(dy)
    if symmetric or left == "unmoved":
        moved = moved_by(-dy if symmetric else None)
        both = solve(torch.cat([moved, right])).view((2, batch, count) + rest)
        y_left, y_right = both[0], both[1]
    else:
        y_left, y_right = y, solve(right).view((batch, count) + rest)
    gradient = _marginal_mean(y_left, marginals) - _marginal_mean(y_right, marginals)
    if symmetric:
        gradient = gradient / 2.0
    return target.process(theta, flat_dy, gradient)


def _marginal_mean(values: torch.Tensor, marginals: int) -> torch.Tensor:
    """[B, S * M, ...] -> [B, S, ...], the mean over each sample's M marginal samples."""
    if marginals == 1:
        return values
    batch, count = values.shape[0], values.shape[1]
    return values.view((batch, count // marginals, marginals) + tuple(values.shape[2:])).mean(dim=2)


class BaseTargetDistribution(ABC):
    """Maps theta [N, ...] and the upstream gradient dy [N, ...] (or None) to target parameters.

    Subclasses implement `params`; override `process` to scale the gradient and
    `update` to keep state that adapts during training (see the module notes).
    """

    #: central differences: the left point is params(theta, -dy)
    symmetric = False

    @abstractmethod
    def params(self, theta: torch.Tensor, dy: Optional[torch.Tensor]) -> torch.Tensor:
        """Target parameters theta', same shape as theta (``dy=None``: the unmoved point)."""

    def process(self, theta: torch.Tensor, dy: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
        """The per-sample gradients [B, S, ...], scaled; as they are by default."""
        return gradient

    def update(self, gradient: torch.Tensor) -> None:
        """Adapt state to one forward pass's per-sample gradients [B, S, ...]; nothing by default."""


def _check_beta(beta: object, divide_by_beta: bool) -> float:
    beta = _checks.real("beta", beta, minimum=0.0)
    if divide_by_beta and beta == 0:
        raise ValueError("beta must be > 0 when divide_by_beta=True")
    return beta


class TargetDistribution(BaseTargetDistribution):
    """The perturbation-based target of torch-imle: ``theta' = alpha * theta - beta * dy``.

    ``beta`` is the step towards lower loss (maximisation convention: lowering the loss means
    raising theta where dy is negative). How large that step is depends on dy, and so on how the
    loss is reduced: a loss averaged over B * S samples (and cells) has a dy that many times
    smaller than the summed one, and the same beta then moves the target far less (sparser
    gradients; see `imle.losses.hamming_loss`).

    On dividing by beta: the I-MLE paper, tf-imle's path code and PyEPO divide the gradient
    ``y - y'`` by beta (a finite difference, whose size does not grow with beta); torch-imle does
    not, and neither does this class by default, so the torch-imle README's settings behave as
    there. Pass ``divide_by_beta=True`` for the paper's scaling.

    Args:
        alpha: weight of the current parameters (torch-imle's README uses 0.0 or 1.0).
        beta: size of the step along -dy, >= 0 (> 0 with ``divide_by_beta``).
        divide_by_beta: divide the gradient by beta (``do_gradient_scaling``, torch-adaptive-imle's
            name, is accepted too).
    """

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, *, divide_by_beta: bool = False,
                 do_gradient_scaling: Optional[bool] = None):
        if do_gradient_scaling is not None:  # torch-adaptive-imle's name for divide_by_beta
            divide_by_beta = do_gradient_scaling
        self.alpha = _checks.real("alpha", alpha)
        self.divide_by_beta = _checks.flag("divide_by_beta", divide_by_beta)
        self.beta = _check_beta(beta, self.divide_by_beta)

    def params(self, theta: torch.Tensor, dy: Optional[torch.Tensor]) -> torch.Tensor:
        if dy is not None and theta.shape != dy.shape:
            raise ValueError(f"theta and dy must have the same shape, got {tuple(theta.shape)} and {tuple(dy.shape)}")
        return self.shifted(theta, dy)

    def shifted(self, theta: torch.Tensor, dy: Optional[torch.Tensor]) -> torch.Tensor:
        """``alpha theta - beta dy`` elementwise, unchecked (theta may broadcast against dy)."""
        # alpha = 1 multiplies by nothing: the same bits one kernel sooner (most calls have it)
        moved = theta if self.alpha == 1.0 else self.alpha * theta
        return moved if dy is None else moved - self.beta * dy

    def process(self, theta, dy, gradient):
        return gradient / max(self.beta, EPS) if self.divide_by_beta else gradient

    def __repr__(self) -> str:
        extra = ", divide_by_beta=True" if self.divide_by_beta else ""
        return f"{type(self).__name__}(alpha={self.alpha}, beta={self.beta}{extra})"


class TwoSidedTargetDistribution(TargetDistribution):
    """Central differences: ``(y(alpha theta + beta dy + eps) - y(alpha theta - beta dy + eps)) / 2``.

    Both targets go to the solver in one batched call ([2 N, ...]: the + targets, then the -
    ones), so a solver taking extra per-instance arguments must accept the doubled batch. The
    forward solutions are not used. ``divide_by_beta`` divides by beta as in the one-sided target.

    Examples:
        >>> import torch
        >>> from imle import imle
        >>> from imle.solvers import top_k
        >>> layer = imle(top_k, target_distribution=TwoSidedTargetDistribution(beta=2.0))
        >>> theta = torch.tensor([[1.0, 0.0, 0.5]], requires_grad=True)
        >>> layer(theta, 1).backward(torch.tensor([[0.0, 1.0, 0.0]]))
        >>> theta.grad  # (y([1, 2, .5]) - y([1, -2, .5])) / 2
        tensor([[-0.5000,  0.5000,  0.0000]])
    """

    symmetric = True


class AdaptiveTargetDistribution(torch.nn.Module, BaseTargetDistribution):
    """Adaptive I-MLE (Minervini, Franceschi and Niepert, "Adaptive Perturbation-Based Gradient
    Estimation for Discrete Latent Variable Models", AAAI 2023).

    The step along dy is ``lambda = beta * ||theta|| / ||dy||`` and the gradient is divided by a
    lambda too (by 1 where it is 0). Two ways to take the norms:

    * per instance (``per_instance=True``; the default inside `imle.imle`): per instance b,
      theta_b once and dy_b as the root mean square over its S samples, so instances in a batch
      do not share one step and one instance gets the original's value; the same lambda_b steps
      and divides;
    * over whole tensors (``per_instance=False``, torch-adaptive-imle's; the default inside
      `imle.aimle.aimle`): the step is ``beta ||theta repeated S times|| / ||dy||`` (from
      `params`) and the divisor ``beta ||theta|| / ||dy||`` (in `process`), their
      arithmetic exactly.

    ``per_instance=None`` (the default) leaves the choice to the estimator, as just said, so
    torch-adaptive-imle's code keeps its numbers and ours gets per-instance steps.

    After every forward pass beta adapts so that gradients stay sparse but not empty: with
    ``nnz`` the number of non-zero gradient entries per sample,
    ``grad_norm <- decay * grad_norm + (1 - decay) * nnz``; then
    ``update = momentum * previous_update + (step if grad_norm < target_norm else -step)`` and
    ``beta <- max(beta + update, 0)``: all-zero gradients (target too close) raise beta, too many
    non-zero entries lower it. The layer calls `update` once per forward pass, on its first
    backward: a second backward through the same graph (``retain_graph=True``) uses the current
    beta but does not move it.

    The state (``beta``, ``grad_norm``, ``previous_update``) lives in buffers, float64 scalars: it
    is an ``nn.Module``, so ``state_dict()`` / ``load_state_dict()`` checkpoint it, and a layer
    built with it holds it as a submodule (it travels in the layer's and the model's
    ``state_dict``, and a deep copy of the model adapts its own copy). `reset` restores the
    initial values.

    Args:
        alpha: weight of theta in the target.
        beta: initial beta (>= 0).
        beta_update_step: the step of beta's update (>= 0).
        beta_update_momentum: momentum of beta's update, in [0, 1).
        grad_norm_decay: decay of the running non-zero count, in [0, 1).
        target_norm: the wanted mean number of non-zero gradient entries per sample (> 0).
        initial_grad_norm: the running count's initial value.
        per_instance: True: our per-instance norms; False: torch-adaptive-imle's; None (default):
            the estimator's (per instance in imle(), whole tensors in aimle()).
        initial_alpha, initial_beta, grad_norm_decay_rate: torch-adaptive-imle's names for alpha,
            beta and grad_norm_decay, accepted as keywords.

    Examples:
        >>> target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.1)
        >>> target.update(torch.zeros(2, 3, 4))   # all-zero gradients: beta rises
        >>> round(float(target.beta), 6), sorted(target.state_dict())
        (1.1, ['beta', 'grad_norm', 'previous_update'])
    """

    #: torch-adaptive-imle's keyword names -> ours
    ALIASES = {"initial_alpha": "alpha", "initial_beta": "beta", "grad_norm_decay_rate": "grad_norm_decay"}

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, *, beta_update_step: float = 1e-4,
                 beta_update_momentum: float = 0.0, grad_norm_decay: float = 0.9, target_norm: float = 1.0,
                 initial_grad_norm: float = 1.0, per_instance: Optional[bool] = None, **theirs):
        super().__init__()
        for their_name, value in theirs.items():  # torch-adaptive-imle's names for the same settings
            if their_name not in self.ALIASES:
                raise TypeError(f"AdaptiveTargetDistribution got an unexpected keyword argument {their_name!r}")
            ours = self.ALIASES[their_name]
            if ours == "alpha":
                alpha = value
            elif ours == "beta":
                beta = value
            else:
                grad_norm_decay = value
        self.per_instance = None if per_instance is None else _checks.flag("per_instance", per_instance)
        self.alpha = _checks.real("alpha", alpha)
        self.initial_beta = _check_beta(beta, False)
        self.beta_update_step = _checks.real("beta_update_step", beta_update_step, minimum=0.0)
        for name, value in (("beta_update_momentum", beta_update_momentum), ("grad_norm_decay", grad_norm_decay)):
            if not 0 <= _checks.real(name, value) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        self.beta_update_momentum = float(beta_update_momentum)
        self.grad_norm_decay = float(grad_norm_decay)
        self.target_norm = _checks.real("target_norm", target_norm, positive=True)
        self.initial_grad_norm = _checks.real("initial_grad_norm", initial_grad_norm)
        for name in ("beta", "grad_norm", "previous_update"):
            self.register_buffer(name, torch.zeros((), dtype=torch.float64))
        self.reset()

    def reset(self) -> None:
        """Back to the initial beta, running count and update."""
        self.beta.fill_(self.initial_beta)
        self.grad_norm.fill_(self.initial_grad_norm)
        self.previous_update.fill_(0.0)

    # ---- torch-adaptive-imle's norms over whole tensors (per_instance=False) ----
    def _magnitude(self, theta: torch.Tensor, dy: Optional[torch.Tensor]):
        """beta ||theta|| / ||dy||, as torch-adaptive-imle computes it (0 when dy is 0)."""
        norm_dy = torch.linalg.norm(dy).item() if dy is not None else 1.0
        return 0.0 if norm_dy <= 0.0 else float(self.beta) * (torch.linalg.norm(theta) / norm_dy)

    # ---- ours, per instance ----
    def perturbation_sizes(self, theta: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        """lambda per instance, [B]: beta ||theta_b|| / rms_s ||dy_b,s|| (0 where dy_b is 0), for
        theta [B, ...] and dy [B, S, ...]."""
        batch, samples = dy.shape[0], dy.shape[1]
        theta_norm = theta.reshape(batch, -1).norm(dim=1)
        dy_norm = dy.reshape(batch, -1).norm(dim=1) / math.sqrt(samples)
        safe = torch.where(dy_norm > 0, dy_norm, torch.ones_like(dy_norm))
        # beta as a 0-d tensor rounds as float(beta) does, and under torch.compile it is read, not
        # specialised on (a float would recompile the graph every time beta moves)
        return torch.where(dy_norm > 0, self.beta * theta_norm / safe, torch.zeros_like(dy_norm))

    def _per_instance(self, per_instance: Optional[bool]) -> bool:
        """The norms to use: this target's own choice, else the estimator's, else per instance."""
        if self.per_instance is not None:
            return self.per_instance
        return True if per_instance is None else per_instance

    def params(self, theta: torch.Tensor, dy: Optional[torch.Tensor], *,
               per_instance: Optional[bool] = None) -> torch.Tensor:
        """Target parameters for theta, dy [N, ...] (dy None: alpha theta). Per instance, each row
        is one instance's one sample; otherwise torch-adaptive-imle's whole-tensor step."""
        if dy is None:
            return self.alpha * theta
        if self._per_instance(per_instance):
            sizes = self.perturbation_sizes(theta, dy.unsqueeze(1))
            return self.alpha * theta - sizes.view((-1,) + (1,) * (theta.dim() - 1)) * dy
        return self.alpha * theta - self._magnitude(theta, dy) * dy

    def process(self, theta: torch.Tensor, dy: torch.Tensor, gradient: torch.Tensor, *,
                per_instance: Optional[bool] = None) -> torch.Tensor:
        """The gradient [B, S, ...] divided by lambda (by 1 where it is 0)."""
        if self._per_instance(per_instance):
            sizes = self.perturbation_sizes(theta, dy.view((theta.shape[0], -1) + tuple(theta.shape[1:])))
            return gradient / torch.where(sizes > 0, sizes, 1.0).view((-1, 1) + (1,) * (theta.dim() - 1))
        magnitude = self._magnitude(theta, dy)
        return gradient / (magnitude if magnitude > 0.0 else 1.0)

    @property
    def estimate(self) -> Optional[Estimate]:
        """imle()'s per-instance estimate (one lambda_b to step and divide), or None with
        ``per_instance=False``: the recipe of `per_sample_gradients`, torch-adaptive-imle's norms."""
        return None if self.per_instance is False else self._per_instance_estimate

    def _per_instance_estimate(self, solve, theta, dy, noise, y):
        sizes = self.perturbation_sizes(theta, dy)
        shape = (-1, 1) + (1,) * (theta.dim() - 1)
        target = self.alpha * theta.unsqueeze(1) - sizes.view(shape) * dy + noise
        return (y - solve(_flat(target)).view(y.shape)) / torch.where(sizes > 0, sizes, 1.0).view(shape)

    @outside_compiled_graphs  # host bookkeeping of a few floats: nothing for a compiler to trace
    def update(self, gradient: torch.Tensor) -> None:
        """Adapt beta to the per-sample gradients [B, S, ...] of one forward pass (the layer calls
        this once per forward pass, after its first backward)."""
        per_sample = torch.count_nonzero(gradient).item() / (gradient.shape[0] * gradient.shape[1])
        grad_norm = self.grad_norm_decay * float(self.grad_norm) + (1 - self.grad_norm_decay) * per_sample
        step = self.beta_update_step if grad_norm < self.target_norm else -self.beta_update_step
        update = self.beta_update_momentum * float(self.previous_update) + step
        # the state is the module's, not a value the transform differentiates: under torch.func
        # (grad, vmap) it is written with functorch's dispatch off, as it is outside it
        with torch._C._DisableFuncTorch():
            self.grad_norm.fill_(grad_norm)
            self.beta.fill_(max(float(self.beta) + update, 0.0))
            self.previous_update.fill_(update)

    def extra_repr(self) -> str:
        return (f"alpha={self.alpha}, beta={float(self.beta):g}, grad_norm={float(self.grad_norm):g}, "
                f"target_norm={self.target_norm}, per_instance={self.per_instance}")
