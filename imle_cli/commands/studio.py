"""``imle-cli studio``: annotate and explore I-MLE on a map, live, in the browser."""
from __future__ import annotations

from imle_cli.commands._app import app
from imle_cli.commands._declare import command
from imle_cli.options import MAP_OPTIONS, OPTIONS, Settings


def serve(s: Settings) -> None:
    """Read MAP (and --gold) as every command does, bind the port, print the URL, serve until
    Ctrl-C or SIGTERM (which end it as they end every command: exit 130 / 143)."""
    import secrets
    import sys
    import webbrowser

    import uvicorn

    from imle_cli.inputs.resolve import resolve
    from imle_cli.reporting import Reporter
    from imle_cli.studio.server import bind, create_app
    from imle_cli.studio.session import Session

    reporter = Reporter(False)
    inputs = resolve(map_path=s.map_path, map_spec=s.map_spec, gold=s.gold, invert=s.invert,
                     neighbourhood=s.neighbourhood, needs_gold=s.gold is not None)
    for text in inputs.notices:
        reporter.notice(text)
    map_args = [str(s.map_path)] if s.map_path is not None else []
    for name in ("grid", "min_cost", "max_cost", "key"):  # the map options that differ from their defaults
        value, option = getattr(s, name), OPTIONS[name]
        if value is not None and value != option.default:
            map_args += [option.flag, f"{value:g}" if isinstance(value, float) else str(value)]
    map_args += ["--rescale"] if s.rescale else []
    map_args += ["--neighbourhood", "4"] if s.neighbourhood == 4 else []
    session = Session(inputs.costs, inputs.map_name, map_args, s)
    sock = bind(s.host, s.port)
    token = secrets.token_urlsafe(24)
    host = f"[{s.host}]" if ":" in s.host else s.host
    url = f"http://{host}:{sock.getsockname()[1]}/?token={token}"
    if s.host not in ("127.0.0.1", "localhost", "::1"):
        reporter.notice(f"--host {s.host}: the studio is reachable from other machines (the token guards it)")
    config = uvicorn.Config(create_app(session, token, inputs.gold), log_level="warning", lifespan="off",
                            access_log=False)
    server = uvicorn.Server(config)
    print(f"imle-cli studio: {url}", flush=True)
    if s.browser:
        webbrowser.open(url)
    try:
        server.run(sockets=[sock])  # uvicorn re-raises the signal that stopped it, once it has shut down
    finally:
        sock.close()
    if server.should_exit and not server.started:
        sys.exit(2)


@command(app, "studio", f"map_path gold invert host port browser neighbourhood seed {MAP_OPTIONS}")
def studio(s: Settings) -> None:
    """Annotate and explore I-MLE on a map, live, in a web browser (a local web app, like TensorBoard).

    \b
    Prints a URL with a token; open it (over SSH: ssh -L 8765:127.0.0.1:8765 HOST,
    then open the printed URL on your machine). Click cells to add waypoints; the
    gold is recomputed as annotate --via would; move the settings and watch the
    sampled paths, I-MLE's target and its gradient; learn the gold step by step.
        imle-cli studio assets/map.png
        imle-cli studio assets/terrain.png --grid 64 --port 0 --no-browser
    Ctrl-C (or SIGTERM) stops it.
    """
    serve(s)
