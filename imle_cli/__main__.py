"""``python -m imle_cli``: the console script, a Ctrl-C while it loads included."""
try:
    from imle_cli.main import run
except KeyboardInterrupt:  # before even the entry point was loaded
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stderr.write("imle-cli: interrupted; nothing was written\n")
    sys.exit(130)

run()
