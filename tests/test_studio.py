"""imle-cli studio: the API in process (Starlette's TestClient), the command with real signals and
ports, and the page in a real browser (Playwright driving Debian's chromium)."""
import io
import json
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from helpers import with_ctrl_c
from imle_cli import experiments
from imle_cli.gold_path import solved
from imle_cli.inputs import readme_map
from imle_cli.main import app as cli
from imle_cli.specs import EstimatorSpec, GradientSpec, NoiseSpec, SampleSpec
from imle_cli.studio.server import create_app
from imle_cli.studio.session import Session, base_settings

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TOKEN = "t0ken-for-tests"


@pytest.fixture
def client():
    from starlette.testclient import TestClient

    session = Session(readme_map(), "built-in README map", [], base_settings())
    with TestClient(create_app(session, TOKEN)) as test_client:
        test_client.get(f"/?token={TOKEN}")  # the first visit sets the cookie
        yield test_client


def annotate_files(tmp_path, *args):
    result = CliRunner().invoke(cli, ["annotate", *map(str, args), "--out", str(tmp_path / "cli"), "--quiet"])
    assert result.exit_code == 0, result.stderr
    return {name: (tmp_path / "cli" / name).read_bytes() for name in ("gold.png", "gold.npy", "gold.json")}


def test_the_token_is_required_on_every_request():
    from starlette.testclient import TestClient

    session = Session(readme_map(), "built-in README map", [], base_settings())
    with TestClient(create_app(session, TOKEN)) as anonymous:
        for path in ("/", "/api/map", "/api/gold.npy", "/static/studio.js"):
            response = anonymous.get(path)
            assert response.status_code == 403 and "token" in response.json()["error"]
        assert anonymous.get("/?token=wrong").status_code == 403
        page = anonymous.get(f"/?token={TOKEN}")
        assert page.status_code == 200 and "canvas id=\"map\"" in page.text
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert anonymous.get("/api/map").status_code == 200  # the cookie from then on


def test_the_gold_for_waypoints_is_annotate_via_byte_for_byte(client, tmp_path):
    answer = client.post("/api/gold", json={"waypoints": [[6, 14], [12, 0]]}).json()
    assert answer["command"] == "imle-cli annotate --via 6,14 --via 12,0"
    written = annotate_files(tmp_path, "--via", "6,14", "--via", "12,0")
    for name, content in written.items():
        assert client.get(f"/api/{name}").content == content, name
    mask = np.load(io.BytesIO(client.get("/api/gold.npy").content))
    assert [tuple(cell) for cell in answer["cells"]] == list(solved(mask, 8).cells) or mask.sum() == answer["length"]


def test_the_gold_with_ends_is_annotate_start_end(client, tmp_path):
    answer = client.post("/api/gold", json={"start": [0, 15], "end": [15, 0], "waypoints": []}).json()
    assert (answer["start"], answer["end"]) == ([0, 15], [15, 0])
    written = annotate_files(tmp_path, "--start", "0,15", "--end", "15,0")
    assert client.get("/api/gold.json").content == written["gold.json"]


def test_the_mechanisms_target_is_a_path_and_reaches_the_gold_with_a_big_step():
    # y' = y + dL/d cost for the "imle" estimator: a 0/1 path between the gold's ends; with no
    # noise and a big beta the target is the gold itself
    from imle_cli.gold_path import check_path

    costs = readme_map()
    gold = Session(costs, "", [], base_settings()).gold({"start": [0, 15], "end": [15, 0]})
    for estimator, expect_gold in ((EstimatorSpec(beta=10.0), False),
                                   (EstimatorSpec(beta=1000.0, input_temperature=0.0, target_temperature=0.0), True)):
        result = experiments.imle_gradients(costs, gold, GradientSpec(3, estimator, seed=1))
        for sample, gradient in zip(result.paths, result.per_draw):
            target = sample + gradient
            assert set(np.unique(target)) <= {0.0, 1.0}
            path = check_path(target, 8, "target")
            assert {path.start, path.end} == {(0, 15), (15, 0)}
            assert np.array_equal(target, gold.mask) or not expect_gold


@pytest.mark.parametrize("body, culprit", [
    ({"waypoints": [[16, 0]]}, "--via 16,0 is outside the 16x16-cell map"),
    ({"waypoints": [[0, 5], [0, 2]], "flat": True}, "would visit cell (0, 2) twice"),
    ({"waypoints": [[0, 0]]}, "are the same cell"),
    ({"waypoints": "3,4"}, "must be [row, col]"),
])
def test_bad_golds_are_one_line(client, body, culprit):
    response = client.post("/api/gold", json=body)
    assert response.status_code == 400 and culprit in response.json()["error"]
    assert "\n" not in response.json()["error"]


