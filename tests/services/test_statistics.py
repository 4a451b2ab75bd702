"""The supervisors' figures on known data: 门诊 cases (承诺 20 个工作日) opened, accepted and closed at chosen
moments in 抚顺's two halls, some on time and some late; then the desk's rows of the same hall.

Cases accepted on Monday 2026-11-23 09:30 are due 2026-12-21 17:00 (yellow from 2026-12-15 17:00)."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from workflows.adapters import orm, statistics_counts
from workflows.domain.errors import Forbidden, InvalidInput
from workflows.services import (calendar, case_operations, cases, desk, inbox_rows, outbox, public, statistics,
                                task_operations, tasks, time_limits)
from workflows.services.scheduler import count_overdue, fire_due_timers

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at
from support.process_driver import drive, proof

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

HALL2_CLERK = "clerk_210400_02"


def task_of(ctx, user, number):
    [task] = [t for t in tasks.list_tasks(ctx, user) if t.case_number == number]
    return task


def finish(ctx, staff, clock, number, when, reviewer="shenhe", finance="caiwu"):
    """审核 approved and 财务 paid at `when`: the case closes then."""
    clock.now = at(when)
    for who, decision in ((reviewer, "approve"), (finance, "pay")):
        progress = tasks.complete_task(ctx, staff[who], task_of(ctx, staff[who], number).id, {"decision": decision})
    assert progress.case.status == "closed"


def opened(ctx, clerk, clock, when) -> str:
    clock.now = at(when)
    return cases.open_case(ctx, clerk, OUTPATIENT, APPLICANT, DATA).case.number


@pytest.fixture
def known(ctx, staff, clock, built_once):
    """Hall 01: A on time, B late, C refused at acceptance (closed, never timed), D open and overdue at 审核,
    E waiting for 受理. Hall 02: F on time, G waiting for 受理. The figures are read on 2026-12-22 09:30.
    Built once per worker and database (built_once): a copy of it for every test."""
    return built_once("test_statistics.known", lambda: build_known(ctx, staff, clock))


def build_known(ctx, staff, clock) -> dict:
    numbers = {"A": accept(ctx, staff, clock, "2026-11-23 09:30"), "B": accept(ctx, staff, clock, "2026-11-23 09:40"),
               "D": accept(ctx, staff, clock, "2026-11-23 09:50")}
    numbers["C"] = opened(ctx, staff["shouli"], clock, "2026-11-24 10:00")
    tasks.complete_task(ctx, staff["shouli"], task_of(ctx, staff["shouli"], numbers["C"]).id, {"decision": "refuse", "opinion": "非本市参保人员"})
    clerk2 = staff[HALL2_CLERK]
    numbers["F"] = opened(ctx, clerk2, clock, "2026-11-24 11:00")
    tasks.complete_task(ctx, clerk2, task_of(ctx, clerk2, numbers["F"]).id, {"decision": "accept"})
    finish(ctx, staff, clock, numbers["A"], "2026-11-25 10:00")
    finish(ctx, staff, clock, numbers["F"], "2026-11-26 10:00", HALL2_CLERK, HALL2_CLERK)
    numbers["E"] = opened(ctx, staff["shouli"], clock, "2026-11-30 10:00")
    numbers["G"] = opened(ctx, clerk2, clock, "2026-12-01 10:00")
    finish(ctx, staff, clock, numbers["B"], "2026-12-22 09:00")  # due 2026-12-21 17:00: late
    clock.now = at("2026-12-22 09:30")
    return numbers


def rates(rows):
    return {row.key: (row.total, row.on_time, row.percent) for row in rows}


def test_on_time_rates_per_item_hall_and_person(ctx, staff, known):
    figures = statistics.hall_statistics(ctx, staff["kezhang"])

    # A and C on time; B closed late; D still open but past its due moment: late already; E not yet due
    assert rates(figures.by_item) == {OUTPATIENT: (4, 2, 50.0)}
    assert [row.name for row in figures.by_item] == ["门诊费用报销"]
    assert rates(figures.by_hall) == {"210400-01": (4, 2, 50.0), "210400-02": (1, 1, 100.0)}
    assert figures.by_hall[0].name == "抚顺市医疗保障事务服务中心"
    assert (figures.hall_total.total, figures.hall_total.on_time) == (4, 2)
    assert (figures.agency_total.total, figures.agency_total.on_time, figures.agency_total.percent) == (5, 3, 60.0)
    # 受理 before the clock runs is on time; B's 审核 and 财务 were done after its due moment
    assert rates(figures.by_person) == {"shouli": (4, 4, 100.0), "shenhe": (2, 1, 50.0), "caiwu": (2, 1, 50.0)}
    assert {row.key: row.name for row in figures.by_person}["shenhe"] == "李审核"


def test_backlog_weeks_and_overdue_cases(ctx, staff, known):
    figures = statistics.hall_statistics(ctx, staff["kezhang"])

    assert [(row.stage, row.hall, row.agency) for row in figures.backlog] == [("受理", 1, 2), ("审核", 1, 1)]
    weeks = {row.start: (row.opened, row.closed, row.agency_opened, row.agency_closed) for row in figures.weeks}
    assert len(figures.weeks) == 12 and figures.weeks[-1].start == date(2026, 12, 21)
    assert figures.weeks[0].start == date(2026, 10, 5)
    assert weeks[date(2026, 11, 23)] == (4, 2, 5, 3)  # A B C D (+F); A and C (+F) closed
    assert weeks[date(2026, 11, 30)] == (1, 0, 2, 0)  # E (+G)
    assert weeks[date(2026, 12, 21)] == (0, 1, 0, 1)  # B closed
    assert sum(sum(w) for day, w in weeks.items() if day not in (date(2026, 11, 23), date(2026, 11, 30),
                                                                   date(2026, 12, 21))) == 0
    assert [(row.number, row.stage, row.limit.kind, row.due) for row in figures.overdue] == [
        (known["D"], "审核", "promised", "2026-12-21 17:00")]
    assert figures.agency_overdue == 1


def test_another_halls_supervisor_sees_that_halls_figures(ctx, staff, known):
    figures = statistics.hall_statistics(ctx, staff["kezhang2"])

    assert rates(figures.by_item) == {OUTPATIENT: (1, 1, 100.0)}
    assert figures.overdue == [] and figures.agency_overdue == 1
    assert [(row.stage, row.hall, row.agency) for row in figures.backlog] == [("受理", 1, 2), ("审核", 0, 1)]
    assert rates(figures.by_person) == {HALL2_CLERK: (3, 3, 100.0)}


def test_an_approved_extension_keeps_a_late_looking_case_on_time(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    time_limits.request_extension(ctx, staff["shenhe"], number, 5, "需外省协查")
    time_limits.decide_extension(ctx, staff["kezhang"], number, True, "同意")  # due 2026-12-28 17:00
    finish(ctx, staff, clock, number, "2026-12-23 10:00")

    figures = statistics.hall_statistics(ctx, staff["kezhang"])
    assert (figures.hall_total.total, figures.hall_total.on_time) == (1, 1)


def test_a_withdrawn_or_terminated_case_counts_neither_on_time_nor_late(ctx, staff, clock):
    """撤件 and 终止 end a case without a decision: an overdue one must not pull the hall's rate down."""
    late = accept(ctx, staff, clock, "2026-11-23 09:30")
    terminated = accept(ctx, staff, clock, "2026-11-23 09:40")
    finish(ctx, staff, clock, late, "2026-12-22 09:00")  # due 2026-12-21 17:00: late
    case_operations.withdraw_case(ctx, staff["shouli"], accept(ctx, staff, clock, "2026-12-22 09:10"), "申请人书面撤回")
    case_operations.terminate_case(ctx, staff["kezhang"], terminated, "参保人已去世")  # overdue when ended

    figures = statistics.hall_statistics(ctx, staff["kezhang"])
    assert (figures.hall_total.total, figures.hall_total.on_time) == (1, 0)


