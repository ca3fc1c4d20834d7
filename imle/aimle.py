"""torch-adaptive-imle's import path ``from imle.aimle import aimle``; the estimator lives in
`imle.estimators.aimle`."""
from imle.estimators.aimle import aimle

__all__ = ["aimle"]
