"""imle-cli: the commands. Thin: parse and check options, call experiments, render, summarise.

Heavy modules (torch, matplotlib, imageio, PIL) are imported inside the commands so that
``imle-cli --help`` stays instant.
"""
from __future__ import annotations

import contextlib
import math
import sys
from enum import Enum
from pathlib import Path
from typing import Iterator, List, Optional

import typer

from imle_cli.errors import UserError

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


class Noise(str, Enum):
    sum_of_gamma = "sum-of-gamma"
    gumbel = "gumbel"
    none = "none"


MapArgument = typer.Argument(None, metavar="MAP", help="Map image (PNG, JPEG, ...) or cost array (.npy, .npz, .csv); "
                                        "default: the built-in README map.", show_default=False)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise UserError(message)


def _finite(value: float) -> bool:
    return math.isfinite(value)


def check_common(*, samples: int, temperature: Optional[float] = None, k: Optional[float] = None,
                 iterations: int = 100, neighbourhood: int = 8, fps: float = 10.0) -> None:
    """The option checks every map command shares."""
    _check(samples >= 1, f"--samples must be at least 1, got {samples}")
    _check(samples <= 10_000, f"--samples must be at most 10000 (one GIF frame each), got {samples}")
    if temperature is not None:
        _check(_finite(temperature) and temperature >= 0, f"--temperature must be a finite number >= 0, got {temperature}")
    if k is not None:
        _check(_finite(k) and k > 0, f"--k must be a finite number > 0, got {k}")
    _check(iterations >= 1, f"--iterations must be at least 1, got {iterations}")
    _check(neighbourhood in (4, 8), f"--neighbourhood must be 4 or 8, got {neighbourhood}")
    _check(_finite(fps) and 0 < fps <= 100, f"--fps must be above 0 and at most 100, got {fps}")


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Turn a UserError into one line on stderr and exit code 2; Ctrl-C into exit code 130."""
    try:
        yield
    except UserError as error:
        typer.echo(f"imle-cli: error: {error}", err=True)
        raise typer.Exit(UserError.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("imle-cli: interrupted; nothing was written", err=True)
        raise typer.Exit(130) from None


class Reporter:
    """Progress bars and the closing summary, or silence with --quiet."""

    def __init__(self, quiet: bool):
        from rich.console import Console

        self.quiet = quiet
        self.console = Console(stderr=False, highlight=False)
        self.errors = Console(stderr=True, highlight=False)

    def notice(self, text: str) -> None:
        if not self.quiet:
            self.errors.print(f"note: {text}")

    @contextlib.contextmanager
    def progress(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if self.quiet:
            yield _SilentProgress()
            return
        with Progress(TextColumn("{task.description:<12}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=self.console, transient=False) as progress:
            yield progress

    def summary(self, folder: Path, written, facts: str) -> None:
        if self.quiet:
            return
        from rich.table import Table

        table = Table(title=f"written to {folder}/", title_justify="left")
        for column, justify in (("file", "left"), ("frames", "right"), ("pixels", "right"), ("bytes", "right")):
            table.add_column(column, justify=justify)
        for item in written:
            pixels = f"{item.width}x{item.height}" if item.width else "-"
            table.add_row(item.name, str(item.frames or "-"), pixels, f"{item.bytes:,}")
        self.console.print(table)
        self.console.print(facts, soft_wrap=True)


class _SilentProgress:
    def add_task(self, *args, **kwargs) -> int:
        return 0

    def advance(self, *args, **kwargs) -> None:
        pass

    def update(self, *args, **kwargs) -> None:
        pass


def _noise_label(noise: Noise, k: float, iterations: int) -> str:
    if noise is Noise.sum_of_gamma:
        return f"sum-of-gamma noise (k = {k:g}, s = {iterations})"
    return "Gumbel noise" if noise is Noise.gumbel else "no noise"


@app.command()
def sample(
    map_path: Optional[Path] = MapArgument,
    samples: int = typer.Option(100, "--samples", help="Number of perturb-and-MAP draws (one GIF frame each)."),
    noise: Noise = typer.Option(Noise.sum_of_gamma, "--noise", help="Perturbation of the costs."),
    k: Optional[float] = typer.Option(None, "--k", help="Sum-of-Gamma k; default: the cells on the unperturbed shortest path.",
                                      show_default=False),
    iterations: int = typer.Option(100, "--iterations", help="Sum-of-Gamma terms s."),
    temperature: float = typer.Option(1.0, "--temperature", help="Noise scale: draw i solves cost - temperature * noise."),
    neighbourhood: int = typer.Option(8, "--neighbourhood", help="Moves between cells: 8 (with diagonals) or 4."),
    grid: Optional[str] = typer.Option(None, "--grid", help="Cells as N or HxW (block means); default: detected.",
                                       show_default=False),
    min_cost: float = typer.Option(1.0, "--min-cost", help="Cost of the brightest pixel."),
    max_cost: float = typer.Option(100.0, "--max-cost", help="Cost of the darkest pixel."),
    key: Optional[str] = typer.Option(None, "--key", help="Array to use from an .npz with several.", show_default=False),
    seed: int = typer.Option(0, "--seed", help="Random seed; the same seed writes the same bytes."),
    out: Path = typer.Option(Path("figures"), "--out", help="Folder for the figures (created if missing)."),
    fps: float = typer.Option(10.0, "--fps", help="GIF frames per second."),
    quiet: bool = typer.Option(False, "--quiet", help="Print nothing but errors."),
) -> None:
    """Sample shortest paths on a map: writes map.png, paths.gif, distribution.gif, distribution.png."""
    with user_errors():
        check_common(samples=samples, temperature=temperature, k=k, iterations=iterations,
                     neighbourhood=neighbourhood, fps=fps)
        from imle_cli import experiments, maps, render

        reporter = Reporter(quiet)
        loaded = maps.load_map(map_path, grid=grid, min_cost=min_cost, max_cost=max_cost, key=key)
        for text in loaded.notices:
            reporter.notice(text)
        costs = loaded.costs
        with render.Outputs(out) as outputs, reporter.progress() as progress:
            task = progress.add_task("sampling", total=1)
            result = experiments.sample_paths(costs, samples=samples, noise=noise.value, k=k,
                                              iterations=iterations, temperature=temperature,
                                              neighbourhood=neighbourhood, seed=seed)
            progress.advance(task)
            draw = progress.add_task("rendering", total=2 * samples + 2)
            rows, cols = costs.shape
            label = _noise_label(noise, result.k, iterations)
            cost_figure = render.Figure(costs.shape, cmap="YlOrBr", vmin=costs.min(), vmax=costs.max(),
                                        label="cost (darker is costlier)")
            outputs.png("map.png", cost_figure.frame(
                costs, title=f"map: {Path(loaded.source).name if map_path else loaded.source}",
                subtitle=f"{rows}x{cols} cells, costs {costs.min():g} to {costs.max():g}"), cost_figure.palette)
            progress.advance(draw)
            path_frames = []
            for i, path in enumerate(result.paths):
                path_frames.append(cost_figure.frame(
                    costs, overlay=path, title=f"draw {i + 1} of {samples}",
                    subtitle=f"{label}, temperature {temperature:g}"))
                progress.advance(draw)
            outputs.gif("paths.gif", path_frames, cost_figure.palette, fps)
            share = render.Figure(costs.shape, cmap="viridis", vmin=0.0, vmax=1.0,
                                  label="share of draws through the cell")
            marginals = result.marginals
            share_frames = []
            for i, values in enumerate(marginals):
                share_frames.append(share.frame(values, title=f"distribution after {i + 1} of {samples} draws",
                                                subtitle=f"{label}, temperature {temperature:g}"))
                progress.advance(draw)
            outputs.gif("distribution.gif", share_frames, share.palette, fps)
            outputs.png("distribution.png", share_frames[-1], share.palette)
            progress.advance(draw)
            written = outputs.commit()
        lengths = result.paths.reshape(samples, -1).sum(1)
        same = (result.paths == result.unperturbed).all(axis=(1, 2)).mean()
        reporter.summary(out, written, f"grid {rows}x{cols}, k = {result.k:g}, mean path length "
                                       f"{lengths.mean():.1f} cells, {same:.0%} of draws equal the "
                                       "unperturbed shortest path")


def run() -> None:
    """Console-script entry point."""
    app(prog_name="imle-cli")


if __name__ == "__main__":
    sys.exit(run())