def test_only_supervisors_see_statistics_and_the_desk(ctx, staff):
    for view in (statistics.hall_statistics, statistics.desk_board):
        with pytest.raises(Forbidden):
            view(ctx, staff["shouli"])


def test_the_desk_shows_escalations_and_the_cases_in_warning_overdue_or_waiting_for_a_decision(ctx, staff, clock):
    red_case = accept(ctx, staff, clock, "2026-11-23 09:30")  # due 12-21 17:00
    yellow_case = accept(ctx, staff, clock, "2026-11-27 09:30")  # due 12-25 17:00, yellow from 12-21 17:00
    calm_case = accept(ctx, staff, clock, "2026-12-14 09:30")
    asked_case = accept(ctx, staff, clock, "2026-12-14 09:40")
    time_limits.request_extension(ctx, staff["shenhe"], asked_case, 3, "需外省协查")
    for moment in ("2026-12-16 09:00", "2026-12-22 09:00"):
        clock.now = at(moment)
        fire_due_timers(ctx)

    board = statistics.desk_board(ctx, staff["kezhang"])

    # one entry per case and limit: red_case's 红牌 replaced its 黄牌 of 12-16; red first, then the oldest
    assert [(row.escalation.case_number, row.escalation.level) for row in board.escalations] == [
        (red_case, "red"), (yellow_case, "yellow")]
    red = board.escalations[0]
    assert (red.stage, red.due) == ("审核", "2026-12-21 17:00")
    assert red.wording == "已于 2026-12-21 17:00 届满，已超期 1 个工作日"
    assert board.escalations[1].wording == "将于 2026-12-25 17:00 届满"
    assert [(h.task_name, h.role, h.username) for h in red.holders] == [("审核", "reviewer", None)]
    assert red.roles == ("reviewer",)
    assert "shenhe" in {user.username for user in board.candidates(red)}
    assert "caiwu" not in {user.username for user in board.candidates(red)}
    assert [(row.number, row.level, row.due) for row in board.cases] == [  # one row per case and limit at risk
        (red_case, "red", "2026-12-21 17:00"), (yellow_case, "yellow", "2026-12-25 17:00")]
    assert [(row.number, row.level, row.due) for row in board.waiting] == [
        (asked_case, "normal", "2027-01-11 17:00（暂估）")]
    assert board.waiting[0].extension.days == 3 and calm_case not in [row.number for row in board.waiting]

    time_limits.pause_clock(ctx, staff["kezhang"], calm_case, "suspension", "等待司法鉴定")
    suspended = next(row for row in statistics.desk_board(ctx, staff["kezhang"]).waiting if row.number == calm_case)
    assert (suspended.level, suspended.due, suspended.pause.kind) == ("paused", "已暂停", "suspension")

    other = statistics.desk_board(ctx, staff["kezhang2"])
    assert (other.escalations, other.cases, other.waiting, other.escalation_page.total) == ([], [], [], 0)
    [first, *_] = desk.list_escalations(ctx, staff["kezhang"])
    assert first.id == red.escalation.id


