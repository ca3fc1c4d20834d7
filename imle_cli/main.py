"""imle-cli: the commands. Thin: parse and check options, call experiments, render, summarise.

Heavy modules (torch, matplotlib, imageio, PIL) are imported inside the commands so that
``imle-cli --help`` stays instant.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from imle_cli.errors import UserError
from imle_cli.options import (ALPHA, BETA, ESTIMATOR, WORKERS, EVERY, FPS, GOLD, GOLD_MAP, GRID, INPUT_TEMPERATURE, ITERATIONS,
                              K, KEY, LR, MAX_COST, MIN_COST, NEIGHBOURHOOD, NOISE, OUT, QUIET, SEED, STEPS, Estimator,
                              MapArgument, Noise, check, check_common, check_estimator, check_estimator_noise,
                              check_learning, check_workers, parse_estimators, samples_option)
from imle_cli.reporting import Reporter, user_errors

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


def _noise_label(noise: Noise, k: float, iterations: int) -> str:
    if noise is Noise.sum_of_gamma:
        return f"sum-of-gamma noise (k = {k:g}, s = {iterations})"
    return "Gumbel noise" if noise is Noise.gumbel else "no noise"


def resolve_gold(costs, gold: Optional[Path], gold_map: Optional[Path], *, neighbourhood: int, grid: Optional[str],
                 min_cost: float, max_cost: float, key: Optional[str]):
    """(gold mask, where it came from): --gold, or --gold-map's shortest path, or the flat map's."""
    import numpy as np

    from imle_cli import experiments, maps

    check(gold is None or gold_map is None, "--gold and --gold-map are alternatives; give one of them")
    if gold is not None:
        return maps.load_gold(gold, costs.shape, neighbourhood), Path(gold).name
    if gold_map is not None:
        other = maps.load_map(gold_map, grid=grid, min_cost=min_cost, max_cost=max_cost, key=key).costs
        check(other.shape == costs.shape, f"--gold-map {str(gold_map)!r} is {other.shape[0]}x{other.shape[1]} "
                                           f"cells but the map is {costs.shape[0]}x{costs.shape[1]}; they must match")
        return experiments.shortest_path(other, neighbourhood), f"shortest path on {Path(gold_map).name}"
    return experiments.shortest_path(np.ones(costs.shape), neighbourhood), "shortest path on a flat map"


def _load_map(reporter, map_path, **options):
    """The map (or the built-in one), its notices printed."""
    from imle_cli import maps

    loaded = maps.load_map(map_path, **options)
    for text in loaded.notices:
        reporter.notice(text)
    return loaded


def _run_sample(outputs, progress, costs, *, samples, noise, k, iterations, temperature,
                neighbourhood, seed, fps, workers=0):
    from imle_cli import experiments, figures

    task = progress.add_task("sampling", total=1)
    result = experiments.sample_paths(costs, samples=samples, noise=noise.value, k=k, iterations=iterations,
                                      temperature=temperature, neighbourhood=neighbourhood, seed=seed,
                                      workers=workers)
    progress.advance(task)
    draw = progress.add_task("rendering", total=2 * samples)
    label = f"{_noise_label(noise, result.k, iterations)}, temperature {temperature:g}"
    figures.write_sample(outputs, costs, result, label=label, fps=fps, advance=lambda: progress.advance(draw))
    lengths = result.paths.reshape(samples, -1).sum(1)
    same = (result.paths == result.unperturbed).all(axis=(1, 2)).mean()
    return (f"k = {result.k:g}, mean path length {lengths.mean():.1f} cells, {same:.0%} of draws equal the "
            "unperturbed shortest path")


def _run_gradients(outputs, progress, costs, gold, *, samples, noise, k, iterations, input_temperature,
                   target_temperature, alpha, beta, neighbourhood, seed, fps, workers=0):
    from imle_cli import experiments, figures

    task = progress.add_task("gradients", total=1)
    result = experiments.imle_gradients(costs, gold, samples=samples, noise=noise.value, k=k, iterations=iterations,
                                        input_temperature=input_temperature, target_temperature=target_temperature,
                                        alpha=alpha, beta=beta, neighbourhood=neighbourhood, seed=seed,
                                        workers=workers)
    progress.advance(task)
    draw = progress.add_task("rendering", total=samples)
    label = (f"{_noise_label(noise, result.k, iterations)}, temperatures {input_temperature:g}/"
             f"{target_temperature:g}, alpha {alpha:g}, beta {beta:g}")
    figures.write_gradients(outputs, result, label=label, fps=fps, advance=lambda: progress.advance(draw))
    mean = result.mean
    return (f"gradient descent on the mean gradient makes {int((mean > 0).sum())} cells cheaper and "
            f"{int((mean < 0).sum())} dearer ({samples} draws)")


def _run_learn(outputs, progress, gold, *, steps, lr, samples, noise, k, iterations, input_temperature,
               target_temperature, alpha, beta, neighbourhood, every, seed, fps, estimator="imle", workers=0):
    from imle_cli import experiments, figures

    task = progress.add_task("learning", total=steps, loss=float("nan"))

    def advance(step: int, loss: float) -> None:
        progress.update(task, advance=1, description=f"learning (loss {loss:5.2f})")

    result = experiments.learn_map(gold, steps=steps, lr=lr, samples=samples, noise=noise.value, k=k,
                                   iterations=iterations, input_temperature=input_temperature,
                                   target_temperature=target_temperature, alpha=alpha, beta=beta,
                                   neighbourhood=neighbourhood, every=every, seed=seed, progress=advance,
                                   estimator=estimator, workers=workers)
    draw = progress.add_task("rendering", total=2 * len(result.steps))
    label = f"{estimator}, lr {lr:g}, {samples} samples, temperatures {input_temperature:g}/{target_temperature:g}"
    figures.write_learning(outputs, gold, result, label=label, fps=fps, advance=lambda: progress.advance(draw))
    verdict = "equals the gold path" if result.final_distance == 0 else \
        f"differs from the gold path in {result.final_distance} cells"
    return result, (f"{estimator}: final training loss {result.losses[-1]:.2f} (mean of the last 10 steps "
                    f"{result.losses[-10:].mean():.2f}); the learned map's shortest path {verdict}")


@app.command()
def sample(
    map_path: Optional[Path] = MapArgument,
    samples: int = samples_option(100),
    noise: Noise = NOISE,
    k: Optional[float] = K,
    iterations: int = ITERATIONS,
    temperature: float = typer.Option(1.0, "--temperature", help="Noise scale: draw i solves cost - temperature * noise."),
    neighbourhood: int = NEIGHBOURHOOD,
    workers: int = WORKERS,
    grid: Optional[str] = GRID,
    min_cost: float = MIN_COST,
    max_cost: float = MAX_COST,
    key: Optional[str] = KEY,
    seed: int = SEED,
    out: Path = OUT,
    fps: float = FPS,
    quiet: bool = QUIET,
) -> None:
    """Sample shortest paths on a map: writes map.png, paths.gif, distribution.gif, distribution.png."""
    with user_errors():
        check_workers(workers)
        check_common(samples=samples, temperature=temperature, k=k, iterations=iterations,
                     neighbourhood=neighbourhood, fps=fps)
        from imle_cli import figures, render

        reporter = Reporter(quiet)
        loaded = _load_map(reporter, map_path, grid=grid, min_cost=min_cost, max_cost=max_cost, key=key)
        with render.Outputs(out) as outputs, reporter.progress() as progress:
            figures.write_map(outputs, loaded.costs, Path(loaded.source).name if map_path else loaded.source)
            facts = _run_sample(outputs, progress, loaded.costs, samples=samples, noise=noise, k=k,
                                iterations=iterations, temperature=temperature, neighbourhood=neighbourhood,
                                seed=seed, fps=fps, workers=workers)
            written = outputs.commit()
        rows, cols = loaded.costs.shape
        reporter.summary(out, written, f"grid {rows}x{cols}, {facts}")


@app.command()
def gradients(
    map_path: Optional[Path] = MapArgument,
    gold: Optional[Path] = GOLD,
    gold_map: Optional[Path] = GOLD_MAP,
    samples: int = samples_option(100),
    noise: Noise = NOISE,
    k: Optional[float] = K,
    iterations: int = ITERATIONS,
    input_temperature: float = INPUT_TEMPERATURE,
    target_temperature: float = typer.Option(5.0, "--target-temperature", help="Noise scale at the target."),
    alpha: float = ALPHA,
    beta: float = BETA,
    neighbourhood: int = NEIGHBOURHOOD,
    workers: int = WORKERS,
    grid: Optional[str] = GRID,
    min_cost: float = MIN_COST,
    max_cost: float = MAX_COST,
    key: Optional[str] = KEY,
    seed: int = SEED,
    out: Path = OUT,
    fps: float = FPS,
    quiet: bool = QUIET,
) -> None:
    """I-MLE gradients of the Hamming loss to a gold path: writes gold.png, gradients.gif, gradients.png.

    Without --gold or --gold-map the gold path is the shortest path on a flat map (the torch-imle
    README's case: the diagonal on a square map).
    """
    with user_errors():
        check_workers(workers)
        check_common(samples=samples, k=k, iterations=iterations, neighbourhood=neighbourhood, fps=fps)
        check_estimator(input_temperature=input_temperature, target_temperature=target_temperature,
                        alpha=alpha, beta=beta)
        from imle_cli import figures, render

        reporter = Reporter(quiet)
        loaded = _load_map(reporter, map_path, grid=grid, min_cost=min_cost, max_cost=max_cost, key=key)
        gold_mask, gold_source = resolve_gold(loaded.costs, gold, gold_map, neighbourhood=neighbourhood, grid=grid,
                                              min_cost=min_cost, max_cost=max_cost, key=key)
        with render.Outputs(out) as outputs, reporter.progress() as progress:
            figures.write_gold(outputs, loaded.costs, gold_mask, gold_source)
            facts = _run_gradients(outputs, progress, loaded.costs, gold_mask, samples=samples, noise=noise, k=k,
                                   iterations=iterations, input_temperature=input_temperature,
                                   target_temperature=target_temperature, alpha=alpha, beta=beta,
                                   neighbourhood=neighbourhood, seed=seed, fps=fps, workers=workers)
            written = outputs.commit()
        reporter.summary(out, written, facts)


@app.command()
def learn(
    gold: Optional[Path] = GOLD,
    steps: int = STEPS,
    lr: float = LR,
    samples: int = samples_option(10),
    noise: Noise = NOISE,
    k: Optional[float] = K,
    iterations: int = ITERATIONS,
    input_temperature: float = INPUT_TEMPERATURE,
    target_temperature: float = typer.Option(1.0, "--target-temperature", help="Noise scale at the target."),
    alpha: float = ALPHA,
    beta: float = BETA,
    neighbourhood: int = NEIGHBOURHOOD,
    workers: int = WORKERS,
    every: int = EVERY,
    estimator: Estimator = ESTIMATOR,
    size: str = typer.Option("16", "--size", help="Map cells (N or HxW) when no --gold is given."),
    seed: int = SEED,
    out: Path = OUT,
    fps: float = FPS,
    quiet: bool = QUIET,
) -> None:
    """Learn map costs from a gold path: writes learning_paths.gif, learning_weights.gif, loss.png.

    The map's size is the gold's; without --gold the gold is the flat map's shortest path (the
    diagonal) of --size cells.
    """
    with user_errors():
        check_workers(workers)
        check_common(samples=samples, k=k, iterations=iterations, neighbourhood=neighbourhood, fps=fps)
        check_estimator(input_temperature=input_temperature, target_temperature=target_temperature,
                        alpha=alpha, beta=beta)
        check_learning(steps, lr, every)
        check_estimator_noise(estimator, input_temperature)
        from imle_cli import render

        reporter = Reporter(quiet)
        gold_mask = _learning_gold(gold, size, neighbourhood)
        with render.Outputs(out) as outputs, reporter.progress() as progress:
            _, facts = _run_learn(outputs, progress, gold_mask, steps=steps, lr=lr, samples=samples, noise=noise,
                                  k=k, iterations=iterations, input_temperature=input_temperature,
                                  target_temperature=target_temperature, alpha=alpha, beta=beta,
                                  neighbourhood=neighbourhood, every=every, seed=seed, fps=fps,
                                  estimator=estimator.value, workers=workers)
            written = outputs.commit()
        reporter.summary(out, written, facts)


def _learning_gold(gold: Optional[Path], size: str, neighbourhood: int):
    """The gold mask for learn: from --gold (on its own grid), or the flat map's path of --size cells."""
    import numpy as np

    from imle_cli import experiments, maps

    if gold is None:
        try:
            shape = maps.parse_grid(size)
        except UserError as error:
            raise UserError(str(error).replace("--grid", "--size")) from None
        return experiments.shortest_path(np.ones(shape), neighbourhood)
    return maps.load_gold(gold, None, neighbourhood)


