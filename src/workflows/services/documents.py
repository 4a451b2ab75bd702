"""文书: the notices and decisions a case is given, filled in from the agency's templates and kept as PDF.

`issue` is called inside the transaction of the command that calls for a document (受理, 容缺受理, a 告知承诺 …);
`on_case_accepted` and `on_case_closed` handle the events every command on a case publishes where it moved the
case (services/progress.py), so the documents that follow from where the case went (accepted, refused, completed,
timed out) are issued whoever moved it, in the command's transaction. A document is
never changed: issuing one again makes a new one with a new number.

The command fixes the document: its number, its values and its text as laid out are kept in its transaction. The
PDF (reportlab, the costly part) is laid out from that text after the commit (`render_issued`, the outbox's
worker for DocumentIssued); a download before that lays it out on the spot. Whichever is first keeps its PDF.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime

from workflows.adapters.pdf import render_pdf
from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.acceptance import COMMITTED, MISSING, PRESENT, WAIVED, WAIVER_EXPIRED, WAIVER_STAGE
from workflows.domain.amounts import money, yuan
from workflows.domain.catalog import Agency, Material
from workflows.domain.documents import (KINDS, REMEDIES, DocumentMaterial, DocumentTemplate, RenderedDocument,
                                        chinese_date, contact_phone, from_layout, layout_of, mask_account, mask_id,
                                        render)
from workflows.domain.errors import Conflict, NotFound
from workflows.domain.events import CaseAccepted, CaseClosed, DocumentIssued, OutboxEntry
from workflows.domain.identity import eligibility_finding
from workflows.domain.model import CASE_TERMINATED, Case, CaseDocument, User
from workflows.domain.case_limits import PROMISED
from workflows.domain.case_states import COMPLETED

from . import applicant_notices
from .access import require_case_visible, sees_all_halls
from .privacy import require_case_worker

from .context import CHINA, Context
from .history import SYSTEM, add_history

ACCEPTANCE, MISSING_MATERIALS, WAIVER = "acceptance_notice", "missing_materials_notice", "waiver_notice"
REFUSAL, REJECTION, COMPLETION = "refusal_decision", "rejection_decision", "completion_notice"
TERMINATION = "termination_decision"
DECISIONS = (REFUSAL, REJECTION, TERMINATION)  # the 决定书: each states its reasons and the remedies
CORRECTION_TIMEOUT, COMMITMENT, RESULT = "correction_timeout_notice", "commitment", "result_document"
# 文书编号: the prefix and the case number (a result document takes the number its handler gave it)
NUMBER_PREFIXES = {ACCEPTANCE: "SL", MISSING_MATERIALS: "GZ", WAIVER: "RQ", REFUSAL: "BSL", REJECTION: "BPZ",
                   TERMINATION: "ZZ", COMPLETION: "BJ", CORRECTION_TIMEOUT: "CS", COMMITMENT: "CN", RESULT: "WS"}
DETAILS = {"reasons", "materials", "due", "document_name", "number"}

PROHIBITED = "禁止办理"
# How a case ended -> the document the applicant is given. A negative decision on an accepted application is a
# decision too (行政许可法 §38, 社会保险法 §83): with its reasons and the remedies, like a 不予受理决定书.
CLOSING_DOCUMENTS = {COMPLETED: COMPLETION, "不予受理": REFUSAL, PROHIBITED: REFUSAL, "审核不通过": REJECTION,
                     "验收不通过": REJECTION, "认定不通过": REJECTION, "协议未签订": REJECTION,
                     CASE_TERMINATED: TERMINATION, WAIVER_EXPIRED: CORRECTION_TIMEOUT}
MARK_PLACEHOLDERS = {"received_materials": PRESENT, "committed_materials": COMMITTED, "waived_materials": WAIVED,
                     "missing_materials": MISSING}
AUTOMATIC_REASON = "refusal_reason"  # case data: the words of an automatic check that ended the case
NOTICE_ROLES = ("acceptor", "reviewer")  # who gives the 一次性告知书 and returns a case for 补正


@dataclass(frozen=True)
class CaseDocuments:
    """What the 文书 panel of a task or case page shows: the documents, and which notices the actor may give now."""

    documents: list[CaseDocument]
    may_notify: bool  # 出具一次性告知书: the hall's 受理员 or 审核员, on an open case
    may_return: bool  # 退回申请人补正: besides, the case is accepted and its clock runs


def issue(uow: UnitOfWork, ctx: Context, case: Case, kind: str, actor: User | str, **details) -> CaseDocument:
    """Fill the agency's template of `kind` in for the case and keep it with the case, its number and text fixed,
    with a line in the case's history; inside the caller's transaction. Its PDF follows the commit (DocumentIssued).

    details: `reasons` (text), `materials` (the materials' names, or catalog Materials), `due` (the 补正期限, a
    date or moment), and for a result document its `document_name` and `number` (as the certificate handler gave
    them)."""
    at, issuer = ctx.now(), getattr(actor, "username", actor)
    rendered, values, materials = _render(uow, ctx, case, kind, details)
    number = rendered.number
    document = CaseDocument(case_id=case.id, kind=kind, title=rendered.title, number=number,
                            fields={**values, "material_rows": [asdict(m) for m in materials]},
                            layout=layout_of(rendered), content=None, issued_by=issuer, issued_at=at)
    uow.documents.add(document)
    stage = case.stage

    def with_its_id() -> None:  # the commit has written the document: its id is known (no flush mid-command)
        uow.publish(DocumentIssued(document.id, case.id, kind, number, document.layout))
        applicant_notices.notify(uow, case, kind, rendered.title, number)  # the applicant is texted of it
        add_history(uow, case, at, issuer, "document_issued", f"出具《{rendered.title}》（文书编号 {number}）",
                    stage=stage, detail={"document_id": document.id, "kind": kind, "number": number})
    uow.when_flushed(with_its_id)
    return document


def preview_closing(uow: UnitOfWork, ctx: Context, case: Case, result: str, reason: str) -> RenderedDocument | None:
    """The 决定书 a person's refusal ending the case in `result` (the end event's name) gives, exactly as it would
    be printed now (number, date, reasons), for the clerk to confirm first; nothing is issued or kept. None when
    that result brings no 决定书."""
    kind = closing_kind(case, result)
    if kind not in DECISIONS:
        return None
    return _render(uow, ctx, case, kind, {"reasons": refusal_reasons(result, case.data, reason)})[0]


def closing_kind(case: Case, result: str) -> str | None:
    """The document a case closing in `result` is given."""
    kind = CLOSING_DOCUMENTS.get(result)
    if kind == REFUSAL and case.accepted_at is not None:
        return REJECTION  # accepted already (禁办 found at 审核, or deemed accepted): refused on the merits
    return kind


def on_case_accepted(uow: UnitOfWork, ctx: Context, event: CaseAccepted) -> None:
    """The bus's handler of CaseAccepted, in the command's transaction: the 受理通知书, unless the case has it (sent
    back to 受理 and accepted again) or its 容缺受理通知书."""
    if not any(d.kind in (ACCEPTANCE, WAIVER) for d in uow.documents.issued(event.case_id)):
        issue(uow, ctx, uow.cases.get_by_id(event.case_id), ACCEPTANCE, SYSTEM)


def on_case_closed(uow: UnitOfWork, ctx: Context, event: CaseClosed) -> None:
    """The bus's handler of CaseClosed, in the command's transaction: the document of the case's result, with the
    result documents its certificate handler numbered."""
    if event.result not in CLOSING_DOCUMENTS:
        return
    case = uow.cases.get_by_id(event.case_id)
    kind = closing_kind(case, event.result)
    issue(uow, ctx, case, kind, SYSTEM, **_closing_details(uow, case, kind))
    if event.result == COMPLETED:
        for entry in case.data.get("documents", []):
            issue(uow, ctx, case, RESULT, SYSTEM, document_name=entry["kind"], number=entry["number"])


def list_documents(ctx: Context, actor: User, number: str) -> list[CaseDocument]:
    """The case's documents, oldest first, without their PDF."""
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        require_case_worker(uow, actor, case)
        return uow.documents.for_case(case.id)


