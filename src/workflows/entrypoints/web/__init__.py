"""The web app: server-rendered pages (Jinja, htmx where a page updates in place) for clerks, supervisors,
designers and applicants. Each view checks who is signed in, calls one use case, and renders its result."""
from __future__ import annotations

import os
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, current_app, g, redirect, request, send_from_directory, session, url_for

from workflows.domain.errors import NotFound
from workflows.services import users

blueprint = Blueprint("web", __name__, template_folder="templates")
ASSETS = Path(os.environ.get("WORKFLOWS_WEB_ASSETS", Path(__file__).resolve().parents[4] / "web" / "dist"))


def ctx():
    return current_app.extensions["workflows"]


def signed_in(view):
    """The page needs a signed-in user (loaded into g.user); otherwise to the login page and back."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        username = session.get("username")
        try:
            g.user = users.get_user(ctx(), username) if username else None
        except NotFound:
            g.user = None
        if g.user is None:
            session.clear()
            return redirect(url_for("web.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


def local_path(target: str) -> str | None:
    """`target` if it is a path of this site (where to go back to after a form), else None: never another site."""
    parts = urlsplit(target)
    if target.startswith("/") and not target.startswith(("//", "/\\")) and not parts.scheme and not parts.netloc:
        return target
    return None


@blueprint.get("/assets/<path:name>")
def assets(name):
    """The bundles built from npm packages at install time (web/dist)."""
    return send_from_directory(ASSETS, name, max_age=3600)


from . import auth, pages, supervisor  # noqa: E402,F401 - the views register themselves on the blueprint
from . import designer, public  # noqa: E402,F401
from . import case_files  # noqa: E402,F401
from . import materials  # noqa: E402,F401
