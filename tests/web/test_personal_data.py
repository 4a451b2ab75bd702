"""Personal data by need: each role sees in full only the ID number, phone and bank account its tasks need, on
every way in (API, case page, task page, lists, downloads), and every read in full is audited.

A 门诊费用报销 case of hall 210400-01, accepted: its applicant's ID number and phone, its bank account, in the
applicant, the application data, the history and the calls to outside systems.
"""
from __future__ import annotations

import pytest

from workflows.services import case_files, cases, documents, tasks, users

from support.cases import APPLICANT, DATA, OUTPATIENT, accept
from support.process_driver import drive
from support.web import csrf_token, html, sign_in

ID, PHONE, ACCOUNT = APPLICANT["id_number"], APPLICANT["phone"], DATA["bank_account"]
MASKED = {ID: ID[:6] + "*" * 8 + ID[-4:], PHONE: "138****0001", ACCOUNT: "*" * 15 + ACCOUNT[-4:]}
PDF = b"%PDF-1.4\n%%EOF\n"
CHRONIC = "002036005000"  # 门诊慢特病病种待遇认定: 医院鉴定 by the hospital's assessor

# user -> what the case shows them in full (the rest masked)
SHOWN = {
    "shouli": {ID, PHONE, ACCOUNT},   # 受理员: checks the ID card
    "shenhe": {ID, PHONE, ACCOUNT},   # 审核员: decides eligibility
    "caiwu": {PHONE, ACCOUNT},        # 财务: pays to the account
    "kezhang": {PHONE},               # 科室负责人: calls the applicant back
    "sheji": set(),                   # 流程设计员: nothing
    "admin": set(),                   # 系统管理员: nothing
}


@pytest.fixture
def number(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    case_files.add_attachment(ctx, staff["shouli"], number, "身份证.pdf", "application/pdf", PDF)
    return number


def test_each_role_sees_in_full_what_its_tasks_need_and_the_rest_masked(client, auth, number):
    for user, shown in SHOWN.items():
        case = client.get(f"/api/cases/{number}", headers=auth(user)).get_json()
        text = str(case)
        for value in (ID, PHONE, ACCOUNT):
            if value in shown:
                assert value in text, (user, value)
            else:
                assert value not in text and MASKED[value] in text, (user, value)
        names = {case["applicant"]["name"]}
        assert names == ({"张伟"} if shown else {"张*"}), user


def test_the_case_page_masks_what_the_role_does_not_need(client, number):
    for user, shown in SHOWN.items():
        sign_in(client, user)
        page = html(client.get(f"/cases/{number}"))
        assert not {value for value in (ID, PHONE, ACCOUNT) if value in page} - shown, user
        assert ("申请人 张伟" if shown else "申请人 张*") in page, user


def test_the_finance_task_page_shows_the_account_but_not_the_id_number(ctx, staff, client, number):
    [review] = [t for t in cases.case_details(ctx, staff["shenhe"], number).tasks if t.state == "ready"]
    tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"})
    [pay] = [t for t in cases.case_details(ctx, staff["caiwu"], number).tasks if t.state == "ready"]
    sign_in(client, "caiwu")
    page = html(client.get(f"/tasks/{pay.id}"))
    assert ACCOUNT in page and ID not in page and MASKED[ID] in page


def test_lists_of_cases_show_no_id_number_or_account_in_full(client, auth, number):
    [listed] = client.get("/api/cases", headers=auth("shouli")).get_json()
    assert listed["number"] == number
    assert listed["applicant"]["id_number"] == MASKED[ID] and ACCOUNT not in str(listed)


def test_a_designer_neither_downloads_nor_adds_files_or_notes(ctx, staff, client, auth, number):
    [attachment] = case_files.list_attachments(ctx, staff["shouli"], number)
    [notice] = documents.list_documents(ctx, staff["shouli"], number)
    sheji = auth("sheji")
    assert client.get(f"/api/cases/{number}/documents", headers=sheji).status_code == 403
    assert client.get(f"/api/documents/{notice.id}/pdf", headers=sheji).status_code == 403
    sign_in(client, "sheji")
    page = html(client.get(f"/cases/{number}"))
    assert "备注和附件仅供办理本案件的岗位查看" in page and f"/attachments/{attachment.id}" not in page
    assert client.get(f"/attachments/{attachment.id}").status_code == 403
    assert client.get(f"/documents/{notice.id}/pdf").status_code == 403
    refused = client.post(f"/cases/{number}/comments", data={"csrf_token": csrf_token(page), "text": "看看"})
    assert refused.status_code == 403
    assert case_files.list_comments(ctx, staff["shouli"], number) == []


def test_every_read_in_full_is_audited_and_masked_reads_are_not(ctx, staff, client, auth, number):
    [attachment] = case_files.list_attachments(ctx, staff["shouli"], number)
    client.get(f"/api/cases/{number}", headers=auth("shenhe"))
    client.get(f"/api/cases/{number}", headers=auth("kezhang"))  # phone only: not audited
    client.get(f"/api/cases/{number}", headers=auth("sheji"))    # all masked
    sign_in(client, "shouli")
    client.get(f"/cases/{number}")
    client.get(f"/attachments/{attachment.id}")

    reads = client.get(f"/api/personal-data-reads?case={number}", headers=auth("admin")).get_json()

    assert [(r["actor"], r["purpose"], r["kinds"]) for r in reads] == [
        ("shouli", "attachment", ["id_number"]), ("shouli", "case", ["bank_account", "id_number"]),
        ("shenhe", "case", ["bank_account", "id_number"])]
    assert reads[0]["kind_names"] == ["证件号码"]
    assert client.get("/api/personal-data-reads", headers=auth("kezhang")).status_code == 403


def test_a_hospital_assessor_reads_only_the_cases_assigned_to_the_hospital(ctx, client, auth):
    """林口's 门诊慢特病病种待遇认定 is assessed at the county hospital (hall 231025-03): its assessor sees a case
    that reached the hospital, with the ID number, and not one the window refused before it got there."""
    users.save_user(ctx, "yiyuan_linkou", "林口县医院鉴定医师", "password123", "231025", "231025-03", ["hospital"])
    clerk = users.get_user(ctx, "clerk_231025_03")
    assessed = drive(ctx, clerk, CHRONIC).case
    refused = drive(ctx, clerk, CHRONIC, refuse_at=0).case  # 不予受理: no hospital task
    assessor = auth("yiyuan_linkou", "password123")

    listed = [c["number"] for c in client.get("/api/cases", headers=assessor).get_json()]
    shown = client.get(f"/api/cases/{assessed.number}", headers=assessor).get_json()

    assert listed == [assessed.number]
    assert shown["applicant"]["id_number"] == assessed.applicant["id_number"]
    assert client.get(f"/api/cases/{refused.number}", headers=assessor).status_code == 404
