"""Every command-line option, declared once, and the one builder that turns a list of option
names into a Typer command.

An :class:`Option` holds a flag's type, default, help and check; :data:`OPTIONS` is the table of
all of them; :func:`command` declares a command by naming the options it takes (with its own
defaults where they differ) and hands the body one :class:`Settings` built and checked once.
Checks that involve several options live in :func:`check_together`.

Nothing heavy is imported here: ``imle-cli --help`` must not import torch.
"""
from __future__ import annotations

import inspect
import math
from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import typer

from imle_cli.errors import UserError
from imle_cli.reporting import user_errors

#: Most frames in one GIF: frames are streamed to disk, but each takes time to draw and space to
#: keep (see --max-gif-mb); beyond this a GIF is no figure anyone watches.
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


def _display_type_rich(self, ctx):
    """Typer prints a type (<int>) beside every option; a switch (--quiet/--no-quiet) takes no
    value, so it gets none."""
    return None if self.is_flag else _typer_display_type_rich(self, ctx)


_typer_display_type_rich = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _display_type_rich


def check(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(message)


def finite(value: float) -> bool:
    return math.isfinite(value)


# Checks: (test of the value, what it must be). The message is "FLAG must be WHAT, got VALUE".
Rule = Tuple[Callable[[Any], bool], str]
AT_LEAST_1: Rule = (lambda v: v >= 1, "at least 1")
NON_NEGATIVE: Rule = (lambda v: finite(v) and v >= 0, "a finite number >= 0")
POSITIVE: Rule = (lambda v: finite(v) and v > 0, "a finite number > 0")
FINITE: Rule = (finite, "a finite number")


@dataclass(frozen=True)
class Option:
    """One option: its flag(s), Python type, default, help and checks."""

    flags: str
    type: Any
    default: Any
    help: str
    rules: Sequence[Rule] = ()
    argument: bool = False          # a positional argument (MAP) rather than a flag
    metavar: Optional[str] = None

    @property
    def flag(self) -> str:
        return self.flags.split("/")[0]

    def parameter(self, name: str, default: Any) -> inspect.Parameter:
        """The Typer parameter of a command function."""
        # flags need no default shown, nor lists the help already spells out
        shown = default is not None and not self.argument and self.type is not bool and self.flags != "--estimators"
        if self.argument:
            info = typer.Argument(default, metavar=self.metavar, help=self.help, show_default=False)
        else:
            info = typer.Option(default, self.flags, help=self.help, show_default=shown, metavar=self.metavar)
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=info, annotation=self.type)

    def check(self, value: Any) -> None:
        if value is None:
            return
        for test, must in self.rules:
            check(test(value), f"{self.flag} must be {must}, got {value}")


