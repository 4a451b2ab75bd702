"""The append-only history of a case: who did what, when."""
from __future__ import annotations

from datetime import datetime

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.model import Case, HistoryEntry

from .context import jsonable

SYSTEM = "system"


def add_history(uow: UnitOfWork, case: Case, at: datetime, actor: str, action: str, message: str,
                stage: str | None = None, task_name: str | None = None, detail: dict | None = None) -> None:
    uow.history.add(HistoryEntry(case_id=case.id, at=at, actor=actor, action=action, stage=stage,
                                 task_name=task_name, message=message, detail=jsonable(detail or {})))
