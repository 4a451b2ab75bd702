"""Due dates, pauses, extensions and warnings, on the official 2024–2026 calendar.

Every date below was checked against chinese-calendar 1.11.0 (tests/adapters/test_holiday_data.py asserts the
notice dates used here), and against the notices themselves:
- 国办发明电〔2023〕7号 (2024): 春节 2/10–2/17, 上班 2/4 (Sun), 2/18 (Sun); 劳动节 5/1–5/5, 上班 4/28 (Sun), 5/11 (Sat);
  中秋 9/15–9/17, 上班 9/14 (Sat); 国庆 10/1–10/7, 上班 9/29 (Sun), 10/12 (Sat).
- 国办发明电〔2024〕12号 (2025): 春节 1/28–2/4, 上班 1/26 (Sun), 2/8 (Sat); 劳动节 5/1–5/5, 上班 4/27 (Sun);
  国庆中秋 10/1–10/8, 上班 9/28 (Sun), 10/11 (Sat).
- 国办发明电〔2025〕7号 (2026): 元旦 1/1–1/3, 上班 1/4 (Sun); 春节 2/15–2/23, 上班 2/14 (Sat), 2/28 (Sat); 劳动节 5/1–5/5,
  上班 5/9 (Sat); 中秋 9/25–9/27; 国庆 10/1–10/7, 上班 9/20 (Sun), 10/10 (Sat).
2027 has no notice yet: deadlines reaching it are provisional (暂估).
"""
from datetime import date, datetime, time, timedelta, timezone
from time import perf_counter
from zoneinfo import ZoneInfo

import pytest

from workflows.adapters.holiday_data import official_calendar
from workflows.domain.calendar import OfficeHours, YearSchedule
from workflows.domain.catalog import TimeLimit
from workflows.domain.deadlines import Deadline, Pause, WarningPolicy, compute_deadline, time_left_wording

CHINA = ZoneInfo("Asia/Shanghai")
FUSHUN = OfficeHours()  # 08:30–11:30, 13:00–17:00
CALENDAR = official_calendar()


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CHINA)


def close(year: int, month: int, day: int) -> datetime:
    return at(year, month, day, 17, 0)


def wd(n: int) -> TimeLimit:
    return TimeLimit(n, "working_days")


def deadline(limit: TimeLimit, accepted_at: datetime, **options) -> Deadline:
    return compute_deadline(CALENDAR, FUSHUN, limit, accepted_at, **options)


IMMEDIATE = TimeLimit(0, "immediate")

