"""The parts the commands are made of: each runs one experiment (imle_cli.experiments) and writes
the figures that show it (imle_cli.figures), and returns its title, one line of facts and the
files it wrote. A command runs one part; ``all`` runs several into one folder.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Tuple

from imle_cli.reporting import plural
from imle_cli.options import Noise, Settings, parse_numbers


@dataclass(frozen=True)
class Job:
    """What the parts of one command run share: the open outputs and progress bars, the resolved
    inputs (map and gold paths) and the reporter (for notices)."""

    outputs: Any
    progress: Any
    inputs: Any  # imle_cli.inputs.resolve.Inputs
    reporter: Any


#: What a part returns: (its title in index.html, one line of facts, the files it wrote as
#: (name, caption)).
Section = Tuple[str, str, List[Tuple[str, str]]]
#: A part: (job, its settings) -> Section; an experiment and the figures that show it.
Part = Callable[[Job, Settings], Section]


def _noise_label(s: Settings, k: float) -> str:
    if s.noise is Noise.sum_of_gamma:
        return f"sum-of-gamma noise (k = {k:g}, s = {s.iterations})"
    return "Gumbel noise" if s.noise is Noise.gumbel else "no noise"


def sample_part(job: Job, s: Settings) -> Section:
    """map.png, paths.gif, distribution.gif and .png: perturb-and-MAP draws on the map."""
    from imle_cli import experiments, figures

    figures.write_map(job.outputs, job.inputs.costs, job.inputs.map_name)
    task = job.progress.add_task("sampling", total=s.samples)
    result = experiments.sample_paths(job.inputs.costs, samples=s.samples, noise=s.noise.value, k=s.k,
                                      iterations=s.iterations, temperature=s.temperature,
                                      neighbourhood=s.neighbourhood, seed=s.seed, workers=s.workers,
                                      progress=lambda draws: job.progress.advance(task, draws))
    draw = job.progress.add_task("rendering", total=2 * s.samples)
    figures.write_sample(job.outputs, job.inputs.costs, result, label=f"{_noise_label(s, result.k)}, temperature "
                         f"{s.temperature:g}", fps=s.fps, advance=lambda: job.progress.advance(draw))
    lengths = result.paths.reshape(s.samples, -1).sum(1)
    same = (result.paths == result.unperturbed).all(axis=(1, 2)).mean()
    rows, cols = job.inputs.costs.shape
    facts = (f"grid {rows}x{cols}, k = {result.k:g}, mean path length {lengths.mean():.1f} cells, {same:.0%} of "
             "draws equal the unperturbed shortest path")
    if same > 0.9 and s.noise is not Noise.none:
        facts += (f"; the noise barely moves the path at temperature {s.temperature:g}: try --temperature "
                  f"{experiments.suggested_temperature(job.inputs.costs, result.unperturbed, s.noise.value, result.k, s.temperature):g} "
                  "(from the spread of the costs on and beside the path)")
    return "Sampling paths", facts, [("map.png", "the cost map; darker cells cost more"),
                   ("paths.gif", f"{s.samples} perturb-and-MAP draws of the shortest path, one per frame"),
                   ("distribution.gif", "share of draws 1..i through each cell, frame i"),
                   ("distribution.png", f"share of all {s.samples} draws through each cell")]


def gradients_part(job: Job, s: Settings) -> Section:
    """gold_preview.png, gradients.gif, gradients.png: per-draw I-MLE gradients against the gold path."""
    from imle_cli import experiments, figures

    figures.write_gold(job.outputs, job.inputs.costs, job.inputs.gold, job.inputs.gold_source)
    task = job.progress.add_task("gradients", total=1)
    result = experiments.imle_gradients(job.inputs.costs, job.inputs.gold, samples=s.samples, noise=s.noise.value, k=s.k,
                                        iterations=s.iterations, input_temperature=s.input_temperature,
                                        target_temperature=s.target_temperature, alpha=s.alpha, beta=s.beta,
                                        neighbourhood=s.neighbourhood, seed=s.seed, workers=s.workers)
    job.progress.advance(task)
    draw = job.progress.add_task("rendering", total=s.samples)
    label = (f"{_noise_label(s, result.k)}, temperatures {s.input_temperature:g}/{s.target_temperature:g}, "
             f"alpha {s.alpha:g}, beta {s.beta:g}")
    figures.write_gradients(job.outputs, result, costs=job.inputs.costs, gold=job.inputs.gold, label=label, fps=s.fps,
                            advance=lambda: job.progress.advance(draw))
    facts = (f"gradient descent on the mean gradient makes {plural(int((result.mean > 0).sum()), 'cell')} cheaper "
             f"and {int((result.mean < 0).sum())} dearer ({plural(s.samples, 'draw')})")
    return "I-MLE gradients", facts, [("gold_preview.png", f"the gold path ({job.inputs.gold_source}) over the map"),
                   ("gradients.gif", "each draw's I-MLE gradient of the Hamming loss (left) and the running "
                                     "mean (right); blue cells get cheaper under gradient descent, red dearer"),
                   ("gradients.png", f"the mean gradient over {s.samples} draws")]


def learn_part(job: Job, s: Settings) -> Section:
    """learning_paths.gif, learning_weights.gif, loss.png: learning a map from the gold path."""
    from imle_cli import experiments, figures

    task = job.progress.add_task("learning", total=s.steps)

    def advance(step: int, loss: float) -> None:
        job.progress.update(task, advance=1, description=f"learning (loss {loss:5.2f})")

    result = experiments.learn_map(job.inputs.learn_gold, steps=s.steps, lr=s.lr, samples=s.samples, noise=s.noise.value,
                                   k=s.k, iterations=s.iterations, input_temperature=s.input_temperature,
                                   target_temperature=s.target_temperature, alpha=s.alpha, beta=s.beta,
                                   neighbourhood=s.neighbourhood, every=s.every, seed=s.seed, progress=advance,
                                   estimator=s.estimator.value, workers=s.workers)
    draw = job.progress.add_task("rendering", total=2 * len(result.steps))
    label = (f"{s.estimator.value}, lr {s.lr:g}, {s.samples} samples, temperatures "
             f"{s.input_temperature:g}/{s.target_temperature:g}")
    figures.write_learning(job.outputs, job.inputs.learn_gold, result, label=label, fps=s.fps,
                           advance=lambda: job.progress.advance(draw))
    verdict = ("equals the gold path" if result.final_distance == 0
               else f"differs from the gold path in {plural(result.final_distance, 'cell')}")
    facts = (f"{s.estimator.value}: final training loss {result.losses[-1]:.2f} (mean of the last 10 steps "
             f"{result.losses[-10:].mean():.2f}); the learned map's shortest path {verdict}")
    return "Learning the map", facts, [("learning_paths.gif", f"the learned map's shortest path (red) over the gold path (grey), "
                                          f"every {s.every} steps"),
                   ("learning_weights.gif", "the learned costs, on one colour scale"),
                   ("loss.png", "the training loss (mean Hamming loss of the sampled paths)")]


def noise_part(job: Job, s: Settings) -> Section:
    """noise.png: Sum-of-Gamma sums against the Gumbel density."""
    from imle_cli import experiments, figures

    task = job.progress.add_task("sampling", total=1)
    result = experiments.check_noise(k=s.sums_k, iterations=s.iterations, draws=s.draws, seed=s.seed)
    job.progress.advance(task)
    job.outputs.plot("noise.png", figures.noise_plot(result, s.sums_k, s.iterations))
    return "Noise", (f"KS statistic of the sums of k = {s.sums_k} draws against Gumbel(0, 1): {result.ks:.4f} "
            f"({s.draws} sums, s = {s.iterations})"), [("noise.png", "Sum-of-Gamma noise against Gumbel")]


def compare_part(job: Job, s: Settings) -> Section:
    """compare.png and .gif (and compare_loss.png with --learn): every chosen estimator on one map."""
    from imle_cli import experiments, figures

    chosen = s.chosen_estimators
    task = job.progress.add_task("gradients", total=len(chosen))
    results = {}
    for name in chosen:
        results[name] = experiments.imle_gradients(
            job.inputs.costs, job.inputs.gold, samples=s.samples, noise=s.noise.value, k=s.k, iterations=s.iterations,
            input_temperature=s.input_temperature, target_temperature=s.target_temperature, alpha=s.alpha,
            beta=s.beta, neighbourhood=s.neighbourhood, seed=s.seed, estimator=name, workers=s.workers)
        job.progress.advance(task)
    draw = job.progress.add_task("rendering", total=s.samples)
    figures.write_compare(job.outputs, results, label=f"temperatures {s.input_temperature:g}/"
                          f"{s.target_temperature:g}, beta {s.beta:g}", fps=s.fps,
                          advance=lambda: job.progress.advance(draw))
    facts = [f"{name}: mean gradient makes {plural(int((r.mean > 0).sum()), 'cell')} cheaper, "
             f"{int((r.mean < 0).sum())} dearer"
             for name, r in results.items()]
    if s.learn_too:
        losses = {}
        task = job.progress.add_task("learning", total=len(chosen) * s.steps)
        for name in chosen:
            result = experiments.learn_map(
                job.inputs.learn_gold, steps=s.steps, lr=s.lr, samples=s.learn_samples, noise=s.noise.value,
                iterations=s.iterations, input_temperature=s.learn_input_temperature,
                target_temperature=s.learn_target_temperature, alpha=s.alpha, beta=s.beta,
                neighbourhood=s.neighbourhood, every=s.steps, seed=s.seed, estimator=name, workers=s.workers,
                progress=lambda step, loss: job.progress.advance(task))
            losses[name] = result.losses
            verdict = "reaches" if result.final_distance == 0 else "misses"
            facts.append(f"{name}: final loss {result.losses[-10:].mean():.2f}, {verdict} the gold path")
        figures.write_compare_losses(job.outputs, losses, title=f"learning the gold path, {s.steps} steps")
    return "Estimators", "\n".join(facts), []


def annotate_part(job: Job, s: Settings) -> Section:
    """gold.png (the path as data: one pixel per cell, white on black), gold.npy, and
    gold_preview.png: a gold path made from waypoints, a drawing, or the map's shortest path."""
    import numpy as np

    from imle_cli import annotate, experiments, figures
    from imle_cli.inputs import read_rgb

    marks, underlay, extra = [], None, ""
    if s.drawing is not None:
        drawing, notices = read_rgb(s.drawing, "--drawing", s.max_pixels)
        for text in notices:
            job.reporter.notice(text)
        stroke = annotate.stroke_mask(drawing)
        drawn = annotate.drawing_path(annotate.stroke_cells(stroke, job.inputs.costs.shape), s.neighbourhood)
        path, underlay = drawn.path, stroke
        source = f"the drawing {s.drawing.name}"
        extra = (f"; {drawn.strays} of {int(path.sum())} path cells ({drawn.stray_share:.0%}) "
                 f"{'is' if drawn.strays == 1 else 'are'} off the stroke"
                 if drawn.strays else "; every path cell is on the stroke")
    elif s.via:
        marks = [annotate.parse_via(text, job.inputs.costs.shape) for text in s.via]
        routed = np.ones(job.inputs.costs.shape) if s.flat else job.inputs.costs
        path = annotate.waypoint_path(routed, marks, s.neighbourhood)
        points = ", ".join(f"({r}, {c})" for r, c in marks)
        source = f"the shortest path{' on a flat map' if s.flat else ''} through {points}"
    else:
        path = experiments.shortest_path(np.ones(job.inputs.costs.shape) if s.flat else job.inputs.costs, s.neighbourhood) > 0
        source = "the shortest path on a flat map" if s.flat else f"the shortest path on {job.inputs.map_name}"
    job.outputs.png("gold.png", path.astype(np.uint8) * 255, None)
    job.outputs.npy("gold.npy", path.astype(np.uint8))
    figures.write_gold(job.outputs, job.inputs.costs, path, source, marks=marks, underlay=underlay)
    facts = (f"a gold path of {plural(int(path.sum()), 'cell')}: {source}{extra}; use it with "
             f"--gold {s.out / 'gold.png'}")
    return "Gold path", facts, [("gold.png", "the gold path as data"), ("gold_preview.png", "the gold path")]