def case_documents(ctx: Context, actor: User, number: str) -> CaseDocuments:
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        require_case_worker(uow, actor, case)
        may_notify = case.is_open and any(actor.has_role(role) for role in NOTICE_ROLES)
        running = case.accepted_at is not None and all(p.ended_at for p in uow.deadlines.pauses(case.id))
        return CaseDocuments(uow.documents.for_case(case.id), may_notify, may_notify and running)


def document_pdf(ctx: Context, actor: User, document_id: int) -> tuple[CaseDocument, bytes]:
    """A document and its PDF, laid out now if the outbox has not yet; one of a case the actor cannot see does not
    exist."""
    with ctx.uow(write=False) as uow:
        found = uow.documents.with_content(document_id)
        try:
            case = require_case_visible(actor, uow.cases.get_by_id(found.case_id) if found else None)
        except NotFound:
            raise NotFound("文书不存在") from None
        if not sees_all_halls(actor):  # an administrator oversees every hall's documents (their IDs masked)
            require_case_worker(uow, actor, case)
    return found, found.content if found.content is not None else _rendered(ctx, found)


def render_issued(ctx: Context, entry: OutboxEntry) -> None:
    """The outbox's worker for DocumentIssued: lay the PDF out from the document's kept text, outside any
    transaction, then keep it (unless a download kept one first) and mark the entry done, in one transaction."""
    event = DocumentIssued.from_payload(entry.payload)
    with ctx.uow(write=False) as uow:
        document = uow.documents.with_content(event.document_id)
    content = None if document is None or document.content is not None else render_pdf(from_layout(document.layout))
    with ctx.uow() as uow:
        if content is not None:
            uow.documents.store_content(event.document_id, content)
        uow.outbox.finish(entry.id, ctx.now())
        uow.commit()


