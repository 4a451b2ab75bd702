"""备注 and 附件 through the task and case pages: upload, list, download, refusals, another hall."""
from __future__ import annotations

import io
import re
from urllib.parse import quote

from workflows.services import cases

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.web import csrf_token, sign_in

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def html(response) -> str:
    return response.get_data(as_text=True)


def open_task(ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    return progress.case.number, progress.open_tasks[0].id


def upload(client, number, page, name, content, media_type, next_path):
    return client.post(f"/cases/{number}/attachments", content_type="multipart/form-data",
                       data={"csrf_token": csrf_token(page), "next": next_path,
                             "file": (io.BytesIO(content), name, media_type)})


def test_a_pdf_uploaded_on_the_task_page_is_listed_and_downloaded_byte_for_byte(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    assert 'enctype="multipart/form-data"' in page and f'action="/cases/{number}/attachments"' in page
    assert f'name="next" value="/tasks/{task_id}"' in page

    response = upload(client, number, page, "发票.pdf", PDF, "application/pdf", f"/tasks/{task_id}")
    assert response.status_code == 303 and response.headers["Location"] == f"/tasks/{task_id}"
    page = html(client.get(response.headers["Location"]))
    assert "已上传附件 发票.pdf" in page
    [link] = re.findall(r'href="(/attachments/\d+)"[^>]*>发票\.pdf<', page)

    download = client.get(link)
    assert download.status_code == 200 and download.data == PDF
    assert download.mimetype == "application/pdf"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"filename*=UTF-8''{quote('发票.pdf')}" in disposition
    assert download.headers["X-Content-Type-Options"] == "nosniff"

    case_page = html(client.get(f"/cases/{number}"))  # the case page lists it too, and the history says so
    assert link in case_page and "上传附件 发票.pdf" in case_page


def test_an_exe_is_refused_with_the_type_named(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    response = upload(client, number, page, "setup.exe", b"MZ\x90\x00", "application/x-msdownload",
                      f"/tasks/{task_id}")
    assert response.status_code == 303
    page = html(client.get(response.headers["Location"]))
    assert "不支持的附件类型：.exe（application/x-msdownload）" in page and "暂无附件" in page


def test_a_comment_is_added_and_shown_and_an_empty_or_long_one_keeps_the_text(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/cases/{number}"))
    assert f'name="next" value="/cases/{number}"' in page
    added = client.post(f"/cases/{number}/comments", data={"csrf_token": csrf_token(page), "text": "申请人下午补交票据",
                                                          "next": f"/cases/{number}"})
    assert added.status_code == 303 and added.headers["Location"] == f"/cases/{number}"
    page = html(client.get(added.headers["Location"]))
    assert "已添加备注" in page and "申请人下午补交票据" in page
    assert [h.actor for h in cases.case_details(ctx, staff["shouli"], number).history
            if h.message == "添加备注"] == ["shouli"]
    assert "申请人下午补交票据" in html(client.get(f"/tasks/{task_id}"))  # the task page shows it as well

    long_text = "票据" * 1001
    refused = client.post(f"/cases/{number}/comments", data={"csrf_token": csrf_token(page), "text": long_text,
                                                            "next": f"/tasks/{task_id}"})
    assert refused.status_code == 422
    assert "备注不能超过 2000 字" in html(refused) and long_text in html(refused)  # the text is kept
    assert f'name="next" value="/tasks/{task_id}"' in html(refused)
    empty = client.post(f"/cases/{number}/comments", data={"csrf_token": csrf_token(page), "text": " ",
                                                          "next": f"/cases/{number}"})
    assert empty.status_code == 422 and "备注不能为空" in html(empty)


def test_next_must_be_a_local_path(client, ctx, staff):
    number, _ = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/cases/{number}"))
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = client.post(f"/cases/{number}/comments", data={"csrf_token": csrf_token(page), "text": "好",
                                                                 "next": target})
        assert response.headers["Location"] == f"/cases/{number}"


def test_another_halls_clerk_cannot_download_comment_or_upload(client, ctx, staff):
    number, task_id = open_task(ctx, staff)
    sign_in(client, "shouli")
    page = html(client.get(f"/tasks/{task_id}"))
    upload(client, number, page, "发票.pdf", PDF, "application/pdf", f"/tasks/{task_id}")
    [link] = re.findall(r'href="(/attachments/\d+)"', html(client.get(f"/tasks/{task_id}")))

    client.post("/logout", data={"csrf_token": csrf_token(page)})
    sign_in(client, "shouli2")
    assert client.get(link).status_code == 404
    page = html(client.get("/inbox"))
    assert client.post(f"/cases/{number}/comments",
                       data={"csrf_token": csrf_token(page), "text": "看看"}).status_code == 404
    assert upload(client, number, page, "b.pdf", PDF, "application/pdf", "/inbox").status_code == 404
    assert client.get(f"/cases/{number}").status_code == 404


def test_a_request_far_over_the_attachment_limit_is_refused_before_it_is_read(client):
    response = client.post("/cases/x/attachments", data=b"x" * (13 * 1024 * 1024),
                           content_type="application/octet-stream")
    assert response.status_code == 413 and "不能超过 10 MB" in response.get_data(as_text=True)
