"""REST routes of a case's documents (文书): the list, a document's PDF, the 一次性告知书 and 退回申请人补正."""
from __future__ import annotations

from flask import g, jsonify, url_for

from workflows.domain.documents import KINDS
from workflows.domain.model import CaseDocument
from workflows.services import documents, notices

from .api_base import authenticated, blueprint, body, ctx
from .files import private_file, wants_download
from .views import moment


def document_view(document: CaseDocument, case_number: str) -> dict:
    return {"id": document.id, "case_number": case_number, "kind": document.kind, "kind_name": KINDS[document.kind],
            "title": document.title, "number": document.number, "fields": document.fields,
            "issued_by": document.issued_by, "issued_at": moment(document.issued_at),
            "pdf_url": url_for("api.document_pdf", document_id=document.id)}


@blueprint.get("/cases/<number>/documents")
@authenticated
def list_documents(number):
    return jsonify([document_view(d, number) for d in documents.list_documents(ctx(), g.user, number)])


@blueprint.get("/documents/<int:document_id>/pdf")
@authenticated
def document_pdf(document_id):
    document, content = documents.document_pdf(ctx(), g.user, document_id)
    return private_file(content, "application/pdf", documents.file_name(document), inline=not wants_download())


@blueprint.post("/cases/<number>/missing-materials-notice")
@authenticated
def issue_missing_materials_notice(number):
    return jsonify(document_view(notices.issue_missing_materials_notice(ctx(), g.user, number), number)), 201


@blueprint.post("/cases/<number>/correction")
@authenticated
def return_for_correction(number):
    reason = body().get("reason", "")
    notice = notices.return_for_correction(ctx(), g.user, number, reason if isinstance(reason, str) else "")
    return jsonify(document_view(notice, number)), 201
