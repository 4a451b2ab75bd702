"""REST routes of decision tables (DMN) for process designers: the list, a table's DMN file, publishing a new one."""
from __future__ import annotations

from flask import current_app, g, jsonify, request

from workflows.services import decisions
from workflows.services.decisions import DecisionRevision, DecisionSummary

from . import views
from .api_base import authenticated, blueprint, ctx
from .views import moment


def revision_view(revision: DecisionRevision) -> dict:
    return {"number": revision.number, "published_at": moment(revision.published_at),
            "published_by": revision.published_by,
            "process_versions": [{"process_key": key, "version": version}
                                 for key, version in revision.process_versions]}


def decision_view(summary: DecisionSummary) -> dict:
    return {"id": summary.id, "name": summary.name, "processes": list(summary.processes),
            "version": summary.latest.number, "published_at": moment(summary.latest.published_at),
            "published_by": summary.latest.published_by,
            "revisions": [revision_view(revision) for revision in summary.revisions]}


@blueprint.get("/decisions")
@authenticated
def list_decisions():
    return jsonify([decision_view(summary) for summary in decisions.list_decisions(ctx(), g.user)])


@blueprint.get("/decisions/<decision_id>")
@authenticated
def get_decision(decision_id):
    xml = decisions.decision_xml(ctx(), g.user, decision_id)
    return current_app.response_class(xml, mimetype="application/xml")


@blueprint.put("/decisions/<decision_id>")
@authenticated
def publish_decision(decision_id):
    published = decisions.publish_decision(ctx(), g.user, request.get_data(as_text=True), expected_id=decision_id)
    return jsonify({"published": [views.process_view(version) for version in published]})
