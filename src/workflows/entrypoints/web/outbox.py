"""后台任务: the outbox entries that failed (a 文书's PDF, the recomputing after a calendar change), listed for
administrators and supervisors with their error, retried from the list; and a case's on its page."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for

from workflows.domain.errors import Conflict, NotFound
from workflows.services import outbox

from .base import blueprint, ctx, local_path, page_of, signed_in

OUTBOX_ROWS = 50  # failures a page; read at the call: a test makes the page small


@blueprint.app_template_global()
def outbox_failures_of(case_id: int):
    """The failed 后台任务 of a case the user may see (the case page)."""
    return outbox.case_failures(ctx(), case_id)


@blueprint.get("/admin/outbox")
@signed_in
def outbox_page():
    failures, number, more = page_of(lambda limit, offset: outbox.failures(ctx(), g.user, limit, offset), "page",
                                     OUTBOX_ROWS)
    return render_template("outbox.html", failures=failures, number=number, more=more)


@blueprint.post("/admin/outbox/<int:entry_id>/retry")
@signed_in
def retry_outbox_entry(entry_id):
    back = local_path(request.form.get("next", "")) or url_for("web.outbox_page")
    try:
        entry, _ = outbox.retry(ctx(), g.user, entry_id)
    except (Conflict, NotFound) as error:
        flash(str(error), "error")
        return redirect(back, 303)
    if entry.done_at is None:
        flash(f"重试仍失败：{entry.last_error}", "error")
    else:
        flash("后台任务已完成", "ok")
    return redirect(back, 303)
