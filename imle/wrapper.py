"""torch-imle's import path of the I-MLE estimator: ``from imle.wrapper import imle`` (the seed).

The estimator lives in `imle.estimators.imle`; this module keeps the seed's path working.
"""
from imle.estimators.imle import IMLE, imle

__all__ = ["imle", "IMLE"]
