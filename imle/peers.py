"""The peer estimators' import path, ``from imle.peers import blackbox, perturbed, ...``; they
live in `imle.estimators.peers`."""
from imle.estimators.peers import NOISES, PeerLayer, blackbox, perturbed, score_function, straight_through

__all__ = ["blackbox", "perturbed", "straight_through", "score_function", "PeerLayer", "NOISES"]