OPTIONS: Dict[str, Option] = dict(
    map_path=Option("MAP", Optional[Path], None, "Map image (PNG, JPEG, ...) or cost array (.npy, .npz, .csv); "
                    "default: the built-in README map.", argument=True, metavar="MAP"),
    gold=Option("--gold", Optional[Path], None,
                "Gold path image (bright cells on the path) or 0/1 array, on the map's cell grid."),
    gold_map=Option("--gold-map", Optional[Path], None, "Take the gold path as the shortest path on this other map."),
    invert=Option("--invert/--no-invert", bool, False, "The gold image marks the path with dark cells, not bright."),
    via=Option("--via", Optional[List[str]], None, "A waypoint ROW,COL (0-based cell indices, row first: --via 3,12 "
               "is row 3, column 12); repeat for several, visited in order.", metavar="ROW,COL"),
    flat=Option("--flat/--no-flat", bool, False, "Route the waypoints on a flat map (every cell costs 1) instead "
                "of MAP's costs."),
    drawing=Option("--drawing", Optional[Path], None, "An image of the map with the path drawn on it (any size, "
                   "colours and pen): the gold follows the stroke."),
    samples=Option("--samples", int, 100, "Perturb-and-MAP draws per map (per step in learn).",
                   [AT_LEAST_1, (lambda v: v <= MAX_FRAMES, f"at most {MAX_FRAMES} (one GIF frame each in sample "
                                 "and gradients)")]),
    learn_samples=Option("--learn-samples", int, 50, "Samples per learning step.", [AT_LEAST_1]),
    input_temperatures=Option("--input-temperatures", str, "0,1,2,5", "Input temperatures to sweep (comma-separated)."),
    target_temperatures=Option("--target-temperatures", str, "0,1,2,5",
                               "Target temperatures to sweep (comma-separated)."),
    sample_counts=Option("--samples", str, "1,10,100", "Samples per step to sweep (comma-separated)."),
    run_workers=Option("--workers", int, 2, "Learning runs in parallel over this many processes (each on one "
                       "thread; the results do not depend on it).", [(lambda v: 1 <= v <= 256, "between 1 and 256")]),
    gifs=Option("--gifs/--no-gifs", bool, False, "Also write every run's learning_paths GIF."),
    estimators=Option("--estimators", str, ",".join(e.value for e in Estimator),
                      f"Comma-separated estimators to compare; default: all of {', '.join(e.value for e in Estimator)}."),
    estimator=Option("--estimator", Estimator, Estimator.imle, "Gradient estimator."),
    noise=Option("--noise", Noise, Noise.sum_of_gamma, "Perturbation of the costs."),
    k=Option("--k", Optional[float], None, "Sum-of-Gamma k; default: the cells on the unperturbed (or gold) "
             "shortest path.", [POSITIVE]),
    sums_k=Option("--k", int, 20, "Sum-of-Gamma k: the number of draws summed.", [AT_LEAST_1]),
    iterations=Option("--iterations", int, 100, "Sum-of-Gamma terms s.", [AT_LEAST_1]),
    draws=Option("--draws", int, 8192, "Number of sums (and of single draws) in the histograms.",
                 [(lambda v: v >= 2, "at least 2")]),
    temperature=Option("--temperature", float, 1.0, "Noise scale: draw i solves cost - temperature * noise.",
                       [NON_NEGATIVE]),
    input_temperature=Option("--input-temperature", float, 1.0, "Noise scale of the forward draws.",
                             [NON_NEGATIVE]),
    target_temperature=Option("--target-temperature", float, 5.0, "Noise scale at the target.", [NON_NEGATIVE]),
    learn_input_temperature=Option("--learn-input-temperature", float, 5.0,
                                   "Noise scale of the forward draws (learning).", [NON_NEGATIVE]),
    learn_target_temperature=Option("--learn-target-temperature", float, 5.0,
                                    "Noise scale at the target (learning).", [NON_NEGATIVE]),
    alpha=Option("--alpha", float, 1.0, "Target: alpha * cost + beta * dL/dy.", [FINITE]),
    beta=Option("--beta", float, 10.0, "Target step size beta.", [NON_NEGATIVE]),
    neighbourhood=Option("--neighbourhood", int, 8, "Moves between cells: 8 (with diagonals) or 4.",
                         [(lambda v: v in (4, 8), "4 or 8")]),
    workers=Option("--workers", int, 0, "Solve maps one by one over this many processes (imle.parallel); "
                   "0: the in-process batched solver.", [(lambda v: 0 <= v <= 256, "between 0 and 256")]),
    learn_too=Option("--learn/--no-learn", bool, False, "Also run the learning loop for each estimator."),
    steps=Option("--steps", int, 1100, "Adam steps.", [AT_LEAST_1]),
    lr=Option("--lr", float, 0.005, "Adam learning rate.", [(lambda v: finite(v) and v > 0, "a positive number")]),
    every=Option("--every", int, 10, "Record a GIF frame every this many steps.", [AT_LEAST_1]),
    grid=Option("--grid", Optional[str], None, "Cells as N or HxW (block means); default: detected."),
    min_cost=Option("--min-cost", float, 1.0, "Cost of the brightest pixel."),
    max_cost=Option("--max-cost", float, 100.0, "Cost of the darkest pixel."),
    key=Option("--key", Optional[str], None, "Array to use from an .npz with several."),
    seed=Option("--seed", int, 0, "Random seed; the same seed writes the same bytes."),
    out=Option("--out", Path, Path("figures"), "Folder for the figures (created if missing)."),
    fps=Option("--fps", float, 10.0, "GIF frames per second.",
               [(lambda v: finite(v) and 0 < v <= 100, "above 0 and at most 100")]),
    quiet=Option("--quiet/--no-quiet", bool, False, "Print nothing but errors."),
    still_format=Option("--format", str, "png", "Format of the still figures: png, svg or pdf (vector, for "
                        "papers); GIFs stay GIFs.", [(lambda v: v in ("png", "svg", "pdf"), "png, svg or pdf")]),
    dpi=Option("--dpi", float, 100.0, "Resolution of the figures drawn by matplotlib (plots; SVG/PDF stills).",
               [(lambda v: finite(v) and 10 <= v <= 1200, "between 10 and 1200")]),
    video=Option("--video/--no-video", bool, False, "Also write each GIF as an MP4 (needs the 'video' extra: "
                 "imageio-ffmpeg)."),
    max_gif_mb=Option("--max-gif-mb", float, 50.0, "Refuse to render a GIF estimated larger than this many MB.",
                      [POSITIVE]),
    axes=Option("--axes/--no-axes", Optional[bool], None, "Row and column indices on the map figures; default: "
                "on for maps of up to 64 cells on a side."),
    max_pixels=Option("--max-pixels", int, 50_000_000, "Largest image (width x height) to read; checked before "
                      "decoding.", [AT_LEAST_1]),
    rescale=Option("--rescale/--no-rescale", bool, False, "Map a cost array's values linearly onto --min-cost.."
                   "--max-cost (elevation models, bathymetry with negative values)."),
)

