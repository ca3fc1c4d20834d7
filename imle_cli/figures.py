"""The figures of each command: results -> frames -> files in an :class:`~imle_cli.render.Outputs`.

Colour conventions, the same in every figure:

* costs: ``YlOrBr``, light is cheap and dark is costly (like the map images themselves);
* shares of draws: ``viridis`` on a fixed 0..1 scale;
* gradients dL/d cost: ``RdBu`` centred on zero. Blue (positive) cells get **cheaper** after a
  gradient-descent step (cost - lr * gradient), red (negative) cells get dearer, white cells
  stay. One scale, symmetric around zero, for every frame of an animation.
"""
from __future__ import annotations

import html
from typing import Callable, List, Optional, Sequence

import numpy as np

from imle_cli import experiments
from imle_cli.gold_path import GoldPath
from imle_cli.render import Figure, Outputs
from imle_cli.render.layout import format_tick, same_size
from imle_cli.render import raster
from imle_cli.render.raster import grid_of
from imle_cli.reporting import plural

COST_LABEL = "cost (darker is costlier)"
SHARE_LABEL = "share of draws through the cell"
GRADIENT_LABEL = "dL/d cost (L: Hamming loss to gold)"
Advance = Callable[[], None]


def cost_figure(costs: np.ndarray, captions: Sequence[str] = (), axes: bool = False) -> Figure:
    return Figure(costs.shape, cmap="YlOrBr", vmin=float(costs.min()), vmax=float(costs.max()),
                  label=COST_LABEL, captions=captions, axes=axes)


def share_figure(shape, axes: bool = False) -> Figure:
    return Figure(shape, cmap="viridis", vmin=0.0, vmax=1.0, label=SHARE_LABEL, axes=axes)


def sample_figures(costs: np.ndarray, axes: bool) -> tuple:
    """(the map's layout, the share of draws' layout): sample's set (map.png, paths.gif,
    distribution.gif and .png), one page size for all."""
    return same_size(cost_figure(costs, axes=axes), share_figure(costs.shape, axes=axes))


def gradient_figure(shape, scale: float, captions: Sequence[str] = (), axes: bool = False) -> Figure:
    scale = scale if scale > 0 else 1.0
    return Figure(shape, cmap="RdBu", vmin=-scale, vmax=scale, label=GRADIENT_LABEL, captions=captions, axes=axes)


def walls(costs: np.ndarray) -> np.ndarray:
    """Bool [H, W]: the costly half of the map (costs above the middle of their range), outlined
    on figures whose colours show something else."""
    low, high = float(costs.min()), float(costs.max())
    return costs > (low + high) / 2 if high > low else np.zeros(costs.shape, dtype=bool)


def write_map(outputs: Outputs, costs: np.ndarray, name: str) -> None:
    figure = sample_figures(costs, outputs.axes(costs.shape))[0]
    rows, cols = costs.shape
    outputs.still("map.png", [figure.scene(
        costs, title=f"map: {name}",
        subtitle=f"{rows}x{cols} cells, costs {format_tick(costs.min())} to {format_tick(costs.max())}")])


def write_sample(outputs: Outputs, costs: np.ndarray, result: experiments.SampleResult, *, label: str,
                 fps: float, advance: Advance) -> None:
    """paths.gif, distribution.gif and distribution.png."""
    samples = len(result.paths)
    figure, share = sample_figures(costs, outputs.axes(costs.shape))
    outputs.gif("paths.gif", _advancing((_path_frame(figure, costs, path, i, samples, label)
                                         for i, path in enumerate(result.paths)), advance), figure.palette, fps, samples)

    def shares():  # the share of draws 1..i through each cell, one frame at a time
        counts = np.zeros(costs.shape)
        for i, path in enumerate(result.paths):
            counts += path
            yield _share_frame(share, costs, counts / (i + 1), i, samples, label)

    outputs.gif("distribution.gif", _advancing(shares(), advance), share.palette, fps, samples)
    outputs.still("distribution.png", [distribution_scene(costs, result, label, outputs.axes(costs.shape))])


def _path_frame(figure: Figure, costs: np.ndarray, path: np.ndarray, i: int, samples: int, label: str) -> np.ndarray:
    """paths.gif's frame i: draw i's path over the map."""
    return figure.frame(costs, overlay=path, title=f"draw {i + 1} of {samples}", subtitle=label)


