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
    spread = experiments.draw_spread(costs, result.paths, result.unperturbed)
    rows, cols = costs.shape
    facts = (f"grid {rows}x{cols}, k = {result.noise.k:g}, mean path length {lengths.mean():.1f} cells, "
             f"{spread.identical:.0%} of draws equal the unperturbed shortest path ({spread.spread:.0%} of the draws' "
             f"cells lie {stray_words(costs)})")
    if spread.still and spec.noise.kind is not Noise.none:
        facts += "; " + temperature_hint(costs, spec, result.unperturbed)
    return "Sampling paths", facts, [
        ("map.png", "the cost map; darker cells cost more"),
        ("paths.gif", f"{spec.samples} perturb-and-MAP draws of the shortest path, one per frame"),
        ("distribution.gif", "share of draws 1..i through each cell, frame i"),
        ("distribution.png", f"share of all {spec.samples} draws through each cell")]


def stray_words(costs) -> str:
    """Where a stray cell lies, as experiments.draw_spread counts it on a map this size."""
    from imle_cli import experiments

    return "off it" if max(costs.shape) <= experiments.SMALL_MAP else "more than a cell from it"


def temperature_hint(costs, spec: SampleSpec, unperturbed) -> str:
    """What to try when the draws barely move, checked by sampling there (experiments.moving_temperature)."""
    from imle_cli import experiments

    suggested, measured, good = experiments.moving_temperature(costs, spec, unperturbed)
    there = (f"{measured.identical:.0%} of {experiments.TRIAL_DRAWS} trial draws there equal the unperturbed path, "
             f"{measured.spread:.0%} of their cells lie {stray_words(costs)}, and they keep {measured.terrain:.0%} "
             "of what the terrain saves over draws on a flat map")
    if good:
        return f"the noise barely moves the path at temperature {spec.temperature:g}: try --temperature {suggested:g} ({there})"
    return (f"the noise barely moves the path at temperature {spec.temperature:g}, and no temperature tried both moves "
            f"it and keeps the draws to the map's costs; the nearest, --temperature {suggested:g}: {there}")


@command(app, "sample", f"map_path samples {NOISE_OPTIONS} temperature neighbourhood workers {MAP_COMMAND}")
def sample(s: Settings) -> None:
    """Sample shortest paths on a map: writes map.png, paths.gif, distribution.gif, distribution.png."""
    run_parts(s, [(sample_part, SampleSpec(s.samples, s.noise_spec, s.temperature, s.solver_spec, s.seed))])
