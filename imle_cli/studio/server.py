"""The studio's HTTP side: a Starlette app over one :class:`~imle_cli.studio.session.Session`.

Starlette (on uvicorn) because the studio needs little: a few JSON routes, static files, a
server-sent event stream for the learning loop, a middleware for the token, and a test client
that runs the app in process; FastAPI would add validation models the option table already is.

Security: every request carries the token (``?token=`` once, then a cookie), compared in constant
time; the page is served with a strict content security policy; uploads are bounded in bytes and
decoded with the CLI's loaders; no route reads a path named in a request; errors are one line of
JSON. One computation at a time: a new explore request supersedes those still waiting, and a
result that was superseded while it ran is dropped (answered ``{"superseded": true}``).
"""
from __future__ import annotations

import asyncio
import hmac
from dataclasses import asdict
import json
import os
import tempfile
import threading
from importlib import resources
from pathlib import Path
from imle_cli.errors import UserError
from imle_cli.studio.session import Session, error_json, gold_json

#: The largest map upload, in bytes (its pixels are bounded by --max-pixels as for any map).
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
COOKIE = "imle_studio_token"
STATIC = {"studio.js": "text/javascript", "studio.css": "text/css", "index.html": "text/html"}
POLICY = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; object-src 'none'"


class Latest:
    """One computation at a time; of the requests waiting, only the newest runs."""

    def __init__(self) -> None:
        self.newest = 0
        self.lock = asyncio.Lock()

    async def run(self, work):
        """(True, the result of ``work()`` in a thread) or (False, None) when a newer request came first."""
        from starlette.concurrency import run_in_threadpool

        self.newest += 1
        ticket = self.newest
        async with self.lock:
            if ticket != self.newest:
                return False, None
            result = await run_in_threadpool(work)
        return ticket == self.newest, result