def render_kicked(ctx: Context, entries: list[tuple[int, DocumentIssued]]) -> None:
    """The prompt worker for DocumentIssued, right after the command: lay the PDFs out from the text the events
    carry (nothing read back), then keep each with its entry done in one transaction, unless a worker holds or did
    the entry (a download may have kept a PDF: kept). An event without its text (one restored from the outbox) is
    the scheduler's. (A PDF that a download or the scheduler kept meanwhile is laid out here too, and not kept: rare
    enough not to ask the database first on every command.)"""
    rendered = [(entry_id, event.document_id, render_pdf(from_layout(event.layout)))
                for entry_id, event in entries if event.layout is not None]
    with ctx.uow() as uow:
        for entry_id, document_id, content in rendered:
            if uow.outbox.finish_unclaimed(entry_id, ctx.now()):
                uow.documents.store_content(document_id, content)
        uow.commit()


def _rendered(ctx: Context, document: CaseDocument) -> bytes:
    """Lay a document's PDF out on the spot (a download came before the outbox); the first PDF kept is the one."""
    content = render_pdf(from_layout(document.layout))
    with ctx.uow() as uow:
        stored = uow.documents.store_content(document.id, content)
        uow.commit()
    if stored:
        return content
    with ctx.uow(write=False) as uow:
        return uow.documents.with_content(document.id).content


def file_name(document: CaseDocument) -> str:
    return f"{document.title}-{document.number}.pdf"


# --- filling a template in ---------------------------------------------------------------------------------------

def _render(uow: UnitOfWork, ctx: Context, case: Case, kind: str,
            details: dict) -> tuple[RenderedDocument, dict[str, str], list[DocumentMaterial]]:
    """The agency's template of `kind` filled in for the case now: the document, its placeholders' values and the
    materials it lists."""
    if kind not in KINDS or not set(details) <= DETAILS:
        raise ValueError(f"no document {kind!r} with {sorted(set(details) - DETAILS)}")
    catalog = ctx.catalog(uow)
    agency, template = catalog.agency(case.agency_code), catalog.document_template(case.agency_code, kind)
    if agency is None or template is None:
        raise Conflict(f"目录中没有《{KINDS[kind]}》的文书模板，不能出具")
    number = _number(uow, case, details.get("number") or f"{NUMBER_PREFIXES[kind]}{case.number}")
    materials = _materials(agency, case, details.get("materials") or ())
    values = _values(uow, agency, case, number, ctx.now(), details) | _marked(uow, case, template)
    return render(template, values, materials), values, materials


def _number(uow: UnitOfWork, case: Case, base: str) -> str:
    """`base`, or `base-2`, `base-3` … when the case was given a document of that number already."""
    taken = {document.number for document in uow.documents.issued(case.id)}
    number, count = base, 1
    while number in taken:
        count += 1
        number = f"{base}-{count}"
    return number


def _materials(agency: Agency, case: Case, given) -> list[DocumentMaterial]:
    """The materials named, with their form, source and condition from the item's catalog list where it has them."""
    item = agency.item(case.item_code)
    known = {material.name: material for material in (item.materials if item else ())}
    listed = []
    for entry in given:
        material = entry if isinstance(entry, Material) else known.get(str(entry))
        listed.append(DocumentMaterial(material.name, material.form, material.source, material.condition)
                      if material else DocumentMaterial(str(entry), "—"))
    return listed


def _day(moment: date | datetime | None) -> str | None:
    if moment is None:
        return None
    return chinese_date(moment.astimezone(CHINA).date() if isinstance(moment, datetime) else moment)


