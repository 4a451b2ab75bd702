"""The HTTP SMS gateway against a real local HTTP server: one JSON POST per text with its idempotency key, and a
platform that refuses or cannot be reached is an SmsFailed with a Chinese reason (kept on the outbox entry)."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workflows.adapters.sms_gateway import HttpSmsGateway, RecordingSmsGateway, SmsFailed

from support.server import free_port


@pytest.fixture
def platform():
    """A local SMS platform: answers `status` (and a message id) and keeps each request it got."""
    got, state = [], {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), json.loads(body)))
            answer = json.dumps({"message_id": "M-1"}).encode()
            self.send_response(state["status"])
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/sms", got, state
    server.shutdown()
    server.server_close()


def test_a_text_is_posted_with_its_key_and_the_platforms_id_returned(platform):
    url, got, _ = platform
    assert HttpSmsGateway(url, token="t0k").send("13804130001", "您的办件已受理", "42") == "M-1"
    [(headers, body)] = got
    assert body == {"phone": "13804130001", "text": "您的办件已受理"}
    assert (headers["Idempotency-Key"], headers["Authorization"]) == ("42", "Bearer t0k")


def test_a_refusing_platform_is_a_failure_to_retry(platform):
    url, _, state = platform
    state["status"] = 503
    with pytest.raises(SmsFailed, match=r"短信网关拒绝发送（HTTP 503）"):
        HttpSmsGateway(url).send("13804130001", "文本", "7")


def test_an_unreachable_platform_is_a_failure_to_retry():
    with pytest.raises(SmsFailed, match="短信网关无法连接"):
        HttpSmsGateway(f"http://127.0.0.1:{free_port()}/sms", timeout=2).send("13804130001", "文本", "7")


def test_the_recording_stand_in_delivers_a_key_once():
    gateway = RecordingSmsGateway()
    assert gateway.send("13804130001", "一", "5") == gateway.send("13804130001", "一", "5") == "SMS5"
    assert len(gateway.sent) == 1


def test_the_recording_stand_in_keeps_the_latest_texts_only():
    gateway = RecordingSmsGateway(kept=3)
    for key in "12345":
        gateway.send("13804130001", f"第{key}条", key)
    assert [message.key for message in gateway.sent] == ["3", "4", "5"]
    assert gateway.send("13804130001", "第5条", "5") == "SMS5" and len(gateway.sent) == 3
