"""``imle-cli gradients``: per-draw I-MLE gradients of the Hamming loss to a gold path."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.options import MAP_COMMAND, NOISE_OPTIONS, TARGET_OPTIONS, Settings
from imle_cli.reporting import plural
from imle_cli.specs import GradientSpec


def gradient_spec(s: Settings) -> GradientSpec:
    return GradientSpec(s.samples, s.estimator_spec, s.solver_spec, s.seed)


def gradients_part(job: Job, spec: GradientSpec) -> Section:
    """mechanism.png and .gif (I-MLE's sample, target and their difference per draw), gold_preview.png,
    gradients.gif, gradients.png: per-draw I-MLE gradients against the gold path."""
    from imle_cli import experiments, figures

    inputs, estimator = job.inputs, spec.estimator
    figures.write_gold(job.outputs, inputs.costs, inputs.gold, inputs.gold_source)
    task = job.progress.add_task("gradients", total=1)
    result = experiments.imle_gradients(inputs.costs, inputs.gold, spec)
    job.progress.advance(task)
    draw = job.progress.add_task("rendering", total=spec.samples)
    label = (f"{result.noise.label}, temperatures {estimator.input_temperature:g}/{estimator.target_temperature:g}, "
             f"alpha {estimator.alpha:g}, beta {estimator.beta:g}")
    figures.write_gradients(job.outputs, result, costs=inputs.costs, gold=inputs.gold, label=label, fps=job.fps,
                            advance=lambda: job.progress.advance(draw))
    mechanism = job.progress.add_task("mechanism", total=spec.samples)
    figures.write_mechanism(job.outputs, result, costs=inputs.costs, gold=inputs.gold, fps=job.fps,
                            advance=lambda: job.progress.advance(mechanism))
    facts = (f"gradient descent on the mean gradient makes {plural(int((result.mean > 0).sum()), 'cell')} cheaper "
             f"and {int((result.mean < 0).sum())} dearer ({plural(spec.samples, 'draw')})")
    return "I-MLE gradients", facts, [
        ("mechanism.png", "I-MLE's mechanism for one draw: the sample y, the target y' (solved again with the "
                          "same noise on costs moved toward the gold) and y' - y, that draw's gradient"),
        ("mechanism.gif", "the same for every draw"),
        ("gold_preview.png", f"the gold path ({inputs.gold_source}) over the map"),
        ("gradients.gif", "each draw's I-MLE gradient of the Hamming loss (left) and the running mean (right); "
                          "blue cells get cheaper under gradient descent, red dearer"),
        ("gradients.png", f"the mean gradient over {spec.samples} draws")]


@command(app, "gradients", f"map_path gold gold_map invert samples {NOISE_OPTIONS} {TARGET_OPTIONS} {MAP_COMMAND}")
def gradients(s: Settings) -> None:
    """I-MLE gradients of the Hamming loss to a gold path: writes mechanism.png and .gif, gold_preview.png,
    gradients.gif, gradients.png.

    Without --gold or --gold-map the gold path is the shortest path on a flat map (the diagonal on
    a square map: the gold of the torch-imle README's gradient figure).
    """
    run_parts(s, [(gradients_part, gradient_spec(s))], needs_gold=True)