#: The options of every command that reads a map (after its own).
MAP_OPTIONS = "grid min_cost max_cost key rescale max_pixels"
#: The options of every command that writes figures (animations too).
OUTPUT_OPTIONS = "seed out fps still_format dpi axes video max_gif_mb quiet"


@dataclass(frozen=True)
class Settings:
    """Every option's value for one run of a command; options the command does not take keep
    their table defaults. Built and checked once, by :func:`command`."""

    map_path: Optional[Path] = None
    gold: Optional[Path] = None
    gold_map: Optional[Path] = None
    invert: bool = False
    via: Optional[List[str]] = None
    flat: bool = False
    drawing: Optional[Path] = None
    samples: int = 100
    learn_samples: int = 50
    input_temperatures: str = "0,1,2,5"
    target_temperatures: str = "0,1,2,5"
    sample_counts: str = "1,10,100"
    run_workers: int = 2
    gifs: bool = False
    estimators: str = ""
    estimator: Estimator = Estimator.imle
    noise: Noise = Noise.sum_of_gamma
    k: Optional[float] = None
    sums_k: int = 20
    iterations: int = 100
    draws: int = 8192
    temperature: float = 1.0
    input_temperature: float = 1.0
    target_temperature: float = 5.0
    learn_input_temperature: float = 5.0
    learn_target_temperature: float = 5.0
    alpha: float = 1.0
    beta: float = 10.0
    neighbourhood: int = 8
    workers: int = 0
    learn_too: bool = False
    steps: int = 1100
    lr: float = 0.005
    every: int = 10
    grid: Optional[str] = None
    min_cost: float = 1.0
    max_cost: float = 100.0
    key: Optional[str] = None
    seed: int = 0
    out: Path = Path("figures")
    fps: float = 10.0
    quiet: bool = False
    still_format: str = "png"
    dpi: float = 100.0
    video: bool = False
    max_gif_mb: float = 50.0
    axes: Optional[bool] = None
    rescale: bool = False
    max_pixels: int = 50_000_000
    given: frozenset = field(default=frozenset(), compare=False)  # the options this command takes

    @property
    def map_options(self) -> dict:
        """The keyword arguments of maps.load_map."""
        return dict(grid=self.grid, min_cost=self.min_cost, max_cost=self.max_cost, key=self.key,
                    rescale=self.rescale, max_pixels=self.max_pixels)

    @property
    def sweep_settings(self) -> list:
        """The sweep's grid: (input temperature, target temperature, samples) for every combination,
        in that nesting order."""
        inputs = parse_numbers(self.input_temperatures, "--input-temperatures", float)
        targets = parse_numbers(self.target_temperatures, "--target-temperatures", float)
        counts = parse_numbers(self.sample_counts, "--samples", int)
        return [(i, t, n) for n in counts for i in inputs for t in targets]

    @property
    def chosen_estimators(self) -> list:
        """--estimators as a checked list: 'imle,blackbox' -> ['imle', 'blackbox'] (order kept,
        duplicates dropped)."""
        names = [name.strip() for name in self.estimators.split(",") if name.strip()]
        known = [e.value for e in Estimator]
        for name in names:
            check(name in known, f"--estimators: unknown estimator {name!r}; choose from {', '.join(known)}")
        check(bool(names), "--estimators must name at least one estimator")
        return list(dict.fromkeys(names))


