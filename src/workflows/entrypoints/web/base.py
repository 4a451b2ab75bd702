"""The web app's blueprint and what every page of it uses: who is signed in, where a form goes back to, a refused
form's page shown again as typed."""
from __future__ import annotations

import os
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, request, session, url_for
from werkzeug.exceptions import HTTPException

from workflows.domain.errors import InvalidInput
from workflows.entrypoints.files import private_file as private_download  # noqa: F401 - for the views
from workflows.services import accounts

from ..security import SESSION_KEY

blueprint = Blueprint("web", __name__, template_folder="templates")
ASSETS = Path(os.environ.get("WORKFLOWS_WEB_ASSETS", Path(__file__).resolve().parents[4] / "web" / "dist"))


def ctx():
    return current_app.extensions["workflows"]


def signed_in(view):
    """The page needs a signed-in user (loaded into g.user); otherwise to the login page and back."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        g.user = accounts.session_user(ctx(), session.get(SESSION_KEY))
        if g.user is None:  # never signed in, signed out, or revoked by a password or role change
            session.clear()
            return redirect(url_for("web.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


def one_session(view):
    """The page only reads: the user's session, its lists, the names and counts its template asks for, all in one
    session and one connection (Context.page_reads), however many use cases it asks."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        with ctx().page_reads():
            return view(*args, **kwargs)

    return wrapper


def local_path(target: str) -> str | None:
    """`target` if it is a path of this site (where to go back to after a form), else None: never another site."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith(("//", "/\\")) and not parts.scheme and not parts.netloc:
        return target
    return None


def page_argument(text: str | None) -> int:
    """?page=N, from 1; anything else is refused (the first page is shown, with why)."""
    if text in (None, ""):
        return 1
    if not text.isdigit() or int(text) < 1:
        raise InvalidInput("页码应为正整数", {"page": "页码应为从 1 起的整数"})
    return int(text)


def page_of(read, name: str, size: int) -> tuple[list, int, bool]:
    """The page the request asks for (?name=N, from 1; anything else: the first, with why) of a list read as
    read(limit, offset): its rows, its number, and whether a next page exists (one row more is read to know)."""
    try:
        number = page_argument(request.args.get(name))
    except InvalidInput as error:
        flash(str(error), "error")
        number = 1
    rows = read(size + 1, (number - 1) * size)
    return rows[:size], number, len(rows) > size


RERENDERED = {"web.task_page", "web.case_page"}  # pages whose forms, when refused, are shown again as typed


def render_again(back: str, status: int, **kept):
    """The task or case page a refused form was posted from, rendered again with the flashed message and what
    was typed (`kept`, put on flask.g for the page's partials), answering `status`; any other page: back to it."""
    try:
        endpoint, arguments = current_app.url_map.bind("").match(urlsplit(back).path, method="GET")
    except HTTPException:
        endpoint, arguments = None, {}
    if endpoint in RERENDERED:
        for name, value in kept.items():
            setattr(g, name, value)
        try:
            response = current_app.make_response(current_app.view_functions[endpoint](**arguments))
        except HTTPException:
            response = None
        if response is not None and response.status_code == 200:
            response.status_code = status
            return response
    return redirect(back, 303)