def sweep_part(job: Job, s: Settings) -> Section:
    """sweep.png, sweep.csv, sweep.md (and every run's GIF with --gifs): the learning loop over a
    grid of temperatures and sample counts."""
    from imle_cli import experiments, figures

    settings = s.sweep_settings
    task = job.progress.add_task("runs", total=len(settings))
    options = dict(steps=s.steps, lr=s.lr, noise=s.noise.value, k=s.k, iterations=s.iterations, alpha=s.alpha,
                   beta=s.beta, neighbourhood=s.neighbourhood, every=s.every, seed=s.seed)
    runs = experiments.sweep(job.inputs.learn_gold, settings, options, workers=s.run_workers,
                             progress=lambda: job.progress.advance(task))
    columns = len(parse_numbers(s.target_temperatures, "--target-temperatures", float))
    label = f"{job.inputs.learn_gold_source}, {s.steps} steps, lr {s.lr:g}, beta {s.beta:g}, seed {s.seed}"
    figures.write_sweep(job.outputs, job.inputs.learn_gold, runs, columns=columns, label=label, fps=s.fps, gifs=s.gifs)
    reached = sum(run.reached for run in runs)
    return "Sweep", (f"{reached} of {len(runs)} settings reach the gold path ({job.inputs.learn_gold_source}) in {s.steps} steps; "
                     f"{sum(run.seconds for run in runs):.0f} s of learning"), []
