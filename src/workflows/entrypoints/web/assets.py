"""The browser bundles (web/dist, built by web/build.mjs): served under content-hashed names, precompressed.

A template asks for an asset by its plain name, `url_for('web.assets', name='modeler.js')`; the URL comes out with
the hashed file name from dist/manifest.json (`hashed_name`, a url_defaults hook, so no template needs to know).
A hashed file never changes, so browsers keep it a year without asking again (immutable); a plain name still
answers, with the current file, but must be revalidated. Each file is sent as its .br or .gz made at build time
when the browser accepts that encoding: no compression work per request.
"""
from __future__ import annotations

import json
import mimetypes
from functools import lru_cache
from pathlib import Path

from flask import abort, request, send_file
from werkzeug.security import safe_join

from .base import ASSETS, blueprint

MANIFEST = "manifest.json"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
ENCODINGS = (("br", ".br"), ("gzip", ".gz"))  # preferred first


@lru_cache(maxsize=4)
def _read_manifest(path: Path, modified: float) -> dict[str, str]:
    return json.loads(path.read_text(encoding="utf-8"))


def manifest() -> dict[str, str]:
    """Plain name -> hashed file name; read again only when a new build rewrote it (empty before any build)."""
    path = ASSETS / MANIFEST
    try:
        return _read_manifest(path, path.stat().st_mtime)
    except FileNotFoundError:
        return {}


@blueprint.url_defaults
def hashed_name(endpoint: str, values: dict) -> None:
    if endpoint == "web.assets" and "name" in values:
        values["name"] = manifest().get(values["name"], values["name"])


@blueprint.get("/assets/<path:name>")
def assets(name):
    plain = name == MANIFEST or name in manifest()
    return send_asset(manifest().get(name, name), REVALIDATE if plain else IMMUTABLE)


@blueprint.get("/favicon.ico")
def favicon():
    """For clients that ask for the icon without reading the page's <link rel=icon>: the same SVG."""
    return send_asset(manifest().get("favicon.svg", "favicon.svg"), "public, max-age=86400")


def send_asset(name: str, cache_control: str):
    path = safe_join(str(ASSETS), name)
    if path is None or not Path(path).is_file():
        abort(404)
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    encoding, suffix = next(((encoding, suffix) for encoding, suffix in ENCODINGS
                             if request.accept_encodings[encoding] and Path(path + suffix).is_file()), (None, ""))
    response = send_file(path + suffix, mimetype=media_type, conditional=True, etag=True)
    if encoding:
        response.headers["Content-Encoding"] = encoding
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = cache_control
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
