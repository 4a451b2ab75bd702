"""Opening and accepting a 门诊费用报销 case at a given moment, and reading its limits: shared by time tests."""
from __future__ import annotations

from datetime import datetime

from workflows.adapters import orm
from workflows.services import cases, tasks
from workflows.domain.case_limits import due_label
from workflows.services.context import CHINA

from support.process_driver import PERSON_ID

OUTPATIENT = "002036006001"  # 抚顺 门诊费用报销: 承诺 20 个工作日
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
DATA = {"expense_total": "800.00", "bank_account": "6222020712001234567"}


def at(text: str) -> datetime:
    """A moment in Beijing time, "YYYY-MM-DD HH:MM"."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA)


def accept(ctx, staff, clock, when: str) -> str:
    """Open a 门诊 case at `when` and accept it there; return its number."""
    clock.now = at(when)
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    return progress.case.number


def review_task(ctx, staff, clock, when: str = "2026-11-23 09:30"):
    """The 审核 task, unclaimed, of a 门诊 case accepted at `when`."""
    number = accept(ctx, staff, clock, when)
    return next(t for t in cases.case_details(ctx, staff["shenhe"], number).tasks if t.state == "ready")


def limits(ctx, staff, number) -> dict:
    return {row.kind: row for row in cases.case_details(ctx, staff["shouli"], number).deadlines}


def label(ctx, staff, number, kind="promised") -> str:
    return due_label(limits(ctx, staff, number)[kind])


def complete_step(ctx, staff, username: str, number: str, decision: str, **values):
    """`username` completes the case's one open task of its path (督办 aside) with `decision`."""
    [task] = [t for t in tasks.list_tasks(ctx, staff[username]) if t.case_number == number and t.stage != "督办"]
    return tasks.complete_task(ctx, staff[username], task.id, {"decision": decision, **values})


def open_path_rows(ctx, staff, number: str) -> list:
    """The case's open inbox rows of its path (督办 aside), as a supervisor reads them."""
    return [t for t in cases.case_details(ctx, staff["kezhang"], number).tasks
            if t.state == "ready" and t.stage != "督办"]


def timers_due(ctx, number) -> list:
    """When the case's timers are due, as the scheduler's table has them, the first first."""
    with ctx.uow(write=False) as uow:
        case = uow.cases.get(number)
        rows = uow.session.execute(orm.case_timers.select().where(orm.case_timers.c.case_id == case.id))
        return sorted(row.due_at for row in rows)


def reminder_due(ctx, number):
    """When the case's first timer is due: 审核's reminder (tests/support/diagrams.review_reminder), days before
    the limits' 黄牌 and 红牌."""
    return timers_due(ctx, number)[0]
