"""The figures of bench/case_throughput.py for two trees, from runs made alternately: this tree's bench and another
tree's (a worktree of the commit compared with), one after the other, for several rounds. Each round runs the two
in the reverse order of the round before (other, this; this, other; …), so a drift of the machine's speed during
the runs weighs on both alike. On the 2-core development machine the same code's figures moved by a third from
one hour to the next, so a figure can only be compared with one from a run made beside it.

Each run is the tree's own script with that tree's code: its src/, bench/ and top folder (handlers) first on
PYTHONPATH, which the gunicorn workers and the scheduler it starts inherit. Its output is printed as it ends, so
nothing the bench says is lost. Then, for each figure (cases/s, ms of CPU a case, the ratio of workers), come the
runs' values per tree, their medians, and the change from the other tree's median to this one's. A run that fails
stops the comparison, with what it printed.

Usage: python bench/alternate.py OTHER_TREE [--rounds N] [-- ARGS for case_throughput.py]
e.g.   git worktree add /tmp/old HEAD~3 && python bench/alternate.py /tmp/old --rounds 3 -- --http-only --cases 300
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path
from statistics import median

THIS_TREE = Path(__file__).resolve().parents[1]
SCRIPT = Path("bench") / "case_throughput.py"
# A figure: a number with its unit; a CPU time counts where it is per case (the HTTP lines, the service layer's)
_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*(cases/s|×|ms(?= per case|\s*\(process_time))")
_LABEL = re.compile(r"^(.*?):\s+(?=\d)")  # a figure line's label: up to the colon its first number follows


def orders(rounds: int) -> list[tuple[str, str]]:
    """The order of the two trees' runs in each round, the first round the other tree's first."""
    return [("other", "this") if index % 2 == 0 else ("this", "other") for index in range(rounds)]


def figures(output: str) -> dict[str, float]:
    """The figures a run printed, by name: a line's label with, for each part of what follows (split at ';'), the
    words before its number and the unit."""
    found = {}
    for line in output.splitlines():
        labelled = _LABEL.match(line)
        if labelled is None:
            continue
        label, rest = labelled.group(1), line[labelled.end():]
        for part in rest.split(";"):
            match = _FIGURE.search(part)
            if match:
                words = part[:match.start()].strip()
                name = " ".join(filter(None, (label.strip(), words, match.group(2))))
                found[name] = float(match.group(1))
    return found


def run(tree: Path, arguments: list[str]) -> str:
    """The tree's bench run with the tree's code; its output (stdout and stderr), or SystemExit if it failed."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(str(tree / part) for part in ("src", "bench", "."))}
    done = subprocess.run([sys.executable, str(tree / SCRIPT), *arguments], cwd=tree, env=environment,
                          capture_output=True, text=True)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise SystemExit(f"{tree / SCRIPT} failed (exit {done.returncode}):\n{output}")
    return output


def table(values: dict[str, dict[str, list[float]]]) -> list[str]:
    """A line per figure both trees printed: each run's value, the median in brackets, the medians' change."""
    lines = []
    for name in [name for name in values["this"] if name in values["other"]]:
        other, this = values["other"][name], values["this"][name]
        change = (median(this) / median(other) - 1) * 100 if median(other) else float("nan")
        lines.append(f"{name}\n    other {_runs(other)}   this {_runs(this)}   change {change:+.1f} %")
    return lines


def _runs(values: list[float]) -> str:
    return " ".join(f"{value:g}" for value in values) + f" ({median(values):g})"


def main() -> None:
    parser = argparse.ArgumentParser(usage="%(prog)s OTHER_TREE [--rounds N] [-- ARGS for case_throughput.py]",
                                     description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("other", type=Path, help="the tree compared with (a worktree of another commit)")
    parser.add_argument("--rounds", type=int, default=3)
    given = sys.argv[1:]
    split = given.index("--") if "--" in given else len(given)  # after it: the bench's own arguments
    options, arguments = parser.parse_args(given[:split]), given[split + 1:]
    trees = {"this": THIS_TREE, "other": options.other.resolve()}
    values: dict[str, dict[str, list[float]]] = {"this": {}, "other": {}}
    for number, order in enumerate(orders(options.rounds), 1):
        for which in order:
            print(f"=== round {number}, {which} tree ({trees[which]})", flush=True)
            output = run(trees[which], arguments)
            print(output, flush=True)
            for name, value in figures(output).items():
                values[which].setdefault(name, []).append(value)
    print(f"=== {options.rounds} rounds, other tree {trees['other']}, this tree {trees['this']}")
    print("\n".join(table(values)))


if __name__ == "__main__":
    main()
