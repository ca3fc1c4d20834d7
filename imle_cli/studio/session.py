"""What the studio computes, without HTTP: the map, the gold from clicked waypoints, the explore
panels and the learning loop, each through the same core the commands call (imle_cli.annotation,
imle_cli.experiments, imle_cli.figures, imle_cli.render); the server only moves their results.

Example:
    >>> from imle_cli.inputs import readme_map
    >>> session = Session(readme_map(), "built-in README map", [], base_settings())
    >>> gold = session.gold({"waypoints": [[6, 14]]})
    >>> gold.length, gold.start, gold.end
    (50, (0, 0), (15, 15))
"""
from __future__ import annotations

import base64
import enum
import shlex
import typing
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence

import numpy as np

from imle_cli.errors import UserError
from imle_cli.gold_path import GoldPath
from imle_cli.options import OPTIONS, Settings, check_together

#: The settings a page may change, by the names of the options they are (checked by the same rules).
EXPLORE_SETTINGS = ("noise", "k", "iterations", "samples", "input_temperature", "target_temperature", "alpha", "beta",
                    "estimator", "seed")
LEARN_SETTINGS = EXPLORE_SETTINGS + ("steps", "lr", "every", "patience")
#: Sampled paths shown over the map in the explore view.
SHOWN_PATHS = 4


def base_settings(**values: Any) -> Settings:
    """Every option at its default, with ``values`` (already checked settings) in place."""
    defaults = {name: option.default for name, option in OPTIONS.items()}
    defaults.update(values)
    return Settings(**defaults, given=frozenset(values))


def _coerced(name: str, value: Any) -> Any:
    """A JSON value -> the type the option's command-line reader gives (then its rules check it)."""
    option = OPTIONS[name]
    kind = next((k for k in typing.get_args(option.type) if k is not type(None)), option.type)  # Optional[X]: X
    is_choice = isinstance(kind, type) and issubclass(kind, enum.Enum)
    try:
        if is_choice:
            return kind(value)
        if value is None:
            return None
        if kind is int and not isinstance(value, bool):
            if float(value) != int(float(value)):
                raise ValueError
            return int(float(value))
        if kind is float:
            return float(value)
    except (TypeError, ValueError):
        if is_choice:
            raise UserError(f"{option.flag} must be one of {', '.join(m.value for m in kind)}, got {value!r}") from None
        raise UserError(f"{option.flag} must be a number, got {value!r}") from None
    return value


def settings_from(base: Settings, values: Dict[str, Any], allowed: Sequence[str]) -> Settings:
    """``base`` with the page's ``values`` (option names of ``allowed``), each checked by its
    option's own rules and then together, as on the command line."""
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise UserError(f"unknown setting {unknown[0]!r}; the settings are {', '.join(allowed)}")
    checked = {name: OPTIONS[name].setting(_coerced(name, value)) for name, value in values.items()}
    settings = replace(base, **checked, given=base.given | frozenset(checked))
    check_together(settings)
    return settings


def png_data(content: bytes) -> str:
    """A data: URL of PNG bytes (an <img> source)."""
    return "data:image/png;base64," + base64.b64encode(content).decode()


