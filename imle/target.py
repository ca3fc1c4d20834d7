"""Target distributions: where the backward pass moves theta to build its surrogate target.

I-MLE's gradient is the difference between the current solution and the solution at target
parameters ``theta'`` built from (theta, dy). A target distribution decides both ``theta'`` and
how the per-sample gradient is formed from the solutions (its :meth:`~BaseTargetDistribution.estimate`):

* :class:`TargetDistribution` - torch-imle's ``theta' = alpha theta - beta dy``; gradient
  ``y - y'``, optionally divided by beta (``divide_by_beta=True``);
* :class:`TwoSidedTargetDistribution` - the central difference
  ``(y(alpha theta + beta dy + eps) - y(alpha theta - beta dy + eps)) / 2``, both solves in one
  batched solver call;
* :class:`AdaptiveTargetDistribution` - Adaptive I-MLE (AIMLE, Minervini, Franceschi, Niepert,
  AAAI 2023): the step adapts per instance and beta adapts to keep gradients sparse but not empty.

All use the library's convention: the solver maximises ``<theta, y>``; ``imle(minimize=True)``
converts costs to this convention before the target sees them.

Example:
    >>> import torch
    >>> from imle.target import TargetDistribution
    >>> TargetDistribution(alpha=1.0, beta=10.0).params(torch.tensor([1.0]), torch.tensor([0.5]))
    tensor([-4.])
"""
from __future__ import annotations

import functools
import math
from abc import ABC, abstractmethod
from typing import Callable, Optional, Tuple

import torch

from imle import _checks

