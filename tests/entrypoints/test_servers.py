"""Several servers side by side on one machine: each its own port, database and gunicorn control socket, and
each a log without personal data, a request id on every line; stopping `workflows serve` stops its gunicorn."""
from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request

import pytest

from support.server import running_server


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.mark.long  # seconds of wall: started first (tests/conftest.py)
def test_two_servers_side_by_side_both_answer_from_their_own_database(sqlite_template, tmp_path):
    folders = [tmp_path / "first", tmp_path / "second"]
    for folder in folders:
        folder.mkdir()
        shutil.copy(sqlite_template, folder / "workflows.db")
    with running_server(f"sqlite:///{folders[0] / 'workflows.db'}", folders[0]) as (first, first_log), \
            running_server(f"sqlite:///{folders[1] / 'workflows.db'}", folders[1]) as (second, _):
        for base in (first, second):
            status, _, body = get(f"{base}/api/agencies")
            assert status == 200 and json.loads(body)
        sockets = [next((folder / "var").glob("gunicorn-*.ctl")) for folder in folders]
        assert sockets[0] != sockets[1] and all(path.is_socket() for path in sockets)

        status, headers, _ = get(f"{first}/public/progress?id_number=210402198001011237&phone=13804130001")
        assert status < 500
        request_id = headers["X-Request-Id"]
        status, _, body = get(f"{first}/api/cases/%00")
        assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
        time.sleep(0.5)  # the access log line is written after the answer
        logged = first_log.read_text()
    assert f"[{request_id}]" in logged  # the access line of that request carries its id
    assert "210402198001011237" not in logged and "13804130001" not in logged
    assert "210402**********37" in logged
