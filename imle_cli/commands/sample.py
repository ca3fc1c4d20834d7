"""``imle-cli sample``: perturb-and-MAP draws of the map's shortest path."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.commands._runner import Job, Section, run_parts
from imle_cli.options import MAP_COMMAND, NOISE_OPTIONS, Settings
from imle_cli.specs import Noise, SampleSpec


def sample_part(job: Job, spec: SampleSpec) -> Section:
    """map.png, paths.gif, distribution.gif and .png: perturb-and-MAP draws on the map."""
    from imle_cli import experiments, figures

    costs = job.inputs.costs
    unperturbed = experiments.shortest_path(costs, spec.solver.neighbourhood)
    label = f"{spec.noise.with_k(unperturbed.sum()).label}, temperature {spec.temperature:g}"
    figures.check_sample_gifs(job.outputs, costs, unperturbed, spec.samples, label)  # before any draw
    figures.write_map(job.outputs, costs, job.inputs.map_name)
    task = job.progress.add_task("sampling", total=spec.samples)
    result = experiments.sample_paths(costs, spec, progress=lambda draws: job.progress.advance(task, draws))
    draw = job.progress.add_task("rendering", total=2 * spec.samples)
    figures.write_sample(job.outputs, costs, result, label=label, fps=job.fps, advance=lambda: job.progress.advance(draw))
    lengths = result.paths.reshape(spec.samples, -1).sum(1)
    same = (result.paths == result.unperturbed).all(axis=(1, 2)).mean()
    rows, cols = costs.shape
    facts = (f"grid {rows}x{cols}, k = {result.noise.k:g}, mean path length {lengths.mean():.1f} cells, {same:.0%} "
             "of draws equal the unperturbed shortest path")
    if same > 0.9 and spec.noise.kind is not Noise.none:
        suggested, share = experiments.moving_temperature(costs, spec, result.unperturbed)
        facts += (f"; the noise barely moves the path at temperature {spec.temperature:g}: try --temperature "
                  f"{suggested:g} ({share:.0%} of {experiments.TRIAL_DRAWS} trial draws there equal the "
                  "unperturbed path)")
    return "Sampling paths", facts, [
        ("map.png", "the cost map; darker cells cost more"),
        ("paths.gif", f"{spec.samples} perturb-and-MAP draws of the shortest path, one per frame"),
        ("distribution.gif", "share of draws 1..i through each cell, frame i"),
        ("distribution.png", f"share of all {spec.samples} draws through each cell")]


@command(app, "sample", f"map_path samples {NOISE_OPTIONS} temperature neighbourhood workers {MAP_COMMAND}")
def sample(s: Settings) -> None:
    """Sample shortest paths on a map: writes map.png, paths.gif, distribution.gif, distribution.png."""
    run_parts(s, [(sample_part, SampleSpec(s.samples, s.noise_spec, s.temperature, s.solver_spec, s.seed))])
