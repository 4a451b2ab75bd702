"""REST routes of 差评回访: the follow-ups of a supervisor's hall and recording one's result."""
from __future__ import annotations

from flask import g, jsonify, request

from workflows.domain.errors import InvalidInput
from workflows.services import followups
from workflows.services.followups import FollowUpRow

from .api_base import authenticated, blueprint, body, ctx, paging
from .views import moment


def followup_view(row: FollowUpRow) -> dict:
    f = row.followup
    return {"id": f.id, "case_number": f.case_number, "item_name": f.item_name, "hall_code": f.hall_code,
            "score": f.score, "rating": f.rating_label, "comment": f.comment, "opened_at": moment(f.opened_at),
            "due_at": moment(f.due_at), "warning_at": moment(f.warning_at), "level": row.level,
            "status": f.status, "visit_note": f.visit_note, "remedy": f.remedy, "recorded_by": f.recorded_by,
            "recorded_at": moment(f.recorded_at)}


@blueprint.get("/followups")
@authenticated
def list_followups():
    limit, offset = paging()
    status = request.args.get("status", "open")
    found = followups.list_followups(ctx(), g.user, None if status == "all" else status, limit, offset)
    return jsonify([followup_view(row) for row in found])


@blueprint.post("/followups/<int:followup_id>/result")
@authenticated
def record_followup(followup_id):
    data = body()
    texts = {key: data.get(key, "") for key in ("visit_note", "remedy")}
    if not all(isinstance(text, str) for text in texts.values()):
        raise InvalidInput("回访记录填写有误", {key: "应为文本" for key, text in texts.items()
                                         if not isinstance(text, str)})
    return jsonify(followup_view(followups.record_result(ctx(), g.user, followup_id, texts["visit_note"],
                                                        texts["remedy"])))