# (accepted at, limit, due day); the count after each row names the working days, the acceptance day not counted.
DUE_DATES = [
    # 〔2023〕7号, 2024 春节: 2/9 (Fri) 1, 2/18 (Sun, 调休) 2, 2/19 3, 2/20 4, 2/21 5
    pytest.param(at(2024, 2, 8), wd(5), date(2024, 2, 21), id="2024 春节 5"),
    # 2/2 1, 2/4 (Sun, 调休) 2, 2/5–2/9 3–7, 2/18 (Sun) 8, 2/19–23 9–13, 2/26–3/1 14–18, 3/4 19, 3/5 20
    pytest.param(at(2024, 2, 1), wd(20), date(2024, 3, 5), id="2024 春节 20"),
    # 〔2023〕7号, 2024 劳动节: 4/28 (Sun, 调休) 1, 4/29 2, 4/30 3, 5/1–5/5 off, 5/6 4, 5/7 5
    pytest.param(at(2024, 4, 26), wd(5), date(2024, 5, 7), id="2024 劳动节 5"),
    # 〔2023〕7号, 2024 中秋: 9/14 (Sat, 调休) 1, 9/15–17 off, 9/18 2, 9/19 3
    pytest.param(at(2024, 9, 13), wd(3), date(2024, 9, 19), id="2024 中秋 3"),
    # 〔2023〕7号, 2024 国庆: 9/29 (Sun, 调休) 1, 9/30 2, 10/1–7 off, 10/8 3, 10/9 4, 10/10 5
    pytest.param(at(2024, 9, 27), wd(5), date(2024, 10, 10), id="2024 国庆 5"),
    # 9/23–27 1–5, 9/29 (Sun) 6, 9/30 7, 10/8–11 8–11, 10/12 (Sat) 12, 10/14–18 13–17, 10/21–23 18–20
    pytest.param(at(2024, 9, 20), wd(20), date(2024, 10, 23), id="2024 国庆 20"),
    # 〔2023〕7号: accepted on a holiday (10/3); 10/8 1 … 10/11 4, 10/12 (Sat, 调休) 5: the Saturday is the due day
    pytest.param(at(2024, 10, 3), wd(5), date(2024, 10, 12), id="2024 on a holiday, due 调休 Saturday"),
    # 〔2024〕12号, 2025 春节: 1/26 (Sun, 调休) 1, 1/27 2, 1/28–2/4 off, 2/5 3, 2/6 4, 2/7 5
    pytest.param(at(2025, 1, 24), wd(5), date(2025, 2, 7), id="2025 春节 5"),
    # 1/21–24 1–4, 1/26 (Sun) 5, 1/27 6, 2/5–7 7–9, 2/8 (Sat, 调休) 10, 2/10–14 11–15, 2/17–21 16–20
    pytest.param(at(2025, 1, 20), wd(20), date(2025, 2, 21), id="2025 春节 20"),
    # 〔2024〕12号, 2025 劳动节: 4/27 (Sun, 调休) 1, 4/28 2, 4/29 3, 4/30 4, 5/1–5/5 off, 5/6 5
    pytest.param(at(2025, 4, 25), wd(5), date(2025, 5, 6), id="2025 劳动节 5"),
    # 〔2024〕12号, 2025 国庆中秋: 9/28 (Sun, 调休) 1, 9/29 2, 9/30 3, 10/1–8 off, 10/9 4, 10/10 5
    pytest.param(at(2025, 9, 26), wd(5), date(2025, 10, 10), id="2025 国庆 5"),
    # 9/22–26 1–5, 9/28 (Sun) 6, 9/29 7, 9/30 8, 10/9 9, 10/10 10, 10/11 (Sat) 11, 10/13–17 12–16, 10/20–23 17–20
    pytest.param(at(2025, 9, 19), wd(20), date(2025, 10, 23), id="2025 国庆 20"),
    # 〔2024〕12号: 10/10 1, 10/11 (Sat, 调休) 2 — the Saturday is the due day
    pytest.param(at(2025, 10, 9), wd(2), date(2025, 10, 11), id="2025 due 调休 Saturday"),
    # 〔2025〕7号, 2026 元旦: 1/1–1/3 off, 1/4 (Sun, 调休) 1
    pytest.param(at(2025, 12, 31), wd(1), date(2026, 1, 4), id="2026 元旦 1"),
    # 〔2025〕7号, 2026 春节: 2/13 1, 2/14 (Sat, 调休) 2, 2/15–23 off, 2/24 3, 2/25 4, 2/26 5
    pytest.param(at(2026, 2, 12), wd(5), date(2026, 2, 26), id="2026 春节 5"),
    # 2/10–13 1–4, 2/14 (Sat) 5, 2/24–27 6–9, 2/28 (Sat, 调休) 10, 3/2–6 11–15, 3/9–13 16–20
    pytest.param(at(2026, 2, 9), wd(20), date(2026, 3, 13), id="2026 春节 20"),
    # 〔2025〕7号: accepted on 2/23 (Mon, last 春节 day off): 2/24–27 1–4, 2/28 (Sat, 调休) 5
    pytest.param(at(2026, 2, 23), wd(5), date(2026, 2, 28), id="2026 on a holiday, due 调休 Saturday"),
    # 〔2025〕7号, 2026 劳动节: 5/1–5/5 off, 5/6 1, 5/7 2, 5/8 3, 5/9 (Sat, 调休) 4
    pytest.param(at(2026, 4, 30), wd(4), date(2026, 5, 9), id="2026 劳动节 4"),
    # 〔2025〕7号, 2026 国庆: 9/29 1, 9/30 2, 10/1–7 off, 10/8 3, 10/9 4, 10/10 (Sat, 调休) 5
    pytest.param(at(2026, 9, 28), wd(5), date(2026, 10, 10), id="2026 国庆 5, due 调休 Saturday"),
    # 9/20 (Sun, 调休) 1, 9/21–24 2–5, 9/25 (Fri, 中秋) off, 9/28–30 6–8, 10/8 9, 10/9 10, 10/10 (Sat) 11,
    # 10/12–16 12–16, 10/19–22 17–20
    pytest.param(at(2026, 9, 18), wd(20), date(2026, 10, 22), id="2026 国庆 20"),
    # acceptance after 17:00 does not change a working-day limit: the acceptance day is not counted either way
    pytest.param(at(2025, 9, 26, 18, 30), wd(5), date(2025, 10, 10), id="after closing, 5 working days"),
    # 即时办结: the same working day; after closing or on a day off, the next working day
    pytest.param(at(2025, 3, 7, 10), IMMEDIATE, date(2025, 3, 7), id="即时 Friday morning"),
    pytest.param(at(2025, 3, 7, 18), IMMEDIATE, date(2025, 3, 10), id="即时 Friday evening → Monday"),
    # 〔2024〕12号: Friday 2/7 evening → Saturday 2/8 (调休)
    pytest.param(at(2025, 2, 7, 18), IMMEDIATE, date(2025, 2, 8), id="即时 Friday evening → 调休 Saturday"),
    pytest.param(at(2025, 10, 3, 10), IMMEDIATE, date(2025, 10, 9), id="即时 on a holiday"),
    pytest.param(at(2025, 9, 28, 10), IMMEDIATE, date(2025, 9, 28), id="即时 on a 调休 Sunday"),
    # 自然日: 9/8 + 30 = 10/8, a 国庆中秋 day off (〔2024〕12号) → 10/9
    pytest.param(at(2025, 9, 8), TimeLimit(30, "natural_days"), date(2025, 10, 9), id="30 自然日 into 国庆"),
    # 1/11 + 30 = 2/10, 春节 (〔2023〕7号) → the next working day is 2/18, a 调休 Sunday
    pytest.param(at(2024, 1, 11), TimeLimit(30, "natural_days"), date(2024, 2, 18), id="30 自然日 into 春节"),
    pytest.param(at(2025, 3, 3), TimeLimit(30, "natural_days"), date(2025, 4, 2), id="30 自然日 plain"),
    # 月: 11/30 + 3 months = 2/28; in 2026 that is a 调休 Saturday (〔2025〕7号), so it stays
    pytest.param(at(2025, 11, 30), TimeLimit(3, "months"), date(2026, 2, 28), id="3 月 to 调休 Saturday"),
    pytest.param(at(2024, 11, 30), TimeLimit(3, "months"), date(2025, 2, 28), id="3 月 to a Friday"),
    # 2023-11-30 + 3 months = 2024-02-29 exists (leap year) and is a Thursday
    pytest.param(at(2023, 11, 30), TimeLimit(3, "months"), date(2024, 2, 29), id="3 月 leap year"),
    pytest.param(at(2025, 1, 31), TimeLimit(1, "months"), date(2025, 2, 28), id="1/31 + 1 月"),
    pytest.param(at(2024, 1, 31), TimeLimit(1, "months"), date(2024, 2, 29), id="1/31 + 1 月 leap year"),
    # 9/1 + 1 month = 10/1 (〔2024〕12号 国庆中秋 10/1–10/8) → 10/9
    pytest.param(at(2025, 9, 1), TimeLimit(1, "months"), date(2025, 10, 9), id="1 月 into 国庆"),
    # 2026-03-15 is a Sunday → 3/16
    pytest.param(at(2025, 3, 15), TimeLimit(12, "months"), date(2026, 3, 16), id="12 月 to a Sunday"),
]


