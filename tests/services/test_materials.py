"""申请材料核对: the hall's 受理员 and 审核员 mark a case's materials present, missing or 容缺 where the catalog allows."""
from __future__ import annotations

import pytest

from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.services import cases, documents, materials, tasks
from workflows.services.catalog import get_agency_item

from services.test_documents import text_of
from support.process_driver import _definition, applicant_for, sample_data

from support.cases import APPLICANT, DATA, OUTPATIENT

# 抚顺 门诊费用报销: 0 医保电子凭证…, 1 医院收费票据, 2 门急诊费用清单, 3 处方底方（病例材料）, 4 医保卡复印件 (可容缺)
RECEIPT, COPY = 1, 4


@pytest.fixture
def number(ctx, staff):
    return cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number


def marks(ctx, user, number) -> dict[int, str | None]:
    return {row.index: row.status for row in materials.case_materials(ctx, user, number)}


def test_the_catalog_materials_are_listed_unmarked_at_first(ctx, staff, number):
    rows = materials.case_materials(ctx, staff["shenhe"], number)
    assert [row.material.name for row in rows] == ["医保电子凭证或有效身份证件或社保卡", "医院收费票据", "门急诊费用清单",
                                                   "处方底方（病例材料）", "医保卡复印件"]
    assert [row.material.waivable for row in rows] == [False, False, False, False, True]
    assert {row.status for row in rows} == {None} and rows[0].status_name == "未核对"


def test_marks_are_saved_read_back_and_written_to_the_history(ctx, staff, number, clock):
    materials.mark_materials(ctx, staff["shouli"], number, {RECEIPT: "present", COPY: "waived", 2: "missing"})
    assert marks(ctx, staff["shenhe"], number) == {0: None, 1: "present", 2: "missing", 3: None, 4: "waived"}
    clock.advance(minutes=5)
    rows = materials.mark_materials(ctx, staff["shenhe"], number, {RECEIPT: "present", 2: "present"})
    assert [(row.status, row.marked_by) for row in rows][1:3] == [("present", "shouli"), ("present", "shenhe")]

    history = cases.case_details(ctx, staff["shouli"], number).history
    assert [(h.actor, h.message) for h in history if h.action == "materials_marked"] == [
        ("shouli", "材料核对：医院收费票据 已提交；门急诊费用清单 缺少；医保卡复印件 容缺"),
        ("shenhe", "材料核对：门急诊费用清单 已提交")]  # only what changed
    materials.mark_materials(ctx, staff["shenhe"], number, {RECEIPT: "present"})  # nothing changed: no line
    assert len([h for h in cases.case_details(ctx, staff["shouli"], number).history
                if h.action == "materials_marked"]) == 2


def test_waiving_a_material_the_catalog_does_not_allow_is_refused_and_nothing_saved(ctx, staff, number):
    with pytest.raises(InvalidInput, match="材料“医院收费票据”不可容缺"):
        materials.mark_materials(ctx, staff["shouli"], number, {0: "present", RECEIPT: "waived"})
    with pytest.raises(InvalidInput, match="没有第 6 项材料"):
        materials.mark_materials(ctx, staff["shouli"], number, {5: "present"})
    with pytest.raises(InvalidInput, match="状态“lost”无效"):
        materials.mark_materials(ctx, staff["shouli"], number, {0: "present", 2: "lost"})
    assert set(marks(ctx, staff["shouli"], number).values()) == {None}


def test_only_the_halls_acceptors_and_reviewers_mark_materials(ctx, staff, number):
    for user in ("caiwu", "kezhang", "yiyuan"):
        with pytest.raises(Forbidden):
            materials.mark_materials(ctx, staff[user], number, {0: "present"})
    for user in ("shouli2", "shenhe2"):
        with pytest.raises(NotFound):
            materials.mark_materials(ctx, staff[user], number, {0: "present"})
        with pytest.raises(NotFound):
            materials.case_materials(ctx, staff[user], number)
    assert set(marks(ctx, staff["shouli"], number).values()) == {None}


def test_a_closed_case_is_not_marked_any_more(ctx, staff, number, monkeypatch):
    from workflows.domain import model
    monkeypatch.setattr(model.Case, "is_open", property(lambda case: False))
    with pytest.raises(Conflict, match="已办结"):
        materials.mark_materials(ctx, staff["shouli"], number, {0: "present"})


# --- marks sent with the decision, and 受理's rule ---------------------------------------------------------------

def acceptance_task(ctx, staff, number):
    return next(t for t in cases.case_details(ctx, staff["shouli"], number).tasks if t.state == "ready")


def test_acceptance_is_refused_while_a_required_material_is_missing_and_nothing_is_kept(ctx, staff, number):
    task = acceptance_task(ctx, staff, number)
    with pytest.raises(InvalidInput) as refused:
        tasks.complete_task(ctx, staff["shouli"], task.id,
                            {"decision": "accept", "opinion": "清单未带", "material_0": "present", "material_2": "missing"})
    assert refused.value.field_errors["materials"].startswith("缺少必要材料门急诊费用清单：请出具《一次性告知书》")
    assert set(marks(ctx, staff["shouli"], number).values()) == {None}  # the marks sent with it are not kept
    assert cases.case_details(ctx, staff["shouli"], number).case.stage == "受理"


def test_a_missing_waivable_material_points_to_waiver_acceptance(ctx, staff):
    clerk = staff["shouli"]
    item = get_agency_item(ctx, clerk.agency_code, "002036007004")  # 生育津贴支付: 结婚证 必要, 可容缺
    index = next(i for i, m in enumerate(item.materials) if m.waivable and m.required)
    form = _definition(ctx, item.process_key).start_form
    progress = cases.open_case(ctx, clerk, item.code, applicant_for(item), sample_data(form))
    with pytest.raises(InvalidInput) as refused:
        tasks.complete_task(ctx, clerk, progress.open_tasks[0].id,
                            {"decision": "accept", "materials": {str(index): "missing"}})
    assert "这些材料可以容缺" in refused.value.field_errors["materials"] and "容缺受理" in str(refused.value)


def test_accepting_attests_unmarked_materials_and_the_notice_lists_the_marks(ctx, staff, number):
    task = acceptance_task(ctx, staff, number)
    tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "accept", "materials": {"4": "missing"}})
    assert marks(ctx, staff["shouli"], number) == {0: "present", 1: "present", 2: "present", 3: "present",
                                                   4: "missing"}  # 医保卡复印件 非必要: may be missing
    history = [e.message for e in cases.case_details(ctx, staff["shouli"], number).history]
    assert any(line.endswith("（受理人确认未标注的材料已提交）") for line in history)
    [notice] = documents.list_documents(ctx, staff["shouli"], number)
    text = text_of(ctx, staff["shouli"], notice)
    assert "申请材料齐全" not in text
    assert "已收到申请材料：" in text and "医院收费票据" in text and "未提交的非必要材料：医保卡复印件" in text
