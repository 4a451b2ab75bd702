"""Signing in and out, changing one's password, and the administrator's page of account locks."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for

from workflows.domain.errors import InvalidInput, NotFound
from workflows.domain.throttling import TooManyAttempts
from workflows.services import accounts

from ..security import SESSION_KEY
from .base import blueprint, ctx, local_path, page_of, signed_in

EVENT_ROWS = 100  # 账号安全记录 a page; read at the call: a test makes the page small


@blueprint.get("/login")
def login():
    return render_template("login.html", next=request.args.get("next", ""))


@blueprint.post("/login")
def login_submit():
    username = request.form.get("username", "").strip()
    try:
        signed = accounts.sign_in(ctx(), username, request.form.get("password", ""), request.remote_addr)
    except (accounts.BadCredentials, TooManyAttempts) as error:
        status = 429 if isinstance(error, TooManyAttempts) else 401
        page = render_template("login.html", error=str(error), username=username, next=request.form.get("next", ""))
        headers = {"Retry-After": str(error.retry_after)} if status == 429 else {}
        return page, status, headers
    _start_session(signed.token)
    return redirect(local_path(request.form.get("next", "")) or url_for("web.home"))


@blueprint.post("/logout")
def logout():
    accounts.sign_out(ctx(), session.get(SESSION_KEY))  # the cookie, replayed later, no longer signs anyone in
    session.clear()
    return redirect(url_for("web.login"))


def _start_session(token: str) -> None:
    session.clear()
    session[SESSION_KEY] = token


@blueprint.get("/account/password")
@signed_in
def password_page():
    return render_template("password.html", errors={})


@blueprint.post("/account/password")
@signed_in
def password_submit():
    form = request.form
    try:
        if form.get("new_password", "") != form.get("confirm_password", ""):
            raise InvalidInput("密码修改有误", {"confirm_password": "两次输入的新密码不一致"})
        signed = accounts.change_password(ctx(), g.user, form.get("current_password", ""),
                                          form.get("new_password", ""), request.remote_addr)
    except InvalidInput as error:
        return render_template("password.html", errors=error.field_errors), 422
    _start_session(signed.token)
    flash("密码已修改；其他设备和令牌上的登录已失效", "ok")
    return redirect(url_for("web.home"))


@blueprint.get("/admin/lockouts")
@signed_in
def lockouts_page():
    events, number, more = page_of(lambda limit, offset: accounts.account_events(ctx(), g.user, limit, offset),
                                   "page", EVENT_ROWS)
    return render_template("lockouts.html", lockouts=accounts.lockouts(ctx(), g.user), events=events,
                           number=number, more=more, kinds=accounts.KINDS)


@blueprint.post("/admin/lockouts/unlock")
@signed_in
def unlock():
    kind, subject = request.form.get("kind", ""), request.form.get("subject", "")
    try:
        accounts.unlock(ctx(), g.user, kind, subject, request.remote_addr)
    except (InvalidInput, NotFound) as error:
        flash(str(error), "error")
        return redirect(url_for("web.lockouts_page"), 303)
    flash(f"已解除{accounts.KINDS[kind]} {subject} 的锁定", "ok")
    return redirect(url_for("web.lockouts_page"), 303)