def test_the_desk_reads_a_page_of_each_list_by_level_or_by_due_moment(ctx, staff, clock):
    red = accept(ctx, staff, clock, "2026-11-23 09:30")  # due 12-21 17:00: red on 12-22
    later = accept(ctx, staff, clock, "2026-11-27 09:30")  # due 12-25 17:00: yellow on 12-22
    sooner = accept(ctx, staff, clock, "2026-11-26 09:30")  # due 12-24 17:00: yellow on 12-22
    for moment in ("2026-12-16 09:00", "2026-12-22 09:00"):
        clock.now = at(moment)
        fire_due_timers(ctx)
    kezhang = staff["kezhang"]

    def numbers(board):
        return [row.escalation.case_number for row in board.escalations]

    assert numbers(statistics.desk_board(ctx, kezhang))[0] == red  # red before yellow
    assert numbers(statistics.desk_board(ctx, kezhang, sort="due")) == [red, sooner, later]
    pages = [statistics.desk_board(ctx, kezhang, page=n, sort="due", cases_page=n, per_page=1) for n in (1, 2, 3, 4)]
    assert [numbers(board) for board in pages] == [[red], [sooner], [later], []]
    assert [board.escalation_page.more for board in pages] == [True, True, False, False]
    assert {board.escalation_page.total for board in pages} == {3}
    assert [[row.number for row in board.cases] for board in pages] == [[red], [sooner], [later], []]
    assert [board.case_page.more for board in pages] == [True, True, False, False]
    assert {board.case_page.total for board in pages} == {3}  # the limits at risk, all of them


