"""申请材料核对 through the task page: the radio groups belong to the one task form (marks, 办理意见 and the decision
sent together, nothing typed lost on a refusal), 容缺 only where allowed, 受理 refused while a required one is 缺少."""
from __future__ import annotations

import re

from workflows.services import cases

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.web import csrf_token, html, sign_in


def open_task(ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    return progress.case.number, progress.open_tasks[0].id


def post_task_form(client, ctx, staff, **fields):
    """A new case's 受理 task page, as 受理员, and its form posted with `fields`: (number, task id, the answer)."""
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    return number, task_id, client.post(f"/tasks/{task_id}", data={"csrf_token": csrf_token(page), **fields})


def radios(page: str, index: int) -> dict[str, bool]:
    """value -> checked, of material `index`'s radio group."""
    found = re.findall(rf'<input type="radio" name="material_{index}" value="(\w+)" form="task-form"( checked)?>', page)
    return {value: bool(checked) for value, checked in found}


def test_the_task_page_offers_a_status_per_material_and_waiver_only_where_allowed(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    assert f'action="/cases/{number}/materials"' not in page and 'id="task-form"' in page  # one form
    assert radios(page, 1) == {"present": False, "missing": False}  # 医院收费票据: no 容缺
    assert radios(page, 4) == {"present": False, "missing": False, "waived": False}  # 医保卡复印件: 可容缺
    assert len(re.findall(r'type="radio" name="material_\d+" value="waived"', page)) == 1


def test_saving_the_marks_keeps_the_opinion_typed(client, ctx, staff):
    number, _, response = post_task_form(client, ctx, staff, save_materials="1", opinion="票据原件已核",
                                         material_1="present", material_2="missing", material_4="waived")
    assert response.status_code == 200
    page = html(response)
    assert "已保存材料核对" in page and ">票据原件已核</textarea>" in page
    assert radios(page, 1) == {"present": True, "missing": False}
    assert radios(page, 2) == {"present": False, "missing": True}
    assert radios(page, 4) == {"present": False, "missing": False, "waived": True}
    assert not any(radios(page, 0).values())
    case_page = html(client.get(f"/cases/{number}"))
    assert "材料核对：医院收费票据 已提交；门急诊费用清单 缺少；医保卡复印件 容缺" in case_page


def test_a_refused_mark_keeps_every_mark_the_opinion_and_the_decision(client, ctx, staff):
    number, task_id, response = post_task_form(client, ctx, staff, decision="accept", opinion="材料已核",
                                               material_0="present", material_1="waived", material_4="waived")
    assert response.status_code == 422
    page = html(response)
    assert "材料“医院收费票据”不可容缺" in page and ">材料已核</textarea>" in page
    assert radios(page, 0)["present"] and radios(page, 4)["waived"]  # what was chosen is still chosen
    saved = html(client.get(f"/tasks/{task_id}"))
    assert not any(radios(saved, 0).values()) and not any(radios(saved, 4).values())  # nothing saved
    assert cases.case_details(ctx, staff["shouli"], number).case.stage == "受理"


def test_acceptance_with_a_required_material_missing_is_refused_and_offers_the_notice(client, ctx, staff):
    typed = {"opinion": "清单未带", "material_0": "present", "material_2": "missing"}
    number, task_id, response = post_task_form(client, ctx, staff, decision="accept", **typed)
    assert response.status_code == 422
    page = html(response)
    assert "缺少必要材料门急诊费用清单，不能受理：请出具《一次性告知书》" in page
    assert radios(page, 2)["missing"] and radios(page, 0)["present"] and ">清单未带</textarea>" in page
    assert 'name="notice" value="1"' in page
    assert cases.case_details(ctx, staff["shouli"], number).case.stage == "受理"

    token = csrf_token(html(client.get(f"/tasks/{task_id}")))
    response = client.post(f"/tasks/{task_id}", data={"csrf_token": token, **typed, "notice": "1"})
    page = html(response)
    assert response.status_code == 200 and f"已出具《一次性告知书》（文书编号 GZ{number}）" in page
    assert ">清单未带</textarea>" in page and radios(page, 2)["missing"]


def test_next_outside_the_site_is_ignored_and_csrf_is_required(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    response = client.post(f"/cases/{number}/materials", data={
        "csrf_token": csrf_token(page), "next": "https://evil.example/", "material_0": "present"})
    assert response.status_code == 303 and response.headers["Location"] == f"/cases/{number}"
    response = client.post(f"/cases/{number}/materials", data={"next": f"/tasks/{task_id}", "material_0": "missing"})
    assert response.status_code == 400
    assert radios(html(client.get(f"/tasks/{task_id}")), 0) == {"present": True, "missing": False}


def test_a_clerk_of_another_hall_gets_404(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli2")
    page = html(client.get("/login"))
    response = client.post(f"/cases/{number}/materials", data={"csrf_token": csrf_token(page), "material_0": "present"})
    assert response.status_code == 404
