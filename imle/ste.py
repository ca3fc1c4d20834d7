"""torch-adaptive-imle's import path ``from imle.ste import ste``; the estimator lives in
`imle.estimators.ste`."""
from imle.estimators.ste import NoisyStraightThrough, ste

__all__ = ["ste", "NoisyStraightThrough"]
