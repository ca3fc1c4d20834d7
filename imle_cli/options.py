"""Command-line options shared by the commands, and the checks of their values.

One definition per option, so help texts and defaults never drift apart between commands.
"""
from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Optional

import typer

from imle_cli.errors import UserError


#: Most frames in one GIF: frames are held in memory (about 250 KB each) until it is written.
MAX_FRAMES = 2000


class Noise(str, Enum):
    sum_of_gamma = "sum-of-gamma"
    gumbel = "gumbel"
    none = "none"


class Estimator(str, Enum):
    """The gradient estimators of imle_cli.experiments.make_estimator."""

    imle = "imle"
    aimle = "aimle"
    imle_two_sided = "imle-two-sided"
    blackbox = "blackbox"
    perturbed = "perturbed"
    straight_through = "straight-through"
    score_function = "score-function"


ESTIMATOR = typer.Option(Estimator.imle, "--estimator", help="Gradient estimator.")
WORKERS = typer.Option(0, "--workers", help="Solve maps one by one over this many processes "
                                            "(imle.parallel); 0: the in-process batched solver.")


def check_workers(workers: int) -> None:
    check(0 <= workers <= 256, f"--workers must be between 0 and 256, got {workers}")


def parse_estimators(text: str) -> list:
    """'imle,blackbox' -> ['imle', 'blackbox'], each checked; order kept, duplicates dropped."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = [e.value for e in Estimator]
    for name in names:
        if name not in known:
            raise UserError(f"--estimators: unknown estimator {name!r}; choose from {', '.join(known)}")
    if not names:
        raise UserError("--estimators must name at least one estimator")
    return list(dict.fromkeys(names))


def check_estimator_noise(estimator: "Estimator", input_temperature: float) -> None:
    """The perturbed optimiser and the score function need noise: sigma is the input temperature."""
    if estimator in (Estimator.perturbed, Estimator.score_function) and input_temperature <= 0:
        raise UserError(f"--input-temperature must be > 0 for {estimator.value} (it is its noise scale sigma)")


MapArgument = typer.Argument(None, metavar="MAP", help="Map image (PNG, JPEG, ...) or cost array (.npy, .npz, .csv); "
                                        "default: the built-in README map.", show_default=False)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(message)


def finite(value: float) -> bool:
    return math.isfinite(value)


def check_common(*, samples: int, temperature: Optional[float] = None, k: Optional[float] = None,
                 iterations: int = 100, neighbourhood: int = 8, fps: float = 10.0) -> None:
    """The option checks every map command shares."""
    check(samples >= 1, f"--samples must be at least 1, got {samples}")
    check(samples <= MAX_FRAMES, f"--samples must be at most {MAX_FRAMES} (one GIF frame each, all held in memory "
                                 f"while the GIF is written), got {samples}")
    if temperature is not None:
        check(finite(temperature) and temperature >= 0, f"--temperature must be a finite number >= 0, got {temperature}")
    if k is not None:
        check(finite(k) and k > 0, f"--k must be a finite number > 0, got {k}")
    check(iterations >= 1, f"--iterations must be at least 1, got {iterations}")
    check(neighbourhood in (4, 8), f"--neighbourhood must be 4 or 8, got {neighbourhood}")
    check(finite(fps) and 0 < fps <= 100, f"--fps must be above 0 and at most 100, got {fps}")


def samples_option(default: int) -> int:
    return typer.Option(default, "--samples", help="Perturb-and-MAP draws (one GIF frame each in sample/gradients).")


NOISE = typer.Option(Noise.sum_of_gamma, "--noise", help="Perturbation of the costs.")
K = typer.Option(None, "--k", show_default=False,
                 help="Sum-of-Gamma k; default: the cells on the unperturbed (or gold) shortest path.")
ITERATIONS = typer.Option(100, "--iterations", help="Sum-of-Gamma terms s.")
NEIGHBOURHOOD = typer.Option(8, "--neighbourhood", help="Moves between cells: 8 (with diagonals) or 4.")
GRID = typer.Option(None, "--grid", show_default=False, help="Cells as N or HxW (block means); default: detected.")
MIN_COST = typer.Option(1.0, "--min-cost", help="Cost of the brightest pixel.")
MAX_COST = typer.Option(100.0, "--max-cost", help="Cost of the darkest pixel.")
KEY = typer.Option(None, "--key", show_default=False, help="Array to use from an .npz with several.")
SEED = typer.Option(0, "--seed", help="Random seed; the same seed writes the same bytes.")
OUT = typer.Option(Path("figures"), "--out", help="Folder for the figures (created if missing).")
FPS = typer.Option(10.0, "--fps", help="GIF frames per second.")
QUIET = typer.Option(False, "--quiet", help="Print nothing but errors.")
GOLD = typer.Option(None, "--gold", show_default=False,
                    help="Gold path image (bright cells on the path) or 0/1 array, on the map's cell grid.")
GOLD_MAP = typer.Option(None, "--gold-map", show_default=False,
                        help="Take the gold path as the shortest path on this other map.")
INPUT_TEMPERATURE = typer.Option(1.0, "--input-temperature", help="Noise scale of the forward draws.")
ALPHA = typer.Option(1.0, "--alpha", help="Target: alpha * cost + beta * dL/dy.")
BETA = typer.Option(10.0, "--beta", help="Target step size beta.")


def check_estimator(*, input_temperature: float, target_temperature: float, alpha: float, beta: float) -> None:
    check(finite(input_temperature) and input_temperature >= 0,
           f"--input-temperature must be a finite number >= 0, got {input_temperature}")
    check(finite(target_temperature) and target_temperature >= 0,
           f"--target-temperature must be a finite number >= 0, got {target_temperature}")
    check(finite(alpha), f"--alpha must be a finite number, got {alpha}")
    check(finite(beta) and beta >= 0, f"--beta must be a finite number >= 0, got {beta}")


def check_learning(steps: int, lr: float, every: int) -> None:
    check(steps >= 1, f"--steps must be at least 1, got {steps}")
    check(finite(lr) and lr > 0, f"--lr must be a positive number, got {lr}")
    check(every >= 1, f"--every must be at least 1, got {every}")
    check(every <= steps, f"--every ({every}) must not be larger than --steps ({steps})")
    frames = steps // every + 1
    check(frames <= MAX_FRAMES, f"--steps / --every gives {frames} GIF frames, at most {MAX_FRAMES}: "
                                f"raise --every to at least {-(-steps // (MAX_FRAMES - 1))}")


STEPS = typer.Option(1100, "--steps", help="Adam steps.")
LR = typer.Option(0.005, "--lr", help="Adam learning rate.")
EVERY = typer.Option(10, "--every", help="Record a GIF frame every this many steps.")