@pytest.mark.parametrize("accepted_at, limit, due_day", DUE_DATES)
def test_due_dates_across_holiday_periods(accepted_at, limit, due_day):
    result = deadline(limit, accepted_at)
    assert result.due_at == datetime.combine(due_day, FUSHUN.closing, tzinfo=CHINA)
    assert not result.provisional and not result.paused
    assert result.label() == f"{due_day:%Y-%m-%d} 17:00"


def test_the_moment_is_read_in_china_time_and_given_back_in_it():
    accepted = datetime(2025, 9, 26, 2, 0, tzinfo=timezone.utc)  # 10:00 in 北京
    result = deadline(wd(5), accepted)
    assert result.due_at == close(2025, 10, 10) and result.due_at.utcoffset() == timedelta(hours=8)
    # 23:30 UTC on 3/6 is 07:30 on Friday 3/7 in 北京: 即时 ends that Friday, not Thursday
    assert deadline(IMMEDIATE, datetime(2025, 3, 6, 23, 30, tzinfo=timezone.utc)).due_at == close(2025, 3, 7)


def test_the_agencys_own_closing_time_is_the_due_time():
    late = OfficeHours(((time(9, 0), time(17, 30)),))
    assert compute_deadline(CALENDAR, late, wd(5), at(2025, 9, 26)).due_at == at(2025, 10, 10, 17, 30)
    assert compute_deadline(CALENDAR, OfficeHours(()), wd(5), at(2025, 9, 26)).due_at == close(2025, 10, 10)


