"""申请材料核对 on the task and case pages: one form marks each material 已提交, 缺少, 容缺 or 告知承诺 (where allowed).

The form carries `next`, the task page: after a POST the clerk goes back there. A refused marking re-renders that
page with the message and the choices submitted, so nothing chosen is lost.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, request, url_for

from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.services import materials

from .base import blueprint, ctx, local_path, render_again, signed_in

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
        return render_again(back, 409 if isinstance(error, Conflict) else 422, materials_draft=choices,
                            materials_back=back)
    flash("已保存材料核对", "ok")
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
