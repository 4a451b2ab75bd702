"""The clerk's inbox tools through the web app: saved filters (mine, shared with the hall) and a supervisor's
bulk reassignment (改派所选)."""
from __future__ import annotations

import html as markup
import re

from workflows.entrypoints.web import pages as web_pages
from workflows.services import cases, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT, accept
from support.web import csrf_token, html, sign_in


def filter_link(page: str, name: str) -> str:
    """The href of the saved filter `name` in the inbox."""
    found = re.search(r'<a href="([^"]+)">' + re.escape(name) + "</a>", page)
    assert found, page[:2000]
    return markup.unescape(found.group(1))


def section(page: str, title: str) -> str:
    """The list under a heading of the saved-filters box."""
    return page.split(f"<h2>{title}</h2>", 1)[1].split("</ul>", 1)[0]


def test_a_clerk_saves_applies_shares_and_deletes_a_filter(client, ctx, staff):
    li_na = cases.open_case(ctx, staff["shouli"], OUTPATIENT, {**APPLICANT, "name": "李娜"}, DATA).case.number
    zhang = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    sign_in(client, "shouli")
    page = html(client.get("/inbox?search=李娜"))
    saved = client.post("/inbox/filters", data={"csrf_token": csrf_token(page), "name": "李娜的件", "search": "李娜"})
    page = html(client.get(saved.headers["Location"]))
    assert "已保存筛选“李娜的件”" in page and "李娜的件" in section(page, "我的筛选")

    applied = html(client.get(filter_link(html(client.get("/inbox")), "李娜的件")))  # the link applies it
    assert li_na in applied and zhang not in applied

    sign_in(client, "shenhe")  # not shared yet: another clerk of the hall does not see it
    assert "李娜的件" not in html(client.get("/inbox"))

    sign_in(client, "shouli")  # saving the same name again shares it
    page = html(client.get("/inbox"))
    client.post("/inbox/filters", data={"csrf_token": csrf_token(page), "name": "李娜的件", "search": "李娜",
                                        "shared": "1"})
    mine = section(html(client.get("/inbox")), "我的筛选")
    assert "李娜的件" in mine and "已共享" in mine
    filter_id = re.search(r"/inbox/filters/(\d+)/delete", mine).group(1)

    sign_in(client, "shenhe")
    page = html(client.get("/inbox"))
    assert "李娜的件" in section(page, "本大厅共享的筛选") and "李娜的件" not in section(page, "我的筛选")
    assert "删除筛选 李娜的件" not in page  # no delete button on another's filter
    refused = client.post(f"/inbox/filters/{filter_id}/delete", data={"csrf_token": csrf_token(page)})
    assert refused.status_code == 403 and "只能删除本人保存的筛选" in html(refused)

    sign_in(client, "shouli2")  # another hall sees nothing of it, and cannot delete it either
    page = html(client.get("/inbox"))
    assert "李娜的件" not in page
    assert client.post(f"/inbox/filters/{filter_id}/delete",
                       data={"csrf_token": csrf_token(page)}).status_code == 404

    sign_in(client, "shouli")
    page = html(client.get("/inbox"))
    deleted = client.post(f"/inbox/filters/{filter_id}/delete", data={"csrf_token": csrf_token(page)})
    page = html(client.get(deleted.headers["Location"]))
    assert "已删除筛选“李娜的件”" in page and "李娜的件" not in section(page, "我的筛选")


def test_a_filter_needs_a_name(client):
    sign_in(client, "shouli")
    page = html(client.get("/inbox"))
    response = client.post("/inbox/filters", data={"csrf_token": csrf_token(page), "name": "  ", "stage": "审核"})
    assert "请填写筛选名称" in html(client.get(response.headers["Location"]))


