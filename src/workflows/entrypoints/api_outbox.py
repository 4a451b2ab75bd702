"""REST routes of the 后台任务 (the outbox): the entries that failed, and retrying one."""
from __future__ import annotations

from flask import g, jsonify

from workflows.domain.events import OutboxEntry
from workflows.services import outbox

from .api_base import authenticated, blueprint, ctx, paging
from .views import moment


def entry_view(entry: OutboxEntry, case_number: str | None) -> dict:
    return {"id": entry.id, "kind": entry.kind, "kind_name": outbox.KIND_LABELS.get(entry.kind, entry.kind),
            "case_number": case_number, "attempts": entry.attempts, "last_error": entry.last_error,
            "created_at": moment(entry.created_at), "next_attempt_at": moment(entry.next_attempt_at),
            "done_at": moment(entry.done_at)}


@blueprint.get("/outbox/failures")
@authenticated
def list_outbox_failures():
    return jsonify([entry_view(f.entry, f.case_number) for f in outbox.failures(ctx(), g.user, *paging())])


@blueprint.post("/outbox/<int:entry_id>/retry")
@authenticated
def retry_outbox_entry(entry_id):
    entry, case_number = outbox.retry(ctx(), g.user, entry_id)
    return jsonify(entry_view(entry, case_number))