class Guard:
    """ASGI middleware: the token on every request (``?token=`` or the cookie, compared in constant
    time), and every error one line of JSON (a UserError 400, anything else 500), never a
    traceback. Pure ASGI: responses pass through untouched (no extra task per request)."""

    def __init__(self, app, token: str):
        self.app, self.token = app, token.encode()

    async def __call__(self, scope, receive, send):
        from starlette.requests import Request
        from starlette.responses import JSONResponse

        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        given = request.query_params.get("token") or request.cookies.get(COOKIE) or ""
        if not hmac.compare_digest(given.encode(), self.token):
            response = JSONResponse({"error": "this studio needs its token: open the URL imle-cli studio printed"},
                                    status_code=403)
            return await response(scope, receive, send)
        started = False

        async def sending(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # a UserError is the user's; anything else never shows a traceback
            if started:
                raise
            status = 400 if isinstance(error, UserError) else 500
            await JSONResponse(error_json(error), status_code=status)(scope, receive, send)


def static_bytes(name: str) -> bytes:
    return resources.files("imle_cli.studio").joinpath("static").joinpath(name).read_bytes()


def create_app(session: Session, token: str, gold=None):
    """The ASGI app for ``session``; ``token`` guards every request; ``gold`` an initial GoldPath."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    state = {"session": session, "gold": gold, "request": session.editable(gold) if gold is not None else {},
             "stop": threading.Event()}
    explore_slot, learn_lock = Latest(), threading.Lock()

    def refused(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    async def body(request: Request) -> dict:
        try:
            value = json.loads(await request.body() or b"{}")
        except ValueError:
            raise UserError("the request is not JSON") from None
        if not isinstance(value, dict):
            raise UserError("the request must be a JSON object")
        return value

    def current_gold():
        if state["gold"] is None:
            state["gold"] = state["session"].gold({})
        return state["gold"]

    async def index(request: Request) -> Response:
        response = Response(static_bytes("index.html"), media_type="text/html",
                            headers={"Content-Security-Policy": POLICY, "Cache-Control": "no-store"})
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        if name not in STATIC:
            return refused(404, f"no such file {name!r}")
        return Response(static_bytes(name), media_type=STATIC[name])

    async def map_route(request: Request) -> Response:
        data = state["session"].map_json()
        gold_now = current_gold()
        data["gold"] = gold_json(gold_now, state["session"].annotate_command(state["request"]), state["request"])
        data["map_args"] = state["session"].map_args
        return JSONResponse(data)

    async def gold_route(request: Request) -> Response:
        wanted = await body(request)
        gold_now = state["session"].gold(wanted)
        state["gold"], state["request"] = gold_now, wanted
        return JSONResponse(gold_json(gold_now, state["session"].annotate_command(wanted), wanted))

    async def drawing(request: Request) -> Response:
        points = (await body(request)).get("points")
        gold_now = state["session"].drawing(points)
        # the stroke's gold as waypoints, editable as any other (and the --via command that gives it)
        state["gold"], state["request"] = gold_now, state["session"].editable(gold_now)
        return JSONResponse(gold_json(gold_now, state["session"].annotate_command(state["request"]), state["request"]))

    async def gold_file(request: Request) -> Response:
        from imle_cli.inputs.gold import gold_files

        name = request.path_params["name"]
        files = gold_files(current_gold(), state["session"].neighbourhood)
        if name not in files:
            return refused(404, f"no such file {name!r}; the gold files are {', '.join(files)}")
        return Response(files[name], media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    async def explore(request: Request) -> Response:
        settings = (await body(request)).get("settings", {})
        gold_now = current_gold()
        latest, result = await explore_slot.run(lambda: state["session"].explore(gold_now, settings))
        return JSONResponse(result if latest else {"superseded": True})

    async def export(request: Request) -> Response:
        wanted = await body(request)
        figure, fmt = str(wanted.get("figure", "gradients")), str(wanted.get("format", "png"))
        gold_now = current_gold()
        latest, content = await explore_slot.run(
            lambda: state["session"].export(figure, gold_now, wanted.get("settings", {}), fmt))
        if not latest:
            return JSONResponse({"superseded": True}, status_code=409)
        media = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}[fmt]
        return Response(content, media_type=media,
                        headers={"Content-Disposition": f'attachment; filename="{figure}.{fmt}"'})

    async def learn(request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        try:
            settings = json.loads(request.query_params.get("settings", "{}"))
        except ValueError:
            raise UserError("settings must be JSON") from None
        if not learn_lock.acquire(blocking=False):
            return refused(409, "a learning run is already going; stop it first")
        state["stop"].clear()
        queue: asyncio.Queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        gold_now = current_gold()

        def emit(message: dict) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, ("snapshot", message))

        def work() -> None:
            try:
                done = state["session"].learn(gold_now, settings, emit, state["stop"].is_set)
                loop.call_soon_threadsafe(queue.put_nowait, ("done", done))
            except UserError as error:
                loop.call_soon_threadsafe(queue.put_nowait, ("error", error_json(error)))
            except Exception as error:  # never a traceback to the page
                loop.call_soon_threadsafe(queue.put_nowait, ("error", error_json(error)))
            finally:
                learn_lock.release()

        async def events():
            task = asyncio.ensure_future(run_in_threadpool(work))
            try:
                while True:
                    kind, message = await queue.get()
                    yield f"event: {kind}\ndata: {json.dumps(message)}\n\n"
                    if kind != "snapshot":
                        break
            finally:
                state["stop"].set()  # the page went away: end the run
                await task

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})

    async def stop(request: Request) -> Response:
        state["stop"].set()
        return JSONResponse({"stopped": True})

    async def upload(request: Request) -> Response:
        from imle_cli.inputs.maps import load_map

        size = int(request.headers.get("content-length") or 0)
        if size > MAX_UPLOAD_BYTES:
            return refused(413, f"the map is {size:,} bytes, above the studio's limit of {MAX_UPLOAD_BYTES:,}")
        chunks, received = [], 0
        async for chunk in request.stream():  # a list joined once: += would copy the upload per chunk
            chunks.append(chunk)
            received += len(chunk)
            if received > MAX_UPLOAD_BYTES:
                return refused(413, f"the map is above the studio's limit of {MAX_UPLOAD_BYTES:,} bytes")
        content = b"".join(chunks)
        name = Path(request.query_params.get("name", "upload.png")).name or "upload.png"
        suffix = Path(name).suffix.lower()
        if suffix not in (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".npy", ".npz", ".csv"):
            raise UserError(f"MAP {name!r} is not a map file (an image, or a .npy, .npz or .csv array)")
        old = state["session"]
        handle, path = tempfile.mkstemp(suffix=suffix, prefix=".imle-studio-upload.")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            loaded = load_map(Path(path), **asdict(old.settings.map_spec))
        finally:
            os.unlink(path)
        state["session"] = Session(loaded.costs, name, [name], old.settings)
        state["gold"], state["request"] = None, {}
        return await map_route(request)

    async def favicon(request: Request) -> Response:
        return Response(status_code=204)

    routes = [Route("/", index), Route("/favicon.ico", favicon), Route("/static/{name}", static), Route("/api/map", map_route),
              Route("/api/map", upload, methods=["POST"]), Route("/api/gold", gold_route, methods=["POST"]),
              Route("/api/drawing", drawing, methods=["POST"]),
              Route("/api/explore", explore, methods=["POST"]), Route("/api/export", export, methods=["POST"]),
              Route("/api/learn", learn), Route("/api/learn/stop", stop, methods=["POST"]),
              Route("/api/{name:str}", gold_file, methods=["GET"])]  # gold.png, gold.npy, gold.json
    return Starlette(routes=routes, middleware=[Middleware(Guard, token=token)])


def bind(host: str, port: int):
    """A listening socket on (host, port) (any free port for 0) for the server, or a UserError
    naming a busy port: bound here, before the server starts, so nothing can take it between."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say so, and without it Nagle
    # holds the body of every response after the first on a kept-alive connection for the
    # client's delayed ACK (40 ms a request)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        raise UserError(f"--port {port} on {host} is not free ({error.strerror}); choose another port, or "
                        "--port 0 for any free one") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock
