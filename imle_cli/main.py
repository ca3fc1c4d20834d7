"""imle-cli: the commands. Thin: each names its options (imle_cli.options), loads its inputs, runs
its parts (imle_cli.parts: an experiment and the figures it writes) and prints a summary.

Heavy modules (torch, matplotlib, imageio, PIL) are imported inside the parts so that
``imle-cli --help`` stays instant.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import List, Tuple

import typer

from imle_cli.options import MAP_OPTIONS, OUTPUT_OPTIONS, Settings, check, command
from imle_cli.parts import (Job, Part, annotate_part, compare_part, gradients_part, learn_part, noise_part,
                            sample_part, sweep_part)
from imle_cli.reporting import Reporter

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="I-MLE on maps: sample shortest paths with perturb-and-MAP and render the figures.",
)


def _version(value: bool) -> None:
    if value:
        from imle_cli import __version__

        typer.echo(f"imle-cli {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """I-MLE on maps: sample shortest paths with perturb-and-MAP and render the figures."""


def _load_inputs(job: Job, s: Settings, reporter: Reporter, needs_map: bool, needs_gold: bool) -> None:
    """The map (or the built-in one) and the gold path, as the command's options say."""
    from imle_cli import experiments, maps

    if needs_map:
        loaded = maps.load_map(s.map_path, **s.map_options)
        for text in loaded.notices:
            reporter.notice(text)
        job.costs, job.map_name = loaded.costs, (Path(loaded.source).name if s.map_path else loaded.source)
    if not needs_gold:
        return
    if s.gold is not None:
        job.gold = maps.load_gold(s.gold, None if job.costs is None else job.costs.shape, s.neighbourhood,
                                  invert=s.invert, max_pixels=s.max_pixels)  # notices: maps.NOTICES
        job.gold_source = Path(s.gold).name
    elif s.gold_map is not None:
        other = maps.load_map(s.gold_map, **s.map_options).costs
        if job.costs is not None:
            check(other.shape == job.costs.shape, f"--gold-map {str(s.gold_map)!r} is {other.shape[0]}x"
                                                  f"{other.shape[1]} cells but the map is {job.costs.shape[0]}x"
                                                  f"{job.costs.shape[1]} cells; they must match")
        job.gold, job.gold_source = experiments.shortest_path(other, s.neighbourhood), \
            f"shortest path on {Path(s.gold_map).name}"
    elif job.costs is not None:  # gradients, compare, all: the flat map's path (the diagonal)
        import numpy as np

        job.gold, job.gold_source = experiments.shortest_path(np.ones(job.costs.shape), s.neighbourhood), \
            "shortest path on a flat map"
    if s.gold is not None or s.gold_map is not None:
        job.learn_gold, job.learn_gold_source = job.gold, job.gold_source
    elif job.costs is not None:  # all, compare --learn: the map's own shortest path, as in torch-imle
        job.learn_gold = experiments.shortest_path(job.costs, s.neighbourhood)
        job.learn_gold_source = f"shortest path on {job.map_name}"
    else:  # learn, sweep: the torch-imle learning experiment's gold, the README map's winding path
        job.learn_gold = experiments.shortest_path(maps.readme_map(), s.neighbourhood)
        job.learn_gold_source = "shortest path on the README map"
    if job.gold is None:
        job.gold, job.gold_source = job.learn_gold, job.learn_gold_source


def _print_notices(reporter: Reporter) -> None:
    """The notices gathered while reading inputs (Pillow's warnings among them)."""
    from imle_cli import maps

    for text in maps.NOTICES:
        reporter.notice(text)
    maps.NOTICES.clear()


def run_parts(s: Settings, parts: List[Tuple[Part, Settings]], *, needs_map: bool = True,
              needs_gold: bool = False, index: bool = False) -> None:
    """Load the inputs, run each (part, its settings) into one output folder, write index.html
    if asked, commit the files and print the summary."""
    from imle_cli import figures, render

    reporter = Reporter(s.quiet)
    if s.video:
        render.check_video_support()
    job = Job()
    _load_inputs(job, s, reporter, needs_map, needs_gold)
    _print_notices(reporter)
    with render.Outputs(s.out, s.still_format, s.dpi, s.video, s.axes, s.max_gif_mb) as outputs, \
            reporter.progress() as progress:
        job.outputs, job.progress = outputs, progress
        sections = [part(job, settings) for part, settings in parts]
        _print_notices(reporter)
        if index:
            figures.write_index(outputs, [(f"{title} ({facts})", files) for title, facts, files in sections],
                                title=f"I-MLE on {job.map_name}")
        written = outputs.commit()
    facts = "\n".join(facts for _, facts, _ in sections)
    reporter.summary(s.out, written, facts + (f"\nopen {s.out}/index.html" if index else ""))


MAP_COMMAND = f"{MAP_OPTIONS} {OUTPUT_OPTIONS}"
#: learn's defaults: with them the default run visibly learns the README map's winding path (the
#: README's "Which settings learn the gold path" gives the measurements behind them)
LEARNING_DEFAULTS = dict(samples=50, input_temperature=5.0, target_temperature=5.0, steps=600, every=5)
NOISE_OPTIONS = "noise k iterations"
TARGET_OPTIONS = "input_temperature target_temperature alpha beta neighbourhood workers"


@command(app, "sample", f"map_path samples {NOISE_OPTIONS} temperature neighbourhood workers {MAP_COMMAND}")
def sample(s: Settings) -> None:
    """Sample shortest paths on a map: writes map.png, paths.gif, distribution.gif, distribution.png."""
    run_parts(s, [(sample_part, s)])


