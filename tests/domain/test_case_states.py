"""The words a case's state, a 黄牌/红牌 and a stage limit's plan are said in: pure rules, on the official calendar."""
from datetime import datetime
from zoneinfo import ZoneInfo

from workflows.adapters.holiday_data import official_calendar
from workflows.domain.calendar import OfficeHours
from workflows.domain.case_states import PauseState, case_state, result_label, result_of_end
from workflows.domain.catalog import StageLimit, TimeLimit
from workflows.domain.deadlines import (Pause, days_given_back, escalation_wording, overdue_working_days,
                                        plan_stage_limits)

CHINA = ZoneInfo("Asia/Shanghai")
CALENDAR = official_calendar()


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=CHINA)


def test_a_closed_case_reads_its_result_and_only_a_completed_one_reads_done():
    assert [case_state("closed", result).label for result in ("办结", "不予受理", "禁止办理", "审核不通过",
                                                             "验收不通过", "补正超时", "撤件", "终止")] == [
        "已办结", "不予受理", "禁止办理", "审核不通过", "验收不通过", "补正超时", "已撤件", "已终止"]
    assert result_of_end(None) == result_of_end(" ") == "办结" and result_of_end("不予受理") == "不予受理"
    assert result_label(None) == "已办结"


def test_an_open_case_reads_in_progress_paused_with_its_days_or_failed():
    assert case_state("open", None).label == "办理中"
    paused = case_state("open", None, PauseState("补正", 3))
    assert (paused.key, paused.label, paused.detail) == ("paused", "暂停（补正）",
                                                         "已暂停 3 个工作日，恢复计时后时限顺延 3 个工作日")
    assert case_state("failed", None).label == "故障待处理"


def test_a_pause_gives_back_the_working_days_it_covered():
    pause = Pause(at(11, 27), None)  # Friday
    assert days_given_back(CALENDAR, pause, at(11, 30)) == 1  # the weekend is no working day
    assert days_given_back(CALENDAR, pause, at(11, 27, 16)) == 0
    assert days_given_back(CALENDAR, Pause(at(9, 30), at(10, 9)), at(12, 1)) == 2  # 国庆: 10/8 and 10/9 only


def test_the_wording_of_a_yellow_and_a_red_card():
    assert escalation_wording("yellow", "2026-12-21 17:00") == "将于 2026-12-21 17:00 届满"
    assert escalation_wording("red", "2026-12-21 17:00") == "已于 2026-12-21 17:00 届满"
    late = overdue_working_days(CALENDAR, at(12, 21, 17), at(12, 28))  # Monday to Monday
    assert escalation_wording("red", "2026-12-21 17:00", late) == "已于 2026-12-21 17:00 届满，已超期 5 个工作日"


def test_stage_limits_are_planned_from_the_end_of_their_own_stage():
    limits = (StageLimit("验收", TimeLimit(20, "working_days"), "受理"),
              StageLimit("建立机构信息", TimeLimit(5, "working_days"), "验收"),
              StageLimit("开通医保服务网络", TimeLimit(5, "working_days"), "签订协议"))
    inspection, record, network = plan_stage_limits(CALENDAR, OfficeHours(), limits, at(11, 23, 9), "受理")

    assert (inspection.starts_at, inspection.deadline.due_at) == (at(11, 23, 9), at(12, 21, 17))
    assert (record.starts_at, record.deadline.due_at) == (at(12, 21, 17), at(12, 28, 17))
    assert (network.starts_at, network.deadline) == (None, None)  # 签订协议 has no limit: its end is not known
