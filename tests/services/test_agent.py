"""委托办理: an agent applies for the applicant with a power of attorney, uploaded or its original checked."""
from __future__ import annotations

import base64

import pytest

from workflows.domain.errors import InvalidInput
from workflows.services import case_files, cases, public
from workflows.services.demo import resident_id

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.process_driver import proof

AGENT_ID = resident_id("21040219850505222")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
CHECKED = {"original_checked": True, "checked_on": "2026-11-23"}


def agent(**changes) -> dict:
    return {"name": "李娜", "id_number": AGENT_ID, "phone": "13904130002", "relation": "配偶",
            "power_of_attorney": CHECKED, **changes}


def open_with(ctx, staff, **changes):
    return cases.open_case(ctx, staff["shouli"], OUTPATIENT, {**APPLICANT, "agent": agent(**changes)}, DATA).case


def test_an_agent_with_the_original_power_of_attorney_checked_is_stored_with_the_applicant(ctx, staff):
    case = open_with(ctx, staff, id_number=AGENT_ID.lower())
    details = cases.case_details(ctx, staff["shenhe"], case.number)
    assert details.case.applicant["agent"] == {
        "name": "李娜", "id_number": AGENT_ID, "phone": "13904130002", "relation": "配偶",
        "power_of_attorney": {"original_checked": True, "checked_on": "2026-11-23"}}
    assert details.case.data["applicant"]["agent"]["name"] == "李娜"  # the workflow sees who applied
    assert [h.message for h in details.history if h.action == "agent_recorded"] == [
        "委托办理：代理人李娜（配偶），授权委托书原件已核验（2026-11-23）"]


def test_an_uploaded_power_of_attorney_becomes_an_attachment_of_the_case(ctx, staff):
    upload = {"file": {"file_name": "授权委托书.pdf", "media_type": "application/pdf", "content": PDF}}
    case = open_with(ctx, staff, power_of_attorney=upload)
    [attachment] = case_files.list_attachments(ctx, staff["shouli"], case.number)
    assert (attachment.file_name, attachment.media_type, attachment.size) == ("授权委托书.pdf", "application/pdf",
                                                                              len(PDF))
    stored = cases.case_details(ctx, staff["shouli"], case.number).case.applicant["agent"]["power_of_attorney"]
    assert stored == {"attachment_id": attachment.id, "file_name": "授权委托书.pdf"}
    assert case_files.attachment(ctx, staff["shenhe"], attachment.id)[1] == PDF


def test_an_api_client_sends_the_power_of_attorney_in_base64(client, auth, ctx):
    upload = {"file": {"file_name": "委托书.png", "content_base64": base64.b64encode(
        b"\x89PNG\r\n\x1a\n" + b"\0" * 32).decode()}}
    response = client.post("/api/cases", headers=auth("shouli"), json={
        "item_code": OUTPATIENT, "applicant": {**APPLICANT, "agent": agent(power_of_attorney=upload)}, "data": DATA})
    assert response.status_code == 201, response.get_json()
    number = response.get_json()["number"]
    shown = client.get(f"/api/cases/{number}", headers=auth("shenhe")).get_json()["applicant"]["agent"]
    assert (shown["name"], shown["relation"], shown["power_of_attorney"]["file_name"]) == ("李娜", "配偶", "委托书.png")


@pytest.mark.parametrize("changes, field, message", [
    ({"id_number": ""}, "id_number", "请填写委托代理人身份证号码"),
    ({"id_number": "2104021985050522"}, "id_number", "代理人身份证号码应为18位：17位数字加1位校验码（数字或X）"),
    ({"id_number": AGENT_ID[:17] + ("1" if AGENT_ID[17] != "1" else "2")}, "id_number",
     "代理人身份证号码校验码不正确，请核对证件"),
    ({"id_number": resident_id("21040220270505222")}, "id_number", "代理人身份证号码中的出生日期晚于今天"),
    ({"id_number": APPLICANT["id_number"]}, "id_number", "代理人不能是申请人本人"),
    ({"relation": " "}, "relation", "请填写代理人与申请人的关系"),
    ({"power_of_attorney": None}, "power_of_attorney", "请上传授权委托书（PDF 或图片），或确认已核验授权委托书原件"),
    ({"power_of_attorney": {"original_checked": True, "checked_on": "2026-11-24"}}, "power_of_attorney",
     "核验日期不能晚于今天"),
    ({"power_of_attorney": {"file": {"file_name": "委托书.docx", "content": b"PK\x03\x04rest"}}}, "power_of_attorney",
     "授权委托书“委托书.docx”应为 PDF 或 JPEG、PNG 图片"),
    ({"power_of_attorney": {"file": {"file_name": "委托书.pdf", "content": b"not a pdf"}}}, "power_of_attorney",
     "附件“委托书.pdf”的内容不是PDF，请检查文件"),
])
def test_an_incomplete_agent_is_refused_field_by_field_and_nothing_is_opened(fake_ctx, fake_staff, changes, field,
                                                                          message):
    with pytest.raises(InvalidInput) as refused:
        open_with(fake_ctx, fake_staff, **changes)
    assert refused.value.field_errors == {f"applicant.agent.{field}": message}
    assert cases.search_cases(fake_ctx, fake_staff["shouli"]) == []


def test_no_agent_fields_means_the_applicant_came_in_person(ctx, staff):
    blank = {key: "" for key in ("name", "id_number", "phone", "relation")}
    case = cases.open_case(ctx, staff["shouli"], OUTPATIENT,
                           {**APPLICANT, "agent": {**blank, "power_of_attorney": {"checked_on": "2026-11-23"}}},
                           DATA).case
    assert "agent" not in case.applicant


def test_the_public_progress_shows_the_agent_masked(ctx, staff):
    case = open_with(ctx, staff)
    assert public.query_progress(ctx, proof(case.number), None).agent == "李*"
    plain = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case
    assert public.query_progress(ctx, proof(plain.number), None).agent is None