@dataclass
class Session:
    """One map in the studio, with the command-line settings it was opened with."""

    costs: np.ndarray   # [H, W] float64, read-only
    map_name: str
    map_args: List[str]  # the CLI arguments that read this map ('assets/map.png --grid 32'), for the commands shown
    settings: Settings
    #: the explore view's last noise draws (experiments.NoiseMemo): a slider that leaves the noise as
    #: it was (beta, the temperatures, the estimator) does not draw it again
    noise_memo: Any = field(default=None, repr=False, compare=False)

    @property
    def neighbourhood(self) -> int:
        return self.settings.neighbourhood

    def map_json(self) -> dict:
        """The map for the page: its costs and the colours the CLI's cost figures use."""
        from imle_cli import figures

        from imle_cli.render import palette

        figure = figures.cost_figure(self.costs)
        rows, cols = self.costs.shape
        return {"name": self.map_name, "rows": rows, "cols": cols, "costs": self.costs.round(6).tolist(),
                "levels": (palette.levels(self.costs, figure.vmin, figure.vmax) - palette.CMAP_START).tolist(),
                "vmin": figure.vmin, "vmax": figure.vmax, "colours": figure.colours.tolist(),
                "label": figures.COST_LABEL}

    def cell(self, value: Any, what: str):
        """[row, col] from the page -> a cell of the map (the same check as --via)."""
        from imle_cli.annotation import parse_cell

        if not (isinstance(value, (list, tuple)) and len(value) == 2):
            raise UserError(f"{what} must be [row, col], got {value!r}")
        return parse_cell(f"{value[0]},{value[1]}", self.costs.shape, what)

    def gold(self, request: dict) -> GoldPath:
        """The gold for the page's waypoints and ends: exactly ``imle-cli annotate --via``."""
        from imle_cli.annotation import waypoint_path

        waypoints = [self.cell(point, "--via") for point in request.get("waypoints", [])]
        start = self.cell(request["start"], "--start") if request.get("start") is not None else None
        end = self.cell(request["end"], "--end") if request.get("end") is not None else None
        routed = np.ones(self.costs.shape) if request.get("flat") else self.costs
        return waypoint_path(routed, waypoints, self.neighbourhood, start=start, end=end)

    def drawing(self, points: Any) -> GoldPath:
        """The gold for a freehand stroke ([[row, col], ...] in cell units, as drawn over the map):
        the stroke drawn as a pen 8 pixels a cell, then read as ``annotate --drawing`` reads one."""
        from PIL import Image, ImageDraw

        from imle_cli import annotation

        try:
            stroke = [(float(r), float(c)) for r, c in points]
        except (TypeError, ValueError):
            raise UserError("the stroke must be a list of [row, col] points") from None
        if len(stroke) < 2:
            raise UserError("the stroke has fewer than two points: drag to draw a line")
        rows, cols = self.costs.shape
        pen = Image.new("L", (cols * 8, rows * 8), 0)
        ImageDraw.Draw(pen).line([(c * 8, r * 8) for r, c in stroke], fill=255, width=4, joint="curve")
        cells = annotation.stroke_cells(np.asarray(pen) > 127, self.costs.shape)
        return annotation.drawing_path(cells, self.neighbourhood, costs=self.costs).gold

    def editable(self, gold: GoldPath) -> dict:
        """The page's request that gives ``gold`` again: its waypoints (annotation.waypoints_along)
        and its ends where they are not the corners, so a gold read with --gold or drawn can be
        edited waypoint by waypoint."""
        from imle_cli.annotation import waypoints_along

        rows, cols = self.costs.shape
        request: Dict[str, Any] = {"waypoints": [list(cell) for cell in waypoints_along(self.costs, gold,
                                                                                          self.neighbourhood)]}
        for key, corner in (("start", (0, 0)), ("end", (rows - 1, cols - 1))):
            if getattr(gold, key) != corner:
                request[key] = list(getattr(gold, key))
        return request

    def annotate_command(self, request: dict) -> str:
        """The imle-cli command that writes the same gold."""
        words = ["imle-cli", "annotate", *self.map_args]
        for point in request.get("waypoints", []):
            words += ["--via", f"{point[0]},{point[1]}"]
        for key in ("start", "end"):
            if request.get(key) is not None:
                words += [f"--{key}", f"{request[key][0]},{request[key][1]}"]
        if request.get("flat"):
            words.append("--flat")
        return shlex.join(words)

    def explore(self, gold: GoldPath, values: Dict[str, Any]) -> dict:
        """The explore panels for these settings: sampled paths and the share of draws through
        each cell (``imle-cli sample``), I-MLE's mechanism for one draw and the mean gradient
        against the gold (``imle-cli gradients``), as PNGs drawn by the CLI's renderer."""
        from imle_cli import experiments, figures
        from imle_cli.render.outputs import still_bytes

        s = settings_from(self.settings, values, EXPLORE_SETTINGS)
        axes = max(self.costs.shape) <= 64
        if self.noise_memo is None:
            self.noise_memo = experiments.NoiseMemo()
        gradients = experiments.imle_gradients(self.costs, gold, _gradient_spec(s), memo=self.noise_memo)
        # the gradient's own forward draws are the sampled paths: the same noise, seed and
        # temperature give what `imle-cli sample --temperature INPUT_TEMPERATURE` draws (tested)
        sample = experiments.SampleResult(gradients.paths, experiments.shortest_path(
            self.costs, self.neighbourhood, **gold.ends), gradients.noise)
        label = f"{sample.noise.label}, temperature {s.input_temperature:g}"
        paths = figures.sample_figures(self.costs, axes)[0]  # as `sample` draws paths.gif
        shown = [paths.scene(self.costs, overlay=path, title=f"draw {i + 1} of {s.samples}", subtitle=label)
                 for i, path in enumerate(sample.paths[:SHOWN_PATHS])]
        stills = {"paths": (shown, 2),
                  "distribution": ([figures.distribution_scene(self.costs, sample, label, axes)], 1),
                  "gradient": ([figures.gradient_scene(gradients, self.costs, gold, axes)], 1)}
        if s.estimator.value == "imle":
            stills["mechanism"] = ([figures.mechanism_scene(figures.mechanism_figure(self.costs, axes), gradients,
                                                            self.costs, gold)], 1)
        panels = {name: png_data(still_bytes(scenes, columns, quick=True)) for name, (scenes, columns) in stills.items()}
        mean = gradients.mean
        return {"panels": panels,
                "numbers": {"cheaper": int((mean > 0).sum()), "dearer": int((mean < 0).sum()),
                            "share_on_unperturbed": float((sample.paths == sample.unperturbed).all(axis=(1, 2)).mean()),
                            "k": sample.noise.k},
                "commands": {"sample": (self.command("sample", replace(s, temperature=s.input_temperature),
                                                     ("noise", "k", "iterations", "temperature", "samples", "seed"))
                                        if gold.corner_to_corner else ""),
                             "gradients": self.command("gradients", s, EXPLORE_SETTINGS, gold=True)}}

    def command(self, name: str, s: Settings, names: Sequence[str], gold: bool = False, with_map: bool = True,
                defaults: Optional[Dict[str, Any]] = None) -> str:
        """The imle-cli command that writes the same figure: the map (unless the command takes
        none), the gold and the settings that differ from that command's defaults (``defaults``
        where they are not the option table's)."""
        words = ["imle-cli", name, *(self.map_args if with_map else [])] + (["--gold", "gold.png"] if gold else [])
        for key in names:
            value = getattr(s, key)
            if value == (defaults or {}).get(key, OPTIONS[key].default) or value is None:
                continue
            shown = value.value if isinstance(value, enum.Enum) else f"{value:g}" if isinstance(value, float) else value
            words += [OPTIONS[key].flag, str(shown)]
        return shlex.join(words)

    def export(self, figure: str, gold: GoldPath, values: Dict[str, Any], fmt: str) -> bytes:
        """A figure as the command writes it (PNG bytes identical): gradients.png, distribution.png,
        mechanism.png, in ``fmt`` (png, svg, pdf)."""
        from imle_cli import experiments, figures
        from imle_cli.render.outputs import still_bytes

        s = settings_from(self.settings, values, EXPLORE_SETTINGS)
        if fmt not in ("png", "svg", "pdf"):
            raise UserError(f"--format must be png, svg or pdf, got {fmt!r}")
        axes = max(self.costs.shape) <= 64
        if figure == "distribution":  # as `imle-cli sample --temperature INPUT_TEMPERATURE` writes it
            sample = experiments.sample_paths(self.costs, _sample_spec(replace(s, temperature=s.input_temperature)))
            scenes = [figures.distribution_scene(self.costs, sample, f"{sample.noise.label}, temperature "
                                                                     f"{s.input_temperature:g}", axes)]
        elif figure in ("gradients", "mechanism"):
            result = experiments.imle_gradients(self.costs, gold, _gradient_spec(s))
            scenes = ([figures.gradient_scene(result, self.costs, gold, axes)] if figure == "gradients"
                      else [figures.mechanism_scene(figures.mechanism_figure(self.costs, axes), result, self.costs,
                                                    gold)])
        else:
            raise UserError(f"unknown figure {figure!r}; the figures are distribution, gradients, mechanism")
        return still_bytes(scenes, columns=len(scenes), fmt=fmt, dpi=s.dpi)

    def learn(self, gold: GoldPath, values: Dict[str, Any], emit: Callable[[dict], None],
              stopped: Callable[[], bool]) -> dict:
        """The learning loop from the gold (``imle-cli learn``), ``emit``-ting every snapshot (its
        step, the learned map's shortest path, the costs and the losses so far); ends when
        ``stopped()``, or as ``learn`` ends: ``--patience`` steps after the learned path has
        become the gold and stayed so."""
        from imle_cli import experiments

        from imle_cli.commands.learn import LEARNING_DEFAULTS

        s = settings_from(self.settings, {**LEARNING_DEFAULTS, **values}, LEARN_SETTINGS)
        spec = experiments.LearnSpec(s.steps, s.lr, s.samples, s.estimator_spec, every=s.every,
                                     solver=s.solver_spec, seed=s.seed, patience=s.patience)

        def snapshot(step: int, costs: np.ndarray, path: np.ndarray, losses: np.ndarray) -> bool:
            emit({"step": step, "path": path.astype(int).tolist(), "costs": costs.round(4).tolist(),
                  "losses": losses.round(4).tolist(), "on_gold": bool((path == gold.mask).all())})
            return stopped()

        result = experiments.learn_map(gold, spec, snapshot=snapshot)
        if result.stopped_early:  # the last snapshot, where the patience rule ended the run
            emit({"step": int(result.steps[-1]), "path": result.final_path.astype(int).tolist(),
                  "costs": result.weights[-1].round(4).tolist(), "losses": result.losses.round(4).tolist(),
                  "on_gold": result.final_distance == 0})
        return {"steps": int(len(result.losses)), "reached": result.learned_at,
                "final_distance": result.final_distance,
                "command": self.command("learn", s, ("steps", "lr", "samples", "every", "patience", "estimator",
                                                     "noise", "k", "input_temperature", "target_temperature", "alpha",
                                                     "beta", "seed"), gold=True, with_map=False,
                                        defaults=LEARNING_DEFAULTS)}


def _sample_spec(s: Settings):
    from imle_cli.specs import SampleSpec

    return SampleSpec(s.samples, s.noise_spec, s.temperature, s.solver_spec, s.seed)


def _gradient_spec(s: Settings):
    from imle_cli.specs import GradientSpec

    return GradientSpec(s.samples, s.estimator_spec, s.solver_spec, s.seed)


def gold_json(gold: GoldPath, command: str, request: dict) -> dict:
    """A gold for the page: its cells in order, its ends, the waypoints and ends that give it
    (``request``, as the page sends them) and the command that writes it."""
    return {"cells": [list(cell) for cell in gold.cells], "start": list(gold.start), "end": list(gold.end),
            "length": gold.length, "command": command,
            "request": {"waypoints": request.get("waypoints", []), "start": request.get("start"),
                        "end": request.get("end")}}


def error_json(error: Exception) -> dict:
    """One line for the page: a UserError's message as the CLI prints it."""
    return {"error": str(error).splitlines()[0] if str(error) else type(error).__name__}


