"""申请材料核对 on the task page: one form marks each material 已提交, 缺少 or 容缺 (where the catalog allows).

The form carries `next`, the task page: after a POST the clerk goes back there. A refused marking re-renders that
page with the message and the choices submitted, so nothing chosen is lost.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, request, url_for
from werkzeug.exceptions import HTTPException

from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.services import materials

from . import blueprint, ctx, local_path, signed_in

RERENDERED = {"web.task_page"}  # the page a refused marking is shown on again, the choices kept
PREFIX = "material_"


def _back(number: str) -> str:
    """The form's `next` if it is a path of this site, else the case page."""
    return local_path(request.form.get("next", "")) or url_for("web.case_page", number=number)


@blueprint.post("/cases/<number>/materials")
@signed_in
def mark_materials(number):
    choices = {key[len(PREFIX):]: value for key, value in request.form.items() if key.startswith(PREFIX)}
    back = _back(number)
    if not choices:
        flash("请至少为一项材料选择状态", "error")
        return redirect(back, 303)
    try:
        materials.mark_materials(ctx(), g.user, number, choices)
    except NotFound:
        abort(404)
    except Forbidden as error:
        abort(403, str(error))
    except (InvalidInput, Conflict) as error:
        flash(str(error), "error")
        return _render_again(back, choices, 409 if isinstance(error, Conflict) else 422)
    flash("已保存材料核对", "ok")
    return redirect(back, 303)


def _render_again(back: str, choices: dict[str, str], status: int):
    """The task page again, with the flashed message and the submitted choices checked."""
    try:
        endpoint, arguments = current_app.url_map.bind("").match(urlsplit(back).path, method="GET")
    except HTTPException:
        endpoint, arguments = None, {}
    if endpoint in RERENDERED:
        g.materials_draft, g.materials_back = choices, back
        try:
            response = current_app.make_response(current_app.view_functions[endpoint](**arguments))
        except HTTPException:
            response = None
        if response is not None and response.status_code == 200:
            response.status_code = status
            return response
    return redirect(back, 303)


@dataclass(frozen=True)
class Checklist:
    rows: list[materials.MaterialStatus]
    editable: bool  # the signed-in user may mark them now
    chosen: dict[int, str]  # the status each radio group shows checked (submitted choices win over saved marks)


@blueprint.app_template_global()
def materials_of(number: str, case_open: bool = True) -> Checklist:
    """The 申请材料 table's rows for the task page of a case the signed-in user may see."""
    rows = materials.case_materials(ctx(), g.user, number)
    chosen = {row.index: row.status for row in rows if row.status}
    for key, value in (g.get("materials_draft") or {}).items():
        if key.isdigit():
            chosen[int(key)] = value
    editable = case_open and any(g.user.has_role(role) for role in materials.MARKING_ROLES)
    return Checklist(rows, editable, chosen)
