"""torch-adaptive-imle's import path ``from imle.sfe import sfe``; it lives in
`imle.estimators.ste` (it is ``ste`` with one sample: see there)."""
from imle.estimators.ste import sfe

__all__ = ["sfe"]
