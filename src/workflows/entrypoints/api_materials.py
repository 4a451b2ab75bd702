"""REST routes of a case's 申请材料核对: the item's materials with their marks, and marking them (已提交, 缺少, 容缺,
告知承诺), as the task and case pages do; marking the last waived material handed in ends 容缺补正."""
from __future__ import annotations

from flask import g, jsonify

from workflows.domain.errors import InvalidInput
from workflows.services import materials

from .api_base import authenticated, blueprint, body, ctx


def material_view(row: materials.MaterialStatus) -> dict:
    material = row.material
    return {"index": row.index, "name": material.name, "required": material.required, "form": material.form,
            "waivable": material.waivable, "source": material.source, "condition": material.condition,
            "status": row.status, "status_name": row.status_name, "marked_by": row.marked_by,
            "allowed": list(row.statuses)}


@blueprint.get("/cases/<number>/materials")
@authenticated
def case_materials(number):
    return jsonify([material_view(row) for row in materials.case_materials(ctx(), g.user, number)])


@blueprint.put("/cases/<number>/materials")
@authenticated
def mark_materials(number):
    marks = body().get("marks")
    if not isinstance(marks, dict) or not marks:
        raise InvalidInput("请给出材料核对结果", {"marks": "形如 {\"0\": \"present\", \"2\": \"waived\"} 的对象"})
    return jsonify([material_view(row) for row in materials.mark_materials(ctx(), g.user, number, marks)])
