"""文书 on the task and case pages: the case's documents with their PDF, and on the task page, for the hall's
受理员 and 审核员, 出具一次性告知书 and 退回申请人补正.

The forms carry `next`, the page they sit on: after a POST the clerk goes back there, with what happened flashed;
a refused 退回补正 keeps the reason typed (in the session, short enough for its cookie) for the form to show again.
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, session, url_for

from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.entrypoints.files import wants_download
from workflows.services import documents, notices

from .base import blueprint, ctx, local_path, private_download, signed_in

DRAFT = "correction_draft"  # the session key of a refused 退回补正's reason


def _back(number: str) -> str:
    """The form's `next` if it is a path of this site, else the case page."""
    return local_path(request.form.get("next", "")) or url_for("web.case_page", number=number)


def _act(command, done: str, refusals: list | None = None):
    """Run a notice command; flash what it issued or why not (also kept in `refusals`)."""
    try:
        document = command()
    except NotFound:
        abort(404)
    except Forbidden as error:
        abort(403, str(error))
    except (InvalidInput, Conflict) as error:
        flash(str(error), "error")
        if refusals is not None:
            refusals.append(str(error))
        return None
    flash(done.format(title=document.title, number=document.number), "ok")
    return document


@blueprint.post("/cases/<number>/missing-materials-notice")
@signed_in
def issue_missing_materials_notice(number):
    _act(lambda: notices.issue_missing_materials_notice(ctx(), g.user, number),
         "已出具《{title}》（文书编号 {number}）")
    return redirect(_back(number), 303)


@blueprint.post("/cases/<number>/correction")
@signed_in
def return_for_correction(number):
    reason = request.form.get("reason", "")
    refusals = []
    if _act(lambda: notices.return_for_correction(ctx(), g.user, number, reason),
            "已退回申请人补正：出具《{title}》（文书编号 {number}），计时已暂停", refusals) is None:
        session[DRAFT] = {"reason": reason[:notices.MAX_REASON_LENGTH], "message": refusals[0][:200]}
    return redirect(_back(number), 303)


@blueprint.get("/documents/<int:document_id>/pdf")
@signed_in
def download_document(document_id):
    """The PDF, opened in the browser's viewer for printing; `?download=1` saves it instead."""
    try:
        document, content = documents.document_pdf(ctx(), g.user, document_id)
    except NotFound:
        abort(404)
    return private_download(content, "application/pdf", documents.file_name(document), inline=not wants_download())


@blueprint.app_template_global()
def documents_of(number: str) -> documents.CaseDocuments | None:
    """The 文书 panel's contents, for the page of a case the signed-in user may see (None: not for this user)."""
    try:
        return documents.case_documents(ctx(), g.user, number)
    except Forbidden:
        return None


@blueprint.app_template_global()
def correction_draft() -> dict:
    """The reason typed in a 退回补正 just refused, and why it was refused, once ({} if none)."""
    return session.pop(DRAFT, {})
