"""`make fuzz`: schemathesis against a real server, as every demo role, bounded by examples (or by time).

A fresh demo database in a temporary folder, `workflows serve` on a free port, then for each role (and without
a token) schemathesis runs the operations of /api/openapi.json with generated requests, valid and invalid.
It fails on any 5xx, any status the document does not declare, and any response body that breaks the
document's schema; a role whose run sent no request fails too. CI runs FUZZ_EXAMPLES requests per operation in
the fuzzing phase, every role in parallel. A budget of time (FUZZ_SECONDS) bounded it before: on a loaded machine
schemathesis spent it generating (the coverage phase first generates its cases for every operation: minutes of CPU
per role on 2 cores) and passed having sent nothing. Search deeper by hand, the coverage phase too:
`make fuzz FUZZ_SECONDS=600 FUZZ_EXAMPLES=200 FUZZ_PHASES=examples,coverage,fuzzing`.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support.server import SERVER, running_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ROLES = ["shouli", "shenhe", "caiwu", "kezhang", "yiyuan", "sheji", "admin"]  # the demo staff, one per role
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
DEMO_PASSWORD = "demo12345"


def token_of(base: str, username: str) -> str:
    request = urllib.request.Request(f"{base}/api/login", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"username": username, "password": DEMO_PASSWORD}).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["token"]


def fuzz(base: str, who: str, token: str | None, options, folder: Path) -> subprocess.Popen:
    """schemathesis as `who`, started in the background; its output goes to a file of the folder."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/api/openapi.json",
               "--checks", CHECKS, "--max-examples", str(options.examples), "--phases", options.phases,
               "--workers", "1", "--no-shrink",
               "--suppress-health-check", "all", "--warnings", "off", "--request-timeout", "30"]
    if options.seconds:  # a budget of time: schemathesis fuzzes again and again until it is spent
        command += ["--max-time", str(options.seconds)]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    (folder / who).mkdir()
    with open(folder / who / "output.txt", "w") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=folder / who,
                                env={**os.environ, "NO_COLOR": "1"})


def generated(output: Path) -> int:
    """The test cases schemathesis reports it generated (and sent): 0 when it ran none."""
    found = re.search(r"^\s*(\d+) generated", output.read_text(errors="replace"), re.M)
    return int(found.group(1)) if found else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", 0)),
                        help="每个角色的时间（0：不限时，按用例数）")
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", 1)), help="每个接口的用例数")
    parser.add_argument("--phases", default=os.environ.get("FUZZ_PHASES", "examples,fuzzing"), help="schemathesis 的阶段")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="workflows-fuzz-") as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'fuzz.db'}"
        subprocess.run([*SERVER, "--database-url", url, "init", "--catalog", str(ROOT / "catalog"),
                        "--bpmn", str(ROOT / "bpmn"), "--demo"], check=True, stdout=subprocess.DEVNULL)
        with running_server(url, folder, workers=2) as (base, log):
            started = time.monotonic()
            runs = {who: fuzz(base, who, token_of(base, who) if who in ROLES else None, options, folder)
                    for who in ["anonymous", *ROLES]}
            exits = {who: run.wait() for who, run in runs.items()}
        sent = {who: generated(folder / who / "output.txt") for who in runs}
        failed = [who for who in runs if exits[who] != 0 or sent[who] == 0]
        print(f"{len(runs)} 个角色并行，用时 {time.monotonic() - started:.0f} s")
        print("  " + "、".join(f"{who} {'失败' if who in failed else '通过'}（{sent[who]} 个用例）" for who in runs))
        for who in failed:
            print(f"===== {who} =====", (folder / who / "output.txt").read_text()[-20000:], sep="\n")
        if failed:
            print("服务器日志（末尾）：", log.read_text()[-5000:], sep="\n")
            return 1
    print("schemathesis：未发现 5xx、未声明的状态码或不符合 OpenAPI 文档的响应")
    return 0


if __name__ == "__main__":
    sys.exit(main())
