"""A case's file (a 文书's PDF, an uploaded material) sent to the one signed-in user who asked for it."""
from __future__ import annotations

import io

from flask import request, send_file


def private_file(content: bytes, media_type: str, file_name: str, inline: bool = False):
    """Never cached, never sniffed into another type. `inline`: shown in the browser (a PDF opens in its viewer,
    ready to print) under its name, instead of saved as a download."""
    response = send_file(io.BytesIO(content), mimetype=media_type, as_attachment=not inline, download_name=file_name,
                         max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    if inline:  # the pages' policy (object-src 'none') would stop the browser's own PDF viewer from showing it
        response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    return response


def wants_download() -> bool:
    """`?download=1`: the 下载 link (attachment); without it a document opens in the browser (打印/查看)."""
    return request.args.get("download") == "1"