def test_explore_numbers_are_the_experiments(client):
    settings = {"samples": 12, "seed": 3, "beta": 20, "input_temperature": 2}
    client.post("/api/gold", json={"waypoints": [[6, 14]]})
    answer = client.post("/api/explore", json={"settings": settings}).json()
    gold = Session(readme_map(), "", [], base_settings()).gold({"waypoints": [[6, 14]]})
    expected = experiments.imle_gradients(readme_map(), gold, GradientSpec(12, EstimatorSpec(
        input_temperature=2.0, beta=20.0), seed=3)).mean
    assert answer["numbers"]["cheaper"] == int((expected > 0).sum())
    assert answer["numbers"]["dearer"] == int((expected < 0).sum())
    sample = experiments.sample_paths(readme_map(), SampleSpec(12, NoiseSpec(), temperature=2.0, seed=3))
    shared = float((sample.paths == sample.unperturbed).all(axis=(1, 2)).mean())
    assert answer["numbers"]["share_on_unperturbed"] == pytest.approx(shared)
    assert set(answer["panels"]) == {"paths", "distribution", "gradient", "mechanism"}
    assert answer["commands"]["gradients"] == ("imle-cli gradients --gold gold.png --samples 12 --input-temperature 2 "
                                               "--beta 20 --seed 3")
    assert answer["commands"]["sample"] == "imle-cli sample --temperature 2 --samples 12 --seed 3"


@pytest.mark.parametrize("settings, culprit", [
    ({"samples": 0}, "--samples must be at least 1"),
    ({"noise": "pink"}, "--noise must be one of"),
    ({"beta": "big"}, "--beta must be a number"),
    ({"colour": 1}, "unknown setting 'colour'"),
    ({"estimator": "perturbed", "input_temperature": 0}, "--input-temperature must be > 0 for perturbed"),
])
def test_bad_settings_are_the_clis_messages(client, settings, culprit):
    response = client.post("/api/explore", json={"settings": settings})
    assert response.status_code == 400 and culprit in response.json()["error"]