def _values(uow: UnitOfWork, agency: Agency, case: Case, number: str, at: datetime, details: dict) -> dict[str, str]:
    """The placeholders' values (domain/documents.py PLACEHOLDERS) but {materials} and the marks' (_marked); those
    without one are left out."""
    hall = agency.hall(case.hall_code)
    applicant = case.applicant
    agent = applicant.get("agent") or {}
    promised = next((row for row in uow.deadlines.for_case(case.id) if row.kind == PROMISED), None)
    values = {
        "case_number": case.number, "document_number": number, "item_name": case.item_name,
        "applicant_name": applicant.get("name"), "applicant_id_number": applicant.get("id_number"),
        "applicant_id_masked": mask_id(applicant.get("id_number")),
        "agent_name": agent.get("name"), "agent_id_masked": mask_id(agent.get("id_number")),
        "agency_name": agency.name, "agency_short_name": agency.short_name,
        "hall_name": hall and hall.name, "hall_address": hall and hall.address, "hall_phone": hall and hall.phone,
        "consult_phone": contact_phone(agency.consult_phone, hall and hall.phone), "complaint_phone": agency.complaint_phone,
        "received_date": _day(case.opened_at), "accepted_date": _day(case.accepted_at),
        "due_date": _day(promised and promised.due_at), "correction_due_date": _day(details.get("due")),
        "reasons": details.get("reasons"),
        "remedies": REMEDIES + (f"监督投诉电话：{agency.complaint_phone}。" if agency.complaint_phone else ""),
        "document_name": details.get("document_name"), "issue_date": _day(at),
        **_payment_values(case),
    }
    return {key: str(value) for key, value in values.items() if value not in (None, "")}


def _marked(uow: UnitOfWork, case: Case, template: DocumentTemplate) -> dict[str, str]:
    """The materials by their marks (申请材料核对), for the 受理通知书's lists; none for a template without such a
    list (the marks are not read: a 办结通知书 lists none)."""
    if not template.placeholders & MARK_PLACEHOLDERS.keys():
        return {}
    names: dict[str, list[str]] = {}
    for _, mark in sorted(uow.materials.for_case(case.id).items()):
        names.setdefault(mark.status, []).append(mark.name)
    return {placeholder: "、".join(names[status]) for placeholder, status in MARK_PLACEHOLDERS.items()
            if status in names}


def _payment_values(case: Case) -> dict:
    """What a paid case's documents state: the amount paid and to which account."""
    paid = case.data.get("paid_amount")
    if paid in (None, ""):
        return {}
    return {"paid_amount": yuan(money(paid)), "paid_account_masked": mask_account(case.data.get("bank_account"))}


def _closing_details(uow: UnitOfWork, case: Case, kind: str) -> dict:
    if kind in DECISIONS:
        return {"reasons": refusal_reasons(case.result, case.data, _deciding_reason(uow, case))}
    if kind == CORRECTION_TIMEOUT:
        period = next((row for row in uow.deadlines.for_case(case.id) if row.kind == WAIVER_STAGE), None)
        return {"due": period and period.due_at}
    return {}


def refusal_reasons(result: str, data: dict, decided: str | None) -> str:
    """The 理由 of a 决定书, never a stock sentence: the 禁办情形 in the catalog's words with the list it is from;
    else the reason the deciding clerk wrote (`decided`, verbatim); else the words of the automatic check that
    ended the case (case data `refusal_reason`, or what 身份及参保核验 found); else the result itself, as the diagram
    names it."""
    if result == PROHIBITED and data.get("prohibited_rule"):
        basis = data.get("prohibited_basis")
        return f"属于禁办情形“{data['prohibited_rule']}”" + (f"（依据：{basis}）" if basis else "") + "。"
    return decided or data.get(AUTOMATIC_REASON) or eligibility_finding(data) or f"{result}。"


def _deciding_reason(uow: UnitOfWork, case: Case) -> str | None:
    """The reason of the decision that closed the case: a 终止's, or that of the task completed last if it refused
    (an opinion written on an approval, or on an earlier step, is no reason for a refusal that came after it)."""
    uow.history.write_pending()  # the command being recorded is among the lines not yet written
    deciding = [entry for entry in uow.history.for_case(case.id) if entry.action in ("completed", "terminated")]
    if not deciding:
        return None
    last = deciding[-1]
    return (last.detail.get("reason") if last.action == "terminated" else last.detail.get("refusal")) or None
