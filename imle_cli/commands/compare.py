"""``imle-cli compare``: I-MLE and its peers on one map (and, with --learn, learning with each)."""
from __future__ import annotations

from dataclasses import replace

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.commands.learn import LEARNING_DEFAULTS
from imle_cli.options import MAP_COMMAND, NOISE_OPTIONS, TARGET_OPTIONS, Settings
from imle_cli.reporting import plural
from imle_cli.specs import CompareSpec, EstimatorSpec, GradientSpec, LearnSpec, NoiseSpec


def compare_part(job: Job, spec: CompareSpec) -> Section:
    """compare.png and .gif (and compare_loss.png with --learn): every chosen estimator on one map."""
    from imle_cli import experiments, figures

    inputs, estimator = job.inputs, spec.gradients.estimator
    task = job.progress.add_task("gradients", total=len(spec.names))
    results = {}
    for name in spec.names:
        results[name.value] = experiments.imle_gradients(
            inputs.costs, inputs.gold, replace(spec.gradients, estimator=replace(estimator, name=name)))
        job.progress.advance(task)
    draw = job.progress.add_task("rendering", total=spec.gradients.samples)
    figures.write_compare(job.outputs, results, costs=inputs.costs, gold=inputs.gold, label=f"temperatures {estimator.input_temperature:g}/"
                          f"{estimator.target_temperature:g}, beta {estimator.beta:g}", fps=job.fps,
                          advance=lambda: job.progress.advance(draw))
    facts = [f"{name}: mean gradient makes {plural(int((r.mean > 0).sum()), 'cell')} cheaper, "
             f"{int((r.mean < 0).sum())} dearer" for name, r in results.items()]
    if spec.learn is not None:
        losses = {}
        task = job.progress.add_task("learning", total=len(spec.names) * spec.learn.steps)
        for name in spec.names:
            run = replace(spec.learn, estimator=replace(spec.learn.estimator, name=name))
            result = experiments.learn_map(inputs.learn_gold, run, progress=lambda step, loss: job.progress.advance(task))
            losses[name.value] = result.losses
            verdict = "reaches" if result.final_distance == 0 else "misses"
            facts.append(f"{name.value}: final loss {result.losses[-10:].mean():.2f}, {verdict} the gold path")
        figures.write_compare_losses(job.outputs, losses, title=f"learning the gold path, {spec.learn.steps} steps")
    return "Estimators", "\n".join(facts), []


@command(app, "compare", f"map_path gold gold_map invert estimators samples {NOISE_OPTIONS} {TARGET_OPTIONS} learn_too "
                         f"steps lr learn_samples learn_input_temperature learn_target_temperature {MAP_COMMAND}",
         samples=50, steps=LEARNING_DEFAULTS["steps"])
def compare(s: Settings) -> None:
    """Compare I-MLE with its peers on one map: compare.png, compare.gif (and compare_loss.png with --learn)."""
    learn = None
    if s.learn_too:
        # Sum-of-Gamma's k: learn_map's own default (the gold path's length), as in learn, not --k
        estimator = EstimatorSpec(noise=NoiseSpec(s.noise, None, s.iterations), alpha=s.alpha, beta=s.beta,
                                  input_temperature=s.learn_input_temperature,
                                  target_temperature=s.learn_target_temperature)
        learn = LearnSpec(s.steps, s.lr, s.learn_samples, estimator, every=s.steps, solver=s.solver_spec, seed=s.seed)
    spec = CompareSpec(s.estimators, GradientSpec(s.samples, s.estimator_spec, s.solver_spec, s.seed), learn)
    run_parts(s, [(compare_part, spec)], needs_gold=True)