@app.command("noise")
def noise_command(
    k: int = typer.Option(20, "--k", help="Sum-of-Gamma k: the number of draws summed."),
    iterations: int = ITERATIONS,
    draws: int = typer.Option(8192, "--draws", help="Number of sums (and of single draws) in the histograms."),
    seed: int = SEED,
    out: Path = OUT,
    quiet: bool = QUIET,
) -> None:
    """Check Sum-of-Gamma noise: the sum of k draws against the Gumbel density; writes noise.png."""
    with user_errors():
        check(k >= 1, f"--k must be at least 1, got {k}")
        check(iterations >= 1, f"--iterations must be at least 1, got {iterations}")
        check(draws >= 2, f"--draws must be at least 2, got {draws}")
        check(draws * k <= 50_000_000, f"--draws x --k must be at most 50,000,000, got {draws * k}")
        from imle_cli import experiments, figures, render

        reporter = Reporter(quiet)
        with render.Outputs(out) as outputs, reporter.progress() as progress:
            task = progress.add_task("sampling", total=1)
            result = experiments.check_noise(k=k, iterations=iterations, draws=draws, seed=seed)
            progress.advance(task)
            outputs.png("noise.png", figures.noise_plot(result, k, iterations), None)
            written = outputs.commit()
        reporter.summary(out, written, f"KS statistic of the sums of k = {k} draws against Gumbel(0, 1): "
                                       f"{result.ks:.4f} ({draws} sums, s = {iterations})")
        if quiet:
            return
        typer.echo(f"KS = {result.ks:.4f}")


