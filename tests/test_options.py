"""The option table: each flag declared once and filling one setting, choices declared once and
matching the library, help rendered through Typer's public API."""
import inspect
import re

import pytest
from typer.testing import CliRunner

from imle_cli.main import app
from imle_cli.options import OPTIONS, Settings
from imle_cli.specs import Estimator, LearnSpec, Noise, SweepSpec

COMMANDS = ["sample", "annotate", "gradients", "learn", "sweep", "noise", "all", "compare"]


def help_text(*command):
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=200, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_each_flag_fills_one_setting():
    flags = [flag for option in OPTIONS.values() if not option.argument for flag in option.flags.split("/")]
    assert len(flags) == len(set(flags)), sorted({f for f in flags if flags.count(f) > 1})
    assert [f.name for f in Settings.__dataclass_fields__.values()] == [*OPTIONS, "given"]


def test_the_cli_estimators_are_the_librarys_in_its_order():
    import imle.estimators

    assert [e.value for e in Estimator] == list(imle.estimators.NAMES)
    assert f"[default: {Noise.sum_of_gamma.value}]" in help_text("sample")


def test_switches_and_help_show_no_type_and_typer_is_not_patched():
    import typer.core

    for command in COMMANDS:
        for line in help_text(command).splitlines():
            if re.search(r"--(quiet|help|video|axes|invert|flat|gifs|learn|version)(?![\w-])", line) and "<" in line:
                pytest.fail(f"{command}: a switch shows a type: {line.strip()}")
    assert "<bool>" not in help_text()
    for cls in (typer.core.TyperOption, typer.core.TyperCommand, typer.core.TyperGroup):
        for name, member in vars(cls).items():
            if inspect.isfunction(member):
                assert member.__module__ == "typer.core", (cls.__name__, name, member.__module__)


def test_list_options_are_parsed_once_into_the_settings():
    assert OPTIONS["sample_counts"].setting("1, 10,10") == (1, 10)
    assert OPTIONS["input_temperatures"].setting("0,2.5") == (0.0, 2.5)
    assert OPTIONS["estimators"].setting("blackbox,imle,blackbox") == (Estimator.blackbox, Estimator.imle)
    assert Settings().sample_counts == (1, 10, 100) and Settings().estimators == tuple(Estimator)


def test_a_sweeps_runs_in_the_csv_order():
    spec = SweepSpec(LearnSpec(), (0.0, 1.0), (2.0, 5.0), (1, 10))
    runs = [(r.samples, r.estimator.input_temperature, r.estimator.target_temperature) for r in spec.runs()]
    assert runs == [(n, i, t) for n in (1, 10) for i in (0.0, 1.0) for t in (2.0, 5.0)]
