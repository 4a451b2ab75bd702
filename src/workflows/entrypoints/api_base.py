"""The REST API's blueprint and what every route of it uses: who is signing (a Bearer token or the web app's
session cookie with its CSRF token), the JSON body, paging. api.py and the api_* modules put their routes on it;
app.py registers it."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, session
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from workflows.domain.errors import Forbidden, InvalidInput, WorkflowsError
from workflows.services import accounts
from workflows.services.context import Context

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
    try:
        limit, offset = int(request.args.get("limit", 50)), int(request.args.get("offset", 0))
    except ValueError:
        limit = offset = -1
    if limit < 0 or offset < 0:
        raise InvalidInput("limit 和 offset 应为非负整数", {"limit": "应为非负整数", "offset": "应为非负整数"})
    return limit, offset
