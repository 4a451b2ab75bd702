"""差评回访 through the service layer: a rating of 不满意 or 非常不满意 opens a follow-up for the supervisors of the
case's hall, due within the agency's limit on the working calendar; they record it once, and the applicant sees it.

A 抚顺 门诊费用报销 case of 张伟 is completed in hall 210400-01 and rated on Tuesday 2026-09-29 10:00: 5 working days
after it run over 国庆 (10-01 … 10-07 off, Saturday 10-10 worked) to Monday 2026-10-12 17:00."""
from __future__ import annotations

import shutil

import pytest

from workflows.domain.catalog import CatalogError, TimeLimit
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.services import cases, catalog, followups, public, users

from support.cases import OUTPATIENT, at
from support.paths import CATALOG_DIR
from support.process_driver import drive, proof


def rated(ctx, staff, clock, score: int, comment: str = "窗口态度差，等了两个小时", when: str = "2026-09-29 10:00"):
    """A completed case of hall 210400-01, rated `score` at `when`; returns its number."""
    clock.now = at("2026-09-28 09:30")
    number = drive(ctx, staff["clerk_210400_01"], OUTPATIENT).case.number
    clock.now = at(when)
    public.rate_service(ctx, proof(number), None, score, comment)
    return number


def open_rows(ctx, supervisor) -> list[followups.FollowUpRow]:
    return followups.list_followups(ctx, supervisor)


@pytest.mark.parametrize("score", [5, 4, 3])
def test_a_rating_of_basically_satisfied_or_better_opens_no_follow_up(ctx, staff, clock, score):
    rated(ctx, staff, clock, score)
    assert open_rows(ctx, staff["kezhang"]) == []
    assert [n for n in users.notifications(ctx, staff["kezhang"]) if n["kind"] == "followup"] == []


@pytest.mark.parametrize("score,label", [(2, "不满意"), (1, "非常不满意")])
def test_a_poor_rating_opens_a_follow_up_due_in_five_working_days_across_the_holiday(ctx, staff, clock, score,
                                                                                      label):
    number = rated(ctx, staff, clock, score)

    [row] = open_rows(ctx, staff["kezhang"])
    followup = row.followup
    assert (followup.case_number, followup.rating_label, followup.comment) == (number, label, "窗口态度差，等了两个小时")
    assert (followup.opened_at, followup.due_at, row.due) == (
        at("2026-09-29 10:00"), at("2026-10-12 17:00"), "2026-10-12 17:00")
    assert followup.warning_at == at("2026-10-10 17:00")  # the last working day before it (a Saturday worked)
    assert row.level == "normal"
    [notice] = [n for n in users.notifications(ctx, staff["kezhang"]) if n["kind"] == "followup"]
    assert notice["case_number"] == number and f"获评“{label}”" in notice["message"]
    assert "2026-10-12 17:00" in notice["message"]
    assert [n for n in users.notifications(ctx, staff["kezhang2"]) if n["kind"] == "followup"] == []
    assert open_rows(ctx, staff["kezhang2"]) == []  # another hall's supervisor
    history = cases.case_details(ctx, staff["shouli"], number).history
    assert history[-1].action == "followup_opened"

    clock.now = at("2026-10-10 17:00")
    assert open_rows(ctx, staff["kezhang"])[0].level == "yellow"
    clock.now = at("2026-10-12 17:01")
    assert open_rows(ctx, staff["kezhang"])[0].level == "red"


def test_only_a_supervisor_of_the_hall_records_the_follow_up_once_and_the_applicant_sees_it(ctx, staff, clock):
    number = rated(ctx, staff, clock, 1)
    [row] = open_rows(ctx, staff["kezhang"])
    assert public.query_progress(ctx, proof(number), None).followup is None

    with pytest.raises(Forbidden):
        followups.record_result(ctx, staff["shouli"], row.followup.id, "已回访", "已整改")
    with pytest.raises(NotFound):
        followups.record_result(ctx, staff["kezhang2"], row.followup.id, "已回访", "已整改")
    with pytest.raises(InvalidInput) as invalid:
        followups.record_result(ctx, staff["kezhang"], row.followup.id, " ", "")
    assert invalid.value.field_errors == {"visit_note": "请填写回访情况",
                                          "remedy": "请填写整改措施（无需整改的，写明原因）"}

    clock.now = at("2026-10-08 15:00")
    recorded = followups.record_result(ctx, staff["kezhang"], row.followup.id, "电话回访，申请人反映高峰期排队久",
                                       "高峰期增开一个综合窗口")
    assert (recorded.level, recorded.followup.status, recorded.followup.recorded_by) == ("met", "done", "kezhang")
    with pytest.raises(Conflict, match="已于 2026-10-08 15:00 记录"):
        followups.record_result(ctx, staff["kezhang"], row.followup.id, "再记一次", "再记一次")

    assert open_rows(ctx, staff["kezhang"]) == []
    assert [r.followup.id for r in followups.list_followups(ctx, staff["kezhang"], "done")] == [row.followup.id]
    result = public.query_progress(ctx, proof(number), None).followup
    assert (result.visit_note, result.remedy, result.recorded_at) == (
        "电话回访，申请人反映高峰期排队久", "高峰期增开一个综合窗口", at("2026-10-08 15:00"))
    history = cases.case_details(ctx, staff["shouli"], number).history
    assert history[-1].message == "孙科长记录差评回访：电话回访，申请人反映高峰期排队久"


def test_the_agency_sets_its_own_follow_up_limit(ctx, staff, clock, tmp_path):
    directory = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / "agencies" / "210400.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("agency:\n", "agency:\n  bad_rating_followup: {value: 3, unit: working_days}\n", 1),
                    encoding="utf-8")
    clock.now = at("2026-09-01 09:00")
    catalog.load_catalog(ctx, directory)
    assert catalog.get_agency(ctx, "210400").bad_rating_followup == TimeLimit(3, "working_days")
    assert catalog.get_agency(ctx, "231025").bad_rating_followup == TimeLimit(5, "working_days")  # the default

    rated(ctx, staff, clock, 2)
    assert open_rows(ctx, staff["kezhang"])[0].followup.due_at == at("2026-10-09 17:00")  # 9-30, 10-08, 10-09

    path.write_text(text.replace("agency:\n", "agency:\n  bad_rating_followup: {unit: immediate}\n", 1),
                    encoding="utf-8")
    with pytest.raises(CatalogError, match="bad_rating_followup: a follow-up needs at least one day"):
        catalog.load_catalog(ctx, directory)
