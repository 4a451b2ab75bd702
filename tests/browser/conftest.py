"""Browser tests: the real app served on a loopback port, driven by Playwright in the system's Chromium
(Debian package `chromium`; `make test` installs it). Screenshots of key pages go to test-artifacts/."""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from conftest import sqlite_copy
from support.paths import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = ROOT / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    """Every browser test is `long` (tests/conftest.py starts those first, spread over the workers)."""
    for item in items:
        if Path(__file__).parent in item.path.parents:
            item.add_marker(pytest.mark.long)


@pytest.fixture(scope="session")
def chromium():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            raise RuntimeError("Chromium is missing: `make test` installs the Debian package chromium")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def database_url(tmp_path_factory, sqlite_template):
    """Browser tests run on SQLite (tests/conftest.py's default): the database layer is covered on both databases
    by the tests marked both_databases."""
    return sqlite_copy(sqlite_template, tmp_path_factory)


@pytest.fixture(scope="session")
def _http_server():
    """One loopback server per worker, serving whatever app `server` hands it: starting one per test cost a thread
    and a port, and building its app per test cost more CPU than most browser tests' own server work."""
    served = {}
    http = make_server("127.0.0.1", 0, lambda environ, respond: served["app"](environ, respond), threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture
def server(app, _http_server):
    """The app on a loopback port, in a thread of this process: tests share its context and clock (the worker's
    one app, pointed at this test's context by tests/conftest.py's `app`)."""
    served, base = _http_server
    served["app"] = app
    return base


@pytest.fixture
def page(chromium, request):
    """A page of its own; whatever the Content-Security-Policy blocked on it (an inline script or handler, an eval
    in a bundle, a style, a font) fails the test that used it."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(10_000)
    blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text and blocked.append(message.text))
    yield page
    page.evaluate("0")  # a round trip: the console messages the page sent before it have all arrived
    keep_last_screen(page, request, f"{request.node.name}-last")
    context.close()
    assert blocked == [], "the Content-Security-Policy blocked parts of a page"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Each phase's report kept on the test (`failed_test` reads them)."""
    report = (yield).get_result()
    item.stash.setdefault(_REPORTS, {})[report.when] = report


_REPORTS = pytest.StashKey[dict]()


def keep_last_screen(page, request, name: str) -> None:
    """The screen where a failed test stopped, kept in test-artifacts/ to see what it saw. Only then: a full-page
    screenshot costs Chromium about as much CPU as a short browser test's own pages, and a passing test's last
    screen says nothing its key-page shots do not."""
    if any(report.failed for report in request.node.stash.get(_REPORTS, {}).values()):
        shot(page, name)


def shot(page, name: str) -> None:
    """Keep a screenshot of a key page as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, server: str, username: str, password: str = "demo12345") -> None:
    page.goto(f"{server}/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{server}/inbox")
