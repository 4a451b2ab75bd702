"""The states of cases as pages, lists and the API show them (rules in domain/case_states.py): the open pauses
and the working calendar are read once for a whole list."""
from __future__ import annotations

from workflows.domain.case_states import CaseState, PauseState, case_state
from workflows.domain.deadlines import PAUSE_KINDS, Pause, days_given_back
from workflows.domain.model import CLOSED, Case

from .calendar import working_calendar
from .context import Context


def states_of(uow, ctx: Context, cases: dict[int, tuple[str, str | None]], pauses: dict | None = None
              ) -> dict[int, CaseState]:
    """case id -> its state, for cases given as id -> (status, result); `pauses`: their open pauses by case id,
    when the caller read them already (open_pauses_of)."""
    pauses = open_pauses_of(uow, cases) if pauses is None else pauses
    calendar = working_calendar(ctx, uow) if pauses else None
    now = ctx.now()

    def pause_state(case_id):
        pause = pauses.get(case_id)
        if pause is None:
            return None
        days = days_given_back(calendar, Pause(pause.started_at, None, pause.reason), now)
        return PauseState(PAUSE_KINDS.get(pause.kind, pause.kind), days)

    return {case_id: case_state(status, result, pause_state(case_id)) for case_id, (status, result) in cases.items()}


def open_pauses_of(uow, cases: dict[int, tuple[str, str | None]]) -> dict:
    """case id -> its open pause, for the open ones of cases given as id -> (status, result)."""
    open_ids = [case_id for case_id, (status, _) in cases.items() if status != CLOSED]
    return {p.case_id: p for p in uow.statistics.open_pauses(open_ids)}


def state_of(uow, ctx: Context, case: Case) -> CaseState:
    return states_of(uow, ctx, {case.id: (case.status, case.result)})[case.id]
