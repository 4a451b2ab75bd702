"""Instructions one case of the bench's flow costs (门诊费用报销: 申请—受理—审核—拨付—办结), counted by valgrind's
callgrind: a figure that comes out the same within 0.2 % run after run whatever else the machine does (str hashes
seeded alike; without that, ±1.5 %), where the cases/s and the CPU figures of case_throughput.py moved by a third
from one hour to the next on the shared 2-core machine. Compare
two trees with it (a change to the command path before and after); the seconds it stands for are the other bench's.

Each way runs twice under callgrind, each time in a fresh SQLite file: the warm-up cases alone (the process's
start, the first parse of the catalog and the diagram, the first PDF's fonts), then the warm-up and N cases more;
the difference over N is one case. Ways: `http`, through the JSON API by Flask's test client (the request's checks,
its JSON both ways, the commands, the 文书 PDFs rendered after each commit, in the request's thread here, in the
web app's kicker there), with the garbage collector set as in a gunicorn worker; `services`, the use cases alone,
as case_throughput.py's service layer runs them (no PDFs). Instructions in the kernel (the writes to SQLite's WAL)
are not counted.

The runs count the code of the tree this script is in (its src/ first on the path, whatever the virtual environment
has installed), from one path for every tree: a link, /tmp/workflows-instructions/tree, with its database in
/tmp/workflows-instructions/scratch. The paths are strings the process hashes and keeps, and the same code counted
from two checkouts at their own paths gave 57.50, 57.65 and 58.74 M a case (services), where runs at one path agree
within 0.15 %. One run of the bench at a time holds the link (a lock); another waits for it.

Usage: python bench/instructions.py [--cases N] [--way http|services|both]   (valgrind must be on the machine)
"""
from __future__ import annotations

import argparse
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import make_engine
from workflows.bootstrap import bootstrap
from workflows.entrypoints.app import create_app, make_context
from workflows.entrypoints.gunicorn_config import post_worker_init
from workflows.services import users

from case_throughput import CLERK, PASSWORD, api_case, prepared_database, service_case

WARM_UP = 5  # cases before those counted: the first ones parse and cache what the later ones find ready
FIXED = Path(tempfile.gettempdir()) / "workflows-instructions"  # the one path every tree is counted from
WAYS = ("http", "services")


def run_cases(way: str, count: int, scratch: Path) -> None:
    """`count` cases of the flow, one after another, in a fresh database; each must end 办结."""
    url = prepared_database(None, scratch, way)
    (_through_http if way == "http" else _through_services)(url, count)


def _through_http(url: str, count: int) -> None:
    client = create_app(make_context(url, kick="inline"), secret_key="bench").test_client()
    login = client.post("/api/login", json={"username": CLERK, "password": PASSWORD}).get_json()
    headers = {"Authorization": f"Bearer {login['token']}"}

    def request(method: str, path: str, body: dict) -> dict:
        return client.open(path, method=method, json=body, headers=headers).get_json()

    for _ in range(count):
        api_case(request)


def _through_services(url: str, count: int) -> None:
    ctx = bootstrap(sessionmaker(make_engine(url), expire_on_commit=False), kick="off")
    clerk = users.get_user(ctx, CLERK)
    for _ in range(count):
        service_case(ctx, clerk)


def instructions(way: str, count: int, tree: Path, scratch: Path) -> int:
    """The instructions of a process running the warm-up and `count` cases, as callgrind counts them: the code of
    `tree` (fixed_paths' link), its database in `scratch`, emptied first."""
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    out = scratch.parent / f"callgrind.{way}.{count}"
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
                    "-P",  # not the script's folder first on the path: that is the link resolved, the tree's own path
                    str(tree / "bench" / "instructions.py"), "--inner", way, str(WARM_UP + count), str(scratch)],
                   check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": f"{tree / 'src'}:{tree / 'bench'}",
                        "PYTHONHASHSEED": "0"})  # str hashes, so set and dict walks, as in the last run
    try:
        return total_of(out.read_text(errors="replace"))
    finally:
        out.unlink()


@contextmanager
def fixed_paths(tree: Path, under: Path = FIXED) -> Iterator[tuple[Path, Path]]:
    """`tree` as the link `under`/tree and the scratch folder `under`/scratch, held (a lock) until done."""
    under.mkdir(exist_ok=True)
    with open(under / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another bench run's link stays until that run is done
        link = under / "tree"
        link.unlink(missing_ok=True)
        link.symlink_to(tree, target_is_directory=True)
        try:
            yield link, under / "scratch"
        finally:
            link.unlink()
            shutil.rmtree(under / "scratch", ignore_errors=True)


def total_of(callgrind_output: str) -> int:
    """The total a callgrind output file gives (its summary line, or the totals line of older versions)."""
    found = re.search(r"^(?:summary|totals):\s*(\d+)", callgrind_output, re.MULTILINE)
    if found is None:
        raise ValueError("no summary line in callgrind's output")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--way", choices=(*WAYS, "both"), default="both")
    parser.add_argument("--inner", nargs=3, metavar=("WAY", "CASES", "SCRATCH"), help=argparse.SUPPRESS)  # counted
    options = parser.parse_args()
    if options.inner:
        way, count, scratch = options.inner
        if way == "http":
            post_worker_init(None)  # the collector's thresholds of a served worker
        run_cases(way, int(count), Path(scratch))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed: it counts the instructions")
    with fixed_paths(Path(__file__).resolve().parents[1]) as (tree, scratch):
        for way in WAYS if options.way == "both" else (options.way,):
            warm, counted = (instructions(way, count, tree, scratch) for count in (0, options.cases))
            print(f"{way:9} {(counted - warm) / options.cases / 1e6:7.2f} M instructions per case "
                  f"({options.cases} cases after {WARM_UP}; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
