"""The limits the tool keeps to, each a number in one place (light: ``imle-cli --help`` imports it).

Each is a budget that protects the user's machine or says a request is no longer a figure: past
it the user gets one line naming the option that raises or avoids it.
"""

#: Largest image (width x height) read without --max-pixels: checked from the header, before decoding.
MAX_PIXELS = 50_000_000

#: Most frames in one GIF: frames are streamed to disk, but each takes time to draw and space to
#: keep (see --max-gif-mb); beyond this a GIF is no figure anyone watches.
MAX_FRAMES = 2000

#: Most Sum-of-Gamma values the noise check draws (--draws x --k): 400 MB of float64.
MAX_NOISE_VALUES = 50_000_000

#: Most learning runs in one sweep.
MAX_SWEEP_RUNS = 1000

#: Most worker processes a command starts.
MAX_WORKERS = 256
