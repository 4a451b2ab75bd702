"""Signing in to the web app through its own login form, as a person would, and reading its CSRF token."""
from __future__ import annotations

import re

from workflows.services.demo import DEMO_PASSWORD

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def html(response) -> str:
    return response.get_data(as_text=True)


def csrf_token(html: str) -> str:
    return _TOKEN.search(html).group(1)


def sign_in(client, username: str, password: str = DEMO_PASSWORD) -> None:
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