# --- pauses and extensions ----------------------------------------------------------------------------------------
# Accepted Monday 2025-03-03 with 5 working days: due Monday 3/10 without pauses.

def test_a_pause_over_a_weekend_adds_only_the_working_days_it_took():
    # Friday 3/7 → Monday 3/10: the days after the pause day up to the resume day are Sat, Sun, Mon: 1 working day
    result = deadline(wd(5), at(2025, 3, 3), pauses=[Pause(at(2025, 3, 7, 10), at(2025, 3, 10, 9), "补正")])
    assert result.paused_days == 1 and result.due_at == close(2025, 3, 11)


def test_a_pause_resumed_the_same_day_adds_nothing_and_monday_to_wednesday_adds_two():
    same_day = deadline(wd(5), at(2025, 3, 3), pauses=[Pause(at(2025, 3, 4, 9), at(2025, 3, 4, 16))])
    assert same_day.paused_days == 0 and same_day.due_at == close(2025, 3, 10)
    two = deadline(wd(5), at(2025, 3, 3, 9), pauses=[Pause(at(2025, 3, 3, 15), at(2025, 3, 5, 9))])
    assert two.paused_days == 2 and two.due_at == close(2025, 3, 12)


def test_overlapping_pauses_count_each_day_once():
    pauses = [Pause(at(2025, 3, 3, 15), at(2025, 3, 5, 10), "补正"),  # adds 3/4, 3/5
              Pause(at(2025, 3, 4, 9), at(2025, 3, 6, 10), "专家评审"),  # adds 3/5, 3/6
              Pause(at(2025, 3, 4, 11), at(2025, 3, 5, 12), "鉴定")]  # adds 3/5, inside both
    result = deadline(wd(5), at(2025, 3, 3, 9), pauses=pauses)
    assert result.paused_days == 3 and result.due_at == close(2025, 3, 13)
    assert deadline(wd(5), at(2025, 3, 3, 9), pauses=list(reversed(pauses))) == result


def test_a_pause_over_a_holiday_adds_only_working_days():
    # 〔2024〕12号: paused 9/26 (Fri), resumed 10/9: 9/28 (Sun, 调休), 9/29, 9/30, 10/9 = 4 working days
    result = deadline(wd(5), at(2025, 9, 22), pauses=[Pause(at(2025, 9, 26, 10), at(2025, 10, 9, 10))])
    assert result.paused_days == 4
    # due 9/28 (Sun, 调休) without the pause: 9/23–26, 9/28; + 4: 9/29, 9/30, 10/9, 10/10
    assert deadline(wd(5), at(2025, 9, 22)).due_at == close(2025, 9, 28)
    assert result.due_at == close(2025, 10, 10)