def test_the_desk_pages_the_supervisions_and_the_follow_ups_and_counts_all_of_them(ctx, staff, clock):
    """Three 督办 (the middle one replied) and three 差评回访 of the hall, one row a page: each list in its order (督办
    waiting for a reply first, then the newest; 差评回访 the soonest due first), the counts of all on every page."""
    kezhang, reviews = staff["kezhang"], [accept(ctx, staff, clock, f"2026-11-2{day} 09:30") for day in (3, 4, 5)]
    given = []
    for hour, number in enumerate(reviews):
        clock.now = at(f"2026-11-30 1{hour}:00")
        given.append(task_operations.supervise_task(ctx, kezhang, task_of(ctx, staff["shenhe"], number).id,
                                                    f"请说明进度 {hour}"))
    task_operations.reply_supervision(ctx, staff["shenhe"], given[1].id, "今日办结")
    rated = []
    for day in (1, 3, 2):  # rated on 12-01, 12-03, 12-02: due in that order
        clock.now = at("2026-11-30 09:30")
        rated.append(drive(ctx, staff["clerk_210400_01"], OUTPATIENT).case.number)
        clock.now = at(f"2026-12-0{day} 10:00")
        public.rate_service(ctx, proof(rated[-1]), None, 2, "等了两个小时")

    pages = [statistics.desk_board(ctx, kezhang, supervisions_page=n, followups_page=n, per_page=1)
             for n in (1, 2, 3, 4)]

    assert [[s.instruction for s, _ in board.supervisions] for board in pages] == [
        ["请说明进度 2"], ["请说明进度 0"], ["请说明进度 1"], []]  # the two waiting, newest first, then the replied
    assert [[row.followup.case_number for row in board.followups] for board in pages] == [
        [rated[0]], [rated[2]], [rated[1]], []]
    for board in pages:
        assert (board.supervision_page.total, board.unreplied, board.followup_page.total) == (3, 2, 3)
    assert [(b.supervision_page.more, b.followup_page.more) for b in pages] == [(True, True)] * 2 + [(False, False)] * 2
    assert statistics.desk_board(ctx, staff["kezhang2"]).followup_page.total == 0  # another hall's supervisor


@pytest.mark.parametrize("query, field", [({"page": 0}, "page"), ({"page": "2x"}, "page"),
                                          ({"cases_page": -1}, "cases_page"), ({"supervisions_page": 0},
                                          "supervisions_page"), ({"followups_page": True}, "followups_page"),
                                          ({"sort": "name"}, "sort")])
def test_the_desk_refuses_a_page_or_order_it_does_not_have(ctx, staff, query, field):
    with pytest.raises(InvalidInput) as refused:
        statistics.desk_board(ctx, staff["kezhang"], **query)
    assert list(refused.value.field_errors) == [field] and field in str(refused.value)


