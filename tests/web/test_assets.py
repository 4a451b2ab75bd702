"""The browser bundles as the pages load them: hashed names from the build's manifest, precompressed variants chosen by
the browser's Accept-Encoding, cached for good under a hashed name and revalidated under a plain one; the icon."""
from __future__ import annotations

import gzip
import re

import lxml.html
import pytest

from workflows.entrypoints.web import ASSETS
from workflows.entrypoints.web.assets import manifest

from support.web import html, sign_in

HASHED = re.compile(r"^/assets/[a-z-]+-[0-9A-Z]{8}\.(js|css|svg)$")


@pytest.fixture(autouse=True)
def built():
    if not manifest():
        pytest.fail("web/dist is not built: run `cd web && npm run build`")


def head_links(page: str) -> dict[str, str]:
    document = lxml.html.fromstring(page)
    return {rel: href for rel, href in zip(document.xpath("//link/@rel"), document.xpath("//link/@href"))}


def test_every_page_links_its_assets_by_hashed_name_and_loads_no_htmx(client):
    links = head_links(html(client.get("/login")))
    assert links["stylesheet"] == f"/assets/{manifest()['app.css']}" and HASHED.match(links["stylesheet"])
    assert links["icon"] == f"/assets/{manifest()['favicon.svg']}" and HASHED.match(links["icon"])
    sign_in(client, "kezhang")
    page = html(client.get("/statistics"))
    scripts = lxml.html.fromstring(page).xpath("//script/@src")
    assert scripts == [f"/assets/{manifest()['charts.js']}"]  # no htmx.min.js: no page uses it
    assert "htmx" not in page


@pytest.mark.parametrize("name", ["modeler.js", "charts.js", "app.css", "viewer.css"])
def test_a_hashed_asset_comes_brotli_or_gzip_compressed_and_cached_for_good(client, name):
    file = manifest()[name]
    raw = (ASSETS / file).read_bytes()

    br = client.get(f"/assets/{file}", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.status_code == 200 and br.headers["Content-Encoding"] == "br"
    assert br.data == (ASSETS / f"{file}.br").read_bytes() and len(br.data) < len(raw) / 3
    assert br.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert br.headers["Vary"] == "Accept-Encoding"
    assert br.mimetype == ("text/css" if name.endswith(".css") else "text/javascript")

    gz = client.get(f"/assets/{file}", headers={"Accept-Encoding": "gzip"})
    assert gz.headers["Content-Encoding"] == "gzip" and gzip.decompress(gz.data) == raw

    plain = client.get(f"/assets/{file}", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.data == raw

    again = client.get(f"/assets/{file}", headers={"Accept-Encoding": "br", "If-None-Match": br.headers["ETag"]})
    assert again.status_code == 304


def test_a_plain_name_still_answers_with_the_current_file_but_must_be_revalidated(client):
    response = client.get("/assets/modeler.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-cache"
    assert gzip.decompress(response.data) == (ASSETS / manifest()["modeler.js"]).read_bytes()


def test_the_fonts_the_stylesheets_name_are_served_and_cached(client):
    css = (ASSETS / manifest()["modeler.css"]).read_text(encoding="utf-8")
    fonts = set(re.findall(r"url\(\"?\./(fonts/[^\")?#]+)", css))
    assert fonts
    for font in fonts:
        response = client.get(f"/assets/{font}")
        assert response.status_code == 200 and "immutable" in response.headers["Cache-Control"], font


def test_the_icon_is_an_svg_also_at_favicon_ico(client):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.data == (ASSETS / manifest()["favicon.svg"]).read_bytes() and b"<circle" in icon.data


@pytest.mark.parametrize("path", ["/assets/nothing.js", "/assets/../pyproject.toml", "/assets/%2e%2e/pyproject.toml"])
def test_anything_else_is_not_found(client, path):
    assert client.get(path).status_code == 404