def test_export_is_the_commands_figure_byte_for_byte(client, tmp_path):
    client.post("/api/gold", json={"waypoints": []})
    exported = client.post("/api/export", json={"figure": "gradients", "settings": {"samples": 5, "seed": 2}})
    assert exported.status_code == 200
    gold = tmp_path / "gold.png"
    gold.write_bytes(client.get("/api/gold.png").content)
    result = CliRunner().invoke(cli, ["gradients", "--gold", str(gold), "--samples", "5", "--seed", "2", "--out",
                                      str(tmp_path / "cli"), "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert exported.content == (tmp_path / "cli" / "gradients.png").read_bytes()
    pdf = client.post("/api/export", json={"figure": "mechanism", "format": "pdf", "settings": {"samples": 3}})
    assert pdf.content.startswith(b"%PDF")


def test_a_storm_of_settings_computes_only_the_newest(client):
    answers = [None] * 8

    def send(i):
        answers[i] = client.post("/api/explore", json={"settings": {"samples": 30 + i}}).json()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    superseded = sum(bool(answer.get("superseded")) for answer in answers)
    computed = [answer for answer in answers if "panels" in answer]
    assert superseded >= 5 and 1 <= len(computed) <= 3


def test_uploads_are_read_by_the_clis_loaders(client, tmp_path):
    costs = np.ones((12, 20))
    buffer = io.BytesIO()
    np.save(buffer, costs)
    answer = client.post("/api/map?name=wide.npy", content=buffer.getvalue()).json()
    assert (answer["rows"], answer["cols"], answer["name"]) == (12, 20, "wide.npy")
    assert answer["gold"]["end"] == [11, 19]
    for name, content, culprit in [("bad.png", b"not an image", "is not a readable image"),
                                   ("notes.txt", b"hello", "is not a map file"),
                                   ("nan.npy", _npy(np.full((3, 3), np.nan)), "MAP"),
                                   ("../../etc/passwd.png", b"x", "is not a readable image")]:
        response = client.post(f"/api/map?name={name}", content=content)
        assert response.status_code == 400 and culprit in response.json()["error"], (name, response.json())
        assert "\n" not in response.json()["error"]
    big = client.post("/api/map?name=big.png", content=b"0" * (33 * 1024 * 1024))
    assert big.status_code == 413


def _npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_learning_streams_snapshots_and_stops_once_learned(client):
    client.post("/api/gold", json={"waypoints": []})
    settings = json.dumps({"steps": 400, "every": 10, "samples": 10})
    with client.stream("GET", f"/api/learn?settings={settings}") as stream:
        events_text = list(stream.iter_lines())
    events = [line for line in events_text if line.startswith("event:")]
    assert events[0] == "event: snapshot" and events[-1] == "event: done"
    assert 3 <= len(events) < 400 // 10 + 2  # stopped by itself once learned
    done = json.loads(lines_after(events_text, "event: done"))
    assert done["reached"] is not None and done["final_distance"] == 0
    assert done["steps"] == done["reached"] + 50  # as `imle-cli learn` stops: --patience 50 steps later
    snapshots = [line.removeprefix("data: ") for line in events_text if line.startswith('data: {"step"')]
    last = json.loads(snapshots[-1])
    assert last["step"] == done["steps"] and last["on_gold"]
    # learn's own defaults are left out: 50 samples and temperatures 5 / 5 are `imle-cli learn`'s
    assert done["command"] == "imle-cli learn --gold gold.png --steps 400 --samples 10 --every 10"


def lines_after(lines, marker):
    """The data line after an event line of a server-sent event stream."""
    index = lines.index(marker)
    return lines[index + 1].removeprefix("data: ")


def test_freehand_stroke_gives_a_gold(client):
    answer = client.post("/api/drawing", json={"points": [[0.5, 0.5], [8, 8], [15.5, 15.5]]}).json()
    assert answer["start"] == [0, 0] and answer["end"] == [15, 15] and answer["length"] == 16


def test_a_drawn_gold_becomes_waypoints_that_give_it_again(client, tmp_path):
    # a stroke that bends: down the left, across the middle, down to the end
    stroke = [[0.5, 0.5], [9.5, 1.5], [9.5, 9.5], [13.5, 12.5], [15.5, 15.5]]
    drawn = client.post("/api/drawing", json={"points": stroke}).json()
    cells = drawn["cells"]
    assert drawn["request"]["waypoints"], "a bent stroke is not the map's shortest path: it needs waypoints"
    drawn_npy = client.get("/api/gold.npy").content
    again = client.post("/api/gold", json=drawn["request"]).json()  # the page sends them back as they are
    assert again["cells"] == cells
    # and the command shown is the annotate --via that writes the same gold
    words = drawn["command"].split()
    assert words[:2] == ["imle-cli", "annotate"] and "--via" in words
    assert annotate_files(tmp_path, *words[2:])["gold.npy"] == drawn_npy


def test_a_gold_given_with_gold_opens_as_editable_waypoints(tmp_path):
    from starlette.testclient import TestClient

    from imle_cli.annotation import waypoint_path

    costs = readme_map()
    given = waypoint_path(costs, [(3, 12), (12, 3)], start=(0, 15), end=(15, 8))
    session = Session(costs, "built-in README map", [], base_settings())
    with TestClient(create_app(session, TOKEN, given)) as test_client:
        test_client.get(f"/?token={TOKEN}")
        opened = test_client.get("/api/map").json()["gold"]
        request = opened["request"]
        assert request["start"] == [0, 15] and request["end"] == [15, 8]
        assert opened["cells"] == [list(cell) for cell in given.cells]
        assert test_client.post("/api/gold", json=request).json()["cells"] == opened["cells"]
        moved = dict(request, waypoints=[[8, 8]] + request["waypoints"])  # and it edits as clicked ones do
        assert [8, 8] in test_client.post("/api/gold", json=moved).json()["cells"]


def test_the_mechanism_panel_is_the_exported_figures_pixels(client, tmp_path):
    from PIL import Image

    settings = {"samples": 6, "seed": 4}
    panel = client.post("/api/explore", json={"settings": settings}).json()["panels"]["mechanism"]
    exported = client.post("/api/export", json={"figure": "mechanism", "settings": settings}).content
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(base64_png(panel))).convert("RGB")),
                          np.asarray(Image.open(io.BytesIO(exported)).convert("RGB")))
    # and the export is the gradients command's mechanism.png, byte for byte
    gold = tmp_path / "gold.png"
    gold.write_bytes(client.get("/api/gold.png").content)
    result = CliRunner().invoke(cli, ["gradients", "--gold", str(gold), "--samples", "6", "--seed", "4", "--out",
                                      str(tmp_path / "cli"), "--quiet"])
    assert result.exit_code == 0, result.stderr
    assert exported == (tmp_path / "cli" / "mechanism.png").read_bytes()


def base64_png(data_uri: str) -> bytes:
    import base64

    prefix = "data:image/png;base64,"
    assert data_uri.startswith(prefix)
    return base64.b64decode(data_uri[len(prefix):])


# ---- the command: real processes, real signals, real ports

