"""``imle-cli noise``: Sum-of-Gamma noise against the Gumbel density."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.options import Settings
from imle_cli.specs import NoiseCheckSpec


def noise_part(job: Job, spec: NoiseCheckSpec) -> Section:
    """noise.png: Sum-of-Gamma sums against the Gumbel density."""
    from imle_cli import experiments, figures

    task = job.progress.add_task("sampling", total=1)
    result = experiments.check_noise(spec)
    job.progress.advance(task)
    job.outputs.plot("noise.png", figures.noise_plot(result, spec.k, spec.iterations))
    return "Noise", (f"KS statistic of the sums of k = {spec.k} draws against Gumbel(0, 1): {result.ks:.4f} "
                     f"({spec.draws} sums, s = {spec.iterations})"), [("noise.png", "Sum-of-Gamma noise against Gumbel")]


@command(app, "noise", "k iterations draws seed out still_format dpi quiet", k=20)
def noise(s: Settings) -> None:
    """Check Sum-of-Gamma noise: the sum of k draws against the Gumbel density; writes noise.png."""
    run_parts(s, [(noise_part, NoiseCheckSpec(int(s.k), s.iterations, s.draws, s.seed))], needs_map=False)
