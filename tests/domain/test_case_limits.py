"""A case's limits as pure rules (domain/case_limits.py): what starts, what is met and what moves, decided on the
case's rows in memory, with no database and no clock but the moments given."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from workflows.adapters.holiday_data import official_calendar
from workflows.domain.calendar import OfficeHours
from workflows.domain.case_limits import PROMISED, STATUTORY, WAIVER_PAUSE, CaseLimits, due_label, limit_lines
from workflows.domain.catalog import AgencyItem, Item, StageLimit, TimeLimit
from workflows.domain.model import CLOSED, OPEN, Case, CasePause

CHINA = timezone(timedelta(hours=8))
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
ITEM = AgencyItem(item=Item("X", "测试事项", None, ("受理", "审核", "拨付"), "test", ()), name="测试事项",
                  promised_limit=TimeLimit(5, "working_days"), statutory_limit=TimeLimit(20, "working_days"),
                  stage_limits=(StageLimit("拨付", TimeLimit(3, "working_days"), "审核"),))


def limits_of(stage: str = "受理", rows=None) -> CaseLimits:
    case = Case(id=1, stage=stage, status=OPEN, result=None, accepted_at=None, opened_at=MONDAY)
    return CaseLimits(case, rows or [], ITEM, official_calendar(), OfficeHours())


def labels(limits: CaseLimits) -> dict[str, str]:
    return {row.kind: due_label(row) for row in limits.rows if row.met_at is None}


def test_leaving_acceptance_starts_the_promised_and_statutory_limits_from_then():
    limits = limits_of()
    limits.case.stage = "审核"
    assert limits.moved_on("受理", [], MONDAY) is True
    limits.recompute([], 0)
    assert limits.case.accepted_at == MONDAY and [row.kind for row in limits.added] == [PROMISED, STATUTORY]
    assert labels(limits) == {PROMISED: "2026-11-30 17:00", STATUTORY: "2026-12-21 17:00"}
    assert limits.case_limit().kind == PROMISED


def test_a_case_closed_straight_from_acceptance_is_no_acceptance():
    limits = limits_of()
    limits.case.stage, limits.case.status, limits.case.result = "办结", CLOSED, "refused"
    assert limits.moved_on("受理", [], MONDAY) is False
    assert limits.case.accepted_at is None and limits.rows == []


def test_a_stage_limit_starts_when_its_from_stage_ends_and_is_met_when_its_own_stage_ends():
    limits = limits_of("审核")
    limits.case.stage = "审核"
    limits.moved_on("受理", [], MONDAY)
    limits.case.stage = "拨付"
    assert limits.moved_on("审核", [], MONDAY + timedelta(days=1)) is True
    assert [line.kind for line in limit_lines(limits.case, limits.rows, ITEM.stage_limits)] == [
        PROMISED, STATUTORY, "拨付"]
    limits.case.stage = "办结"
    limits.moved_on("拨付", [], MONDAY + timedelta(days=2))
    assert sorted(labels(limits)) == [PROMISED, STATUTORY]


def test_a_pause_an_extension_and_an_open_waiver_pause_move_the_running_limits_and_say_which_moved():
    limits = limits_of()
    limits.case.stage = "审核"
    limits.moved_on("受理", [], MONDAY)
    limits.recompute([], 0)
    correction = CasePause(kind="correction", started_at=MONDAY + timedelta(days=1),
                           ended_at=MONDAY + timedelta(days=3), reason="补正")
    assert limits.recompute([correction], 0) == [("承诺时限", "2026-11-30 17:00", "2026-12-02 17:00"),
                                                 ("法定时限", "2026-12-21 17:00", "2026-12-23 17:00")]
    assert limits.recompute([correction], 2)[0] == ("承诺时限", "2026-12-02 17:00", "2026-12-04 17:00")
    assert limits.recompute([correction], 2) == []  # computed again, nothing moves
    waiting = CasePause(kind=WAIVER_PAUSE, started_at=MONDAY + timedelta(days=4), ended_at=None, reason="容缺")
    assert [after for _, _, after in limits.recompute([correction, waiting], 2)] == ["已暂停", "已暂停"]
