"""转移接续 on the case page: the case at the other agency and the messages exchanged (_agency_messages.html),
and retrying a message that could not be delivered."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from workflows.domain.errors import Conflict
from workflows.domain.model import MESSAGE_STATUS_LABELS
from workflows.services import agency_messages

from .base import blueprint, ctx, local_path, signed_in


@blueprint.app_context_processor
def message_globals():
    return {"MESSAGE_STATUS_LABELS": MESSAGE_STATUS_LABELS}


@blueprint.app_template_global()
def agency_exchange_of(number: str):
    """The other agency's case and the messages of the case, for the page of a case the user may see."""
    return agency_messages.case_exchange(ctx(), g.user, number)


@blueprint.post("/agency-messages/<message_id>/retry")
@signed_in
def retry_agency_message(message_id):
    back = local_path(request.form.get("next", "")) or url_for("web.home")
    try:
        record = agency_messages.retry(ctx(), g.user, message_id)
    except Conflict as error:  # delivered meanwhile, or failed again: why, on the page it was tried from
        flash(str(error), "error")
        return redirect(back, 303)
    flash(f"“{record.message.name}”已送达：办件 {record.target['number']}", "ok")
    return redirect(back, 303)