def test_an_open_pause_has_no_due_time_and_keeps_the_days_left():
    # paused Wednesday 3/5: 3/6, 3/7, 3/10 were still left of the 5 days
    result = deadline(wd(5), at(2025, 3, 3), pauses=[Pause(at(2025, 3, 5, 10), None, "补正")])
    assert result.paused and result.due_at is None and result.warning_at is None
    assert result.remaining_days == 3
    assert result.level(at(2030, 1, 1)) == "paused" and result.label() == "已暂停"


def test_an_open_pause_after_a_closed_one_keeps_the_closed_ones_days():
    pauses = [Pause(at(2025, 3, 3, 15), at(2025, 3, 4, 9)),  # adds 3/4: due 3/11
              Pause(at(2025, 3, 6, 10), None)]  # left: 3/7, 3/10, 3/11
    result = deadline(wd(5), at(2025, 3, 3, 9), pauses=pauses)
    assert result.paused and result.paused_days == 1 and result.remaining_days == 3


def test_a_pause_before_acceptance_does_not_count():
    result = deadline(wd(5), at(2025, 3, 3), pauses=[Pause(at(2025, 2, 26), at(2025, 3, 3, 9))])
    assert result.paused_days == 0 and result.due_at == close(2025, 3, 10)


def test_a_pause_that_ends_before_it_starts_is_an_error():
    with pytest.raises(ValueError, match="before it starts"):
        deadline(wd(5), at(2025, 3, 3), pauses=[Pause(at(2025, 3, 5), at(2025, 3, 4))])


def test_an_extension_adds_working_days_after_the_pauses():
    assert deadline(wd(5), at(2025, 3, 3), extension_days=3).due_at == close(2025, 3, 13)
    # 〔2024〕12号: 5 days from 9/22 are due 9/28 (Sun, 调休); extended by 3: 9/29, 9/30, then over 国庆中秋 to 10/9
    assert deadline(wd(5), at(2025, 9, 22), extension_days=3).due_at == close(2025, 10, 9)
    both = deadline(wd(5), at(2025, 3, 3), extension_days=3,
                    pauses=[Pause(at(2025, 3, 7, 10), at(2025, 3, 10, 9))])
    assert both.due_at == close(2025, 3, 14) and both.extension_days == 3 and both.paused_days == 1
    # extensions add up: the caller passes their sum
    assert deadline(wd(5), at(2025, 3, 3), extension_days=2 + 3).due_at == close(2025, 3, 17)
    with pytest.raises(ValueError):
        deadline(wd(5), at(2025, 3, 3), extension_days=-1)


def test_a_calendar_limit_with_a_pause_adds_working_days_to_its_moved_end():
    # 30 自然日 from 9/8 end 10/9 (moved off 10/8); a pause adding 2 working days → 10/11 (Sat, 调休)
    result = deadline(TimeLimit(30, "natural_days"), at(2025, 9, 8),
                      pauses=[Pause(at(2025, 9, 10, 10), at(2025, 9, 12, 10))])
    assert result.paused_days == 2 and result.due_at == close(2025, 10, 11)


# --- years without a calendar ---------------------------------------------------------------------------------

def test_a_deadline_running_into_2027_is_provisional_and_counts_weekdays():
    # Dec 2026 after 12/10: 11, 14–18, 21–25, 28–31 = 15 days; 2027: 1/1 (Fri) 16, 1/4–1/7 17–20
    result = deadline(wd(20), at(2026, 12, 10))
    assert result.provisional and result.due_at == close(2027, 1, 7)
    assert result.label() == "2027-01-07 17:00（暂估）"


def test_other_limits_reaching_2027_are_provisional_too():
    assert deadline(TimeLimit(3, "months"), at(2026, 11, 15)).provisional  # 2027-02-15
    assert deadline(TimeLimit(30, "natural_days"), at(2026, 12, 15)).provisional
    late = deadline(IMMEDIATE, at(2026, 12, 31, 18))
    assert late.provisional and late.due_at == close(2027, 1, 1)
    assert not deadline(wd(5), at(2026, 12, 10)).provisional  # 12/17, all in 2026
    # an open pause does not hide it either
    assert deadline(wd(20), at(2026, 12, 10), pauses=[Pause(at(2026, 12, 14), None)]).provisional