assert {f.name for f in fields(Settings)} - {"given"} == set(OPTIONS), "Settings and OPTIONS must list the same options"


def parse_numbers(text: str, flag: str, kind: type) -> list:
    """'0, 1,2.5' -> [0.0, 1.0, 2.5]: each finite and >= 0 (ints >= 1 for kind int); order kept,
    duplicates dropped."""
    values = []
    for item in (part.strip() for part in text.split(",")):
        try:
            value = kind(item)
        except ValueError:
            raise UserError(f"{flag}: {item!r} is not {'a whole number' if kind is int else 'a number'}; give a "
                            f"comma-separated list such as {'1,10,100' if kind is int else '0,1,2,5'}") from None
        check(finite(value) and value >= (1 if kind is int else 0),
              f"{flag}: {item!r} must be {'at least 1' if kind is int else 'a finite number >= 0'}")
        values.append(value)
    return list(dict.fromkeys(values))


def check_together(settings: Settings) -> None:
    """The checks that involve several options (each single option is checked by its table rules)."""
    given = settings.given
    if "every" in given:
        check(settings.every <= settings.steps,
              f"--every ({settings.every}) must not be larger than --steps ({settings.steps})")
        frames = settings.steps // settings.every + 1
        check(frames <= MAX_FRAMES, f"--steps / --every gives {frames} GIF frames, at most {MAX_FRAMES}: "
                                    f"raise --every to at least {-(-settings.steps // (MAX_FRAMES - 1))}")
    if "gold_map" in given:
        check(settings.gold is None or settings.gold_map is None,
              "--gold and --gold-map are alternatives; give one of them")
    if "drawing" in given:
        check(settings.drawing is None or not settings.via, "--drawing and --via are alternatives; give one of them")
        check(settings.drawing is None or not settings.flat, "--flat only applies to --via waypoints")
    if "draws" in given:
        check(settings.draws * settings.sums_k <= 50_000_000,
              f"--draws x --k must be at most 50,000,000, got {settings.draws * settings.sums_k}")
    if "sample_counts" in given:
        check(len(settings.sweep_settings) <= 1000, f"the sweep has {len(settings.sweep_settings)} settings, at "
                                                     "most 1,000")
    noisy = [settings.estimator.value] if "estimator" in given else []
    if "estimators" in given:
        noisy = settings.chosen_estimators
    for name in noisy:
        if name in (Estimator.perturbed.value, Estimator.score_function.value):
            check(settings.input_temperature > 0,
                  f"--input-temperature must be > 0 for {name} (it is its noise scale sigma)")


def command(app: typer.Typer, name: str, options: str, **defaults: Any) -> Callable:
    """Declare the command ``name`` taking the named options (space-separated keys of
    :data:`OPTIONS`, in help order), with per-command ``defaults``. The decorated body receives
    the checked :class:`Settings`; user errors become one line and exit code 2."""
    names = options.split()
    unknown = [n for n in [*names, *defaults] if n not in OPTIONS]
    assert not unknown, f"unknown options {unknown}"

    def decorate(body: Callable[[Settings], None]) -> Callable[[Settings], None]:
        def callback(**values: Any) -> None:
            with user_errors():
                for key, value in values.items():
                    OPTIONS[key].check(value)
                settings = Settings(**values, given=frozenset(values))
                check_together(settings)
                body(settings)

        parameters = [OPTIONS[n].parameter(n, defaults.get(n, OPTIONS[n].default)) for n in names]
        callback.__signature__ = inspect.Signature(parameters)
        callback.__annotations__ = {p.name: p.annotation for p in parameters}
        callback.__doc__, callback.__name__ = body.__doc__, body.__name__
        app.command(name)(callback)
        return body

    return decorate