def counts_in_table(ctx):
    with ctx.uow(write=False) as uow:
        connection = uow.session.connection()
        return tuple(sorted(tuple(row) for row in connection.execute(table.select()))
                     for table in (orm.case_counts, orm.task_counts, orm.closed_case_counts))


def test_the_running_counts_every_command_keeps_agree_with_a_recount(ctx, staff, clock, known):
    """Opening, accepting, refusing, closing on time and late, an extension, a withdrawal and a termination, each
    in its own command: what they added to the counts is what counting every case and task afresh gives."""
    extended = accept(ctx, staff, clock, "2026-11-23 09:30")
    time_limits.request_extension(ctx, staff["shenhe"], extended, 5, "需外省协查")
    time_limits.decide_extension(ctx, staff["kezhang"], extended, True, "同意")
    finish(ctx, staff, clock, extended, "2026-12-23 10:00")
    case_operations.withdraw_case(ctx, staff["shouli"], accept(ctx, staff, clock, "2026-12-23 10:10"), "申请人书面撤回")
    case_operations.terminate_case(ctx, staff["kezhang"], known["D"], "参保人已去世")
    kept = counts_in_table(ctx)
    figures = statistics.hall_statistics(ctx, staff["kezhang"])

    with ctx.uow(write=False) as uow:
        case_rows, task_rows = statistics_counts.recount(uow.session.connection())
    recounted = tuple(sorted(tuple(row[column.name] for column in table.columns) for row in rows)
                      for table, rows in ((orm.case_counts, case_rows), (orm.task_counts, task_rows),
                                          (orm.closed_case_counts, statistics_counts.totals(case_rows))))
    assert kept == recounted
    assert sum(row[-4] for row in kept[0]) == 9 and sum(row[-3] for row in kept[0]) == 7  # opened, closed
    assert sum(row[-2] for row in kept[2]) == 5  # counted over the weeks: A, B, C, F and the extended one
    with ctx.uow(write=False) as uow:  # the open cases per stage (the backlog), kept as cases move and close
        connection = uow.session.connection()
        open_kept = sorted((r.agency_code, r.hall_code, r.stage, r.open)
                           for r in connection.execute(orm.open_case_counts.select()) if r.open)
        open_recounted = sorted(tuple(r.values()) for r in statistics_counts.recount_open(connection))
    assert open_kept == open_recounted and sum(row[-1] for row in open_kept) == 2

    with ctx.uow() as uow:  # the counts rebuilt from scratch give the page the very same figures
        statistics_counts.rebuild(uow.session.connection())
        uow.commit()
    assert counts_in_table(ctx) == kept
    assert statistics.hall_statistics(ctx, staff["kezhang"]) == figures



def test_every_limit_carries_its_cases_place_and_none_runs_once_its_case_is_closed(ctx, staff, clock, known):
    """The desk and the statistics read a hall's running limits by the place written on them (no case is joined):
    a limit started at acceptance, by an extension, in a case closed on time or late, withdrawn, terminated or
    still open has its case's agency, hall and item, and a closed case has no running limit left."""
    extended = accept(ctx, staff, clock, "2026-11-23 09:30")
    time_limits.request_extension(ctx, staff["shenhe"], extended, 5, "需外省协查")
    time_limits.decide_extension(ctx, staff["kezhang"], extended, True, "同意")
    case_operations.withdraw_case(ctx, staff["shouli"], accept(ctx, staff, clock, "2026-12-23 10:10"), "申请人书面撤回")
    case_operations.terminate_case(ctx, staff["kezhang"], known["D"], "参保人已去世")
    with ctx.uow(write=False) as uow:
        c, d = orm.cases, orm.case_deadlines
        rows = uow.session.execute(
            select(c.c.agency_code, c.c.hall_code, c.c.item_code, c.c.status, d.c.agency_code, d.c.hall_code,
                   d.c.item_code, d.c.met_at).join(d, d.c.case_id == c.c.id)).all()
    assert len(rows) == 6 and all(row[:3] == row[4:7] for row in rows)  # A B D F, the extended, the withdrawn
    assert {row[5] for row in rows} == {"210400-01", "210400-02"}
    assert {row[3] for row in rows if row[7] is None} == {"open"}  # the extended case, still at 审核


