"""The window's acceptance rules on the pages: 委托办理 on the new-case page, 告知承诺 in the materials checklist,
容缺受理 on the 受理 task page and the waived materials handed in on the case page."""
from __future__ import annotations

import io
import re

import pytest

from workflows.services import cases, documents, materials, processes
from workflows.services.demo import resident_id

from support.cases import APPLICANT
from support.process_driver import sample_data
from support.web import csrf_token, html, sign_in

AGENT_ID = resident_id("21040219850505222")
PDF = b"%PDF-1.4\n%%EOF\n"
MATERNITY = "002036007004"
MATERNITY_DATA = {"leave_days": "98", "average_wage": "6500.00", "bank_account": "6222020712001234567"}


def issued(ctx, staff, number) -> list[str]:
    return [document.kind for document in documents.list_documents(ctx, staff["shouli"], number)]


def new_case_form(client, **fields) -> dict:
    page = html(client.get("/cases/new?item_code=002036006001"))
    return {"csrf_token": csrf_token(page), "item_code": "002036006001", "applicant.name": "张伟",
            "applicant.id_number": APPLICANT["id_number"], "applicant.kind": "自然人", "expense_total": "860.50",
            "bank_account": "6222020712001234567", "applicant.agent.name": "李娜",
            "applicant.agent.id_number": AGENT_ID, "applicant.agent.relation": "配偶", **fields}


def test_an_agent_with_the_original_checked_is_registered_and_shown_on_task_and_case_pages(client, ctx, staff):
    sign_in(client, "shouli")
    page = html(client.get("/cases/new?item_code=002036006001"))
    assert "委托代理人" in page and 'name="applicant.agent.power_of_attorney" type="file"' in page
    assert '<details class="agent" >' in page  # folded while unused

    registered = client.post("/cases/new", data=new_case_form(
        client, **{"applicant.agent.original_checked": "true", "applicant.agent.checked_on": "2026-11-23"}))

    assert registered.status_code == 302 and "/tasks/" in registered.headers["Location"]
    task_page = html(client.get(registered.headers["Location"]))
    assert f"李娜（配偶）· {AGENT_ID}" in task_page and "原件已核验（2026-11-23）" in task_page
    [case] = cases.search_cases(ctx, staff["shouli"])
    case_page = html(client.get(f"/cases/{case.number}"))
    assert "李娜（配偶）" in case_page and "委托办理：代理人李娜（配偶），授权委托书原件已核验（2026-11-23）" in case_page


def test_an_uploaded_power_of_attorney_is_linked_from_the_task_page(client, ctx, staff):
    sign_in(client, "shouli")
    form = new_case_form(client, **{"applicant.agent.power_of_attorney": (io.BytesIO(PDF), "授权委托书.pdf")})
    registered = client.post("/cases/new", data=form, content_type="multipart/form-data")
    assert registered.status_code == 302
    task_page = html(client.get(registered.headers["Location"]))
    link = re.search(r'<a href="(/attachments/\d+)">授权委托书.pdf</a>', task_page)
    assert link and client.get(link.group(1)).data == PDF


def test_an_agent_without_id_or_power_of_attorney_is_refused_beside_the_fields_and_nothing_typed_is_lost(
        client, ctx, staff):
    sign_in(client, "shouli")
    refused = client.post("/cases/new", data=new_case_form(client, **{"applicant.agent.id_number": "",
                                                                      "applicant.agent.phone": "13904130002"}))
    assert refused.status_code == 422
    page = html(refused)
    assert '<details class="agent" open>' in page
    assert "请填写委托代理人身份证号码" in page and "请上传授权委托书（PDF 或图片），或确认已核验授权委托书原件" in page
    for typed in ('value="李娜"', 'value="配偶"', 'value="13904130002"', 'value="6222020712001234567"',
                  'value="860.50"'):
        assert typed in page
    assert cases.search_cases(ctx, staff["shouli"]) == []


def test_a_commitment_is_offered_and_recorded_for_a_proof_where_the_item_allows_it(client, ctx, staff):
    form = processes.application_form(ctx, "item_002036004002", "210400")  # 异地长期居住人员备案
    progress = cases.open_case(ctx, staff["shouli"], "002036004002", APPLICANT, sample_data(form))
    number, task_id = progress.case.number, progress.open_tasks[0].id
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    assert re.findall(r'name="material_(\d)" value="committed"', page) == ["2"]  # only the 认定材料, a proof

    response = client.post(f"/cases/{number}/materials", data={
        "csrf_token": csrf_token(page), "next": f"/tasks/{task_id}", "material_0": "present",
        "material_1": "present", "material_2": "committed"})

    assert response.status_code == 303 and issued(ctx, staff, number) == ["commitment"]
    page = html(client.get(f"/cases/{number}"))
    assert "长期居住认定材料（居住证或个人承诺书） 告知承诺" in page


@pytest.fixture
def maternity_task(ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], MATERNITY, APPLICANT, MATERNITY_DATA)
    number = progress.case.number
    materials.mark_materials(ctx, staff["shouli"], number, {index: "present" for index in range(5)}
                             | {5: "waived", 6: "present", 7: "present"})
    return number, progress.open_tasks[0].id


def test_waiving_at_acceptance_needs_the_signed_commitment_and_keeps_what_was_typed(client, ctx, staff,
                                                                                    maternity_task):
    number, task_id = maternity_task
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    assert 'name="waiver_commitment"' in page and 'value="waive"' in page

    refused = client.post(f"/tasks/{task_id}", data={"csrf_token": csrf_token(page), "decision": "waive",
                                                     "opinion": "结婚证后补"})
    assert refused.status_code == 422
    assert "容缺受理须由申请人签署《容缺承诺书》" in html(refused) and "结婚证后补" in html(refused)

    accepted = client.post(f"/tasks/{task_id}", data={"csrf_token": csrf_token(page), "decision": "waive",
                                                      "opinion": "结婚证后补", "waiver_commitment": "true"})
    assert accepted.status_code == 302 and issued(ctx, staff, number) == ["waiver_notice"]
    assert cases.case_details(ctx, staff["shouli"], number).case.stage == "容缺补正"


def test_the_waived_material_is_marked_handed_in_on_the_case_page_and_the_case_goes_on(client, ctx, staff,
                                                                                      maternity_task):
    from workflows.services import tasks
    number, task_id = maternity_task
    tasks.complete_task(ctx, staff["shouli"], task_id, {"decision": "waive", "waiver_commitment": True})
    sign_in(client, "shouli")
    page = html(client.get(f"/cases/{number}"))
    assert "容缺补正" in page and 'name="material_5" value="present"' in page

    response = client.post(f"/cases/{number}/materials", data={
        "csrf_token": csrf_token(page), "next": f"/cases/{number}", "material_5": "present"})

    assert response.status_code == 303
    page = html(client.get(f"/cases/{number}"))
    assert "当前环节：<strong>审核</strong>" in page and "容缺材料已补齐（结婚证），结束容缺补正，恢复计时" in page
