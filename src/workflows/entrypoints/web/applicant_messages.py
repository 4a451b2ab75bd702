"""短信通知: the texts the applicant was sent (or is about to be) on the case page."""
from __future__ import annotations

from flask import g

from workflows.services import applicant_notices

from .base import blueprint, ctx


@blueprint.app_template_global()
def applicant_messages_of(case_id: int):
    """The case's texts as the signed-in user may read them (the phone masked unless their role needs it)."""
    return applicant_notices.case_messages(ctx(), g.user, case_id)