def test_a_calendar_change_moves_a_case_out_of_the_overdue_figures_and_the_desks_red_cards(ctx, staff, clock, known):
    """Overdue is read from the running limits as they stand, so a day made a holiday (the limits recomputed by the
    outbox worker) takes D, due 2026-12-21 17:00, out of the late figures once its due moment moves past now."""
    calendar.correct_day(ctx, staff["admin"], date(2026, 12, 21), False, "临时休息日", "测试通知〔2026〕2号")
    outbox.work_due(ctx)

    figures = statistics.hall_statistics(ctx, staff["kezhang"])
    assert figures.overdue == [] and (figures.hall_overdue, figures.agency_overdue) == (0, 0)
    assert (figures.hall_total.total, figures.hall_total.on_time) == (3, 2)  # A, B (late), C: D no longer late
    [row] = [r for r in statistics.desk_board(ctx, staff["kezhang"]).cases if r.number == known["D"]]
    assert (row.level, row.due) == ("yellow", "2026-12-22 17:00")


def test_the_inbox_offers_the_stages_its_halls_tasks_stand_at_open_or_done(ctx, staff, known):
    """环节 filter: read stage after stage from an index, each hall and state its own."""
    assert inbox_rows.stage_choices(ctx, staff["shouli"], "ready") == ["受理", "审核"]  # E waits at 受理, D at 审核
    assert inbox_rows.stage_choices(ctx, staff["shouli"], "completed") == ["受理", "审核", "拨付"]
    assert inbox_rows.stage_choices(ctx, staff[HALL2_CLERK], "ready") == ["受理"]  # G
    assert inbox_rows.stage_choices(ctx, staff["shouli"], "cancelled") == ["督办"]  # a 督办 task its case closed


def overdue_counted_directly(ctx, now) -> dict[str, int]:
    """hall -> the open cases with a running, unpaused limit past due at `now`, counted from the cases and their
    limits themselves (joined, whatever the limits carry), not from what the page reads."""
    with ctx.uow(write=False) as uow:
        c, d = orm.cases, orm.case_deadlines
        rows = uow.session.execute(
            select(c.c.hall_code, c.c.id).join(d, d.c.case_id == c.c.id)
            .where(c.c.status != "closed", d.c.met_at.is_(None), d.c.paused.is_(False), d.c.due_at < now)
            .distinct()).all()
    counted: dict[str, int] = {}
    for hall, _ in rows:
        counted[hall] = counted.get(hall, 0) + 1
    return counted


def test_the_overdue_figures_equal_a_direct_count_through_extension_suspension_resumption_and_closing(
        ctx, staff, clock, known):
    """After each command — a second case overdue, its limit extended past now, another suspended (中止) and
    resumed, the overdue one closed late — the 统计 page's overdue figures (per hall, for the agency, in the
    on-time totals) are what counting the open cases' limits directly gives, and the running counts agree with a
    recount."""
    later = accept(ctx, staff, clock, "2026-11-23 10:00")  # due 2026-12-21 17:00 as D: overdue on the 22nd
    clock.now = at("2026-12-22 09:30")

    def check():
        figures = statistics.hall_statistics(ctx, staff["kezhang"])
        direct = overdue_counted_directly(ctx, clock.now)
        assert figures.hall_overdue == direct.get("210400-01", 0)
        assert figures.agency_overdue == sum(direct.values())
        assert {row.number for row in figures.overdue} <= {known["D"], later}
        assert len({row.number for row in figures.overdue}) == figures.hall_overdue
        with ctx.uow(write=False) as uow:
            case_rows, _ = statistics_counts.recount(uow.session.connection())
        kept = counts_in_table(ctx)
        assert kept[0] == sorted(tuple(row[column.name] for column in orm.case_counts.columns) for row in case_rows)
        return figures

    assert check().hall_overdue == 2  # D and the later case
    time_limits.request_extension(ctx, staff["shenhe"], later, 5, "需外省协查")
    time_limits.decide_extension(ctx, staff["kezhang"], later, True, "同意")
    assert check().hall_overdue == 1  # the later case's limit now runs past the 22nd
    time_limits.pause_clock(ctx, staff["kezhang"], known["D"], "suspension", "司法鉴定")
    figures = check()
    assert figures.hall_overdue == 0 and figures.overdue == []  # paused: no due moment while stopped
    time_limits.resume_clock(ctx, staff["kezhang"], known["D"])
    assert check().hall_overdue == 1  # running again: past due still
    finish(ctx, staff, clock, known["D"], "2026-12-22 10:00")
    figures = check()
    assert (figures.hall_overdue, figures.agency_overdue) == (0, 0)
    assert (figures.hall_total.total, figures.hall_total.on_time) == (4, 2)  # A, C on time; B and D closed late


