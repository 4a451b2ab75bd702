"""Optional stand-in for the Flask side while trying the demo pages: serves the repository root statically and
answers the two calls the modeler makes.

    python3 web/demo/stub_server.py 8765      # from the repository root; then open /web/demo/modeler.html

GET  /api/handlers   web/demo/handlers.json
POST /api/processes  multipart field `file`: 201 {"version": n} when every service task's topic is a known
                     handler; else 422 {"error": {"code", "message", "element_id"}} naming the first bad task.
                     Without the header X-CSRFToken: 400.
"""
from __future__ import annotations

import json
import re
import sys
from email.parser import BytesParser
from email.policy import default
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = json.loads((Path(__file__).parent / "handlers.json").read_text(encoding="utf-8"))
versions: dict[str, int] = {}


class Handler(SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=str(ROOT), **kwargs)

    def answer(self, status: int, body: object) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/api/handlers":
            return self.answer(200, HANDLERS)
        return super().do_GET()

    def do_POST(self):
        if self.path != "/api/processes":
            return self.answer(404, {"error": {"code": "not_found", "message": "没有这个接口"}})
        if not self.headers.get("X-CSRFToken"):
            return self.answer(400, {"error": {"code": "csrf", "message": "缺少 CSRF 令牌"}})
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        message = BytesParser(policy=default).parsebytes(
            f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + raw)
        part = next((p for p in message.iter_parts() if p.get_param("name", header="content-disposition") == "file"), None)
        if part is None:
            return self.answer(422, {"error": {"code": "invalid_input", "message": "缺少文件 file"}})
        xml = part.get_payload(decode=True).decode("utf-8")
        known = {handler["name"] for handler in HANDLERS}
        for task_id, topic in re.findall(r'<bpmn:serviceTask id="([^"]+)"[^>]*?camunda:topic="([^"]*)"', xml):
            if topic not in known:
                return self.answer(422, {"error": {"code": "invalid_process", "element_id": task_id,
                                                   "message": f"服务任务 {task_id} 的处理程序 {topic} 未登记"}})
        key = part.get_filename().removesuffix(".bpmn")
        versions[key] = versions.get(key, 0) + 1
        return self.answer(201, {"process_key": key, "version": versions[key]})


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
