"""REST route of the audit of personal data: who read which case's ID number or bank account in full, and when."""
from __future__ import annotations

from flask import g, jsonify, request

from workflows.domain.privacy import KIND_NAMES
from workflows.services import privacy

from .api_base import authenticated, blueprint, ctx, paging
from .views import moment


@blueprint.get("/personal-data-reads")
@authenticated
def list_personal_data_reads():
    limit, offset = paging()
    found = privacy.reads(ctx(), g.user, request.args.get("case") or None, request.args.get("actor") or None,
                          limit, offset)
    return jsonify([{"case_number": r.case_number, "actor": r.actor, "kinds": r.kinds.split(","),
                     "kind_names": [KIND_NAMES[kind] for kind in r.kinds.split(",")], "purpose": r.purpose,
                     "at": moment(r.at)} for r in found])
