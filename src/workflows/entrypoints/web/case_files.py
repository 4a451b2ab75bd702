"""备注 and 附件 of a case from the task and case pages: add a note, upload a file, download one.

The forms carry `next`, the page they sit on: after a POST the clerk goes back there. A refused note re-renders
that page with the message and the text typed (too long for the session cookie that a redirect would need).
"""
from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for

from workflows.domain.errors import Forbidden, InvalidInput, NotFound
from workflows.services import case_files

from .base import blueprint, ctx, local_path, private_download, render_again, signed_in



def _back(number: str) -> str:
    """The form's `next` if it is a path of this site, else the case page."""
    return local_path(request.form.get("next", "")) or url_for("web.case_page", number=number)


@blueprint.post("/cases/<number>/comments")
@signed_in
def add_comment(number):
    text = request.form.get("text", "")
    back = _back(number)
    try:
        case_files.add_comment(ctx(), g.user, number, text)
    except NotFound:
        abort(404)
    except InvalidInput as error:
        flash(str(error), "error")
        return render_again(back, 422, comment_draft=text, comment_back=back)
    flash("已添加备注", "ok")
    return redirect(back, 303)


@blueprint.post("/cases/<number>/attachments")
@signed_in
def add_attachment(number):
    back = _back(number)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash("请选择要上传的文件", "error")
        return redirect(back, 303)
    # Read one byte more than allowed: a larger file is refused without being held in memory whole.
    content = upload.stream.read(case_files.MAX_ATTACHMENT_SIZE + 1)
    try:
        saved = case_files.add_attachment(ctx(), g.user, number, upload.filename, upload.mimetype, content)
    except NotFound:
        abort(404)
    except InvalidInput as error:
        flash(str(error), "error")
        return redirect(back, 303)
    flash(f"已上传附件 {saved.file_name}", "ok")
    return redirect(back, 303)


@blueprint.get("/attachments/<int:attachment_id>")
@signed_in
def download_attachment(attachment_id):
    try:
        meta, content = case_files.attachment(ctx(), g.user, attachment_id)
    except NotFound:
        abort(404)
    return private_download(content, meta.media_type, meta.file_name)


@blueprint.app_template_global()
def case_files_of(number: str):
    """The 备注 and 附件 panels' contents, for the page of a case the signed-in user may see (None: not for this
    user)."""
    try:
        return case_files.case_files(ctx(), g.user, number)
    except Forbidden:
        return None
