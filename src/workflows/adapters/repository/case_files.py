"""What a case keeps besides its steps: materials and 容缺, documents (文书), comments and attachments."""
from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import String, bindparam, func, literal_column, select, update
from sqlalchemy.orm import undefer

from workflows.domain.model import CaseAttachment, CaseComment, CaseDocument, CaseMaterial, CaseWaiver

from .. import orm
from .base import _Repository, rows_of_case



class MaterialRepository(_Repository):
    """The marks (present, missing, waived) staff gave a case's 申请材料, by the material's catalog position."""

    def for_case(self, case_id: int) -> dict[int, CaseMaterial]:
        """The marks by material index, read once per transaction (_remembered)."""
        return dict(sorted(self._remembered(("materials", case_id), lambda: self._read(case_id)).items()))

    def _read(self, case_id: int) -> dict[int, CaseMaterial]:
        with self.session.no_autoflush:
            rows = self.session.scalars(rows_of_case(CaseMaterial, None), {"case_id": case_id})
            return {row.material_index: row for row in rows}

    def add(self, material: CaseMaterial) -> None:
        self.session.add(material)
        self._remember_added(("materials", material.case_id), material)


class WaiverRepository(_Repository):
    """容缺受理 records of a case (a case sent back to 受理 may be accepted with 容缺 again: the latest counts)."""

    def latest(self, case_id: int) -> CaseWaiver | None:
        return self.session.scalars(select(CaseWaiver).where(CaseWaiver.case_id == case_id)
                                    .order_by(CaseWaiver.id.desc()).limit(1)).first()

    def add(self, waiver: CaseWaiver) -> None:
        self.session.add(waiver)


class Issued(NamedTuple):
    """A document of a case as a new one's number must know it (a CaseDocument answers the same)."""

    kind: str
    number: str


_UNIT, _RECORD = "\x1f", "\x1e"  # between a document's kind and number, between documents: in no number


def issued_documents(case_id):
    """The kinds and numbers of a case's documents as one text (NULL: none), read with the case by
    CaseRepository.get_for_update for `DocumentRepository.read_issued`."""
    d = orm.case_documents
    # The separators as SQL literals, not parameters: aggregate_strings renders a parameter separator into the SQL at
    # every execution (a literal_execute parameter), which re-renders the whole of get_for_update's statement.
    unit, record = (literal_column(f"'{separator}'", String) for separator in (_UNIT, _RECORD))
    return (select(func.aggregate_strings(d.c.kind + unit + d.c.number, record)).where(d.c.case_id == case_id)
            .scalar_subquery())


# Built once: the kick after every command that issued a document keeps its PDF
_STORE_CONTENT = (update(orm.case_documents).where(orm.case_documents.c.id == bindparam("document_id"),
                                                   orm.case_documents.c.content.is_(None))
                  .values(content=bindparam("pdf")))


class DocumentRepository(_Repository):
    """文书 of cases; their PDF (deferred in the mapping) is loaded only by `with_content`."""

    def add(self, document: CaseDocument) -> None:
        self.session.add(document)
        self._remember_added(("documents", document.case_id), document)
        self._remember_added(("issued", document.case_id), document)

    def issued(self, case_id: int) -> list[Issued | CaseDocument]:
        """The kind and number of each document of the case, this unit's own included, read once per transaction:
        with the case where get_for_update read it (read_issued), else with its documents."""
        return self._remembered(("issued", case_id), lambda: list(self.for_case(case_id)))

    def read_issued(self, case_id: int, text: str | None) -> None:
        """What issued_documents read: remembered for `issued`; a case without documents has none to read."""
        if text is None:
            self._remembered(("documents", case_id), list)
        self._remembered(("issued", case_id), lambda: [Issued(*entry.split(_UNIT)) for entry in
                                                       (text.split(_RECORD) if text else ())])

    def for_case(self, case_id: int) -> list[CaseDocument]:
        """The case's documents, read once per transaction (_remembered)."""
        def read() -> list[CaseDocument]:
            with self.session.no_autoflush:
                return list(self.session.scalars(rows_of_case(CaseDocument), {"case_id": case_id}))
        return list(self._remembered(("documents", case_id), read))

    def with_content(self, document_id: int) -> CaseDocument | None:
        return self.session.scalar(select(CaseDocument).where(CaseDocument.id == document_id)
                                   .options(undefer(CaseDocument.content)))

    def get(self, document_id: int) -> CaseDocument | None:
        return self.session.get(CaseDocument, document_id)

    def store_content(self, document_id: int, content: bytes) -> bool:
        """Keep a document's PDF once: False when it had one already (rendered meanwhile elsewhere)."""
        return bool(self.session.execute(_STORE_CONTENT, {"document_id": document_id, "pdf": content}).rowcount)

    def undecided_cases(self, stage: str, opened_before: datetime, notice_kind: str, limit: int) -> list[int]:
        """Open cases still at `stage` and not accepted, received before `opened_before`, that were given no
        document of `notice_kind`: those the 行政许可法 §32 sweep looks at."""
        c, d = orm.cases, orm.case_documents
        noticed = select(d.c.id).where(d.c.case_id == c.c.id, d.c.kind == notice_kind).exists()
        query = (select(c.c.id).where(c.c.status == "open", c.c.stage == stage, c.c.accepted_at.is_(None),
                                      c.c.opened_at <= opened_before, ~noticed)
                 .order_by(c.c.opened_at, c.c.id).limit(limit))
        return list(self.session.scalars(query))


class CommentRepository(_Repository):
    def add(self, comment: CaseComment) -> None:
        self.session.add(comment)

    def for_case(self, case_id: int) -> list[CaseComment]:
        return list(self.session.scalars(select(CaseComment).where(CaseComment.case_id == case_id)
                                         .order_by(CaseComment.id)))


class AttachmentRepository(_Repository):
    """Attachments of cases; their content (deferred in the mapping) is loaded only by `with_content`."""

    def add(self, attachment: CaseAttachment) -> None:
        self.session.add(attachment)

    def for_case(self, case_id: int) -> list[CaseAttachment]:
        return list(self.session.scalars(select(CaseAttachment).where(CaseAttachment.case_id == case_id)
                                         .order_by(CaseAttachment.id)))

    def get(self, attachment_id: int) -> CaseAttachment | None:
        return self.session.get(CaseAttachment, attachment_id)

    def with_content(self, attachment_id: int) -> CaseAttachment | None:
        return self.session.scalar(select(CaseAttachment).where(CaseAttachment.id == attachment_id)
                                   .options(undefer(CaseAttachment.content)))
