"""Argument checks, in one place: every public function and class of the library checks its
numbers, flags and generators here, with the same messages.

A number may be any real number type: a Python int or float, a numpy scalar (``np.float32(1.0)``,
``np.int64(16)``) or a 0-d tensor (``torch.tensor(10.0)``); it comes back as a Python float (or
int). Booleans are refused where a number is meant.

Examples:
    >>> import numpy as np, torch
    >>> real("beta", torch.tensor(10.0)), integer("nb_samples", np.int64(4))
    (10.0, 4)
"""
from __future__ import annotations

import math
import numbers
from typing import Optional

import torch


def _plain(name: str, value: object) -> object:
    """A 0-d tensor or numpy scalar as the Python number it holds."""
    if isinstance(value, torch.Tensor):
        if value.dim() != 0:
            raise TypeError(f"{name} must be a number, got a tensor of shape {tuple(value.shape)}")
        value = value.item()
    elif hasattr(value, "item") and hasattr(value, "dtype") and getattr(value, "shape", None) == ():
        value = value.item()  # a numpy scalar or 0-d array
    return value


def real(name: str, value: object, *, minimum: Optional[float] = None, positive: bool = False) -> float:
    """A finite real number (>= minimum; > 0 with positive)."""
    value = _plain(name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    value = float(value)
    wanted = ("a positive finite number" if positive else
              f"a finite number >= {minimum:g}" if minimum is not None else "finite")
    if not math.isfinite(value) or (positive and value <= 0) or (minimum is not None and value < minimum):
        raise ValueError(f"{name} must be {wanted}, got {value!r}")
    return value


def integer(name: str, value: object, *, minimum: int = 1) -> int:
    """A whole number >= minimum, of an integer type (a numpy integer or an integer 0-d tensor
    too; not a float, even 2.0: a count given as a float is most likely a mistake)."""
    value = _plain(name, value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def solver_batch(name: str, value: object, dims: int, *, width: Optional[int] = None,
                 per: str = "") -> torch.Tensor:
    """A solver's input: a floating tensor of ``dims`` dimensions ([N, ...]; [N, width] when a
    width is given, ``per`` saying what one column is), every value finite."""
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        raise TypeError(f"{name} must be a floating torch.Tensor, got {type(value).__name__}")
    if width is not None and (value.dim() != 2 or value.shape[1] != width):
        raise ValueError(f"{name} must be [N, {width}] ({per}), got {tuple(value.shape)}")
    if value.dim() != dims:
        raise ValueError(f"{name} must have {dims} dimensions ([N, ...]), got shape {tuple(value.shape)}")
    if not torch.isfinite(value).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return value


def generator(value: object) -> Optional[torch.Generator]:
    if value is not None and not isinstance(value, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator, got {type(value).__name__}")
    return value