def test_a_supervisor_reassigns_the_tasks_the_target_can_work_and_is_told_of_the_others(client, ctx, staff,
                                                                                         clock):
    reviewed = accept(ctx, staff, clock, "2026-11-23 09:30")  # its 审核 task waits for a reviewer
    waiting = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)  # its 受理 task: acceptors
    [review] = [t for t in cases.case_details(ctx, staff["kezhang"], reviewed).tasks
                if t.state == "ready" and t.role == "reviewer"]
    accept_task = waiting.open_tasks[0]

    sign_in(client, "kezhang")
    own = html(client.get("/inbox"))
    assert "查看本大厅全部待办" in own and reviewed not in own  # the supervisor's own roles: no 审核 task
    page = html(client.get("/inbox?all=1"))
    assert reviewed in page and waiting.case.number in page and "改派所选" in page
    assert '<option value="shenhe">' in page and '<option value="shouli2">' not in page  # the hall's people
    response = client.post("/tasks/reassign", data={"csrf_token": csrf_token(page), "assignee": "shenhe",
                                                    "task_id": [review.id, accept_task.id]})
    page = html(client.get(response.headers["Location"]))
    assert "已改派 1 件" in page
    assert f"{waiting.case.number}“{accept_task.name}”" in page and "不具备受理员岗位" in page

    assert tasks.task_details(ctx, staff["shenhe"], review.id).task.assignee == "shenhe"
    assert tasks.task_details(ctx, staff["shouli"], accept_task.id).task.assignee is None  # left alone
    history = cases.case_details(ctx, staff["kezhang"], reviewed).history
    assert any(entry.action == "reassigned" and "改派给" in entry.message and entry.actor == "kezhang"
               for entry in history)
    assert not any(entry.action == "reassigned" for entry in cases.case_details(ctx, staff["kezhang"],
                                                                               waiting.case.number).history)


def test_another_halls_task_is_refused_as_not_found_and_a_clerk_may_not_reassign(client, ctx, staff, clock):
    reviewed = accept(ctx, staff, clock, "2026-11-23 09:30")
    [review] = [t for t in cases.case_details(ctx, staff["kezhang"], reviewed).tasks
                if t.state == "ready" and t.role == "reviewer"]
    sign_in(client, "kezhang2")
    page = html(client.get("/inbox?all=1"))
    response = client.post("/tasks/reassign", data={"csrf_token": csrf_token(page), "assignee": "kezhang2",
                                                    "task_id": review.id})
    assert "任务不存在" in html(client.get(response.headers["Location"]))
    assert tasks.task_details(ctx, staff["shenhe"], review.id).task.assignee is None

    sign_in(client, "shouli")
    page = html(client.get("/inbox"))
    assert "改派所选" not in page and "查看本大厅全部待办" not in page
    refused = client.post("/tasks/reassign", data={"csrf_token": csrf_token(page), "assignee": "shenhe",
                                                   "task_id": review.id})
    assert refused.status_code == 403
    assert reviewed not in html(client.get("/inbox?all=1"))  # all=1 means nothing to a clerk


def test_the_inbox_pages_its_tasks_past_the_first_page_with_the_filter_kept(client, ctx, staff, monkeypatch):
    """待办 showed its first 100 tasks as "100 件" and no more: the rest come on the next pages, the filter kept."""
    monkeypatch.setattr(web_pages, "INBOX_ROWS", 2)
    opened = [cases.open_case(ctx, staff["shouli"], OUTPATIENT, {**APPLICANT, "name": "李娜"}, DATA).case.number
              for _ in range(3)]
    cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)  # 张伟's: not 李娜's
    sign_in(client, "shouli")

    first, second = html(client.get("/inbox?search=李娜")), html(client.get("/inbox?search=李娜&page=2"))

    assert "第 1 页 2 件" in first and "第 2 页 1 件" in second
    listed = [[number for number in opened if number in page] for page in (first, second)]
    assert sorted(listed[0] + listed[1]) == sorted(opened) and len(listed[0]) == 2
    assert 'rel="next" href="/inbox?search=%E6%9D%8E%E5%A8%9C&amp;page=2"' in first and 'rel="next"' not in second
