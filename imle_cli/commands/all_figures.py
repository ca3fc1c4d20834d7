"""``imle-cli all``: sample, gradients and learn into one folder, with an index.html."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import run_parts
from imle_cli.commands.gradients import gradient_spec, gradients_part
from imle_cli.commands.learn import LEARNING_DEFAULTS, learn_part
from imle_cli.commands.sample import sample_part
from imle_cli.options import MAP_COMMAND, NOISE_OPTIONS, Settings
from imle_cli.specs import EstimatorSpec, LearnSpec, NoiseSpec, SampleSpec


@command(app, "all", f"map_path gold gold_map invert samples learn_samples steps lr every patience {NOISE_OPTIONS} "
                     f"input_temperature target_temperature learn_input_temperature learn_target_temperature alpha "
                     f"beta neighbourhood workers {MAP_COMMAND}", steps=LEARNING_DEFAULTS["steps"],
         every=LEARNING_DEFAULTS["every"])
def all_figures(s: Settings) -> None:
    """Run sample, gradients and learn into one folder, with an index.html showing every figure."""
    # the draws of sample are the forward draws of gradients: one temperature for both
    sample = SampleSpec(s.samples, s.noise_spec, s.input_temperature, s.solver_spec, s.seed)
    # learning has its own samples and temperatures; Sum-of-Gamma's k is learn_map's default (the
    # gold path's length), as in compare --learn
    estimator = EstimatorSpec(noise=NoiseSpec(s.noise, None, s.iterations), alpha=s.alpha, beta=s.beta,
                              input_temperature=s.learn_input_temperature, target_temperature=s.learn_target_temperature)
    learn = LearnSpec(s.steps, s.lr, s.learn_samples, estimator, s.every, s.solver_spec, s.seed, s.patience)
    run_parts(s, [(sample_part, sample), (gradients_part, gradient_spec(s)), (learn_part, learn)], needs_gold=True,
              index=True)
