"""Signing in and out."""
from __future__ import annotations

from flask import redirect, render_template, request, session, url_for

from workflows.services import users

from . import blueprint, ctx, local_path


@blueprint.get("/login")
def login():
    return render_template("login.html", next=request.args.get("next", ""))


@blueprint.post("/login")
def login_submit():
    username = request.form.get("username", "").strip()
    user = users.authenticate(ctx(), username, request.form.get("password", ""))
    if user is None:
        return render_template("login.html", error="用户名或密码错误", username=username,
                               next=request.form.get("next", "")), 401
    session.clear()
    session["username"] = user.username
    return redirect(local_path(request.form.get("next", "")) or url_for("web.home"))


@blueprint.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("web.login"))
