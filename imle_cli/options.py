"""Every command-line option, declared once: its flag, type, default, help and check, and the
setting it fills, named by its key in :data:`OPTIONS` (one setting per flag, in every command).

:class:`Settings` is derived from the table: one field per option, holding the option's checked
value (lists parsed once, into tuples), with the views that turn settings into the specs the
experiments take (:mod:`imle_cli.specs`). Checks that involve several options live in
:func:`check_together`. The Typer side (commands from option names) is
:mod:`imle_cli.commands._declare`.

Nothing heavy is imported here: ``imle-cli --help`` must not import torch.

Example:
    >>> s = Settings(k=3.0, noise=Noise.gumbel)
    >>> s.noise_spec
    NoiseSpec(kind=<Noise.gumbel: 'gumbel'>, k=3.0, iterations=100)
    >>> OPTIONS["sample_counts"].setting("1, 10,10")
    (1, 10)
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, make_dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from imle_cli.errors import UserError
from imle_cli.limits import (MAX_COST, MAX_FRAMES, MAX_ITERATIONS, MAX_NOISE_VALUES, MAX_PIXELS, MAX_SCALE,
                              MAX_STEP_SAMPLES, MAX_STEPS, MAX_SWEEP_RUNS, MAX_WORKERS)
from imle_cli.specs import Estimator, EstimatorSpec, MapSpec, Noise, NoiseSpec, SolverSpec


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


def up_to(most: int, why: str) -> Rule:
    """At most ``most`` (a whole number's upper bound, with the reason in the message)."""
    return (lambda v: v <= most, f"at most {most:,} ({why})")


SCALE: Rule = (lambda v: finite(v) and 0 <= v <= MAX_SCALE, f"a number from 0 to {MAX_SCALE:g}")
SIGNED_SCALE: Rule = (lambda v: finite(v) and abs(v) <= MAX_SCALE, f"a number from -{MAX_SCALE:g} to {MAX_SCALE:g}")
COST: Rule = (lambda v: finite(v) and 0 <= v <= MAX_COST, f"a number from 0 to {MAX_COST:g}")


def parse_numbers(text: str, flag: str, kind: type) -> Tuple:
    """'0, 1,2.5' -> (0.0, 1.0, 2.5): each finite and >= 0 (ints >= 1 for kind int); order kept,
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
    return tuple(dict.fromkeys(values))


def parse_estimators(text: str, flag: str) -> Tuple[Estimator, ...]:
    """'imle, blackbox' -> (Estimator.imle, Estimator.blackbox): order kept, duplicates dropped."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = [e.value for e in Estimator]
    for name in names:
        check(name in known, f"{flag}: unknown estimator {name!r}; choose from {', '.join(known)}")
    check(bool(names), f"{flag} must name at least one estimator")
    return tuple(Estimator(name) for name in dict.fromkeys(names))


@dataclass(frozen=True)
class Option:
    """One option: its flag(s), the type Typer reads, default, help and checks; ``parse`` turns
    the text of a list option into its setting (and checks it)."""

    flags: str
    type: Any
    default: Any
    help: str
    rules: Sequence[Rule] = ()
    argument: bool = False          # a positional argument (MAP) rather than a flag
    metavar: Optional[str] = None
    parse: Optional[Callable[[str, str], Any]] = None
    show_default: bool = True       # False where the help spells the default out

    @property
    def flag(self) -> str:
        return self.flags.split("/")[0]

    @property
    def is_switch(self) -> bool:
        """--quiet/--no-quiet: takes no value."""
        return "/" in self.flags

    def setting(self, value: Any) -> Any:
        """The checked setting for a value from the command line (a list option's text parsed)."""
        if value is None:
            return None
        if self.parse is not None:
            return self.parse(value, self.flag)
        for test, must in self.rules:
            check(test(value), f"{self.flag} must be {must}, got {value}")
        return value


#: Every option, by the name of the setting it fills.
OPTIONS: Dict[str, Option] = dict(
    map_path=Option("MAP", Optional[Path], None, "Map image (PNG, JPEG, ...) or cost array (.npy, .npz, .csv); "
                    "default: the built-in README map.", argument=True, metavar="MAP"),
    gold=Option("--gold", Optional[Path], None,
                "Gold path: the gold.png, gold.npy or gold.json annotate writes (gold.json beside the others is read "
                "too: the ends and the grid), or any image with bright path cells, or a 0/1 array."),
    gold_map=Option("--gold-map", Optional[Path], None, "Take the gold path as the shortest path on this other map."),
    invert=Option("--invert/--no-invert", bool, False, "The gold image marks the path with dark cells, not bright."),
    via=Option("--via", Optional[List[str]], None, "A waypoint ROW,COL (0-based cell indices, row first: --via 3,12 "
               "is row 3, column 12); repeat for several, visited in order.", metavar="ROW,COL"),
    start=Option("--start", Optional[str], None, "The gold path's first cell ROW,COL (default: the top-left cell, "
                 "or where a drawing's stroke begins).", metavar="ROW,COL"),
    end=Option("--end", Optional[str], None, "The gold path's last cell ROW,COL (default: the bottom-right cell, "
               "or where a drawing's stroke ends).", metavar="ROW,COL"),
    flat=Option("--flat/--no-flat", bool, False, "Route the waypoints on a flat map (every cell costs 1) instead "
                "of MAP's costs."),
    drawing=Option("--drawing", Optional[Path], None, "The map image with the path drawn over it (any pen and "
                   "colour; another size of the same shape is resampled): the gold follows the stroke's centre line "
                   "from one end to the other."),
    samples=Option("--samples", int, 100, "Perturb-and-MAP draws per map (per step in learn).",
                   [AT_LEAST_1, (lambda v: v <= MAX_FRAMES, f"at most {MAX_FRAMES} (one GIF frame each in sample "
                                 "and gradients)")]),
    learn_samples=Option("--learn-samples", int, 50, "Samples per learning step.",
                         [AT_LEAST_1, up_to(MAX_STEP_SAMPLES, "draws a step")]),
    input_temperatures=Option("--input-temperatures", str, "0,1,2,5", "Input temperatures to sweep (comma-separated).",
                              parse=lambda text, flag: parse_numbers(text, flag, float)),
    target_temperatures=Option("--target-temperatures", str, "0,1,2,5",
                               "Target temperatures to sweep (comma-separated).",
                               parse=lambda text, flag: parse_numbers(text, flag, float)),
    sample_counts=Option("--sample-counts", str, "1,10,100", "Samples per step to sweep (comma-separated).",
                         parse=lambda text, flag: parse_numbers(text, flag, int)),
    gifs=Option("--gifs/--no-gifs", bool, False, "Also write every run's learning_paths GIF."),
    estimators=Option("--estimators", str, ",".join(e.value for e in Estimator),
                      f"Comma-separated estimators to compare; default: all of {', '.join(e.value for e in Estimator)}.",
                      parse=parse_estimators, show_default=False),
    estimator=Option("--estimator", Estimator, Estimator.imle, "Gradient estimator."),
    noise=Option("--noise", Noise, Noise.sum_of_gamma, "Perturbation of the costs."),
    k=Option("--k", Optional[float], None, "Sum-of-Gamma k: a Gumbel draw is the sum of k of its draws (whole for "
             "noise); on a map, unless given, the cells on the unperturbed (or gold) shortest path.",
             [(lambda v: finite(v) and 1e-3 <= v <= 1e9, "a number from 0.001 to 1e+09")]),
    iterations=Option("--iterations", int, 100, "Sum-of-Gamma terms s.",
                      [AT_LEAST_1, up_to(MAX_ITERATIONS, "terms a draw")]),
    draws=Option("--draws", int, 8192, "Number of sums (and of single draws) in the histograms.",
                 [(lambda v: v >= 2, "at least 2")]),
    temperature=Option("--temperature", float, 1.0, "Noise scale: draw i solves cost - temperature * noise.",
                       [SCALE]),
    input_temperature=Option("--input-temperature", float, 1.0, "Noise scale of the forward draws.",
                             [SCALE]),
    target_temperature=Option("--target-temperature", float, 5.0, "Noise scale at the target.", [SCALE]),
    learn_input_temperature=Option("--learn-input-temperature", float, 5.0,
                                   "Noise scale of the forward draws (learning).", [SCALE]),
    learn_target_temperature=Option("--learn-target-temperature", float, 5.0,
                                    "Noise scale at the target (learning).", [SCALE]),
    alpha=Option("--alpha", float, 1.0, "Target: alpha * cost + beta * dL/dy.", [SIGNED_SCALE]),
    beta=Option("--beta", float, 10.0, "Target step size beta.", [SCALE]),
    neighbourhood=Option("--neighbourhood", int, 8, "Moves between cells: 8 (with diagonals) or 4.",
                         [(lambda v: v in (4, 8), "4 or 8")]),
    workers=Option("--workers", int, 0, "Worker processes: sweep runs its learning runs on them, the other "
                   "commands solve the maps one by one on them (imle.parallel); 0: everything in this process, "
                   "with the batched solver. The results do not depend on it.",
                   [(lambda v: 0 <= v <= MAX_WORKERS, f"between 0 and {MAX_WORKERS}")]),
    learn_too=Option("--learn/--no-learn", bool, False, "Also run the learning loop for each estimator."),
    steps=Option("--steps", int, 1100, "Adam steps.", [AT_LEAST_1, up_to(MAX_STEPS, "steps a run")]),
    lr=Option("--lr", float, 0.005, "Adam learning rate.",
              [(lambda v: finite(v) and 0 < v <= MAX_SCALE, f"a positive number up to {MAX_SCALE:g}")]),
    every=Option("--every", int, 10, "Record a GIF frame every this many steps.", [AT_LEAST_1]),
    device=Option("--device", str, "cpu", "Where the learned costs and the noise live: cpu, or cuda / cuda:N (a "
                  "GPU draws the noise; the grid solver runs on the CPU). Draws differ between devices.",
                  [(lambda v: v == "cpu" or re.fullmatch(r"cuda(:\d+)?", v) is not None, "cpu, cuda or cuda:N")]),
    patience=Option("--patience", int, 50, "Stop this many steps after the learned map's shortest path has become "
                    "the gold and stayed so at every step (its GIFs end there); 0: run every --steps.",
                    [(lambda v: v >= 0, "at least 0")]),
    grid=Option("--grid", Optional[str], None, "Cells as N or HxW (block means); default: detected."),
    min_cost=Option("--min-cost", float, 1.0, "Cost of white (luminance 1).", [COST]),
    max_cost=Option("--max-cost", float, 100.0, "Cost of black (luminance 0).", [COST]),
    key=Option("--key", Optional[str], None, "Array to use from an .npz with several."),
    seed=Option("--seed", int, 0, "Random seed; the same seed writes the same bytes.",
                [(lambda v: 0 <= v < 2 ** 63, "a whole number from 0 to 2**63 - 1")]),
    host=Option("--host", str, "127.0.0.1", "Address the studio listens on (0.0.0.0: every interface; the token "
                "still guards it)."),
    port=Option("--port", int, 8765, "Port the studio listens on (0: any free port).",
                [(lambda v: 0 <= v <= 65535, "between 0 and 65535")]),
    browser=Option("--browser/--no-browser", bool, True, "Open the studio in a web browser."),
    out=Option("--out", Path, Path("figures"), "Folder for the figures (created if missing)."),
    fps=Option("--fps", float, 10.0, "GIF frames per second.",  # a GIF holds a frame at most 655.35 s
               [(lambda v: finite(v) and 0.02 <= v <= 100, "from 0.02 to 100")]),
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
    max_pixels=Option("--max-pixels", int, MAX_PIXELS, "Largest image (width x height) to read; checked before "
                      "decoding.", [AT_LEAST_1]),
    rescale=Option("--rescale/--no-rescale", bool, False, "Map a cost array's values linearly onto --min-cost.."
                   "--max-cost (elevation models, bathymetry with negative values)."),
)


#: The options of every command that reads a map (after its own).
MAP_OPTIONS = "grid min_cost max_cost key rescale max_pixels"
#: The options of every command that writes figures (animations too).
OUTPUT_OPTIONS = "seed out fps still_format dpi axes video max_gif_mb quiet"
#: The options of every command that reads a map and writes figures of it.
MAP_COMMAND = f"{MAP_OPTIONS} {OUTPUT_OPTIONS}"
#: The noise of the perturbations.
NOISE_OPTIONS = "noise k iterations"
#: The target of I-MLE and its peers, and the solver.
TARGET_OPTIONS = "input_temperature target_temperature alpha beta neighbourhood workers"


class _Views:
    """What several settings say together: the specs the experiments take."""

    @property
    def map_spec(self) -> MapSpec:
        return MapSpec(grid=self.grid, min_cost=self.min_cost, max_cost=self.max_cost, key=self.key,
                       rescale=self.rescale, max_pixels=self.max_pixels)

    @property
    def noise_spec(self) -> NoiseSpec:
        return NoiseSpec(self.noise, self.k, self.iterations)

    @property
    def solver_spec(self) -> SolverSpec:
        return SolverSpec(self.neighbourhood, self.workers)

    @property
    def estimator_spec(self) -> EstimatorSpec:
        return EstimatorSpec(self.estimator, self.noise_spec, self.input_temperature, self.target_temperature,
                             self.alpha, self.beta)


Settings = make_dataclass(
    "Settings",
    [(name, Any, field(default=option.setting(option.default))) for name, option in OPTIONS.items()]
    + [("given", frozenset, field(default=frozenset(), compare=False))],  # the options this command takes
    bases=(_Views,), frozen=True)
Settings.__module__ = __name__
Settings.__doc__ = """Every option's setting for one run of a command (one field per key of OPTIONS);
options the command does not take keep their table defaults. Built and checked once, by the
command builder."""


def check_device(device: str) -> None:
    """Refuse a CUDA device this machine does not have (imports torch: only when one is asked for)."""
    import torch

    index = int(device.split(":")[1]) if ":" in device else 0
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    check(index < count, f"--device {device}: this machine has no such CUDA device "
                         + (f"(it has {count})" if count else f"(torch {torch.__version__} sees no GPU)")
                         + "; use --device cpu")


def check_together(settings: Settings) -> None:
    """The checks that involve several options (each single option is checked by its table rules)."""
    given = settings.given
    if "every" in given:
        check(settings.every <= settings.steps,
              f"--every ({settings.every}) must not be larger than --steps ({settings.steps})")
        frames = settings.steps // settings.every + 1
        check(frames <= MAX_FRAMES, f"--steps / --every gives {frames} GIF frames, at most {MAX_FRAMES}: "
                                    f"raise --every to at least {-(-settings.steps // (MAX_FRAMES - 1))}")
    if "device" in given and settings.device != "cpu":
        check_device(settings.device)
    if "gold_map" in given:
        check(settings.gold is None or settings.gold_map is None,
              "--gold and --gold-map are alternatives; give one of them")
    if "drawing" in given:
        check(settings.drawing is None or not settings.via, "--drawing and --via are alternatives; give one of them")
        check(settings.drawing is None or not settings.flat, "--flat only applies to --via waypoints")
    if "draws" in given:
        check(float(settings.k).is_integer(), f"--k must be a whole number for noise (the number of draws summed), "
                                              f"got {settings.k}")
        check(settings.draws * settings.k <= MAX_NOISE_VALUES,
              f"--draws x --k must be at most {MAX_NOISE_VALUES:,}, got {settings.draws * int(settings.k):,}")
    if "sample_counts" in given:
        runs = len(settings.sample_counts) * len(settings.input_temperatures) * len(settings.target_temperatures)
        check(runs <= MAX_SWEEP_RUNS, f"the sweep has {runs} settings, at most {MAX_SWEEP_RUNS:,}")
    noisy = [settings.estimator] if "estimator" in given else []
    if "estimators" in given:
        noisy = settings.estimators
    for name in noisy:
        if name in (Estimator.perturbed, Estimator.score_function):
            check(settings.input_temperature > 0,
                  f"--input-temperature must be > 0 for {name.value} (it is its noise scale sigma)")
