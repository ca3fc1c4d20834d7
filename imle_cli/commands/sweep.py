"""``imle-cli sweep``: the learning loop over a grid of temperatures and sample counts."""
from __future__ import annotations

from functools import partial

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.commands.learn import LEARNING_DEFAULTS
from imle_cli.options import MAP_OPTIONS, OUTPUT_OPTIONS, Settings
from imle_cli.specs import EstimatorSpec, LearnSpec, SolverSpec, SweepSpec


def sweep_part(job: Job, spec: SweepSpec, gifs: bool = False) -> Section:
    """sweep.png, sweep.csv, sweep.md (and with ``gifs`` every run's GIF): the learning loop over a
    grid of temperatures and sample counts."""
    from imle_cli import experiments, figures

    gold, source, learn = job.inputs.learn_gold, job.inputs.learn_gold_source, spec.learn
    task = job.progress.add_task("runs", total=len(spec.runs()))
    runs = experiments.sweep(gold, spec, progress=lambda: job.progress.advance(task))
    label = f"{source}, {learn.steps} steps, lr {learn.lr:g}, beta {learn.estimator.beta:g}, seed {learn.seed}"
    figures.write_sweep(job.outputs, gold, runs, label=label, fps=job.fps, gifs=gifs, costs=job.inputs.learn_costs)
    reached = sum(run.reached for run in runs)
    return "Sweep", (f"{reached} of {len(runs)} settings reach the gold path ({source}) in {learn.steps} steps; "
                     f"{sum(run.seconds for run in runs):.0f} s of learning"), []


@command(app, "sweep", f"gold gold_map invert input_temperatures target_temperatures sample_counts steps lr every "
                       f"noise k iterations alpha beta neighbourhood workers device gifs {MAP_OPTIONS} {OUTPUT_OPTIONS}",
         steps=LEARNING_DEFAULTS["steps"], every=LEARNING_DEFAULTS["every"], workers=2)
def sweep(s: Settings) -> None:
    """Learn the gold path over a grid of settings: writes sweep.png (a contact sheet), sweep.csv, sweep.md.

    The default grid is the original torch-imle experiments': input and target temperatures in
    {0, 1, 2, 5} and 1, 10 or 100 samples. Runs are seeded alike and spread over --workers
    processes; the files do not depend on the worker count (but for the CSV's seconds).
    """
    # each run solves in its own process, one map at a time: --workers spreads the runs
    estimator = EstimatorSpec(noise=s.noise_spec, alpha=s.alpha, beta=s.beta)
    learn = LearnSpec(s.steps, s.lr, estimator=estimator, every=s.every, solver=SolverSpec(s.neighbourhood), seed=s.seed,
                      device=s.device)
    spec = SweepSpec(learn, s.input_temperatures, s.target_temperatures, s.sample_counts, s.workers)
    run_parts(s, [(partial(sweep_part, gifs=s.gifs), spec)], needs_map=False, needs_gold=True)