def overdue_kept(ctx) -> dict[str, int]:
    """hall -> the open cases overdue_counts holds (what the scheduler's rounds and the commands kept)."""
    with ctx.uow(write=False) as uow:
        k = orm.overdue_counts
        rows = uow.session.execute(select(k.c.hall_code, k.c.overdue).where(k.c.overdue != 0)).all()
    kept: dict[str, int] = {}
    for hall, overdue in rows:
        kept[hall] = kept.get(hall, 0) + overdue
    return kept


def test_the_overdue_counts_kept_by_the_scheduler_and_the_commands_equal_a_direct_count(ctx, staff, clock, known):
    """The round counts a limit once it is past due (and once only); an extension, a suspension and a closing take
    the case out of the counts at once, a resumption past due puts it back at the next round. In between, the
    statistics add what the round has not reached: the page is exact at every moment."""
    later = accept(ctx, staff, clock, "2026-11-24 10:00")  # due 2026-12-22 17:00
    clock.now = at("2026-12-22 09:30")

    def check(kept_before_round: dict[str, int]) -> int:
        direct = overdue_counted_directly(ctx, clock.now)
        assert overdue_kept(ctx) == kept_before_round
        figures = statistics.hall_statistics(ctx, staff["kezhang"])
        assert (figures.hall_overdue, figures.agency_overdue) == (direct.get("210400-01", 0), sum(direct.values()))
        count_overdue(ctx)
        assert overdue_kept(ctx) == direct
        count_overdue(ctx)  # a second round (another scheduler) counts nothing twice
        assert overdue_kept(ctx) == direct
        return direct.get("210400-01", 0)

    assert check({}) == 1  # D, counted by the first round
    clock.now = at("2026-12-23 09:30")  # the later case's limit came due meanwhile
    assert check({"210400-01": 1}) == 2
    time_limits.request_extension(ctx, staff["shenhe"], later, 5, "需外省协查")
    time_limits.decide_extension(ctx, staff["kezhang"], later, True, "同意")  # due 2026-12-29 17:00
    assert check({"210400-01": 1}) == 1
    time_limits.pause_clock(ctx, staff["kezhang"], known["D"], "suspension", "司法鉴定")
    assert check({}) == 0
    time_limits.resume_clock(ctx, staff["kezhang"], known["D"])  # past due again: the next round counts it
    assert check({}) == 1
    finish(ctx, staff, clock, known["D"], "2026-12-23 10:00")
    assert check({}) == 0
    clock.now = at("2026-12-30 09:30")  # past the extended due moment
    assert check({}) == 1
    with ctx.uow() as uow:  # a recount from the marks gives what was kept
        assert {row["hall_code"]: row["overdue"] for row in statistics_counts.recount_overdue(
            uow.session.connection())} == {"210400-01": 1}
