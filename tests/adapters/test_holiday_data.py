"""The official schedules read from chinese-calendar: same answers as the package, the notices' dates and 文号."""
from datetime import date, timedelta

import chinese_calendar
import pytest

from workflows.adapters.holiday_data import official_calendar, official_schedules

D = date


@pytest.fixture(scope="module")
def calendar():
    return official_calendar()


def test_one_schedule_per_year_2004_to_2026_each_named_after_its_notice():
    schedules = official_schedules()
    assert [s.year for s in schedules] == list(range(2004, 2027))
    source = {s.year: s.source for s in schedules}
    assert source[2026] == "国办发明电〔2025〕7号" and source[2025] == "国办发明电〔2024〕12号"
    assert source[2019] == "国办发明电〔2018〕15号、国办发明电〔2019〕3号（调整劳动节）"  # 五一 made 4 days in March
    assert source[2013] == "国务院2013年节假日安排通知（文号未录入）"  # before 2014: no 文号 recorded, none guessed
    assert all(s.source.startswith(("国办发明电〔", "国务院")) and "calendar" not in s.source for s in schedules)
    for schedule in schedules:  # YearSchedule itself rejects anything else; this names the rule
        assert all(day.weekday() < 5 for day in schedule.holidays)
        assert all(day.weekday() >= 5 for day in schedule.workdays)


def test_every_day_agrees_with_the_package(calendar):
    day, last = D(2004, 1, 1), D(2026, 12, 31)
    while day <= last:
        assert calendar.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)


def test_2027_is_not_covered_because_the_package_does_not_know_it(calendar):
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(D(2027, 1, 4))
    assert not calendar.covers(D(2027, 1, 1)) and calendar.covers(D(2026, 12, 31))


def test_the_calendar_is_built_once():
    assert official_calendar() is official_calendar()


# The notices' dates the deadline tests rely on: (day, working?).
NOTICE_DATES = {
    "国办发明电〔2023〕7号 (2024)": [
        *[(D(2024, 2, d), False) for d in range(10, 18)], (D(2024, 2, 4), True), (D(2024, 2, 18), True),  # 春节
        *[(D(2024, 5, d), False) for d in range(1, 6)], (D(2024, 4, 28), True), (D(2024, 5, 11), True),  # 劳动节
        *[(D(2024, 9, d), False) for d in range(15, 18)], (D(2024, 9, 14), True),  # 中秋
        *[(D(2024, 10, d), False) for d in range(1, 8)], (D(2024, 9, 29), True), (D(2024, 10, 12), True),  # 国庆
    ],
    "国办发明电〔2024〕12号 (2025)": [
        *[(D(2025, 1, d), False) for d in range(28, 32)], *[(D(2025, 2, d), False) for d in range(1, 5)],  # 春节
        (D(2025, 1, 26), True), (D(2025, 2, 8), True),
        *[(D(2025, 5, d), False) for d in range(1, 6)], (D(2025, 4, 27), True),  # 劳动节
        *[(D(2025, 10, d), False) for d in range(1, 9)], (D(2025, 9, 28), True), (D(2025, 10, 11), True),  # 国庆中秋
    ],
    "国办发明电〔2025〕7号 (2026)": [
        *[(D(2026, 1, d), False) for d in range(1, 4)], (D(2026, 1, 4), True),  # 元旦
        *[(D(2026, 2, d), False) for d in range(15, 24)], (D(2026, 2, 14), True), (D(2026, 2, 28), True),  # 春节
        *[(D(2026, 5, d), False) for d in range(1, 6)], (D(2026, 5, 9), True),  # 劳动节
        *[(D(2026, 9, d), False) for d in range(25, 28)],  # 中秋
        *[(D(2026, 10, d), False) for d in range(1, 8)], (D(2026, 9, 20), True), (D(2026, 10, 10), True),  # 国庆
    ],
}


@pytest.mark.parametrize("notice", NOTICE_DATES)
def test_the_notices_dates(calendar, notice):
    for day, working in NOTICE_DATES[notice]:
        assert calendar.is_working_day(day) == working, (notice, day)
        assert chinese_calendar.is_workday(day) == working, (notice, day)


def test_no_more_weekday_holidays_or_worked_weekends_than_the_notices_say(calendar):
    """The full 2026 lists (〔2025〕7号), so that an unexpected day in the package shows up here."""
    schedule = calendar.schedule(2026)
    assert sorted(schedule.workdays) == [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                                         D(2026, 9, 20), D(2026, 10, 10)]
    assert sorted(schedule.holidays) == [
        D(2026, 1, 1), D(2026, 1, 2),  # 元旦 (1/3 is a Saturday)
        D(2026, 2, 16), D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19), D(2026, 2, 20), D(2026, 2, 23),  # 春节
        D(2026, 4, 6),  # 清明 4/4–4/6
        D(2026, 5, 1), D(2026, 5, 4), D(2026, 5, 5),  # 劳动节
        D(2026, 6, 19),  # 端午 6/19–6/21
        D(2026, 9, 25),  # 中秋 9/25–9/27
        D(2026, 10, 1), D(2026, 10, 2), D(2026, 10, 5), D(2026, 10, 6), D(2026, 10, 7),  # 国庆
    ]