@command(app, "annotate", f"map_path via flat drawing neighbourhood {MAP_OPTIONS} out still_format dpi quiet")
def annotate(s: Settings) -> None:
    """Make a gold path for a map: writes gold.png (the path as data, for --gold), gold.npy, gold_preview.png.

    \b
    From waypoints: --via ROW,COL (repeatable; 0-based cell indices, row first, as in every
    message and on the preview's axes). The gold is the shortest path on MAP (on a flat map with
    --flat) from the top-left cell through each waypoint in order to the bottom-right cell:
        imle-cli annotate assets/map.png --via 6,14 --via 12,0
    From a drawing: --drawing FILE, an image of the map (any size) with the path drawn on it in
    any colour and pen; the gold is the path of cells that follows the stroke.
    With neither: the shortest path on MAP.
    """
    run_parts(s, [(annotate_part, s)])


@command(app, "gradients", f"map_path gold gold_map invert samples {NOISE_OPTIONS} {TARGET_OPTIONS} {MAP_COMMAND}")
def gradients(s: Settings) -> None:
    """I-MLE gradients of the Hamming loss to a gold path: writes gold_preview.png, gradients.gif, gradients.png.

    Without --gold or --gold-map the gold path is the shortest path on a flat map (the diagonal on
    a square map: the gold of the torch-imle README's gradient figure).
    """
    run_parts(s, [(gradients_part, s)], needs_gold=True)


@command(app, "learn", f"gold gold_map invert steps lr samples {NOISE_OPTIONS} {TARGET_OPTIONS} every estimator "
                       f"{MAP_OPTIONS} {OUTPUT_OPTIONS}", **LEARNING_DEFAULTS)
def learn(s: Settings) -> None:
    """Learn map costs from a gold path: writes learning_paths.gif, learning_weights.gif, loss.png.

    The map's size is the gold's. Without --gold or --gold-map the gold is the shortest path on
    the README map, learned from a flat start: torch-imle's learning experiment.
    """
    run_parts(s, [(learn_part, s)], needs_map=False, needs_gold=True)


@command(app, "sweep", f"gold gold_map invert input_temperatures target_temperatures sample_counts steps lr every "
                       f"noise k iterations alpha beta neighbourhood run_workers gifs {MAP_OPTIONS} {OUTPUT_OPTIONS}",
         steps=LEARNING_DEFAULTS["steps"], every=LEARNING_DEFAULTS["every"])
def sweep(s: Settings) -> None:
    """Learn the gold path over a grid of settings: writes sweep.png (a contact sheet), sweep.csv, sweep.md.

    The default grid is the original torch-imle experiments': input and target temperatures in
    {0, 1, 2, 5} and 1, 10 or 100 samples. Runs are seeded alike and spread over --workers
    processes; the files do not depend on the worker count (but for the CSV's seconds).
    """
    run_parts(s, [(sweep_part, s)], needs_map=False, needs_gold=True)


@command(app, "noise", "sums_k iterations draws seed out still_format dpi quiet")
def noise(s: Settings) -> None:
    """Check Sum-of-Gamma noise: the sum of k draws against the Gumbel density; writes noise.png."""
    run_parts(s, [(noise_part, s)], needs_map=False)


@command(app, "all", f"map_path gold gold_map invert samples learn_samples steps lr every {NOISE_OPTIONS} "
                     f"input_temperature target_temperature learn_input_temperature learn_target_temperature alpha "
                     f"beta neighbourhood workers {MAP_COMMAND}", steps=LEARNING_DEFAULTS["steps"],
         every=LEARNING_DEFAULTS["every"])
def all_figures(s: Settings) -> None:
    """Run sample, gradients and learn into one folder, with an index.html showing every figure."""
    run_parts(s, [(sample_part, replace(s, temperature=s.input_temperature)), (gradients_part, s),
                  (learn_part, replace(s, samples=s.learn_samples, input_temperature=s.learn_input_temperature,
                                       target_temperature=s.learn_target_temperature,
                                       k=None))], needs_gold=True, index=True)


@command(app, "compare", f"map_path gold gold_map invert estimators samples {NOISE_OPTIONS} {TARGET_OPTIONS} learn_too "
                         f"steps lr learn_samples learn_input_temperature learn_target_temperature {MAP_COMMAND}",
         samples=50, steps=LEARNING_DEFAULTS["steps"])
def compare(s: Settings) -> None:
    """Compare I-MLE with its peers on one map: compare.png, compare.gif (and compare_loss.png with --learn)."""
    run_parts(s, [(compare_part, s)], needs_gold=True)


def run() -> None:
    """Console-script entry point: like ``app()``, but command-line mistakes (an unknown option,
    a value of the wrong type) are one line on stderr too, with exit code 2, like our own checks."""
    # click's exception types, wherever this Typer takes click from (newer ones vendor it)
    click_errors = sys.modules[typer.BadParameter.__module__]
    no_args_is_help = getattr(click_errors, "NoArgsIsHelpError", ())  # click >= 8.2
    command_group = typer.main.get_command(app)
    try:
        result = command_group.main(args=sys.argv[1:], prog_name="imle-cli", standalone_mode=False)
    except no_args_is_help as error:
        typer.echo(error.ctx.get_help())
        sys.exit(0)
    except click_errors.ClickException as error:  # UsageError and its kin: the user's command line
        context = getattr(error, "ctx", None)
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        typer.echo(f"imle-cli: error: {error.format_message()}{hint}", err=True)
        sys.exit(error.exit_code)
    except getattr(click_errors, "Abort", typer.Abort):  # Ctrl-C while click was still parsing
        typer.echo("imle-cli: interrupted", err=True)
        sys.exit(130)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    run()
