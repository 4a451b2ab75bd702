"""REST routes of messages between agencies (转移接续): a relay's view of the installation's messages, messages
posted by another installation, and retrying one that could not be delivered."""
from __future__ import annotations

from flask import g, jsonify, request

from workflows.domain.model import MESSAGE_STATUS_LABELS
from workflows.services import agency_messages
from workflows.services.agency_messages import MessageRecord

from .api_base import authenticated, blueprint, body, ctx, paging
from .views import moment


def message_view(record: MessageRecord) -> dict:
    message = record.message
    return {"id": message.id, "name": message.name, "from_agency": message.from_agency,
            "to_agency": message.to_agency, "correlation": message.correlation, "payload": message.payload,
            "status": message.status, "status_name": MESSAGE_STATUS_LABELS[message.status], "error": message.error,
            "source_case": record.source["number"] if record.source else None,
            "target_case": record.target["number"] if record.target else None,
            "created_at": moment(message.created_at), "delivered_at": moment(message.delivered_at)}


@blueprint.get("/agency-messages")
@authenticated
def list_agency_messages():
    limit, offset = paging()
    found = agency_messages.list_messages(ctx(), g.user, request.args.get("status") or None, limit, offset)
    return jsonify([message_view(record) for record in found])


@blueprint.post("/agency-messages")
@authenticated
def receive_agency_message():
    record, new = agency_messages.receive(ctx(), g.user, body())
    return jsonify(message_view(record)), 201 if new else 200


@blueprint.post("/agency-messages/<message_id>/sent")
@authenticated
def mark_agency_message_sent(message_id):
    return jsonify(message_view(agency_messages.mark_sent(ctx(), g.user, message_id)))


@blueprint.post("/agency-messages/<message_id>/retry")
@authenticated
def retry_agency_message(message_id):
    return jsonify(message_view(agency_messages.retry(ctx(), g.user, message_id)))
