"""差评回访 on the supervisor's desk: the hall's open follow-ups (_followups.html) and recording one's result."""
from __future__ import annotations

from flask import g

from workflows.services import followups

from .base import blueprint, ctx, signed_in
from .supervisor import desk_action, form_values


@blueprint.post("/desk/followups/<int:followup_id>")
@signed_in
def record_followup(followup_id):
    values = form_values()
    return desk_action(f"f{followup_id}", values, lambda: "{}：已记录差评回访".format(followups.record_result(
        ctx(), g.user, followup_id, values.get("visit_note", ""), values.get("remedy", "")).followup.case_number))