def test_adding_a_2027_schedule_makes_the_deadline_final_and_moves_it():
    # Hypothetical 2027 data, as a test double only (no notice has been published): 元旦 1/1 (Fri) off.
    y2027 = YearSchedule(2027, frozenset({date(2027, 1, 1)}), frozenset(), "test: hypothetical 2027")
    result = compute_deadline(CALENDAR.with_year(y2027), FUSHUN, wd(20), at(2026, 12, 10))
    assert not result.provisional and result.due_at == close(2027, 1, 8)
    assert deadline(wd(20), at(2026, 12, 10)).provisional  # the shared official calendar is untouched


# --- warnings -------------------------------------------------------------------------------------------------

def test_warning_for_20_working_days_is_four_working_days_before_the_due_day():
    # 〔2024〕12号: due 10/23 (Thu); 4 working days back: 10/22, 10/21, 10/20, 10/17 (Fri)
    result = deadline(wd(20), at(2025, 9, 19))
    assert result.warning_at == close(2025, 10, 17)
    assert result.level(at(2025, 10, 17, 16, 59)) == "normal"
    assert result.level(close(2025, 10, 17)) == "yellow"
    assert result.level(at(2025, 10, 20, 9)) == "yellow"
    assert result.level(close(2025, 10, 23)) == "yellow"  # due, not yet passed
    assert result.level(close(2025, 10, 23) + timedelta(seconds=1)) == "red"
    assert result.level(datetime(2025, 10, 23, 9, 1, tzinfo=timezone.utc)) == "red"  # 17:01 in 北京


def test_warning_counts_back_over_holidays():
    # 〔2025〕7号: 20 days from 2026-09-18 are due 10/22; 4 back: 10/21, 10/20, 10/19, 10/16
    assert deadline(wd(20), at(2026, 9, 18)).warning_at == close(2026, 10, 16)
    # 5 days from 2025-09-26 are due 10/10; 1 back is 10/9, the first day after 国庆中秋
    assert deadline(wd(5), at(2025, 9, 26)).warning_at == close(2025, 10, 9)
    # 5 days from 2024-02-08 due 2/21; 1 back is 2/20
    assert deadline(wd(5), at(2024, 2, 8)).warning_at == close(2024, 2, 20)


def test_warning_for_5_and_1_working_days_is_one_working_day_before():
    five = deadline(wd(5), at(2025, 3, 3))
    assert five.due_at == close(2025, 3, 10) and five.warning_at == close(2025, 3, 7)
    assert five.level(at(2025, 3, 7, 16)) == "normal" and five.level(at(2025, 3, 8, 12)) == "yellow"
    # 〔2024〕12号: 1 day from 9/30 is due 10/9; warned at the close of the acceptance day
    one = deadline(wd(1), at(2025, 9, 30))
    assert one.due_at == close(2025, 10, 9) and one.warning_at == close(2025, 9, 30)
    # accepted on a holiday: the day before the due day lies before acceptance → yellow from acceptance
    on_holiday = deadline(wd(1), at(2025, 10, 3))
    assert on_holiday.warning_at == at(2025, 10, 3) and on_holiday.level(at(2025, 10, 3)) == "yellow"


def test_warning_for_immediate_is_two_hours_before_closing():
    result = deadline(IMMEDIATE, at(2025, 9, 30, 9))
    assert result.due_at == close(2025, 9, 30) and result.warning_at == at(2025, 9, 30, 15)
    assert result.level(at(2025, 9, 30, 14, 59)) == "normal"
    assert result.level(at(2025, 9, 30, 15)) == "yellow"
    assert result.level(at(2025, 9, 30, 17, 1)) == "red"
    assert deadline(IMMEDIATE, at(2025, 9, 30, 16)).warning_at == at(2025, 9, 30, 16)  # already within 2 hours