@app.command("all")
def all_figures(
    map_path: Optional[Path] = MapArgument,
    gold: Optional[Path] = GOLD,
    gold_map: Optional[Path] = GOLD_MAP,
    samples: int = samples_option(100),
    learn_samples: int = typer.Option(10, "--learn-samples", help="Samples per learning step."),
    steps: int = STEPS,
    lr: float = LR,
    every: int = EVERY,
    noise: Noise = NOISE,
    k: Optional[float] = K,
    iterations: int = ITERATIONS,
    input_temperature: float = INPUT_TEMPERATURE,
    target_temperature: float = typer.Option(5.0, "--target-temperature", help="Noise scale at the target (gradients)."),
    learn_target_temperature: float = typer.Option(1.0, "--learn-target-temperature",
                                                   help="Noise scale at the target (learning)."),
    alpha: float = ALPHA,
    beta: float = BETA,
    neighbourhood: int = NEIGHBOURHOOD,
    workers: int = WORKERS,
    grid: Optional[str] = GRID,
    min_cost: float = MIN_COST,
    max_cost: float = MAX_COST,
    key: Optional[str] = KEY,
    seed: int = SEED,
    out: Path = OUT,
    fps: float = FPS,
    quiet: bool = QUIET,
) -> None:
    """Run sample, gradients and learn into one folder, with an index.html showing every figure."""
    with user_errors():
        check_workers(workers)
        check_common(samples=samples, k=k, iterations=iterations, neighbourhood=neighbourhood, fps=fps)
        check_common(samples=learn_samples, iterations=iterations, neighbourhood=neighbourhood, fps=fps)
        check_estimator(input_temperature=input_temperature, target_temperature=target_temperature,
                        alpha=alpha, beta=beta)
        check_estimator(input_temperature=input_temperature, target_temperature=learn_target_temperature,
                        alpha=alpha, beta=beta)
        check_learning(steps, lr, every)
        from imle_cli import figures, render

        reporter = Reporter(quiet)
        loaded = _load_map(reporter, map_path, grid=grid, min_cost=min_cost, max_cost=max_cost, key=key)
        costs = loaded.costs
        gold_mask, gold_source = resolve_gold(costs, gold, gold_map, neighbourhood=neighbourhood, grid=grid,
                                              min_cost=min_cost, max_cost=max_cost, key=key)
        name = Path(loaded.source).name if map_path else loaded.source
        with render.Outputs(out) as outputs, reporter.progress() as progress:
            figures.write_map(outputs, costs, name)
            sample_facts = _run_sample(outputs, progress, costs, samples=samples, noise=noise, k=k,
                                       iterations=iterations, temperature=input_temperature,
                                       neighbourhood=neighbourhood, seed=seed, fps=fps, workers=workers)
            figures.write_gold(outputs, costs, gold_mask, gold_source)
            gradient_facts = _run_gradients(outputs, progress, costs, gold_mask, samples=samples, noise=noise, k=k,
                                            iterations=iterations, input_temperature=input_temperature,
                                            target_temperature=target_temperature, alpha=alpha, beta=beta,
                                            neighbourhood=neighbourhood, seed=seed, fps=fps, workers=workers)
            _, learn_facts = _run_learn(outputs, progress, gold_mask, steps=steps, lr=lr, samples=learn_samples,
                                        noise=noise, k=None, iterations=iterations,
                                        input_temperature=input_temperature,
                                        target_temperature=learn_target_temperature, alpha=alpha, beta=beta,
                                        neighbourhood=neighbourhood, every=every, seed=seed, fps=fps, workers=workers)
            figures.write_index(outputs, [
                (f"Sampling paths ({sample_facts})", [
                    ("map.png", "the cost map; darker cells cost more"),
                    ("paths.gif", f"{samples} perturb-and-MAP draws of the shortest path, one per frame"),
                    ("distribution.gif", "share of draws 1..i through each cell, frame i"),
                    ("distribution.png", f"share of all {samples} draws through each cell")]),
                (f"I-MLE gradients ({gradient_facts})", [
                    ("gold.png", f"the gold path ({gold_source}) over the map"),
                    ("gradients.gif", "each draw's I-MLE gradient of the Hamming loss (left) and the running "
                                      "mean (right); blue cells get cheaper under gradient descent, red dearer"),
                    ("gradients.png", f"the mean gradient over {samples} draws")]),
                (f"Learning the map ({learn_facts})", [
                    ("learning_paths.gif", f"the learned map's shortest path (red) over the gold path (grey), "
                                           f"every {every} steps"),
                    ("learning_weights.gif", "the learned costs, on one colour scale"),
                    ("loss.png", "the training loss (mean Hamming loss of the sampled paths)")]),
            ], title=f"I-MLE on {name}")
            written = outputs.commit()
        reporter.summary(out, written, f"{sample_facts}\n{gradient_facts}\n{learn_facts}\nopen {out}/index.html")


