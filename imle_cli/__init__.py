"""imle-cli: I-MLE on maps, from the command line (sample paths, gradients, learning).

The package imports nothing heavy at import time: torch, matplotlib and imageio are imported
inside the commands, so ``imle-cli --help`` answers at once.
"""
__version__ = "0.1.0"
