"""What an experiment is asked to do, as small immutable values: the API that both front ends (the
commands and the studio) call :mod:`imle_cli.experiments` with.

A spec holds settings only (no arrays, no files): the map and the gold path are passed beside it.
Every field has the default the library's experiment uses; the command-line tool fills them from
its options (:mod:`imle_cli.options`). Light: nothing heavy is imported here.

Example:
    >>> spec = LearnSpec(steps=300, estimator=EstimatorSpec(noise=NoiseSpec("gumbel")))
    >>> spec.estimator.noise.kind, spec.samples, spec.solver.neighbourhood
    (<Noise.gumbel: 'gumbel'>, 10, 8)
    >>> [(run.estimator.input_temperature, run.samples) for run in
    ...  SweepSpec(spec, input_temperatures=(0.0, 1.0), target_temperatures=(1.0,), sample_counts=(5,)).runs()]
    [(0.0, 5), (1.0, 5)]
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import List, Optional, Tuple

from imle_cli.limits import MAX_PIXELS


class Noise(str, Enum):
    """The perturbations of the costs."""

    sum_of_gamma = "sum-of-gamma"
    gumbel = "gumbel"
    none = "none"


class Estimator(str, Enum):
    """The gradient estimators: imle.estimators.NAMES, in its order (a test ties the two; the
    names are spelled here too so that ``imle-cli --help`` need not import torch)."""

    imle = "imle"
    aimle = "aimle"
    imle_two_sided = "imle-two-sided"
    blackbox = "blackbox"
    perturbed = "perturbed"
    straight_through = "straight-through"
    score_function = "score-function"


def _coerce(spec, name: str, kind: type) -> None:
    """A frozen spec's field as its enum (a front end may pass the plain name)."""
    object.__setattr__(spec, name, kind(getattr(spec, name)))


@dataclass(frozen=True)
class MapSpec:
    """How a map file becomes cells and costs (imle_cli.inputs.load_map's keywords)."""

    grid: Optional[str] = None   # "N" or "HxW" cells; None: detected
    min_cost: float = 1.0        # the cost of white (luminance 1)
    max_cost: float = 100.0      # the cost of black (luminance 0)
    key: Optional[str] = None    # the array of an .npz with several
    rescale: bool = False        # map an array's values linearly onto min_cost..max_cost
    max_pixels: int = MAX_PIXELS


@dataclass(frozen=True)
class NoiseSpec:
    """The perturbation: its kind, and Sum-of-Gamma's k and number of terms s."""

    kind: Noise = Noise.sum_of_gamma
    k: Optional[float] = None  # None: the length of the reference path (the unperturbed or gold path)
    iterations: int = 100

    def __post_init__(self) -> None:
        _coerce(self, "kind", Noise)

    def with_k(self, default: float) -> "NoiseSpec":
        """This noise with k decided: its own k, else ``default``."""
        return replace(self, k=float(default if self.k is None else self.k))

    @property
    def label(self) -> str:
        """'sum-of-gamma noise (k = 47, s = 100)', 'Gumbel noise' or 'no noise' (k decided)."""
        if self.kind is Noise.sum_of_gamma:
            return f"sum-of-gamma noise (k = {self.k:g}, s = {self.iterations})"
        return "Gumbel noise" if self.kind is Noise.gumbel else "no noise"


@dataclass(frozen=True)
class SolverSpec:
    """How the grid's shortest paths are solved: the moves between cells, and over how many
    worker processes (0: the batched solver in this process)."""

    neighbourhood: int = 8
    workers: int = 0


@dataclass(frozen=True)
class EstimatorSpec:
    """A gradient estimator (imle.estimators.by_name) and its settings."""

    name: Estimator = Estimator.imle
    noise: NoiseSpec = field(default_factory=NoiseSpec)
    input_temperature: float = 1.0   # the noise scale of the forward draws
    target_temperature: float = 5.0  # the noise scale at the target
    alpha: float = 1.0               # target: alpha * theta - beta * dL/dy
    beta: float = 10.0

    def __post_init__(self) -> None:
        _coerce(self, "name", Estimator)


@dataclass(frozen=True)
class SampleSpec:
    """Perturb-and-MAP draws of the map's shortest path."""

    samples: int = 100
    noise: NoiseSpec = field(default_factory=NoiseSpec)
    temperature: float = 1.0  # draw i solves cost - temperature * noise_i
    solver: SolverSpec = field(default_factory=SolverSpec)
    seed: int = 0


@dataclass(frozen=True)
class GradientSpec:
    """Per-draw gradients of the Hamming loss to a gold path."""

    samples: int = 100
    estimator: EstimatorSpec = field(default_factory=EstimatorSpec)
    solver: SolverSpec = field(default_factory=SolverSpec)
    seed: int = 0


@dataclass(frozen=True)
class LearnSpec:
    """Learning a cost map from a gold path with Adam, ``samples`` draws per step."""

    steps: int = 1100
    lr: float = 0.005
    samples: int = 10
    estimator: EstimatorSpec = field(default_factory=lambda: EstimatorSpec(target_temperature=1.0))
    every: int = 10  # a snapshot (a GIF frame) every this many steps
    solver: SolverSpec = field(default_factory=SolverSpec)
    seed: int = 0
    patience: int = 0  # stop this many steps after the learned path has become the gold and stayed so (0: never)
    device: str = "cpu"  # where the costs and the noise live (cuda: other draws than the cpu's for a seed)


@dataclass(frozen=True)
class SweepSpec:
    """The learning run ``learn`` for every (input temperature, target temperature, samples), spread
    over ``workers`` processes (0: one after the other in this process)."""

    learn: LearnSpec = field(default_factory=LearnSpec)
    input_temperatures: Tuple[float, ...] = (0.0, 1.0, 2.0, 5.0)
    target_temperatures: Tuple[float, ...] = (0.0, 1.0, 2.0, 5.0)
    sample_counts: Tuple[int, ...] = (1, 10, 100)
    workers: int = 0

    def runs(self) -> List[LearnSpec]:
        """Every run, samples outermost, then input, then target temperature."""
        return [replace(self.learn, samples=samples, estimator=replace(
                    self.learn.estimator, input_temperature=inputs, target_temperature=target))
                for samples in self.sample_counts for inputs in self.input_temperatures
                for target in self.target_temperatures]


@dataclass(frozen=True)
class CompareSpec:
    """Every estimator of ``names`` on one map (``gradients`` with its estimator's name replaced),
    and with ``learn`` a learning run with each (its estimator's name replaced too)."""

    names: Tuple[Estimator, ...] = tuple(Estimator)
    gradients: GradientSpec = field(default_factory=lambda: GradientSpec(samples=50))
    learn: Optional[LearnSpec] = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(Estimator(name) for name in self.names))


@dataclass(frozen=True)
class NoiseCheckSpec:
    """``draws`` sums of k Sum-of-Gamma values (s terms each), against the Gumbel density."""

    k: int = 20
    iterations: int = 100
    draws: int = 8192
    seed: int = 0
