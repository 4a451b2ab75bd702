"""REST routes of the incidents (故障): the list with its filters, one incident's detail, and the retry of one or
a selection (services/incidents.py)."""
from __future__ import annotations

from datetime import datetime

from flask import g, jsonify, request

from workflows.domain.errors import InvalidInput
from workflows.services import incidents
from workflows.services.context import CHINA

from .api_base import authenticated, blueprint, body, ctx
from .views import moment


def incident_view(incident: incidents.Incident) -> dict:
    return {"ref": incident.ref, "kind": incident.kind, "kind_name": incident.kind_label,
            "case_number": incident.case_number, "item_code": incident.item_code, "item_name": incident.item_name,
            "hall_code": incident.hall_code, "handler": incident.handler, "task_name": incident.task_name,
            "since": moment(incident.since), "error": incident.error}


def since_argument(text: str | None) -> datetime | None:
    """`since` as an ISO 8601 moment, or a date (from its start, China time)."""
    if not text:
        return None
    try:
        moment_ = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("since 有误", {"since": "应为日期（2026-11-23）或带时区的时刻（ISO 8601）"}) from None
    return moment_ if moment_.tzinfo else moment_.replace(tzinfo=CHINA)


def filters() -> dict:
    args = request.args
    return {"item": args.get("item_code") or None, "hall": args.get("hall_code") or None,
            "handler": args.get("handler") or None, "since": since_argument(args.get("since"))}


@blueprint.get("/incidents")
@authenticated
def list_incidents():
    return jsonify([incident_view(i) for i in incidents.list_incidents(ctx(), g.user, **filters())])


@blueprint.get("/incidents/<path:ref>")
@authenticated
def show_incident(ref):
    incident = incidents.incident(ctx(), g.user, ref)
    return jsonify({**incident_view(incident), "detail": incident.detail})


@blueprint.post("/incidents/retry")
@authenticated
def retry_incidents():
    data = body()
    refs = data.get("refs")
    if not isinstance(refs, list):
        raise InvalidInput("请选择要重试的故障", {"refs": "故障编号的数组"})
    outcomes = incidents.retry_incidents(ctx(), g.user, refs, data.get("reason"))
    return jsonify([{"ref": o.ref, "retried": o.retried, "error": o.error} for o in outcomes])
