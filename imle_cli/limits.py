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

#: Largest cost a map may hold, and the largest --min-cost/--max-cost: whole units stay exact in
#: float64 sums below 2**53, and a path's sum, its noise and the solver's bounds stay far from
#: overflow (beyond it: --rescale).
MAX_COST = 1e15

#: Largest noise scale, target step and alpha (temperatures, --beta, |--alpha|): beyond it the
#: noise or the step outweighs any cost by more than float64 can hold in a path's sum.
MAX_SCALE = 1e12

#: Most Sum-of-Gamma terms a draw (--iterations): the original uses 10, we 100 by default.
MAX_ITERATIONS = 10_000

#: Most draws a learning step (--samples in learn, --learn-samples).
MAX_STEP_SAMPLES = 100_000

#: Most Adam steps a learning run.
MAX_STEPS = 1_000_000

#: Most bytes of float64 working data an input may decode to (an array's values, an image's
#: channels, a CSV's numbers): peak memory stays under about 1 GB. 100 million cells as float64.
MAX_DECODED_BYTES = 800_000_000

#: Largest CSV file read: its text is parsed whole (about 20 bytes a number).
MAX_CSV_BYTES = 200_000_000
