"""Every numeric option at its extremes, on every command that takes it: one line and exit 2, or a
run that works (exit 0) - never a traceback (issue 25: extreme numbers)."""
import inspect
import sys

import pytest

import imle_cli.commands  # noqa: F401  (declares every command)
from imle_cli.commands._app import app as typer_app
from imle_cli.main import run
from imle_cli.options import OPTIONS

#: what each command runs with, small, so that accepted values finish in a moment
SMALL = {"sample": ["--samples", "2"], "gradients": ["--samples", "2"], "annotate": [],
         "learn": ["--steps", "2", "--every", "1", "--samples", "2"], "noise": ["--draws", "100"],
         "compare": ["--samples", "2", "--estimators", "imle"],
         "sweep": ["--input-temperatures", "1", "--target-temperatures", "1", "--sample-counts", "1", "--steps", "2",
                   "--every", "1", "--workers", "0"],
         "all": ["--samples", "2", "--steps", "2", "--every", "1", "--learn-samples", "2"]}
EXTREMES = ["0", "5e-324", "1e308", "-1e308", str(2 ** 63), str(2 ** 64 - 1), "-1"]
#: options whose extreme values start something other than a run (a server) or read a path
SKIP = {"port", "host", "browser", "map_path", "gold", "gold_map", "drawing", "out", "key", "grid", "via", "start",
        "end", "estimators", "input_temperatures", "target_temperatures", "sample_counts", "device", "still_format",
        "estimator", "noise"}


def takers():
    """(option, the first command that takes it) for every numeric option."""
    pairs = {}
    for info in typer_app.registered_commands:
        if info.name not in SMALL:
            continue
        for name in inspect.signature(info.callback).parameters:
            option = OPTIONS[name]
            kind = getattr(option.type, "__args__", (option.type,))[0]
            if name not in SKIP and kind in (int, float) and name not in pairs:
                pairs[name] = info.name
    return sorted(pairs.items())


CASES = [(name, command, value) for name, command in takers() for value in EXTREMES]


@pytest.mark.parametrize("name, command, value", CASES, ids=[f"{c} {n} {v}" for n, c, v in CASES])
def test_an_extreme_value_is_one_line_or_works(tmp_path, monkeypatch, capsys, name, command, value):
    small = list(SMALL[command])
    flag = OPTIONS[name].flags.split("/")[0]
    if flag in small:  # the option under test replaces the small run's own value
        index = small.index(flag)
        del small[index:index + 2]
    # through the console script's entry point, which words click's own mistakes as ours
    monkeypatch.setattr(sys, "argv", ["imle-cli", command, *small, flag, value, "--out", str(tmp_path / "out"),
                                      "--quiet"])
    with pytest.raises(SystemExit) as exited:
        run()
    code, err = exited.value.code, capsys.readouterr().err
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("imle-cli: error:"), err
