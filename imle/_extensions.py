"""The compiled extensions, loaded in one place, or not at all.

``IMLE_NO_EXTENSIONS=1`` in the environment skips them: setup.py does not build them, and
`load` does not load them even where they are built, so the pure-Python grid solver and the
torch noise sampler run instead (same results; the noise has the same distribution). The test
suite runs in that mode too (CI), with the compiled-only tests skipped by their ``compiled``
marker.
"""
from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import Optional

#: True when IMLE_NO_EXTENSIONS asks for the pure-Python fallbacks.
DISABLED = os.environ.get("IMLE_NO_EXTENSIONS", "").strip() not in ("", "0")


def load(name: str) -> Optional[ModuleType]:
    """The compiled module ``name``, or None when disabled or not built."""
    if DISABLED:
        return None
    try:
        return importlib.import_module(name)
    except ImportError:  # built without a C compiler
        return None
