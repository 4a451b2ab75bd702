"""The designer's decision tables (决策表, such as an item's 禁办情形): the list, and the page that edits one in
dmn-js's decision-table editor and publishes it through the API (PUT /api/decisions/<id>)."""
from __future__ import annotations

from flask import g, render_template

from workflows.domain.errors import NotFound
from workflows.services import decisions as decision_service, processes as process_service

from .base import blueprint, ctx, signed_in


@blueprint.get("/decisions", endpoint="decisions")
@signed_in
def decision_list():
    found = decision_service.list_decisions(ctx(), g.user)
    return render_template("decisions.html", decisions=found, process_names=_process_names())


@blueprint.get("/decisions/<decision_id>/editor")
@signed_in
def decision_editor(decision_id):
    found = {decision.id: decision for decision in decision_service.list_decisions(ctx(), g.user)}
    if decision_id not in found:
        raise NotFound(f"决策表“{decision_id}”不存在")
    return render_template("decision_editor.html", decision=found[decision_id], process_names=_process_names())


def _process_names() -> dict[str, str]:
    """process key -> the name of its latest version, to show the processes a table is used by."""
    return {version.process_key: version.name for version in process_service.list_processes(ctx(), g.user.agency_code)}
