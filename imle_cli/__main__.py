"""``python -m imle_cli``: the console script, a Ctrl-C while it loads included."""
try:
    from imle_cli.main import run
except KeyboardInterrupt:  # before even the entry point was loaded (main.interrupted_while_loading's line)
    import os
    import sys

    sys.stderr.write("imle-cli: interrupted; nothing was written\n")
    sys.stderr.flush()
    os._exit(130)

run()
