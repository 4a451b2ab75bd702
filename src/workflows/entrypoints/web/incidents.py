"""故障 (incidents): the cases whose automatic step failed, the undelivered messages and the failed 后台任务 of the
hall (a 科室负责人) or the agency (an administrator), filtered, with a retry of one or of the ticked ones."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from workflows.domain.errors import InvalidInput
from workflows.services import incidents

from ..api_incidents import filters
from .base import blueprint, ctx, page_argument, signed_in


@blueprint.app_template_global()
def incident_counts() -> list[tuple[str, int]]:
    """The open incidents of the user's hall (or agency) by kind, for the 统计 page."""
    counts = incidents.counts(ctx(), g.user)
    return [(label, counts[kind]) for kind, label in incidents.KIND_LABELS.items()]


@blueprint.get("/admin/incidents")
@signed_in
def incidents_page():
    try:
        found = incidents.incident_page(ctx(), g.user, page_argument(request.args.get("page")), **filters())
    except InvalidInput as error:
        flash("；".join(error.field_errors.values()) or str(error), "error")
        found = incidents.incident_page(ctx(), g.user)
    query = {name: value for name, value in request.args.items() if name != "page" and value}
    return render_template("incidents.html", found=found, incidents=found.incidents, args=request.args, query=query)


@blueprint.post("/admin/incidents/retry")
@signed_in
def retry_incidents_page():
    try:
        outcomes = incidents.retry_incidents(ctx(), g.user, request.form.getlist("ref"), request.form.get("reason"))
    except InvalidInput as error:
        flash("；".join(error.field_errors.values()) or str(error), "error")
        return redirect(url_for("web.incidents_page"), 303)
    for outcome in outcomes:
        if outcome.retried:
            flash(f"{outcome.ref} 已重试成功", "ok")
        else:
            flash(f"{outcome.ref} 重试未成功：{outcome.error}", "error")
    return redirect(url_for("web.incidents_page"), 303)
