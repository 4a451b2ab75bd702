"""The rows of the inbox as a clerk reads them (待办, 我认领的, 已办): each task with its case's state, its level, the
time left in words and who holds it by name; the stages the 环节 filter offers and the suspended cases. One
transaction for a whole page."""
from __future__ import annotations

from dataclasses import dataclass

from workflows.domain.case_states import CaseState
from workflows.domain.deadlines import level_at, time_left_wording
from workflows.domain.model import COMPLETED, CaseTask, User

from .calendar import working_calendar
from .case_operations import SUSPENSION
from .case_states import open_pauses_of, states_of
from .context import Context


@dataclass(frozen=True)
class InboxRow:
    task: CaseTask
    state: CaseState | None  # the case's
    level: str | None  # normal / yellow / red / paused now; 已办: the level stored when the task was done
    time_left: str  # "剩 3 个工作日", "今日到期", "已超期 2 个工作日", "暂停（补正）…"; "" without a limit or once done
    assignee_name: str  # "" while nobody holds it


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    stages: list[str]  # the stages the 环节 filter offers
    suspended: set[int]  # the ids of the rows' cases that are suspended (中止): their tasks wait


def inbox_page(ctx: Context, actor: User, tasks: list[CaseTask], state: str) -> InboxPage:
    """The rows of a page of tasks, the filter's stages and the suspended cases: one transaction, one read each."""
    with ctx.uow(write=False) as uow:
        summaries = uow.statistics.case_summaries(list({task.case_id for task in tasks}))
        cases = {case_id: (row["status"], row["result"]) for case_id, row in summaries.items()}
        pauses = open_pauses_of(uow, cases)
        states = states_of(uow, ctx, cases, pauses)
        names = {user.username: user.full_name for user in uow.users.in_hall(actor.agency_code, actor.hall_code)}
        calendar = working_calendar(ctx, uow) if tasks else None
        stages = uow.tasks.stages(actor.agency_code, actor.hall_code, state)
    now = ctx.now()

    def row(task: CaseTask) -> InboxRow:
        state = states.get(task.case_id)
        if task.state == COMPLETED:
            return InboxRow(task, state, task.completed_level, "", names.get(task.assignee, task.assignee or ""))
        paused = state is not None and state.key == "paused"
        level = "paused" if paused else level_at(task.due_at, task.warning_at, now)
        left = state.label if paused else time_left_wording(calendar, task.due_at, now) if task.due_at else ""
        return InboxRow(task, state, level, left, names.get(task.assignee, task.assignee or ""))

    return InboxPage([row(task) for task in tasks], stages,
                     {case_id for case_id, pause in pauses.items() if pause.kind == SUSPENSION})


def stage_choices(ctx: Context, actor: User, state: str) -> list[str]:
    """The stages the actor's hall has tasks at in `state`."""
    with ctx.uow(write=False) as uow:
        return uow.tasks.stages(actor.agency_code, actor.hall_code, state)
