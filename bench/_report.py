"""What a benchmark prints, also written where the documentation includes it.

A benchmark prints its results (a Markdown table and the lines around it) through a `Report`; when
the run has finished (`save`) the same text is written to ``docs/performance/results/NAME.md`` with
a last line naming the command that measured it, the machine it ran on and the date, so the
documentation's tables are always what a bench script measured, never typed. ``--no-publish`` on
a script (or ``IMLE_BENCH_RESULTS=''``) leaves the file alone; ``IMLE_BENCH_RESULTS=DIR`` writes
it to DIR instead.

    report = Report("cli")                  # parser.add_argument("--no-publish", ...) beside it
    report.print("| command | median wall time |")
    report.print("|---|---|")
    report.save()                           # the end of a run that finished
"""
from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import List

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "performance" / "results"


def machine() -> str:
    """One line about this machine: CPU model, cores, memory, Python and torch versions."""
    model = platform.processor() or platform.machine()
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal"))
        memory = f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    torch_version = ""
    if "torch" in sys.modules:  # a benchmark that never imported torch does not pay for it here
        torch_version = f", torch {sys.modules['torch'].__version__}"
    return (f"{platform.system()} {platform.machine()}, {model}, {os.cpu_count()} CPUs{memory}, "
            f"Python {platform.python_version()}{torch_version}")


class Report:
    """Prints a benchmark's lines; `save` writes them to ``RESULTS/NAME.md``."""

    def __init__(self, name: str, argv: List[str] = None):
        self.name = name
        self.argv = list(sys.argv[1:] if argv is None else argv)
        self.lines: List[str] = []
        self.publish = "--no-publish" not in self.argv
        self.argv = [arg for arg in self.argv if arg != "--no-publish"]

    def print(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def save(self) -> None:
        """Write what was printed, with the command, the machine and the date, for the docs."""
        folder = os.environ.get("IMLE_BENCH_RESULTS", str(RESULTS))
        if not self.publish or not folder:
            return
        command = shlex.join(["python", f"bench/{self.name}.py", *self.argv])
        footer = (f"*Measured with `{command}` on {machine()}, "
                  f"{datetime.date.today().isoformat()}.*")
        Path(folder).mkdir(parents=True, exist_ok=True)
        target = Path(folder) / f"{self.name}.md"
        temporary = target.with_suffix(".md.tmp")
        temporary.write_text("\n".join([*self.lines, "", footer]) + "\n")
        os.replace(temporary, target)
        print(f"\n(written to {target})", file=sys.stderr)


def add_publish_option(parser) -> None:
    """``--no-publish``: print the results without writing them for the docs."""
    parser.add_argument("--no-publish", action="store_true",
                        help="print the results only; leave docs/performance/results/ as it is")
