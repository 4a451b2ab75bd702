"""A case coming into being, however it comes (at the window, by a process message, by another agency's message):
the day's next number of its agency with its id, and the state every new case starts in."""
from __future__ import annotations

from contextlib import nullcontext
from datetime import date
from typing import TYPE_CHECKING

from workflows.domain.case_numbers import format_case_number
from workflows.domain.model import OPEN, Case

if TYPE_CHECKING:
    from workflows.adapters.unit_of_work import UnitOfWork


def new_case(uow: "UnitOfWork", agency_code: str, today: date, number_apart: bool = False, **fields) -> Case:
    """A new open case of the agency, numbered and added to the unit, with no data and no workflow yet; `fields`:
    the rest (hall, item, version, stage, applicant, who opened it and when). `number_apart`: the number and id
    are taken in a short transaction of their own (UnitOfWork.committed_at_once), so that other clerks' commands
    (on SQLite) and openings (on PostgreSQL: the day's counter row) do not wait for this one's workflow to run; an
    opening that fails after leaves its number unused."""
    with uow.committed_at_once() if number_apart else nullcontext():
        sequence, case_id = uow.cases.next_sequence_and_id(agency_code, today)
    case = Case(id=case_id, number=format_case_number(agency_code, today, sequence), agency_code=agency_code,
                status=OPEN, result=None, data={}, workflow_state="", closed_at=None, **fields)
    uow.cases.add(case)
    return case
