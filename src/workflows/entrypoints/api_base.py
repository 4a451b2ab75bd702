"""The REST API's blueprint and what every route of it uses: who is signing (a Bearer token or the web app's
session cookie with its CSRF token), the JSON body, paging. api.py and the api_* modules put their routes on it;
app.py registers it."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, session
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from workflows.domain import pages
from workflows.domain.errors import Forbidden, InvalidInput, WorkflowsError
from workflows.services import accounts
from workflows.services.context import Context

from .inputs import BIGINT_LIMIT
from .security import SESSION_KEY

blueprint = Blueprint("api", __name__, url_prefix="/api")


class Unauthenticated(WorkflowsError):
    pass


@blueprint.errorhandler(Unauthenticated)
def unauthenticated(error):
    return jsonify({"error": {"code": "unauthenticated", "message": str(error)}}), 401


def ctx() -> Context:
    return current_app.extensions["workflows"]


def authenticated(view):
    """Bearer token (API clients) or the session cookie (the web app); loads the user into g.user. Either is a
    live session of services/accounts.py: signed out, revoked or expired, it is refused."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            g.user = accounts.session_user(ctx(), header[7:].strip())
            if g.user is None:
                raise Unauthenticated("令牌无效或已过期，请重新登录")
            return view(*args, **kwargs)
        token = session.get(SESSION_KEY)
        if not token:
            raise Unauthenticated("请先登录")
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            _check_csrf()  # a browser's cookie goes with any site's request: the page must prove it is ours
        g.user = accounts.session_user(ctx(), token)
        if g.user is None:
            raise Unauthenticated("登录已失效，请重新登录")
        return view(*args, **kwargs)

    return wrapper


def _check_csrf() -> None:
    try:
        validate_csrf(request.headers.get("X-CSRFToken", ""))
    except ValidationError:
        raise Forbidden("页面已过期或请求来源不明（CSRF），请刷新页面后重试") from None


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("请求体应为 JSON 对象")
    return data


def paging() -> tuple[int, int]:
    """`limit` and `offset` of a list. A client reads on at the next offset until a page comes back shorter than
    its limit, so a limit above the page's bound (domain/pages.py) is refused (422), never cut to it: a cut page
    would look like the last."""
    values = {name: _count(name, default) for name, default in (("limit", 50), ("offset", 0))}
    errors = {name: "应为非负整数" for name, value in values.items() if value is None}
    if errors:
        raise InvalidInput("limit 和 offset 应为非负整数", errors)
    if values["limit"] > pages.MAX_PAGE:
        raise InvalidInput(f"limit 最多为 {pages.MAX_PAGE}",
                           {"limit": f"应为 0–{pages.MAX_PAGE} 的整数，其后的用 offset 翻页"})
    return values["limit"], values["offset"]


def _count(name: str, default: int) -> int | None:
    """The query argument as a non-negative integer, or None when it is not one."""
    try:
        value = int(request.args.get(name, default))
    except ValueError:
        return None
    return value if 0 <= value < BIGINT_LIMIT else None
