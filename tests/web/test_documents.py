"""文书 on the task and case pages and in the API: the list with its PDFs, 出具一次性告知书, 退回申请人补正."""
from __future__ import annotations

from io import BytesIO

import lxml.html
from pypdf import PdfReader

from workflows.services import cases, documents, materials, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.web import csrf_token, html, sign_in

RECEIPT = 1  # 医院收费票据


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages).replace("\n", "")


def open_task(ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    return progress.case.number, progress.open_tasks[0].id


def accepted_review(ctx, staff):
    """An accepted case and its 审核 task."""
    number, task_id = open_task(ctx, staff)
    tasks.complete_task(ctx, staff["shouli"], task_id, {"decision": "accept"})
    [review] = [t for t in cases.case_details(ctx, staff["shenhe"], number).tasks if t.state == "ready"]
    return number, review.id


def post(client, url: str, page: str, **fields):
    return client.post(url, data={"csrf_token": csrf_token(page), **fields})


def test_the_task_page_lists_the_documents_to_print_and_to_download(client, ctx, staff):
    number, review_id = accepted_review(ctx, staff)
    sign_in(client, "shenhe")
    page = html(client.get(f"/tasks/{review_id}"))
    assert "《受理通知书》" in page and f"SL{number}" in page
    row = lxml.html.fromstring(page).xpath('//*[@id="documents"]//tbody/tr')[0]
    [view, download] = row.xpath(".//a")
    assert (view.text_content(), view.get("target"), view.get("download")) == ("打印/查看", "_blank", None)
    assert (download.text_content(), download.get("href")) == ("下载", f"{view.get('href')}?download=1")
    assert download.get("download") is not None

    response = client.get(view.get("href"))  # opens in the browser's PDF viewer, ready to print
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "object-src" not in response.headers["Content-Security-Policy"]  # the PDF viewer may show it
    saved = client.get(download.get("href"))
    assert saved.headers["Content-Disposition"].startswith("attachment;") and saved.data == response.data
    assert "filename*=UTF-8''" in saved.headers["Content-Disposition"]  # the Chinese file name survives
    text = pdf_text(response.data)
    assert f"办件编号：{number}" in text and "张伟" in text and "2026年11月23日" in text
    assert "出具一次性告知书" in page and "退回申请人补正" in page  # accepted: both commands


def test_the_case_page_lists_them_without_the_commands(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    assert "出具一次性告知书" in page and "退回申请人补正" not in page  # not accepted yet: no 补正 pause
    case_page = html(client.get(f"/cases/{number}"))
    assert 'id="documents"' in case_page and "暂无文书" in case_page and "出具一次性告知书" not in case_page


def test_issuing_the_notice_from_the_task_page(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    response = post(client, f"/cases/{number}/missing-materials-notice", page, next=f"/tasks/{task_id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task_id}"
    page = html(client.get(f"/tasks/{task_id}"))
    assert "没有标为“缺少”的材料" in page and "暂无文书" in page

    materials.mark_materials(ctx, staff["shouli"], number, {RECEIPT: "missing"})
    response = post(client, f"/cases/{number}/missing-materials-notice", page, next=f"/tasks/{task_id}")
    page = html(client.get(response.headers["Location"]))
    assert f"已出具《一次性告知书》（文书编号 GZ{number}）" in page and "《一次性告知书》" in page


def test_returning_for_correction_from_the_task_page_keeps_a_refused_reason(client, ctx, staff):
    number, review_id = accepted_review(ctx, staff)
    sign_in(client, "shenhe")
    page = html(client.get(f"/tasks/{review_id}"))
    response = post(client, f"/cases/{number}/correction", page, next=f"/tasks/{review_id}", reason="发票金额不符")
    page = html(client.get(response.headers["Location"]))
    assert "没有标为“缺少”的材料" in page and ">发票金额不符</textarea>" in page  # refused, the reason kept

    materials.mark_materials(ctx, staff["shenhe"], number, {RECEIPT: "missing"})
    response = post(client, f"/cases/{number}/correction", page, next=f"/tasks/{review_id}", reason="发票金额不符")
    page = html(client.get(response.headers["Location"]))
    assert "已退回申请人补正" in page and "计时已暂停" in page
    assert "退回申请人补正</button>" not in page  # paused now: not twice
    assert "暂停计时（补正）：退回申请人补正：发票金额不符" in html(client.get(f"/cases/{number}"))


def test_another_halls_clerk_gets_404_for_the_pdf_and_the_commands(client, ctx, staff):
    number, _ = accepted_review(ctx, staff)
    [notice] = documents.list_documents(ctx, staff["shouli"], number)
    sign_in(client, "shouli2")
    token = csrf_token(html(client.get("/login")))
    assert client.get(f"/documents/{notice.id}/pdf").status_code == 404
    assert client.post(f"/cases/{number}/missing-materials-notice", data={"csrf_token": token}).status_code == 404
    sign_in(client, "caiwu")
    token = csrf_token(html(client.get("/login")))
    assert client.post(f"/cases/{number}/correction", data={"csrf_token": token, "reason": "x"}).status_code == 403


# --- the API ------------------------------------------------------------------------------------------------------

def test_the_api_lists_downloads_and_issues(client, ctx, staff, auth):
    number, _ = accepted_review(ctx, staff)
    headers = auth("shenhe")
    listed = client.get(f"/api/cases/{number}/documents", headers=headers).get_json()
    assert [(d["kind"], d["kind_name"], d["number"], d["issued_by"]) for d in listed] == [
        ("acceptance_notice", "受理通知书", f"SL{number}", "system")]
    assert listed[0]["fields"]["case_number"] == number
    pdf = client.get(listed[0]["pdf_url"], headers=headers)
    assert pdf.status_code == 200 and f"SL{number}" in pdf_text(pdf.data)
    assert pdf.headers["Content-Disposition"].startswith("inline;")
    attachment = client.get(listed[0]["pdf_url"] + "?download=1", headers=headers)
    assert attachment.headers["Content-Disposition"].startswith("attachment;")

    refused = client.post(f"/api/cases/{number}/missing-materials-notice", headers=headers)
    assert refused.status_code == 422 and "materials" in refused.get_json()["error"]["fields"]
    materials.mark_materials(ctx, staff["shenhe"], number, {RECEIPT: "missing"})
    issued = client.post(f"/api/cases/{number}/missing-materials-notice", headers=headers)
    assert issued.status_code == 201 and issued.get_json()["number"] == f"GZ{number}"
    returned = client.post(f"/api/cases/{number}/correction", headers=headers, json={"reason": "发票金额不符"})
    assert returned.status_code == 201 and returned.get_json()["number"] == f"GZ{number}-2"
    assert client.post(f"/api/cases/{number}/correction", headers=headers,
                       json={"reason": "再次退回"}).status_code == 409  # paused already
    assert client.get(f"/api/cases/{number}/documents", headers=auth("shouli2")).status_code == 404
    assert client.get(listed[0]["pdf_url"], headers=auth("shouli2")).status_code == 404
