"""`make fuzz`: schemathesis against a real server, as every demo role, bounded in time and examples.

A fresh demo database in a temporary folder, `workflows serve` on a free port, then for each role (and without
a token) schemathesis runs the operations of /api/openapi.json with generated requests, valid and invalid.
It fails on any 5xx, any status the document does not declare, and any response body that breaks the
document's schema. CI runs it bounded (FUZZ_SECONDS per role); run it longer by hand to search deeper:
`make fuzz FUZZ_SECONDS=120 FUZZ_EXAMPLES=200`.
"""
from __future__ import annotations

import argparse
import json
import os
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


def fuzz(base: str, who: str, token: str | None, seconds: int, examples: int, folder: Path) -> subprocess.Popen:
    """schemathesis as `who`, started in the background; its output goes to a file of the folder."""
    command = [str(Path(sys.executable).with_name("schemathesis")), "run", f"{base}/api/openapi.json",
               "--checks", CHECKS, "--max-time", str(seconds), "--max-examples", str(examples),
               "--phases", "examples,coverage,fuzzing", "--workers", "1", "--no-shrink",
               "--suppress-health-check", "all", "--warnings", "off", "--request-timeout", "30"]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    (folder / who).mkdir()
    with open(folder / who / "output.txt", "w") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=folder / who,
                                env={**os.environ, "NO_COLOR": "1"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", 10)), help="每个角色的时间")
    parser.add_argument("--examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", 20)), help="每个接口的用例数")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="workflows-fuzz-") as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'fuzz.db'}"
        subprocess.run([*SERVER, "--database-url", url, "init", "--catalog", str(ROOT / "catalog"),
                        "--bpmn", str(ROOT / "bpmn"), "--demo"], check=True, stdout=subprocess.DEVNULL)
        with running_server(url, folder, workers=2) as (base, log):
            started = time.monotonic()
            runs = {who: fuzz(base, who, token_of(base, who) if who in ROLES else None, options.seconds,
                              options.examples, folder) for who in ["anonymous", *ROLES]}
            failed = [who for who, run in runs.items() if run.wait() != 0]
        print(f"{len(runs)} 个角色并行，用时 {time.monotonic() - started:.0f} s")
        print("  " + "、".join(f"{who} {'失败' if who in failed else '通过'}" for who in runs))
        for who in failed:
            print(f"===== {who} =====", (folder / who / "output.txt").read_text()[-20000:], sep="\n")
        if failed:
            print("服务器日志（末尾）：", log.read_text()[-5000:], sep="\n")
            return 1
    print("schemathesis：未发现 5xx、未声明的状态码或不符合 OpenAPI 文档的响应")
    return 0


if __name__ == "__main__":
    sys.exit(main())