#: The light greys (palette.GREY_START + 0..this) in which the map's costs show faintly where no draw goes.
FAINT_GREYS = 6


def faint_map(costs: np.ndarray, levels: int = FAINT_GREYS) -> np.ndarray:
    """Palette indices [H, W] of the map's costs in the ``levels`` lightest greys (white the
    cheapest): the map shown faintly under what a figure is about."""
    from imle_cli.render import palette

    low, high = float(costs.min()), float(costs.max())
    faint = palette.GREY_START + np.round((costs - low) / (high - low if high > low else 1.0) * levels)
    return faint.astype(np.uint8)


def share_cells(share: Figure, costs: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Palette indices [H, W] of a distribution: the share of draws on its scale where draws go,
    elsewhere the map's costs faintly."""
    return np.where(shares > 0, share.indices(shares), faint_map(costs))


#: The gold path's grey under a learned path, on the learning figures' Greys scale (181 of 255),
#: and the greys the map may take around it there (255 to 230): the gold never reads as a wall.
GOLD_SHADE, GOLD_MAP_GREYS = 0.4, 3


def gold_cells(figure: Figure, gold: GoldPath, costs: Optional[np.ndarray]) -> np.ndarray:
    """Palette indices [H, W] of the learning figures' background: the gold's cells grey and, with
    a map, its costs faintly elsewhere (white without one)."""
    shade = figure.indices(GOLD_SHADE * gold.mask.astype(np.float64))
    return shade if costs is None else np.where(gold.mask, shade, faint_map(costs, GOLD_MAP_GREYS))


def _share_frame(share: Figure, costs: np.ndarray, shares: np.ndarray, i: int, samples: int, label: str) -> np.ndarray:
    """distribution.gif's frame i: the share of draws 1..i through each cell, the map faintly under it."""
    return share.frame(share_cells(share, costs, shares), indexed=(0,), title=f"distribution after {i + 1} of "
                       f"{samples} draws", subtitle=f"{label}; grey: the map where no draw goes",
                       outlines={"walls": walls(costs)})


def check_sample_gifs(outputs: Outputs, costs: np.ndarray, unperturbed: np.ndarray, samples: int, label: str) -> None:
    """Refuse paths.gif or distribution.gif above --max-gif-mb before any draw is sampled: their
    first frames drawn for the unperturbed path (a draw's frame is about as large) and encoded."""
    figure, share = sample_figures(costs, outputs.axes(costs.shape))
    outputs.check_gif("paths.gif", _path_frame(figure, costs, unperturbed, 0, samples, label), figure.palette, samples)
    outputs.check_gif("distribution.gif", _share_frame(share, costs, unperturbed.astype(np.float64), 0, samples, label),
                      share.palette, samples)


def distribution_scene(costs: np.ndarray, result: experiments.SampleResult, label: str, axes: bool):
    """distribution.png's scene: the share of all the draws through each cell."""
    samples = len(result.paths)
    final = result.paths.sum(axis=0, dtype=np.float64) / samples
    share = sample_figures(costs, axes)[1]
    return share.scene(share_cells(share, costs, final), indexed=(0,), title=f"distribution after {samples} of "
                       f"{samples} draws", subtitle=f"{label}; grey: the map where no draw goes",
                       outlines={"walls": walls(costs)})


def write_gold(outputs: Outputs, costs: np.ndarray, gold: GoldPath, source: str, *,
               marks: Sequence[tuple] = (), underlay: Optional[np.ndarray] = None) -> None:
    """gold_preview.png: the gold path over the map with cell indices, waypoints and free ends
    ringed, a drawing's stroke faint underneath. (gold.png is always gold data, never this figure.)"""
    figure = Figure(costs.shape, cmap="YlOrBr", vmin=float(costs.min()), vmax=float(costs.max()),
                    label=COST_LABEL, axes=True)
    ringed = [name for count, name in ((len(marks), "waypoints"), (len(gold.rings), "ends")) if count]
    extras = (f", {' and '.join(ringed)} ringed" if ringed else "") + \
        (", the stroke in grey" if underlay is not None else "")
    ends = "" if gold.corner_to_corner else f" {gold.describe()}"
    outputs.still("gold_preview.png", [figure.scene(costs, overlay=gold.mask, marks=(*gold.rings, *marks),
                                                    underlay=underlay,
                                                    title=f"gold path: {plural(gold.length, 'cell')}{ends}",
                                                    subtitle=f"from {source}{extras}")])


def write_gradients(outputs: Outputs, result: experiments.GradientResult, *, costs: np.ndarray, gold: GoldPath,
                    label: str, fps: float, advance: Advance) -> None:
    """gradients.gif (each draw's gradient beside the running mean) and gradients.png (the mean),
    with the gold path outlined in black and the map's costly cells in grey."""
    samples = len(result.per_draw)
    shape = result.per_draw.shape[1:]

    def running_means():  # the mean of draws 1..i, one at a time (no [S, H, W] array)
        total = np.zeros(shape)
        for i, draw in enumerate(result.per_draw):
            total += draw
            yield i, draw, total / (i + 1)

    scale = float(max(np.abs(result.per_draw).max(), max(np.abs(mean).max() for _, _, mean in running_means())))
    figure = gradient_figure(shape, scale, captions=("this draw", "mean so far"), axes=outputs.axes(shape))
    outlines = {"walls": walls(costs), "gold": gold.mask.astype(bool)}
    outputs.gif("gradients.gif", _advancing((figure.frame([draw, mean], outlines=outlines, marks=gold.rings,
                                                          title=f"I-MLE gradient, draw {i + 1} of {samples}",
                                                          subtitle=label)
                                             for i, draw, mean in running_means()), advance),
                figure.palette, fps, samples)
    outputs.still("gradients.png", [gradient_scene(result, costs, gold, outputs.axes(shape))])


def gradient_scene(result: experiments.GradientResult, costs: np.ndarray, gold: GoldPath, axes: bool):
    """gradients.png's scene: the mean gradient over the draws, the gold outlined."""
    mean, samples = result.mean, len(result.per_draw)
    cheaper, dearer = int((mean > 0).sum()), int((mean < 0).sum())
    return gradient_figure(mean.shape, float(np.abs(mean).max()), axes=axes).scene(
        mean, title=f"I-MLE gradient, mean of {plural(samples, 'draw')}", marks=gold.rings,
        outlines={"walls": walls(costs), "gold": gold.mask.astype(bool)},
        subtitle=f"blue: {plural(cheaper, 'cell')} get cheaper, red: {dearer} dearer; black outline: gold path"
                 + ("; rings: its ends" if gold.rings else ""))


#: What I-MLE does, in two sentences (index.html of `imle-cli all` opens with them, under mechanism.png).
MECHANISM_TEXT = ("I-MLE perturbs the costs with noise and solves: the sample y is a path. It then solves again "
                  "with the same noise on costs moved by the loss's gradient toward the gold, beta dL/dy, and "
                  "takes y' - y, the cells the target path y' gains and loses, as that draw's gradient of the "
                  "costs: gradient descent makes the cells only y' takes cheaper and the cells only y takes dearer.")
MECHANISM_CAPTIONS = ("sample y = MAP(\u03b8 + \u03b5)", "target y\u2032 = MAP(\u03b8 \u2212 \u03b2 \u2202L/\u2202y + \u03b5)",
                      "y\u2032 \u2212 y: the draw's gradient")


def mechanism_figure(costs: np.ndarray, axes: bool) -> Figure:
    """mechanism.png's layout: three panels on the map's cost scale (the third of signs)."""
    return Figure(costs.shape, cmap="YlOrBr", vmin=float(costs.min()), vmax=float(costs.max()), label=COST_LABEL,
                  captions=MECHANISM_CAPTIONS, axes=axes, signed=True)


def mechanism_scene(figure: Figure, result: experiments.GradientResult, costs: np.ndarray, gold: GoldPath,
                    draw: int = 0):
    """I-MLE's mechanism for one draw, three panels side by side: the sample y = MAP(theta + noise)
    and the target y' = MAP(theta - beta dL/dy + noise) over the map (theta = -cost), and that
    draw's gradient of the cost y' - y, blue where only y' goes (gradient descent makes the cell
    cheaper), red where only y goes (dearer); the gold outlined on each. For the "imle" estimator
    the draw's gradient is exactly that difference, so y' = y + dL/d cost (tested)."""
    from imle_cli.render import palette

    sample = result.paths[draw].astype(np.float64)
    gradient = result.per_draw[draw]
    target = np.clip(np.round(sample + gradient), 0, 1)
    signs = np.where(gradient > 0, palette.CHEAPER, np.where(gradient < 0, palette.DEARER, palette.WHITE))
    samples = len(result.per_draw)
    return figure.scene([costs, costs, signs], overlay=[sample, target, None], indexed=(2,), marks=gold.rings,
                        outlines={"gold": gold.mask.astype(bool)},
                        title=f"I-MLE's mechanism, draw {draw + 1} of {samples}: the sample y moves toward the target y\u2032",
                        subtitle="y\u2032 \u2212 y: blue, only on y\u2032 (made cheaper); red, only on y (dearer); "
                                 "black outline: gold")


def write_mechanism(outputs: Outputs, result: experiments.GradientResult, *, costs: np.ndarray, gold: GoldPath,
                    fps: float, advance: Advance) -> None:
    """mechanism.png (draw 1) and mechanism.gif (every draw): I-MLE's sample, target and their
    difference, one palette for all three panels."""
    figure = mechanism_figure(costs, outputs.axes(costs.shape))
    outputs.still("mechanism.png", [mechanism_scene(figure, result, costs, gold)])
    frames = (raster.draw(mechanism_scene(figure, result, costs, gold, draw)) for draw in range(len(result.per_draw)))
    outputs.gif("mechanism.gif", _advancing(frames, advance), figure.palette, fps, len(result.per_draw))


def _advancing(frames, advance: Advance):
    """The frames, calling advance() after each is drawn (the progress bar moves as they stream)."""
    for frame in frames:
        yield frame
        advance()


def learning_path_frames(gold: GoldPath, result: experiments.LearnResult, label: str,
                         advance: Advance = lambda: None, like: Optional[Figure] = None,
                         costs: Optional[np.ndarray] = None) -> tuple:
    """(figure, frames): the learned map's shortest path (red) over the gold path (grey), per
    snapshot, the gold's ends ringed when they are not the corners, and the map's ``costs`` (the
    one the gold was taken from, where there is one) faintly under them; ``like``: a figure of the
    same set, both padded to one size."""
    total = len(result.losses)
    figure = Figure(gold.shape, cmap="Greys", vmin=0.0, vmax=1.0, label=None, overlay_rgb=(214, 39, 40))
    if like is not None:
        same_size(figure, like)
    background = gold_cells(figure, gold, costs)
    legend = "" if costs is None else "; light grey: the map"
    frames = (figure.frame(background, indexed=(0,), overlay=path, marks=gold.rings,
                           title=f"step {step}/{total}: learned path (red), gold (grey)",
                           subtitle=f"training loss {result.losses[min(step, total - 1)]:.2f}; {label}{legend}")
              for step, path in zip(result.steps, result.paths))
    return figure, _advancing(frames, advance)


#: Seconds a learning GIF stays on its last frame (the learned map) before it loops.
LEARNING_HOLD = 2.0


def write_learning(outputs: Outputs, gold: GoldPath, result: experiments.LearnResult, *, label: str,
                   fps: float, advance: Advance, costs: Optional[np.ndarray] = None) -> None:
    """learning_paths.gif (``costs``, the gold's map, faintly under the paths), learning_weights.gif
    and loss.png."""
    total = len(result.losses)
    low, high = float(result.weights.min()), float(result.weights.max())
    weights = Figure(gold.shape, cmap="YlOrBr", vmin=low, vmax=high, label="learned cost")
    figure, frames = learning_path_frames(gold, result, label, advance, like=weights, costs=costs)
    outputs.gif("learning_paths.gif", frames, figure.palette, fps, len(result.steps), hold=LEARNING_HOLD)
    frames = (weights.frame(values, title=f"learned costs at step {step} of {total}", subtitle=label)
              for step, values in zip(result.steps, result.weights))
    outputs.gif("learning_weights.gif", _advancing(frames, advance), weights.palette, fps, len(result.steps),
                hold=LEARNING_HOLD)
    outputs.plot("loss.png", line_plot(result.losses, title=f"training loss over {total} steps",
                                       xlabel="step", ylabel="Hamming loss (mean over samples)"))


def line_plot(values: np.ndarray, *, title: str, xlabel: str, ylabel: str):
    """A matplotlib figure of one curve (once: a single static figure)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=(6, 3.4), dpi=100)
    axes = figure.add_subplot()
    axes.plot(np.arange(len(values)), values, color="#1f77b4", linewidth=1)
    if len(values) >= 20:
        window = max(5, len(values) // 50)
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        axes.plot(np.arange(window - 1, len(values)), smooth, color="#d62728", linewidth=1.5,
                  label=f"mean of {window} steps")
        axes.legend(loc="upper right")
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure


def noise_plot(check: experiments.NoiseCheck, k: int, iterations: int):
    """noise.png: the k-draw sums against the Gumbel density; single draws against their moments."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=(10, 3.8), dpi=100)
    left, right = figure.subplots(1, 2)
    left.hist(check.sums, bins=80, density=True, color="#9ecae1", edgecolor="#3182bd", linewidth=0.3,
              label=f"sum of k = {k} draws ({len(check.sums)} sums)")
    x = np.linspace(check.sums.min(), check.sums.max(), 400)
    left.plot(x, np.exp(-x - np.exp(-x)), color="#d62728", linewidth=2, label="Gumbel(0, 1) density")
    left.set(title=f"Sum-of-Gamma, k = {k}, s = {iterations}: KS = {check.ks:.4f}", xlabel="value", ylabel="density")
    left.legend(loc="upper right", fontsize=8)
    right.hist(check.single, bins=80, density=True, color="#c7e9c0", edgecolor="#31a354", linewidth=0.3,
               label="single draws")
    right.axvline(check.single_mean, color="#d62728", linewidth=2, label=f"exact mean {check.single_mean:.4f}")
    for sign in (-1, 1):
        right.axvline(check.single_mean + sign * check.single_sd, color="#d62728", linestyle="--", linewidth=1,
                      label="exact mean \u00b1 sd" if sign == 1 else None)
    right.set(title=f"one draw: sample mean {check.single.mean():.4f}, sd {check.single.std():.4f} "
                    f"(exact sd {check.single_sd:.4f})", xlabel="value")
    right.title.set_fontsize(9)
    right.legend(loc="upper right", fontsize=8)
    figure.tight_layout()
    return figure


def write_index(outputs: Outputs, sections: List[tuple], title: str) -> None:
    """index.html: every figure with a caption, for one page to open; it opens with I-MLE's
    mechanism (mechanism.png, when a section wrote it) and what I-MLE does in two sentences."""
    parts = [f"<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{html.escape(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "figure{display:inline-block;margin:0 1em 2em 0;vertical-align:top;max-width:520px}"
             "img{max-width:100%;border:1px solid #ddd}figcaption{font-size:0.9em;color:#444}</style>",
             "</head>\n<body>", f"<h1>{html.escape(title)}</h1>"]
    if any(name == "mechanism.png" for _, figures in sections for name, _ in figures):
        mechanism = f"mechanism.{outputs.still_format}"
        parts += ["<h2>What I-MLE does</h2>",
                  f"<figure style=\"max-width:100%\"><img src=\"{mechanism}\" alt=\"I-MLE's mechanism for one draw\">"
                  f"<figcaption>{html.escape(MECHANISM_TEXT)}</figcaption></figure>"]
    for heading, figures in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        for name, caption in figures:
            if name.endswith(".png"):  # a still: written in the chosen format
                name = f"{name[:-4]}.{outputs.still_format}"
            parts.append(f"<figure><img src=\"{html.escape(name)}\" alt=\"{html.escape(caption)}\">"
                         f"<figcaption><b>{html.escape(name)}</b>: {html.escape(caption)}</figcaption></figure>")
    parts.append("</body>\n</html>\n")
    outputs.text("index.html", "\n".join(parts))


def write_compare(outputs: Outputs, results: dict, *, costs: np.ndarray, gold: GoldPath, label: str, fps: float,
                  advance: Advance, columns: int = 4) -> None:
    """compare.png: each estimator's mean gradient on its own zero-centred scale; compare.gif:
    the running means, draw by draw (each panel keeps one scale for all frames); the gold path
    and the map's costly cells outlined as in gradients.png, the gold's ends ringed when they are
    not the corners."""
    panels = {}
    for name, result in results.items():
        scale = float(np.abs(result.running_means).max())
        panels[name] = (gradient_figure(result.mean.shape, scale), result)
    outlines = {"walls": walls(costs), "gold": gold.mask.astype(bool)}
    outputs.still("compare.png", [figure.scene(result.mean, title=name, subtitle=f"mean of {len(result.per_draw)} draws",
                                               marks=gold.rings, outlines=outlines)
                                  for name, (figure, result) in panels.items()], columns)
    palette = next(iter(panels.values()))[0].palette
    draws = min(len(result.per_draw) for _, result in panels.values())
    frames = (grid_of([figure.frame(result.per_draw[:i + 1].mean(axis=0), title=name, marks=gold.rings,
                                    outlines=outlines,
                                    subtitle=f"{'draw 1' if i == 0 else f'mean of draws 1..{i + 1}'}; {label}")
                       for name, (figure, result) in panels.items()], columns) for i in range(draws))
    outputs.gif("compare.gif", _advancing(frames, advance), palette, fps, draws)


def write_compare_losses(outputs: Outputs, losses: dict, *, title: str) -> None:
    """compare_loss.png: one training-loss curve per estimator (smoothed over 2% of the steps)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=(7, 4), dpi=100)
    axes = figure.add_subplot()
    for name, values in losses.items():
        window = max(1, len(values) // 50)
        smooth = np.convolve(values, np.ones(window) / window, mode="valid")
        axes.plot(np.arange(window - 1, len(values)), smooth, linewidth=1.5, label=name)
    axes.set(title=title, xlabel="step", ylabel="Hamming loss (mean over samples)")
    axes.set_yscale("symlog", linthresh=1.0)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    outputs.plot("compare_loss.png", figure)


def sweep_label(run: experiments.SweepRun) -> str:
    return f"input {run.input_temperature:g} / target {run.target_temperature:g}, {run.samples} samples"


#: sweep.png's panels: about this many pixels on the longer side, captions and headers in these sizes
#: (px; 11 px is 7.9 pt in the PDF, at 0.72 pt a pixel)
SWEEP_PANEL, SWEEP_CAPTION, SWEEP_HEADER = 120, 11, 12


def sweep_sheet(gold: GoldPath, runs: list, label: str, costs: Optional[np.ndarray] = None):
    """sweep.png's one scene, laid out as readers know a grid of settings: a block per sample
    count, in it a row per input temperature and a column per target temperature (their values
    as row and column headers, the axes named once), each panel the run's final learned path
    (red) over the gold (grey), the gold's map ``costs`` faintly under them where there is one,
    with one caption line under it (the step it reached the gold, or how many cells it missed
    by)."""
    from imle_cli.render.layout import MARGIN, text
    from imle_cli.render.scene import Border, Panel, Scene, Text

    inputs = sorted({run.input_temperature for run in runs})
    targets = sorted({run.target_temperature for run in runs})
    counts = sorted({run.samples for run in runs})
    by_setting = {(run.samples, run.input_temperature, run.target_temperature): run for run in runs}
    rows, cols = gold.shape
    scale = max(1, SWEEP_PANEL // max(rows, cols))
    width, height = cols * scale, rows * scale
    figure = Figure(gold.shape, cmap="Greys", vmin=0.0, vmax=1.0, label=None, overlay_rgb=(214, 39, 40))
    shade = gold_cells(figure, gold, costs)
    left = MARGIN + max(int(text(0, 0, f"{t:g}", SWEEP_HEADER, "la").box[2]) for t in inputs) + 28
    pitch_x, pitch_y = width + 14, height + SWEEP_CAPTION + 10
    page_width = max(left + len(targets) * pitch_x + MARGIN, 560)
    chrome, panels = [], []
    y = MARGIN
    titles = (text(MARGIN, y - 2, "Sweep: the learned path (red) over the gold (grey)", 17, "la"),
              text(MARGIN, y + 20, label + ("" if costs is None else "; light grey: the map"), 11, "la"))
    y += 44
    for count in counts:
        reached = sum(by_setting[(count, i, t)].reached for i in inputs for t in targets if (count, i, t) in by_setting)
        chrome.append(text(MARGIN, y, f"{plural(count, 'sample')} a step: {reached} of {len(inputs) * len(targets)} "
                                      "settings reach the gold", 13, "la"))
        y += 22
        chrome.append(text(left + len(targets) * pitch_x / 2, y, "target temperature", SWEEP_HEADER, "ma"))
        y += 16
        for c, target in enumerate(targets):
            chrome.append(text(left + c * pitch_x + width / 2, y, f"{target:g}", SWEEP_HEADER, "ma"))
        y += 16
        block_top = y
        for r, temperature in enumerate(inputs):
            top = y + r * pitch_y
            chrome.append(text(left - 8, top + height / 2, f"{temperature:g}", SWEEP_HEADER, "rm"))
            for c, target in enumerate(targets):
                run = by_setting.get((count, temperature, target))
                if run is None:
                    continue
                x = left + c * pitch_x
                panels.append(Panel(x, top, scale, shade, path=run.result.final_path.astype(bool),
                                    path_width=max(1, min(scale // 2, max(2, scale // 4))),
                                    path_radius=max(1.0, scale * 0.3), rings=tuple(gold.rings),
                                    ring_radius=max(6.0, scale * 0.7), ring_width=max(2, scale // 6)))
                chrome.append(Border(x - 1, top - 1, x + width, top + height))
                caption = (f"reached at step {run.first_step}" if run.reached
                           else f"missed by {plural(run.result.final_distance, 'cell')}")
                chrome.append(text(x, top + height + 3, caption, SWEEP_CAPTION, "la"))
        y += len(inputs) * pitch_y
        # the rows' axis, named once beside the block, turned
        label_text = text(0, 0, "input temperature", SWEEP_HEADER, "la")
        turned = (label_text.box[3] - label_text.box[1] + 4, label_text.box[2] - label_text.box[0] + 4)
        label_y = block_top + max(0, (y - block_top - turned[1]) // 2)
        chrome.append(Text(MARGIN - 2, label_y, "input temperature", SWEEP_HEADER, "la", rotated=True,
                           box=(MARGIN - 2, label_y, MARGIN - 2 + turned[0], label_y + turned[1])))
        y += 14
    return Scene(int(page_width), int(y + MARGIN), figure.palette, tuple(chrome), tuple(panels), titles,
                 MARGIN + 44)


def write_sweep(outputs: Outputs, gold: GoldPath, runs: list, *, label: str, fps: float, gifs: bool,
                costs: Optional[np.ndarray] = None) -> None:
    """sweep.png (or .svg/.pdf): :func:`sweep_sheet`; sweep.csv and sweep.md: one row per run;
    with ``gifs`` every run's learning_paths GIF (``costs``, the gold's map, faintly under them all)."""
    outputs.still("sweep.png", [sweep_sheet(gold, runs, label, costs)])
    header = ["input_temperature", "target_temperature", "samples", "reached", "first_step_on_gold",
              "final_loss", "seconds"]
    rows = [[f"{run.input_temperature:g}", f"{run.target_temperature:g}", str(run.samples),
             "yes" if run.reached else "no", "" if run.first_step is None else str(run.first_step),
             f"{run.final_loss:.4f}", f"{run.seconds:.2f}"] for run in runs]
    outputs.text("sweep.csv", "\n".join(",".join(row) for row in [header] + rows) + "\n")
    table = [f"Sweep: {label}", "", "| " + " | ".join(header).replace("_", " ") + " |",
             "|" + "---|" * len(header)] + ["| " + " | ".join(cell or "-" for cell in row) + " |" for row in rows]
    outputs.text("sweep.md", "\n".join(table) + "\n")
    if gifs:
        for run in runs:
            figure_, frames = learning_path_frames(gold, run.result, sweep_label(run), costs=costs)
            name = f"learning_paths_in{run.input_temperature:g}_tgt{run.target_temperature:g}_s{run.samples}.gif"
            outputs.gif(name, frames, figure_.palette, fps, len(run.result.steps))
