"""How fast the studio answers, through its HTTP API on a real server (issue 23's targets: a click
to the new gold under 100 ms p95 on 16x16 and 128x128 maps; a settings change to every explore
panel with 50 samples on a 64x64 map under 300 ms p95; an idle server under 300 MB).

    python bench/studio.py --interactions 100

Starts `imle-cli studio MAP --port 0 --no-browser` for each map, reads the printed URL, and times
``--interactions`` requests one after the other, as a page sends them: a click is POST /api/gold
with the waypoints so far plus one random cell (three at most, then they start over); a settings
change is POST /api/explore with one setting moved, three ways: beta (the target's step: the
noise is the one drawn before, experiments.NoiseMemo), the input temperature (every panel
changes, the noise is still the one drawn before) and the seed (everything drawn anew: the
slowest). Prints p50 and p95 (the time the page waits for the answer; drawing it in the page is
a canvas redraw or an <img> swap, a few ms), and the server's resident memory when idle (VmRSS,
after start and one request).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from _report import Report, add_publish_option  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def start(args: list):
    process = subprocess.Popen([sys.executable, "-m", "imle_cli", "studio", *args, "--port", "0", "--no-browser"],
                               stdout=subprocess.PIPE, text=True, cwd=ROOT)
    url = re.search(r"http://\S+", process.stdout.readline()).group(0)
    return process, url


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Client:
    """A keep-alive HTTP client with TCP_NODELAY, as browsers and curl have it (without it, httpx and
    http.client write a POST's headers and body apart and the peer's delayed ACK adds 40 ms)."""

    def __init__(self, url: str):
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.connection.connect()
        # as browsers and curl do: no Nagle delay on the request's segments
        self.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.headers = {"Cookie": f"imle_studio_token={parts.query.split('token=')[1]}",
                        "Content-Type": "application/json"}

    def post(self, path: str, body: dict) -> int:
        self.connection.request("POST", path, body=json.dumps(body).encode(), headers=self.headers)
        response = self.connection.getresponse()
        response.read()
        return response.status


def percentiles(times: list) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return f"{statistics.median(ordered) * 1000:.0f} ms | {p95 * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int, default=100)
    add_publish_option(parser)
    args = parser.parse_args()
    report = Report("studio")
    rng = random.Random(0)
    rows = []
    explore_map = ("64x64 (assets/terrain.png --grid 64)", ["assets/terrain.png", "--grid", "64"], 64)
    moves = {"beta": lambda i: {"beta": 5 + i % 20},
             "input temperature": lambda i: {"input_temperature": 0.5 + i % 8 * 0.25},
             "seed": lambda i: {"seed": i + 1}}
    cases = [("click to gold", "16x16 (assets/map.png)", ["assets/map.png"], 16),
             ("click to gold", "128x128 (assets/terrain.png --grid 128)", ["assets/terrain.png", "--grid", "128"], 128),
             *((f"{name} moved: every explore panel, 50 samples", *explore_map) for name in moves)]
    for what, size, map_args, cells in cases:
        process, url = start(map_args)
        try:
            client = Client(url)
            client.post("/api/gold", {"waypoints": []})
            move = next((moves[name] for name in moves if what.startswith(name)), None)
            if move is not None:
                client.post("/api/explore", {"settings": {"samples": 50}})  # warm
            idle = resident_mb(process.pid)
            times, waypoints = [], []
            for i in range(args.interactions):
                if what.startswith("click"):
                    waypoints = [] if len(waypoints) == 3 else waypoints
                    cell = [rng.randrange(1, cells - 1), rng.randrange(1, cells - 1)]
                    started = time.perf_counter()
                    if client.post("/api/gold", {"waypoints": waypoints + [cell]}) == 200:
                        waypoints.append(cell)
                else:
                    started = time.perf_counter()
                    client.post("/api/explore", {"settings": {"samples": 50, **move(i)}})
                times.append(time.perf_counter() - started)
            rows.append(f"| {what} | {size} | {percentiles(times)} | {idle:.0f} MB |")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait()
    report.print(f"{args.interactions} interactions each, one after the other\n")
    report.print("| interaction | map | p50 | p95 | server memory, idle |\n|---|---|---|---|---|")
    report.print("\n".join(rows))
    report.save()


if __name__ == "__main__":
    main()
