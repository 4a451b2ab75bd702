"""The working-day calendar and office hours, on small hand-written schedules (no package data here).

The schedule below is 2025's as 国办发明电〔2024〕12号 sets it for 春节 and 国庆中秋 (checked against chinese-calendar
in tests/adapters/test_holiday_data.py): 春节 1/28–2/4 off, 1/26 (Sun) and 2/8 (Sat) worked; 国庆中秋 10/1–10/8 off,
9/28 (Sun) and 10/11 (Sat) worked.
"""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from workflows.domain.calendar import OfficeHours, WorkingCalendar, YearSchedule

CHINA = ZoneInfo("Asia/Shanghai")
D = date

SPRING_2025 = {D(2025, 1, 28), D(2025, 1, 29), D(2025, 1, 30), D(2025, 1, 31), D(2025, 2, 3), D(2025, 2, 4)}
NATIONAL_2025 = {D(2025, 10, 1), D(2025, 10, 2), D(2025, 10, 3), D(2025, 10, 6), D(2025, 10, 7), D(2025, 10, 8)}
Y2025 = YearSchedule(2025, frozenset(SPRING_2025 | NATIONAL_2025),
                     frozenset({D(2025, 1, 26), D(2025, 2, 8), D(2025, 9, 28), D(2025, 10, 11)}), "国办发明电〔2024〕12号")


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar([Y2025])


def test_holidays_are_off_and_make_up_weekends_are_working(calendar):
    assert not calendar.is_working_day(D(2025, 1, 28))  # Tue, 春节
    assert calendar.is_working_day(D(2025, 1, 26))  # Sun, 调休上班
    assert calendar.is_working_day(D(2025, 2, 8))  # Sat, 调休上班
    assert not calendar.is_working_day(D(2025, 2, 9))  # an ordinary Sunday
    assert calendar.is_working_day(D(2025, 2, 5))  # Wed, back at work


def test_a_year_without_a_schedule_is_monday_to_friday_and_not_covered(calendar):
    assert calendar.covers(D(2025, 6, 1)) and not calendar.covers(D(2026, 1, 1))
    assert calendar.is_working_day(D(2026, 1, 1))  # Thu: a holiday really, but this calendar cannot know
    assert not calendar.is_working_day(D(2026, 1, 3))  # Sat
    assert calendar.span_is_covered(D(2025, 1, 1), D(2025, 12, 31))
    assert not calendar.span_is_covered(D(2025, 12, 1), D(2026, 1, 5))
    assert not calendar.span_is_covered(D(2026, 1, 5), D(2025, 12, 1))  # either order


def test_next_working_day_is_strictly_after(calendar):
    assert calendar.next_working_day(D(2025, 1, 24)) == D(2025, 1, 26)  # Fri → the 调休 Sunday
    assert calendar.next_working_day(D(2025, 1, 27)) == D(2025, 2, 5)  # over the whole 春节
    assert calendar.next_working_day(D(2025, 2, 5)) == D(2025, 2, 6)


def test_working_day_on_or_after(calendar):
    assert calendar.working_day_on_or_after(D(2025, 2, 5)) == D(2025, 2, 5)
    assert calendar.working_day_on_or_after(D(2025, 10, 1)) == D(2025, 10, 9)
    assert calendar.working_day_on_or_after(D(2025, 2, 8)) == D(2025, 2, 8)  # a 调休 Saturday is itself


def test_add_working_days(calendar):
    assert calendar.add_working_days(D(2025, 1, 24), 0) == D(2025, 1, 24)
    # 1/26 (Sun, 调休) 1, 1/27 2, then 2/5 3, 2/6 4, 2/7 5
    assert calendar.add_working_days(D(2025, 1, 24), 5) == D(2025, 1, 26) + timedelta(days=12)
    assert calendar.add_working_days(D(2025, 10, 9), 2) == D(2025, 10, 11)  # ends on the 调休 Saturday
    assert calendar.add_working_days(D(2025, 1, 29), 1) == D(2025, 2, 5)  # from inside a holiday
    with pytest.raises(ValueError):
        calendar.add_working_days(D(2025, 1, 1), -1)


def test_add_and_subtract_across_a_year_boundary(calendar):
    # 2025-12-31 is a Wednesday; 2026 has no schedule here, so 1/1 (Thu) and 1/2 (Fri) count as working days.
    assert calendar.add_working_days(D(2025, 12, 30), 3) == D(2026, 1, 2)
    assert calendar.subtract_working_days(D(2026, 1, 2), 3) == D(2025, 12, 30)
    # several years ahead: 2026 and 2027 both have 261 weekdays, each ending on a weekday
    assert calendar.add_working_days(D(2025, 12, 31), 261) == D(2026, 12, 31)
    assert calendar.add_working_days(D(2025, 12, 31), 522) == D(2027, 12, 31)
    assert calendar.subtract_working_days(D(2027, 12, 31), 522) == D(2025, 12, 31)


