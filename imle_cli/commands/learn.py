"""``imle-cli learn``: learn a cost map from a gold path."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.options import MAP_OPTIONS, NOISE_OPTIONS, OUTPUT_OPTIONS, TARGET_OPTIONS, Settings
from imle_cli.reporting import plural
from imle_cli.specs import LearnSpec

#: learn's defaults: with them the default run visibly learns the README map's winding path (the
#: docs' learn page, "Which defaults learn the gold path", gives the measurements behind them)
LEARNING_DEFAULTS = dict(samples=50, input_temperature=5.0, target_temperature=5.0, steps=600, every=5)


def learn_part(job: Job, spec: LearnSpec) -> Section:
    """learning_paths.gif, learning_weights.gif, loss.png: learning a map from the gold path (ending
    ``spec.patience`` steps after it has been learned, where that is set)."""
    from imle_cli import experiments, figures

    gold, estimator = job.inputs.learn_gold, spec.estimator
    task = job.progress.add_task("learning", total=spec.steps)

    def advance(step: int, loss: float) -> None:
        job.progress.update(task, advance=1, description=f"learning (loss {loss:5.2f})")

    result = experiments.learn_map(gold, spec, progress=advance)
    draw = job.progress.add_task("rendering", total=2 * len(result.steps))
    label = (f"{estimator.name.value}, lr {spec.lr:g}, {spec.samples} samples, temperatures "
             f"{estimator.input_temperature:g}/{estimator.target_temperature:g}")
    figures.write_learning(job.outputs, gold, result, label=label, fps=job.fps,
                           advance=lambda: job.progress.advance(draw), costs=job.inputs.learn_costs)
    verdict = ("equals the gold path" if result.final_distance == 0
               else f"differs from the gold path in {plural(result.final_distance, 'cell')}")
    if result.stopped_early:
        verdict += (f" since step {result.learned_at}: stopped at step {len(result.losses)} of {spec.steps}, "
                    f"{spec.patience} steps later (--patience)")
    facts = (f"{estimator.name.value}: final training loss {result.losses[-1]:.2f} (mean of the last 10 steps "
             f"{result.losses[-10:].mean():.2f}); the learned map's shortest path"
             f"{'' if gold.corner_to_corner else ' ' + gold.describe()} {verdict}")
    return "Learning the map", facts, [
        ("learning_paths.gif", f"the learned map's shortest path (red) over the gold path (grey), every {spec.every} "
                               "steps"),
        ("learning_weights.gif", "the learned costs, on one colour scale"),
        ("loss.png", "the training loss (mean Hamming loss of the sampled paths)")]


@command(app, "learn", f"gold gold_map invert steps lr samples {NOISE_OPTIONS} {TARGET_OPTIONS} every patience device estimator "
                       f"{MAP_OPTIONS} {OUTPUT_OPTIONS}", **LEARNING_DEFAULTS)
def learn(s: Settings) -> None:
    """Learn map costs from a gold path: writes learning_paths.gif, learning_weights.gif, loss.png.

    The map's size is the gold's. Without --gold or --gold-map the gold is the shortest path on
    the README map, learned from a flat start: torch-imle's learning experiment.
    """
    spec = LearnSpec(s.steps, s.lr, s.samples, s.estimator_spec, s.every, s.solver_spec, s.seed, s.patience, s.device)
    run_parts(s, [(learn_part, spec)], needs_map=False, needs_gold=True)