Solve = Callable[[torch.Tensor], torch.Tensor]
#: estimate(solve, theta [B, ...], dy [B, S, ...], noise [B, S, ...], y [B, S, ...]) -> [B, S, ...]
Estimate = Callable[[Solve, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _flat(tensor: torch.Tensor) -> torch.Tensor:
    """[B, S, ...] -> [B * S, ...]."""
    return tensor.reshape((-1,) + tuple(tensor.shape[2:]))


def one_sided_estimate(target, solve: Solve, theta: torch.Tensor, dy: torch.Tensor, noise: torch.Tensor,
                       y: torch.Tensor) -> torch.Tensor:
    """Per-sample I-MLE gradients ``y - solve(target.params(theta, dy) + noise)``, [B, S, ...].

    ``theta`` is [B, ...]; ``dy``, ``noise`` (already scaled by the target temperature) and the
    forward solutions ``y`` are [B, S, ...]. Works for any object with ``params(theta, dy)``,
    the seed's only requirement of a target distribution.
    """
    repeated = _flat(theta.unsqueeze(1).expand_as(dy))
    params = target.params(repeated, _flat(dy))
    if not isinstance(params, torch.Tensor) or params.shape != repeated.shape:
        got = tuple(params.shape) if isinstance(params, torch.Tensor) else type(params).__name__
        raise ValueError(f"target_distribution.params must return a tensor of shape {tuple(repeated.shape)}, "
                         f"got {got}")
    return y - solve(params + _flat(noise)).view(y.shape)


def adapt_target(target: object) -> Tuple[Estimate, Callable[[torch.Tensor], None]]:
    """A user's target object as (estimate, update), decided once when a layer is built.

    Anything with ``params(theta, dy)`` is a target (the seed's only requirement); its
    ``estimate`` and ``update`` are used where it has them, else the one-sided estimate and no
    state update.
    """
    if not callable(getattr(target, "params", None)):
        raise TypeError(f"target_distribution must have a params(theta, dy) method, got {type(target).__name__}")
    estimate = getattr(target, "estimate", None)
    update = getattr(target, "update", None)
    return (estimate if callable(estimate) else functools.partial(one_sided_estimate, target),
            update if callable(update) else (lambda gradient: None))


class BaseTargetDistribution(ABC):
    """Maps theta [N, ...] and the upstream gradient dy [N, ...] to target parameters [N, ...].

    Subclasses implement :meth:`params`; override :meth:`estimate` to change how the gradient is
    formed from the solutions (several solves, scaling), and :meth:`update` to keep state that
    adapts during training: the layer calls it once per forward pass with that pass's per-sample
    gradients, however often backward runs through the graph.
    """

    @abstractmethod
    def params(self, theta: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        """Target parameters theta', same shape as theta."""

    def estimate(self, solve: Solve, theta: torch.Tensor, dy: torch.Tensor, noise: torch.Tensor,
                 y: torch.Tensor) -> torch.Tensor:
        """Per-sample gradients [B, S, ...] (see :func:`one_sided_estimate` for the shapes)."""
        return one_sided_estimate(self, solve, theta, dy, noise, y)

    def update(self, gradient: torch.Tensor) -> None:
        """Adapt state to one forward pass's per-sample gradients [B, S, ...]; nothing by default."""


def _check_real(name: str, value: object) -> float:
    return _checks.real(name, value)


_check_flag = _checks.flag


def _check_beta(beta: object, divide_by_beta: bool) -> float:
    beta = _checks.real("beta", beta, minimum=0.0)
    if divide_by_beta and beta == 0:
        raise ValueError("beta must be > 0 when divide_by_beta=True")
    return beta


class TargetDistribution(BaseTargetDistribution):
    """The perturbation-based target of torch-imle: ``theta' = alpha * theta - beta * dy``.

    ``beta`` is the step towards lower loss (maximisation convention: lowering the loss means
    raising theta where dy is negative).

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
        self.alpha = _check_real("alpha", alpha)
        self.divide_by_beta = _check_flag("divide_by_beta", divide_by_beta)
        self.beta = _check_beta(beta, self.divide_by_beta)

    def params(self, theta: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        if theta.shape != dy.shape:
            raise ValueError(f"theta and dy must have the same shape, got {tuple(theta.shape)} and {tuple(dy.shape)}")
        return self.alpha * theta - self.beta * dy

    def estimate(self, solve, theta, dy, noise, y):
        if type(self).params is TargetDistribution.params:
            # the same target in two kernels, broadcasting theta [B, ...] over the S samples
            # instead of materialising it S times (the generic path takes six)
            target = torch.add(noise, dy, alpha=-self.beta).add_(theta.unsqueeze(1), alpha=self.alpha)
            gradient = y - solve(_flat(target)).view(y.shape)
        else:  # a subclass with its own params()
            gradient = one_sided_estimate(self, solve, theta, dy, noise, y)
        return gradient / self.beta if self.divide_by_beta else gradient

    def __repr__(self) -> str:
        extra = ", divide_by_beta=True" if self.divide_by_beta else ""
        return f"TargetDistribution(alpha={self.alpha}, beta={self.beta}{extra})"


class TwoSidedTargetDistribution(TargetDistribution):
    """Central differences: ``(y(alpha theta + beta dy + eps) - y(alpha theta - beta dy + eps)) / 2``.

    Both targets go to the solver in one batched call ([2 N, ...]: the + targets, then the -
    ones), so a solver taking extra per-instance arguments must accept the doubled batch. The
    forward solutions are not used. ``divide_by_beta`` divides by beta as in the one-sided target.

    Example:
        >>> import torch
        >>> from imle import imle
        >>> from imle.solvers import top_k
        >>> layer = imle(top_k, target_distribution=TwoSidedTargetDistribution(beta=2.0))
        >>> theta = torch.tensor([[1.0, 0.0, 0.5]], requires_grad=True)
        >>> layer(theta, 1).backward(torch.tensor([[0.0, 1.0, 0.0]]))
        >>> theta.grad  # (y([1, 2, .5]) - y([1, -2, .5])) / 2
        tensor([[-0.5000,  0.5000,  0.0000]])
    """

    def estimate(self, solve, theta, dy, noise, y):
        repeated = _flat(theta.unsqueeze(1).expand_as(dy))
        flat_dy, flat_noise = _flat(dy), _flat(noise)
        centre = self.alpha * repeated + flat_noise
        both = solve(torch.cat([centre + self.beta * flat_dy, centre - self.beta * flat_dy]))
        plus, minus = both.chunk(2)
        gradient = ((plus - minus) / 2).view(y.shape)
        return gradient / self.beta if self.divide_by_beta else gradient

    def __repr__(self) -> str:
        return "TwoSided" + super().__repr__()


class AdaptiveTargetDistribution(torch.nn.Module, BaseTargetDistribution):
    """Adaptive I-MLE (Minervini, Franceschi and Niepert, "Adaptive Perturbation-Based Gradient
    Estimation for Discrete Latent Variable Models", AAAI 2023).

    For each instance b the perturbation size is ``lambda_b = beta * ||theta_b|| / ||dy_b||``
    (norms per instance: theta_b once, dy_b as the root mean square over its S samples, so one
    instance gets the original's value), the target is ``alpha theta - lambda_b dy``, and the
    gradient ``y - y'`` is divided by ``lambda_b`` (by 1 where lambda_b is 0).

    After every backward pass beta adapts so that gradients stay sparse but not empty: with
    ``nnz`` the number of non-zero gradient entries per sample,
    ``grad_norm <- decay * grad_norm + (1 - decay) * nnz``; then
    ``update = momentum * previous_update + (step if grad_norm < target_norm else -step)`` and
    ``beta <- max(beta + update, 0)``: all-zero gradients (target too close) raise beta, too many
    non-zero entries lower it. The layer calls :meth:`update` once per forward pass, on its first
    backward: a second backward through the same graph (``retain_graph=True``) uses the current
    beta but does not move it.

    The state (``beta``, ``grad_norm``, ``previous_update``) lives in buffers, float64 scalars: it
    is an ``nn.Module``, so ``state_dict()`` / ``load_state_dict()`` checkpoint it, and made an
    attribute of your model it travels in the model's ``state_dict``. :meth:`reset` restores
    the initial values.

    Args:
        alpha: weight of theta in the target.
        beta: initial beta (>= 0).
        beta_update_step: the step of beta's update (>= 0).
        beta_update_momentum: momentum of beta's update, in [0, 1).
        grad_norm_decay: decay of the running non-zero count, in [0, 1).
        target_norm: the wanted mean number of non-zero gradient entries per sample (> 0).
        initial_grad_norm: the running count's initial value.
        per_instance: our per-instance norms (default); False: torch-adaptive-imle's norms over the
            whole tensors, its step beta ||theta repeated S times|| / ||dy|| and its divisor
            beta ||theta|| / ||dy||.
        initial_alpha, initial_beta, grad_norm_decay_rate: torch-adaptive-imle's names for alpha,
            beta and grad_norm_decay, accepted as keywords.

    Example:
        >>> target = AdaptiveTargetDistribution(beta=1.0, beta_update_step=0.1)
        >>> target.update(torch.zeros(2, 3, 4))   # all-zero gradients: beta rises
        >>> round(float(target.beta), 6), sorted(target.state_dict())
        (1.1, ['beta', 'grad_norm', 'previous_update'])
    """

    #: torch-adaptive-imle's keyword names -> ours
    ALIASES = {"initial_alpha": "alpha", "initial_beta": "beta", "grad_norm_decay_rate": "grad_norm_decay"}

    def __init__(self, alpha: float = 1.0, beta: float = 1.0, *, beta_update_step: float = 1e-4,
                 beta_update_momentum: float = 0.0, grad_norm_decay: float = 0.9, target_norm: float = 1.0,
                 initial_grad_norm: float = 1.0, per_instance: bool = True, **theirs):
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
        self.per_instance = _checks.flag("per_instance", per_instance)
        self.alpha = _check_real("alpha", alpha)
        self.initial_beta = _check_beta(beta, False)
        self.beta_update_step = _checks.real("beta_update_step", beta_update_step, minimum=0.0)
        for name, value in (("beta_update_momentum", beta_update_momentum), ("grad_norm_decay", grad_norm_decay)):
            if not 0 <= _check_real(name, value) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value!r}")
        self.beta_update_momentum = float(beta_update_momentum)
        self.grad_norm_decay = float(grad_norm_decay)
        self.target_norm = _checks.real("target_norm", target_norm, positive=True)
        self.initial_grad_norm = _check_real("initial_grad_norm", initial_grad_norm)
        for name in ("beta", "grad_norm", "previous_update"):
            self.register_buffer(name, torch.zeros((), dtype=torch.float64))
        self.reset()

    def reset(self) -> None:
        """Back to the initial beta, running count and update."""
        self.beta.fill_(self.initial_beta)
        self.grad_norm.fill_(self.initial_grad_norm)
        self.previous_update.fill_(0.0)

    def perturbation_sizes(self, theta: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        """lambda per instance, [B]: beta ||theta_b|| / rms_s ||dy_b,s|| (0 where dy_b is 0); with
        ``per_instance=False`` torch-adaptive-imle's one lambda for the batch, from the norms of
        the whole tensors (its divisor; its step is sqrt(S) times larger, see :meth:`estimate`)."""
        batch, samples = dy.shape[0], dy.shape[1]
        if not self.per_instance:
            theta_norm = theta.norm().expand(batch)
            dy_norm = dy.norm().expand(batch)
        else:
            theta_norm = theta.reshape(batch, -1).norm(dim=1)
            dy_norm = dy.reshape(batch, -1).norm(dim=1) / math.sqrt(samples)
        safe = torch.where(dy_norm > 0, dy_norm, torch.ones_like(dy_norm))
        beta = float(self.beta)
        return torch.where(dy_norm > 0, beta * theta_norm / safe, torch.zeros_like(dy_norm))

    def params(self, theta: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
        """Target for one sample per instance (theta, dy [B, ...]); the layer uses :meth:`estimate`."""
        sizes = self.perturbation_sizes(theta, dy.unsqueeze(1))
        return self.alpha * theta - sizes.view((-1,) + (1,) * (theta.dim() - 1)) * dy

    def estimate(self, solve, theta, dy, noise, y):
        sizes = self.perturbation_sizes(theta, dy)
        shape = (-1, 1) + (1,) * (theta.dim() - 1)
        # per_instance=False: torch-adaptive-imle's step, ||theta repeated S times|| = sqrt(S) ||theta||
        steps = sizes if self.per_instance else sizes * math.sqrt(dy.shape[1])
        target = self.alpha * theta.unsqueeze(1) - steps.view(shape) * dy + noise
        return (y - solve(_flat(target)).view(y.shape)) / torch.where(sizes > 0, sizes, 1.0).view(shape)

    def update(self, gradient: torch.Tensor) -> None:
        """Adapt beta to the per-sample gradients [B, S, ...] of one forward pass (the layer calls
        this once per forward pass, after its first backward)."""
        per_sample = torch.count_nonzero(gradient).item() / (gradient.shape[0] * gradient.shape[1])
        grad_norm = self.grad_norm_decay * float(self.grad_norm) + (1 - self.grad_norm_decay) * per_sample
        step = self.beta_update_step if grad_norm < self.target_norm else -self.beta_update_step
        update = self.beta_update_momentum * float(self.previous_update) + step
        self.grad_norm.fill_(grad_norm)
        self.beta.fill_(max(float(self.beta) + update, 0.0))
        self.previous_update.fill_(update)

    def extra_repr(self) -> str:
        return (f"alpha={self.alpha}, beta={float(self.beta):g}, grad_norm={float(self.grad_norm):g}, "
                f"target_norm={self.target_norm}")