@app.command()
def compare(
    map_path: Optional[Path] = MapArgument,
    gold: Optional[Path] = GOLD,
    gold_map: Optional[Path] = GOLD_MAP,
    estimators: str = typer.Option(",".join(e.value for e in Estimator), "--estimators",
                                   help="Comma-separated estimators to compare."),
    samples: int = samples_option(50),
    noise: Noise = NOISE,
    k: Optional[float] = K,
    iterations: int = ITERATIONS,
    input_temperature: float = INPUT_TEMPERATURE,
    target_temperature: float = typer.Option(5.0, "--target-temperature", help="Noise scale at the target."),
    alpha: float = ALPHA,
    beta: float = BETA,
    neighbourhood: int = NEIGHBOURHOOD,
    workers: int = WORKERS,
    learn_too: bool = typer.Option(False, "--learn", help="Also run the learning loop for each estimator."),
    steps: int = STEPS,
    lr: float = LR,
    learn_samples: int = typer.Option(10, "--learn-samples", help="Samples per learning step."),
    grid: Optional[str] = GRID,
    min_cost: float = MIN_COST,
    max_cost: float = MAX_COST,
    key: Optional[str] = KEY,
    seed: int = SEED,
    out: Path = OUT,
    fps: float = FPS,
    quiet: bool = QUIET,
) -> None:
    """Compare I-MLE with its peers on one map: compare.png, compare.gif (and compare_loss.png with --learn)."""
    with user_errors():
        chosen = parse_estimators(estimators)
        check_workers(workers)
        check_common(samples=samples, k=k, iterations=iterations, neighbourhood=neighbourhood, fps=fps)
        check_estimator(input_temperature=input_temperature, target_temperature=target_temperature,
                        alpha=alpha, beta=beta)
        for name in chosen:
            check_estimator_noise(Estimator(name), input_temperature)
        if learn_too:
            check_learning(steps, lr, 1)
            check_common(samples=learn_samples, iterations=iterations, neighbourhood=neighbourhood, fps=fps)
        from imle_cli import experiments, figures, render

        reporter = Reporter(quiet)
        loaded = _load_map(reporter, map_path, grid=grid, min_cost=min_cost, max_cost=max_cost, key=key)
        gold_mask, _ = resolve_gold(loaded.costs, gold, gold_map, neighbourhood=neighbourhood, grid=grid,
                                    min_cost=min_cost, max_cost=max_cost, key=key)
        with render.Outputs(out) as outputs, reporter.progress() as progress:
            task = progress.add_task("gradients", total=len(chosen))
            results = {}
            for name in chosen:
                results[name] = experiments.imle_gradients(
                    loaded.costs, gold_mask, samples=samples, noise=noise.value, k=k, iterations=iterations,
                    input_temperature=input_temperature, target_temperature=target_temperature, alpha=alpha,
                    beta=beta, neighbourhood=neighbourhood, seed=seed, estimator=name, workers=workers)
                progress.advance(task)
            draw = progress.add_task("rendering", total=samples)
            label = f"temperatures {input_temperature:g}/{target_temperature:g}, beta {beta:g}"
            figures.write_compare(outputs, results, label=label, fps=fps, advance=lambda: progress.advance(draw))
            facts = [f"{name}: mean gradient makes {int((r.mean > 0).sum())} cells cheaper, "
                     f"{int((r.mean < 0).sum())} dearer" for name, r in results.items()]
            if learn_too:
                losses = {}
                learning = progress.add_task("learning", total=len(chosen) * steps)
                for name in chosen:
                    result = experiments.learn_map(
                        gold_mask, steps=steps, lr=lr, samples=learn_samples, noise=noise.value,
                        iterations=iterations, input_temperature=input_temperature,
                        target_temperature=target_temperature, alpha=alpha, beta=beta,
                        neighbourhood=neighbourhood, every=steps, seed=seed, estimator=name, workers=workers,
                        progress=lambda step, loss: progress.advance(learning))
                    losses[name] = result.losses
                    verdict = "reaches" if result.final_distance == 0 else "misses"
                    facts.append(f"{name}: final loss {result.losses[-10:].mean():.2f}, {verdict} the gold path")
                figures.write_compare_losses(outputs, losses, title=f"learning the gold path, {steps} steps")
            written = outputs.commit()
        reporter.summary(out, written, "\n".join(facts))


def run() -> None:
    """Console-script entry point: like ``app()``, but command-line mistakes (an unknown option,
    a value of the wrong type) are one line on stderr too, with exit code 2, like our own checks."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=sys.argv[1:], prog_name="imle-cli", standalone_mode=False)
    except Exception as error:
        context = getattr(error, "ctx", None)
        if type(error).__name__ == "NoArgsIsHelpError" and context is not None:
            typer.echo(context.get_help())
            sys.exit(0)
        if not (hasattr(error, "format_message") and hasattr(error, "exit_code")):
            raise  # not a command-line mistake: a bug, shown as one
        hint = f" (see '{context.command_path} --help')" if context is not None else ""
        typer.echo(f"imle-cli: error: {error.format_message()}{hint}", err=True)
        sys.exit(error.exit_code)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    run()
