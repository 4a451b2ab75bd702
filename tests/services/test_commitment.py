"""告知承诺: where the item allows it, a certificate or proof may be replaced by the applicant's signed 个人承诺书."""
from __future__ import annotations

import pytest

from workflows.domain.errors import Forbidden, InvalidInput
from workflows.services import cases, documents, materials, processes

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.process_driver import sample_data

LONG_STAY = "002036004002"  # 抚顺 异地长期居住人员备案: commitment_allowed
IDENTITY, FORM, RESIDENCE = 0, 1, 2  # 医保电子凭证…, 备案表, 长期居住认定材料（居住证或个人承诺书）
RESIDENCE_NAME = "长期居住认定材料（居住证或个人承诺书）"


@pytest.fixture
def number(ctx, staff):
    form = processes.application_form(ctx, "item_002036004002", "210400")
    return cases.open_case(ctx, staff["shouli"], LONG_STAY, APPLICANT, sample_data(form)).case.number


def issued(ctx, staff, number) -> list[tuple]:
    return [(d.kind, [row["name"] for row in d.fields["material_rows"]])
            for d in documents.list_documents(ctx, staff["shouli"], number)]


def statuses(ctx, staff, number) -> dict:
    return {row.index: row.status for row in materials.case_materials(ctx, staff["shenhe"], number)}


def test_a_proof_may_be_replaced_by_a_commitment_where_the_item_allows_it(ctx, staff, number):
    rows = materials.case_materials(ctx, staff["shouli"], number)
    assert [[label for _, label in row.choices] for row in rows] == [
        ["已提交", "缺少"], ["已提交", "缺少"], ["已提交", "缺少", "告知承诺"]]

    rows = materials.mark_materials(ctx, staff["shouli"], number,
                                    {IDENTITY: "present", FORM: "present", RESIDENCE: "committed"})

    assert (rows[RESIDENCE].status, rows[RESIDENCE].status_name) == ("committed", "告知承诺")
    assert issued(ctx, staff, number) == [("commitment", [RESIDENCE_NAME])]  # the 个人承诺书 to sign
    [line] = [h.message for h in cases.case_details(ctx, staff["shouli"], number).history
              if h.action == "materials_marked"]
    assert line == f"材料核对：医保电子凭证或有效身份证件或社保卡 已提交；备案表 已提交；{RESIDENCE_NAME} 告知承诺"


def test_the_commitment_is_issued_with_the_first_committed_mark_only(ctx, staff, number):
    materials.mark_materials(ctx, staff["shouli"], number, {RESIDENCE: "committed"})
    materials.mark_materials(ctx, staff["shenhe"], number, {RESIDENCE: "present"})  # the 居住证 after all
    materials.mark_materials(ctx, staff["shenhe"], number, {IDENTITY: "present", RESIDENCE: "committed"})
    assert [kind for kind, _ in issued(ctx, staff, number)] == ["commitment"]
    assert statuses(ctx, staff, number) == {IDENTITY: "present", FORM: None, RESIDENCE: "committed"}


def test_identity_documents_and_forms_are_never_replaced_by_a_commitment(ctx, staff, number):
    with pytest.raises(InvalidInput, match="材料“备案表”不是证明材料，不适用告知承诺") as refused:
        materials.mark_materials(ctx, staff["shouli"], number, {RESIDENCE: "committed", FORM: "committed"})
    assert refused.value.field_errors == {"material_1": "不是证明材料，不适用告知承诺"}
    with pytest.raises(InvalidInput, match="不是证明材料"):
        materials.mark_materials(ctx, staff["shouli"], number, {IDENTITY: "committed"})
    assert set(statuses(ctx, staff, number).values()) == {None} and issued(ctx, staff, number) == []


def test_an_item_without_commitment_refuses_it(ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    assert all("committed" not in row.statuses for row in materials.case_materials(ctx, staff["shouli"], number))
    with pytest.raises(InvalidInput, match="本事项不适用告知承诺"):
        materials.mark_materials(ctx, staff["shouli"], number, {2: "committed"})
    assert issued(ctx, staff, number) == []


def test_only_the_halls_acceptors_and_reviewers_record_a_commitment(ctx, staff, number):
    with pytest.raises(Forbidden):
        materials.mark_materials(ctx, staff["caiwu"], number, {RESIDENCE: "committed"})
    assert statuses(ctx, staff, number)[RESIDENCE] is None and issued(ctx, staff, number) == []
