"""imle-cli: the commands. Thin: each names its options (imle_cli.options), loads its inputs, runs
its parts (imle_cli.parts: an experiment and the figures it writes) and prints a summary.

Heavy modules (torch, matplotlib, imageio, PIL) are imported inside the parts so that
``imle-cli --help`` stays instant.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from typing import List, Tuple

import typer

from imle_cli.options import MAP_OPTIONS, OUTPUT_OPTIONS, Settings, command
from imle_cli.parts import (Job, Part, annotate_part, compare_part, gradients_part, learn_part, noise_part,
                            sample_part, sweep_part)
from imle_cli.errors import UserError
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


def run_parts(s: Settings, parts: List[Tuple[Part, Settings]], *, needs_map: bool = True,
              needs_gold: bool = False, index: bool = False) -> None:
    """Resolve the inputs, run each (part, its settings) into one output folder, write index.html
    if asked, commit the files and print the summary."""
    from imle_cli import figures, render
    from imle_cli.inputs.resolve import resolve

    reporter = Reporter(s.quiet)
    if s.video:
        check_video_support()
    inputs = resolve(map_path=s.map_path, map_options=s.map_options, gold=s.gold, gold_map=s.gold_map,
                     invert=s.invert, neighbourhood=s.neighbourhood, max_pixels=s.max_pixels, needs_map=needs_map,
                     needs_gold=needs_gold)
    for text in inputs.notices:
        reporter.notice(text)
    try:
        with render.Outputs(s.out, s.still_format, s.dpi, s.video, s.axes, s.max_gif_mb) as outputs, \
                reporter.progress() as progress:
            job = Job(outputs=outputs, progress=progress, inputs=inputs, reporter=reporter)
            sections = [part(job, settings) for part, settings in parts]
            if index:
                figures.write_index(outputs, [(f"{title} ({facts})", files) for title, facts, files in sections],
                                    title=f"I-MLE on {inputs.map_name}")
            written = outputs.commit()
    except render.OutputFolderError as error:
        raise UserError(f"--out {str(error.folder)!r} {error.problem}; {error.advice}") from None
    except render.GifTooLarge as error:
        raise UserError(gif_too_large(error, s)) from None
    facts = "\n".join(facts for _, facts, _ in sections)
    reporter.summary(s.out, written, facts + (f"\nopen {s.out}/index.html" if index else ""))


def gif_too_large(error, s: Settings) -> str:
    """The one line for a GIF above --max-gif-mb, suggesting only the options this command takes."""
    fewer = [flag for name, flag in (("samples", "--samples"), ("every", "--every"), ("steps", "--steps"))
             if name in s.given]
    ways = ([f"use fewer frames ({', '.join(fewer)})"] if fewer else []) + (["fewer cells (--grid)"]
                                                                              if "grid" in s.given else [])
    return (f"{error.name} would be about {error.megabytes:,.0f} MB ({error.frames} frames of {error.width}x"
            f"{error.height} pixels), above --max-gif-mb {error.limit:g}: {' or '.join(ways + ['raise --max-gif-mb'])}")


def check_video_support() -> None:
    """--video needs imageio-ffmpeg (the optional extra 'video'); say so before anything is drawn."""
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        raise UserError("--video needs imageio-ffmpeg, which is not installed: pip install 'imle[video]' "
                        "(or pip install imageio-ffmpeg)") from None


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