def start_studio(*args):
    process = subprocess.Popen([sys.executable, "-m", "imle_cli", "studio", *map(str, args), "--no-browser"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=with_ctrl_c)
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", line)
    assert match, line + process.stderr.read()
    return process, int(match.group(1)), match.group(0)


@pytest.mark.parametrize("stop, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_end_the_studio_cleanly(stop, code):
    import urllib.request

    process, port, url = start_studio(ASSETS / "map.png", "--port", 0)
    with urllib.request.urlopen(url, timeout=10) as page:
        assert page.status == 200
    process.send_signal(stop)
    assert process.wait(timeout=20) == code
    with socket.socket() as probe:  # the port is free again: nobody listens there (TIME_WAIT aside)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen(1)


def test_every_interface_only_when_asked_and_with_a_warning():
    process = subprocess.Popen([sys.executable, "-m", "imle_cli", "studio", "--host", "0.0.0.0", "--port", "0",
                                "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert re.match(r"imle-cli studio: http://0\.0\.0\.0:\d+/\?token=\S+", process.stdout.readline())
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert "reachable from other machines" in " ".join(process.stderr.read().split())


def test_a_busy_port_is_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "imle_cli", "studio", "--port", str(port), "--no-browser"],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"--port {port} on 127.0.0.1 is not free" in result.stderr


def test_a_bad_map_is_refused_before_the_server_starts(tmp_path):
    (tmp_path / "bad.png").write_bytes(b"nope")
    result = subprocess.run([sys.executable, "-m", "imle_cli", "studio", str(tmp_path / "bad.png"), "--no-browser"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "is not a readable image" in result.stderr and not result.stdout


# ---- the page in a real browser

# (the browser fixture, Debian's chromium through Playwright, is in conftest.py)


def test_the_page_in_a_browser(browser, tmp_path):
    process, port, url = start_studio(ASSETS / "map.png", "--port", 0)
    errors = []
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True,
                                bypass_csp=True)  # the test evaluates its checks in the page
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(url)
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_selector("body[data-explored]", timeout=30000)
        box = page.locator("canvas#map").bounding_box()

        def click(r, c):  # cell (r, c) is at ((c + 0.5) / W, (r + 0.5) / H) of the box
            page.mouse.click(box["x"] + (c + 0.5) / 16 * box["width"], box["y"] + (r + 0.5) / 16 * box["height"])

        click(6, 14)
        page.wait_for_function("document.querySelector('#annotate-command').textContent.includes('--via 6,14')")
        click(12, 0)
        page.wait_for_function("document.querySelector('#annotate-command').textContent.includes('--via 12,0')")
        written = annotate_files(tmp_path, ASSETS / "map.png", "--via", "6,14", "--via", "12,0")
        with page.expect_download() as download:
            page.click("#save-npy")
        assert Path(download.value.path()).read_bytes() == written["gold.npy"]
        with page.expect_download() as download:
            page.click("#save-png")
        assert Path(download.value.path()).read_bytes() == written["gold.png"]
        # a slider moved: the panels change (waiting on what the panels show, not on any answer)
        shows = "(document.body.dataset.exploredFor || '').includes({!r})"
        page.wait_for_function(shows.format("--via 12,0"), timeout=60000)
        before = {name: page.get_attribute(f"#panel-{name}", "src") for name in ("paths", "gradient")}
        page.fill("input[name=samples]", "20")
        page.dispatch_event("input[name=samples]", "input")
        page.wait_for_function(shows.format('"samples":20'), timeout=60000)
        for name, source in before.items():  # 20 draws, not 50: other paths shown, another mean
            assert page.get_attribute(f"#panel-{name}", "src") != source, name
        assert "--samples 20" in page.text_content("#explore-command")
        assert page.evaluate("document.querySelector('#panel-mechanism').naturalWidth") > 300  # y, y', y' - y
        # undo removes the last waypoint
        page.click("#undo")
        page.wait_for_function("!document.querySelector('#annotate-command').textContent.includes('12,0')")
        # a freehand stroke drawn with the mouse: its gold opens as waypoints, dragged like clicked ones
        page.check("input[name=mode][value=draw]")
        before = page.text_content("#annotate-command")

        def at(r, c):
            return box["x"] + (c + 0.5) / 16 * box["width"], box["y"] + (r + 0.5) / 16 * box["height"]

        page.mouse.move(*at(0, 0))
        page.mouse.down()
        for r, c in [(4, 0), (9, 1), (9, 5), (9, 9), (12, 12), (15, 15)]:
            page.mouse.move(*at(r, c), steps=6)
        page.mouse.up()
        page.wait_for_function("(before) => document.querySelector('#annotate-command').textContent !== before",
                               arg=before)
        command = page.text_content("#annotate-command")
        assert "--via" in command, command
        drawn = annotate_files(tmp_path / "drawn", *command.split()[2:])
        with page.expect_download() as download:
            page.click("#save-npy")
        assert Path(download.value.path()).read_bytes() == drawn["gold.npy"]
        page.screenshot(path=str(tmp_path / "studio.png"), full_page=True)
        assert errors == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