def test_subtract_working_days(calendar):
    assert calendar.subtract_working_days(D(2025, 2, 5), 0) == D(2025, 2, 5)
    assert calendar.subtract_working_days(D(2025, 2, 5), 1) == D(2025, 1, 27)
    assert calendar.subtract_working_days(D(2025, 2, 5), 3) == D(2025, 1, 24)  # 1/27, 1/26 (Sun, 调休), 1/24
    assert calendar.subtract_working_days(D(2025, 1, 1), 1) == D(2024, 12, 31)  # into an uncovered year
    with pytest.raises(ValueError):
        calendar.subtract_working_days(D(2025, 1, 1), -1)


def test_add_and_subtract_are_inverse_on_working_days(calendar):
    start = D(2024, 12, 2)
    for count in range(0, 400, 7):
        end = calendar.add_working_days(start, count)
        assert calendar.working_days_between(start, end) == count
        assert calendar.subtract_working_days(end, count) == start


def test_working_days_between_excludes_start_and_includes_end(calendar):
    assert calendar.working_days_between(D(2025, 1, 24), D(2025, 2, 5)) == 3  # 1/26, 1/27, 2/5
    assert calendar.working_days_between(D(2025, 2, 5), D(2025, 2, 5)) == 0
    assert calendar.working_days_between(D(2025, 2, 6), D(2025, 2, 5)) == 0
    assert calendar.working_days_between(D(2025, 12, 31), D(2026, 1, 2)) == 2


def test_with_year_adds_or_replaces_a_year_and_leaves_the_original(calendar):
    y2026 = YearSchedule(2026, frozenset({D(2026, 1, 1), D(2026, 1, 2)}), frozenset({D(2026, 1, 4)}), "test")
    extended = calendar.with_year(y2026)
    assert extended.covers(D(2026, 1, 1)) and not calendar.covers(D(2026, 1, 1))
    assert extended.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert calendar.add_working_days(D(2025, 12, 31), 1) == D(2026, 1, 1)  # unchanged, cache included
    replaced = extended.with_year(YearSchedule(2026, frozenset(), frozenset(), "corrected"))
    assert replaced.is_working_day(D(2026, 1, 1)) and replaced.schedule(2026).source == "corrected"
    assert extended.covered_years == (2025, 2026)


def test_schedules_may_come_as_a_mapping_but_not_twice_or_misfiled():
    assert WorkingCalendar({2025: Y2025}).covers(D(2025, 3, 3))
    with pytest.raises(ValueError, match="two schedules"):
        WorkingCalendar([Y2025, Y2025])
    with pytest.raises(ValueError, match="filed under"):
        WorkingCalendar({2024: Y2025})


def test_a_schedule_rejects_days_that_would_mean_nothing():
    with pytest.raises(ValueError, match="not a weekday"):
        YearSchedule(2025, frozenset({D(2025, 2, 1)}), frozenset(), "x")  # a Saturday off is no news
    with pytest.raises(ValueError, match="not a weekend day"):
        YearSchedule(2025, frozenset(), frozenset({D(2025, 2, 3)}), "x")  # a Monday worked is no news
    with pytest.raises(ValueError, match="of 2025"):
        YearSchedule(2025, frozenset({D(2026, 1, 1)}), frozenset(), "x")


def test_office_hours_close_at_the_end_of_the_last_period():
    fushun = OfficeHours()  # 抚顺: 08:30–11:30, 13:00–17:00
    assert fushun.closing == time(17, 0)
    assert fushun.close_of(D(2025, 2, 8), CHINA) == datetime(2025, 2, 8, 17, 0, tzinfo=CHINA)
    assert OfficeHours(((time(9, 0), time(12, 0)), (time(13, 30), time(17, 30)))).closing == time(17, 30)
    assert OfficeHours(()).closing == time(17, 0)  # no published hours


def test_after_closing_is_judged_in_china_time():
    hours = OfficeHours()
    assert not hours.is_after_closing(datetime(2025, 2, 7, 16, 59, tzinfo=CHINA))
    assert hours.is_after_closing(datetime(2025, 2, 7, 17, 0, tzinfo=CHINA))
    assert hours.is_after_closing(datetime(2025, 2, 7, 9, 30, tzinfo=timezone.utc))  # 17:30 in 北京
    assert not hours.is_after_closing(datetime(2025, 2, 7, 1, 0, tzinfo=timezone.utc))  # 09:00 in 北京
    with pytest.raises(ValueError):
        hours.is_after_closing(datetime(2025, 2, 7, 18, 0))
