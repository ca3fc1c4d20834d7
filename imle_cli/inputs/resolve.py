"""A command's inputs, resolved once: the map and the gold paths, as one immutable object.

Which gold a command uses, in one place:

* ``--gold FILE``: that path (on the map's cell grid, or its own without a map);
* ``--gold-map FILE``: the shortest path on that other map (of the map's size);
* neither: for the gradients (``gradients``, ``compare``, ``all``) the flat map's shortest path
  (the diagonal on a square map, the gold of the torch-imle README's gradient figure); to learn
  (``learn``, ``sweep``: no map) the README map's winding shortest path, torch-imle's learning
  experiment; with a map (``all``, ``compare --learn``) that map's own shortest path.

Example:
    >>> inputs = resolve(map_path=None, needs_gold=True)
    >>> inputs.costs.shape, inputs.gold.length, inputs.gold.end, inputs.gold_source
    ((16, 16), 16, (15, 15), 'shortest path on a flat map')
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

from imle_cli.errors import UserError
from imle_cli.gold_path import GoldPath, solved
from imle_cli.inputs.gold import load_gold
from imle_cli.inputs.maps import load_map, readme_map
from imle_cli.specs import MapSpec


@dataclass(frozen=True)
class Inputs:
    """What a command works on: the cost map (None for commands without one) and the gold paths,
    read-only arrays, with the notices their reading gave."""

    costs: Optional[np.ndarray] = None       # [H, W] float64
    map_name: str = ""
    gold: Optional[GoldPath] = None        # the gold of the gradients
    gold_source: str = ""
    learn_gold: Optional[GoldPath] = None  # the gold to learn
    learn_gold_source: str = ""
    learn_costs: Optional[np.ndarray] = None  # the map shown faintly under the learned paths, if any
    notices: Tuple[str, ...] = field(default=())
    map_image: Optional[np.ndarray] = None   # RGB float32 [h, w, 3] of an image map, when asked for


def _frozen(array: Optional[np.ndarray]) -> Optional[np.ndarray]:
    if array is not None:
        array.setflags(write=False)
    return array


def _shortest_path(costs: np.ndarray, neighbourhood: int) -> GoldPath:
    """The corner-to-corner shortest path on ``costs`` (a default gold)."""
    from imle_cli.experiments import shortest_path

    return solved(shortest_path(costs, neighbourhood), neighbourhood)


def resolve(*, map_path: Optional[Path], map_spec: MapSpec = MapSpec(), gold: Optional[Path] = None,
            gold_map: Optional[Path] = None, invert: bool = False, neighbourhood: int = 8,
            needs_map: bool = True, needs_gold: bool = False, map_image: bool = False) -> Inputs:
    """The inputs a command's options name (module notes), read and checked once (with
    ``map_image``, an image map's colours too)."""
    map_options = asdict(map_spec)
    notices, costs, map_name, image = [], None, "", None
    if needs_map:
        loaded = load_map(map_path, **map_options, keep_image=map_image)
        notices += loaded.notices
        costs, map_name = loaded.costs, (Path(loaded.source).name if map_path else loaded.source)
        image = _frozen(loaded.image)
    if not needs_gold:
        return Inputs(_frozen(costs), map_name, notices=tuple(notices), map_image=image)
    # the map shown faintly under the learned paths: the command's map, else the one whose shortest
    # path the gold to learn is (--gold-map, the README map); none for a gold read on its own
    path, source, learn_costs = None, "", costs
    if gold is not None:
        read = load_gold(gold, None if costs is None else costs.shape, neighbourhood, invert=invert,
                         max_pixels=map_spec.max_pixels)
        notices += read.notices
        path, source = read.gold, Path(gold).name
    elif gold_map is not None:
        other = load_map(gold_map, **map_options)
        notices += other.notices
        if costs is not None and other.costs.shape != costs.shape:
            raise UserError(f"--gold-map {str(gold_map)!r} is {other.costs.shape[0]}x{other.costs.shape[1]} cells but "
                            f"the map is {costs.shape[0]}x{costs.shape[1]} cells; they must match")
        path, source = _shortest_path(other.costs, neighbourhood), f"shortest path on {Path(gold_map).name}"
        learn_costs = other.costs if costs is None else costs
    elif costs is not None:
        path, source = _shortest_path(np.ones(costs.shape), neighbourhood), "shortest path on a flat map"
    if gold is not None or gold_map is not None:
        learn, learn_source = path, source
    elif costs is not None:
        learn, learn_source = _shortest_path(costs, neighbourhood), f"shortest path on {map_name}"
    else:
        learn_costs = readme_map()
        learn, learn_source = _shortest_path(learn_costs, neighbourhood), "shortest path on the README map"
    if path is None:
        path, source = learn, learn_source
    return Inputs(costs=_frozen(costs), map_name=map_name, gold=path, gold_source=source, learn_gold=learn,
                  learn_gold_source=learn_source, learn_costs=_frozen(learn_costs), notices=tuple(notices),
                  map_image=image)