def test_an_extension_lengthens_the_limit_the_warning_is_taken_from():
    # 20 days from Monday 2025-03-03 are due 3/31, warned 4 working days before, 3/25
    assert deadline(wd(20), at(2025, 3, 3)).warning_at == close(2025, 3, 25)
    # + 5: 4/1–4/3, 清明 4/4 off (〔2024〕12号), 4/7, 4/8; 25 days → ceil(25 × 0.2) = 5 back: 4/7, 4/3–4/1, 3/31
    extended = deadline(wd(20), at(2025, 3, 3), extension_days=5)
    assert extended.due_at == close(2025, 4, 8) and extended.warning_at == close(2025, 3, 31)


def test_the_warning_policy_is_a_parameter():
    half = deadline(wd(20), at(2025, 3, 3), policy=WarningPolicy(used_ratio=0.5))  # due 3/31
    assert half.due_at == close(2025, 3, 31) and half.warning_at == close(2025, 3, 17)  # 10 back
    three_left = deadline(wd(5), at(2025, 3, 3), policy=WarningPolicy(days_left=3))  # due 3/10
    assert three_left.warning_at == close(2025, 3, 5)
    # 0.7 used leaves 30 %: 20 × 0.3 is 6 exactly, although the float product is 6.000000000000001
    assert WarningPolicy(used_ratio=0.7).days_before_due(20) == 6


def test_warning_for_calendar_day_limits_moves_back_to_a_working_day():
    # 30 自然日 from 9/8 due 10/9; ceil(30 × 0.2) = 6 days before is 10/3, a 国庆 day off → back to 9/30
    assert deadline(TimeLimit(30, "natural_days"), at(2025, 9, 8)).warning_at == close(2025, 9, 30)
    # 30 自然日 from 3/3 due 4/2 (Wed); 6 days before is 3/27 (Thu)
    plain = deadline(TimeLimit(30, "natural_days"), at(2025, 3, 3))
    assert plain.warning_at == close(2025, 3, 27)
    assert plain.level(at(2025, 3, 27, 16)) == "normal" and plain.level(at(2025, 3, 28)) == "yellow"
    # 3 月 from 2025-11-30: 90 calendar days, 18 before 2026-02-28 is 2/10 (Tue)
    assert deadline(TimeLimit(3, "months"), at(2025, 11, 30)).warning_at == close(2026, 2, 10)


# --- input checks and cost ------------------------------------------------------------------------------------

def test_naive_moments_and_unknown_units_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        deadline(wd(5), datetime(2025, 3, 3, 10))
    with pytest.raises(ValueError, match="time zone"):
        deadline(wd(5), at(2025, 3, 3), pauses=[Pause(datetime(2025, 3, 4), None)])
    with pytest.raises(ValueError, match="unit"):
        deadline(TimeLimit(5, "weeks"), at(2025, 3, 3))


def test_cost_of_a_20_working_day_deadline():
    """Printed, not asserted: run with -s to see it."""
    pauses = [Pause(at(2025, 9, 23, 10), at(2025, 9, 25, 10))]
    deadline(wd(20), at(2025, 9, 19), pauses=pauses)  # the years' tables are built on first use
    runs = 10_000
    start = perf_counter()
    for _ in range(runs):
        deadline(wd(20), at(2025, 9, 19), pauses=pauses)
    print(f"\ncompute_deadline, 20 working days with one pause: {(perf_counter() - start) / runs * 1e6:.1f} µs")


@pytest.mark.parametrize("now, wording", [
    (at(2026, 9, 28), "剩 2 个工作日"),  # due Wednesday 30 September
    (at(2026, 9, 30, 9), "今日到期"),
    (at(2026, 9, 30, 17, 30), "已超期"),  # past its hour on the due day: late, not yet by a working day
    (at(2026, 10, 9), "已超期 2 个工作日"),  # 国庆 1–7 October does not count: the 8th and the 9th do
    (at(2026, 10, 12), "已超期 4 个工作日"),  # and so does Saturday the 10th, a 调休 working day
])
def test_the_time_left_is_told_in_working_days(now, wording):
    assert time_left_wording(CALENDAR, close(2026, 9, 30), now) == wording
