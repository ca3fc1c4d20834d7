"""Before/after: run bench/run.py's workloads on two source trees alternately, in one run.

    git worktree add /tmp/before HEAD~3 && (cd /tmp/before && python setup.py build_ext --inplace)
    python bench/revisions.py --before /tmp/before w1 w4 --rounds 3

Each round runs ``bench/run.py WORKLOADS`` once with the "before" tree first on the import path,
then once with this tree (A, B, A, B ...). For every table row it prints both trees' median time
of ours and median ratio to the baseline over the rounds, and after / before of the time.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROW = re.compile(r"^\| (?P<workload>[^|]+) \| (?P<case>[^|]+) \| (?P<ours>[\d,.]+) ms \| "
                 r"[\d,.]+ ms \((?P<ratio>[\d,.]+)x\)")


def run_tree(tree: Path, workloads: list, repeats: int) -> dict:
    """{(workload, case): (ours ms, ratio to baseline)} from one bench/run.py run on ``tree``."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    # --no-publish: the docs' table is this tree's own run, not one of a comparison's
    out = subprocess.run([sys.executable, str(HERE / "run.py"), *workloads, "--repeats", str(repeats),
                          "--no-publish"],
                         env=env, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        match = ROW.match(line)
        if match:
            number = lambda name: float(match[name].replace(",", ""))  # noqa: E731
            rows[(match["workload"].strip(), match["case"].strip())] = (number("ours"), number("ratio"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workloads", nargs="+")
    parser.add_argument("--before", type=Path, required=True, help="the other source tree (built in place)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5, help="bench/run.py --repeats")
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": HERE.parent}
    results = {name: [] for name in trees}
    for round_index in range(args.rounds):
        for name, tree in trees.items():
            results[name].append(run_tree(tree, args.workloads, args.repeats))
            print(f"round {round_index + 1}: {name} done", file=sys.stderr, flush=True)
    print("| workload | case | before: ours | before: vs baseline | after: ours | after: vs baseline | after / before |")
    print("|---|---|---|---|---|---|---|")
    for key in results["after"][0]:
        medians = {name: (statistics.median(r[key][0] for r in rounds), statistics.median(r[key][1] for r in rounds))
                   for name, rounds in results.items()}
        (bt, br), (at, ar) = medians["before"], medians["after"]
        print(f"| {key[0]} | {key[1]} | {bt:,.2f} ms | {br:,.1f}x | {at:,.2f} ms | {ar:,.1f}x | {at / bt:.2f} |")


if __name__ == "__main__":
    main()
