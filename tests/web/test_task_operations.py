"""Task operations through the web app (the task page's 协同办理, the inbox's 待我处理, the desk's 督办回复, the
外出代理 page) and the REST API, on a real 门诊费用报销 case waiting at 审核 in hall 210400-01."""
from __future__ import annotations

import lxml.html
import pytest

from workflows.services import tasks

from support.cases import review_task
from support.http import error_of, json_of
from support.web import csrf_token, html, sign_in

CLERK = "clerk_210400_01"


@pytest.fixture
def review(ctx, staff, clock, built_once):
    """The 审核 task of a 门诊 case accepted on 2026-11-23, unclaimed (built once per worker: built_once)."""
    return built_once("web.test_task_operations.review", lambda: review_task(ctx, staff, clock))


@pytest.fixture
def browsers(app):
    """browsers("shenhe") -> a test client signed in as that user (one per user)."""
    signed = {}

    def browser(username):
        if username not in signed:
            signed[username] = app.test_client()
            sign_in(signed[username], username, *(["password123"] if username.startswith("clerk_") else []))
        return signed[username]

    return browser


def post(browser, url: str, **form):
    token = csrf_token(html(browser.get("/inbox")))
    return browser.post(url, data={"csrf_token": token, **form})


def text(page: str, xpath: str) -> str:
    """The text of the elements `xpath` finds, whitespace folded."""
    return " ".join(" ".join(node.text_content().split()) for node in lxml.html.fromstring(page).xpath(xpath))


def cells(page: str, rows: str) -> list[list[str]]:
    """The texts of the cells of the table rows `rows` finds."""
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./td")]
            for row in lxml.html.fromstring(page).xpath(rows)]


def flashed(browser, url: str = "/inbox") -> str:
    return text(html(browser.get(url)), '//*[@role="status"]')


def test_the_holder_transfers_from_the_task_page_and_a_refusal_keeps_what_was_typed(browsers, review):
    shenhe = browsers("shenhe")
    page = html(shenhe.get(f"/tasks/{review.id}"))
    options = lxml.html.fromstring(page).xpath('//select[@id="assignee-transfer"]/option/@value')
    assert options == ["", CLERK]  # the hall's other reviewers only

    refused = post(shenhe, f"/tasks/{review.id}/transfer", assignee="caiwu", reason="下午请假")
    assert refused.status_code == 422
    page = html(refused)
    assert "赵财务不具备审核员岗位" in text(page, '//form[@class="transfer-form"]//div[@role="alert"]')
    assert ">下午请假</textarea>" in page  # the reason typed is kept

    done = post(shenhe, f"/tasks/{review.id}/transfer", assignee=CLERK, reason="下午请假")
    assert done.status_code == 303 and done.headers["Location"] == "/inbox"
    assert "已转办给综合窗口210400-01" in flashed(shenhe)
    clerk_page = html(browsers(CLERK).get(f"/tasks/{review.id}"))
    assert text(clerk_page, '//dd[@id="holder"]') == "综合窗口210400-01"
    assert 'class="transfer-form"' not in html(shenhe.get(f"/tasks/{review.id}"))  # no longer hers to pass on


def test_someone_not_holding_the_task_is_refused_with_the_reason_on_the_page(browsers, review, ctx, staff):
    tasks.claim_task(ctx, staff["shenhe"], review.id)
    response = post(browsers(CLERK), f"/tasks/{review.id}/delegate", delegate="caiwu", reason="请核对")
    assert response.status_code == 403
    assert "任务由李审核办理，只有办理人可以转办、委派或加签" in html(response)
    assert post(browsers("shenhe2"), f"/tasks/{review.id}/urge").status_code == 404


def test_a_delegation_through_the_pages_from_the_inbox_to_the_opinion(browsers, review):
    shenhe, caiwu = browsers("shenhe"), browsers("caiwu")
    assert post(shenhe, f"/tasks/{review.id}/delegate", delegate="caiwu", reason="请核对发票金额").status_code == 303

    inbox = html(caiwu.get("/inbox"))
    assert cells(inbox, '//section[@id="awaiting"]//tbody/tr') == [
        ["委派", review.case_number, "门诊费用报销", "审核", "李审核", "请核对发票金额", "办理"]]
    assert f'href="/tasks/{review.id}#request-' in inbox
    refused = post(caiwu, f"/tasks/{review.id}", decision="approve", opinion="我来定")
    assert refused.status_code == 403 and "只能填写办理意见" in html(refused)
    [request_id] = lxml.html.fromstring(html(caiwu.get(f"/tasks/{review.id}"))).xpath(
        '//form[@class="resolve-form"]/@action')
    empty = post(caiwu, request_id, action="resolve", opinion="")
    assert empty.status_code == 422 and "请填写办理意见" in html(empty)

    done = post(caiwu, request_id, action="resolve", opinion="金额无误")
    assert done.status_code == 303 and done.headers["Location"] == "/inbox"
    page = html(shenhe.get(f"/tasks/{review.id}"))
    assert text(page, '//table[contains(@class, "delegations")]//td[@class="opinion"]') == "金额无误"
    assert post(shenhe, f"/tasks/{review.id}", decision="approve", opinion="同意").status_code == 302


def test_an_after_signer_signs_from_the_inbox_and_the_step_moves_on(browsers, review):
    shenhe, kezhang = browsers("shenhe"), browsers("kezhang")
    post(shenhe, f"/tasks/{review.id}/signers", signer="kezhang", kind="after", reason="请科长复核")
    assert "待办理人提交后签署" in html(kezhang.get(f"/tasks/{review.id}"))

    held = post(shenhe, f"/tasks/{review.id}", decision="approve", opinion="票据齐全")
    assert held.status_code == 302 and "已提交，待加签人签署后流转" in flashed(shenhe)
    assert "于 2026-11-23 09:30 提交" in text(html(shenhe.get(f"/tasks/{review.id}")), '//dd[@id="held"]')
    assert "后加签" in text(html(kezhang.get("/inbox")), '//section[@id="awaiting"]')

    [action] = lxml.html.fromstring(html(kezhang.get(f"/tasks/{review.id}"))).xpath(
        '//form[@class="sign-form"]/@action')
    signed = post(kezhang, action, action="sign", decision="agree", opinion="同意报销")
    assert signed.status_code == 303
    assert f"已签署：同意；{review.case_number} 已流转，当前环节：拨付" in flashed(kezhang)
    again = post(kezhang, action, action="sign", decision="agree", opinion="同意报销")
    assert again.status_code == 409 and "任务已办理或已取消" in html(again)


def test_a_supervision_is_answered_on_the_task_page_and_shows_on_the_desk(browsers, review):
    shenhe, kezhang = browsers("shenhe"), browsers("kezhang")
    assert post(kezhang, f"/tasks/{review.id}/supervise", instruction="请说明进度").status_code == 303

    assert "督办" in text(html(shenhe.get("/inbox")), '//section[@id="awaiting"]//td[1]')
    blocked = post(shenhe, f"/tasks/{review.id}", decision="approve", opinion="同意")
    assert blocked.status_code == 409 and "请先回复督办意见再办理" in html(blocked)
    [action] = lxml.html.fromstring(html(shenhe.get(f"/tasks/{review.id}"))).xpath(
        '//form[@class="reply-form"]/@action')
    assert post(shenhe, action, reply="今日办结").status_code == 303

    desk = html(kezhang.get("/desk"))
    assert "督办回复（0 件待回复）" in desk
    assert "今日办结" in text(desk, '//table[contains(@class, "desk-supervisions")]//tbody')
    assert post(shenhe, f"/tasks/{review.id}", decision="approve", opinion="同意").status_code == 302


def test_the_substitute_page_sets_keeps_refused_input_and_ends_a_period(browsers):
    shenhe = browsers("shenhe")
    page = html(shenhe.get("/me/substitute"))
    assert 'href="/me/substitute"' in page and "外出代理" in page
    assert lxml.html.fromstring(page).xpath('//select[@id="substitute"]/option/@value') == ["", CLERK]

    refused = post(shenhe, "/me/substitute", substitute=CLERK, kind="leave", starts_at="2026-11-25T09:00",
                   ends_at="2026-11-24T18:00", reason="年休假")
    assert refused.status_code == 422
    page = html(refused)
    assert "结束时间应晚于开始时间" in page and 'value="2026-11-25T09:00"' in page and 'value="年休假"' in page

    done = post(shenhe, "/me/substitute", substitute=CLERK, kind="leave", starts_at="2026-11-24T09:00",
                ends_at="2026-11-26T18:00", reason="年休假")
    assert done.status_code == 303
    page = html(shenhe.get("/me/substitute"))
    assert cells(page, '//table[contains(@class, "my-substitutions")]//tbody/tr') == [
        ["2026-11-24 09:00 至 2026-11-26 18:00", "休假", "综合窗口210400-01", "年休假", "取消"]]  # not begun yet
    covering = cells(html(browsers(CLERK).get("/me/substitute")), '//table[contains(@class, "covering")]//tbody/tr')
    assert covering == [["2026-11-24 09:00 至 2026-11-26 18:00", "李审核", "休假"]]
    [end] = lxml.html.fromstring(page).xpath('//table[contains(@class, "my-substitutions")]//form/@action')
    assert post(browsers(CLERK), end).status_code == 404
    assert post(shenhe, end).status_code == 303
    assert "已提前结束" in html(shenhe.get("/me/substitute"))


# --- the REST API ------------------------------------------------------------------------------------------------

def test_the_api_runs_delegation_signatures_and_supervision_with_their_refusals(client, auth, review):
    shenhe, caiwu, kezhang = auth("shenhe"), auth("caiwu"), auth("kezhang")
    base = f"/api/tasks/{review.id}"

    response = client.post(f"{base}/delegations", json={"delegate": "shenhe2", "reason": "请核对"}, headers=shenhe)
    assert error_of(response, 422, "invalid_input")["fields"] == {"delegate": "只能选择本大厅的人员"}
    response = client.post(f"{base}/delegations", json={"delegate": "caiwu", "reason": "请核对"}, headers=shenhe)
    delegation = json_of(response, 201)
    assert (delegation["kind_name"], delegation["assignee"], delegation["status"]) == ("委派", "caiwu", "pending")
    assert [r["id"] for r in json_of(client.get("/api/me/awaiting", headers=caiwu))["requests"]] == [delegation["id"]]
    assert client.post(f"{base}/complete", json={"data": {"decision": "approve"}}, headers=caiwu).status_code == 403
    assert client.post(f"{base}/complete", json={"data": {"decision": "approve"}}, headers=shenhe).status_code == 409
    resolved = json_of(client.post(f"/api/task-requests/{delegation['id']}/resolve", json={"opinion": "无误"},
                                   headers=caiwu))
    assert (resolved["status"], resolved["opinion"]) == ("done", "无误")

    signer = json_of(client.post(f"{base}/signers", json={"signer": "kezhang", "kind": "after", "reason": "复核"},
                                 headers=shenhe), 201)
    supervision = json_of(client.post(f"{base}/supervisions", json={"instruction": "请说明"}, headers=kezhang), 201)
    assert client.post(f"{base}/supervisions", json={"instruction": "请说明"}, headers=shenhe).status_code == 403
    held = error_of(client.post(f"{base}/complete", json={"data": {"decision": "reject"}}, headers=shenhe), 409,
                    "conflict")
    assert "请先回复督办意见再办理" in held["message"]
    replied = json_of(client.post(f"/api/supervisions/{supervision['id']}/reply", json={"reply": "已核"},
                                  headers=shenhe))
    assert replied["reply"] == "已核" and replied["completed"] is None
    assert json_of(client.post(f"{base}/complete", json={"data": {"decision": "approve", "opinion": "同意"}},
                               headers=shenhe))["stage"] == "审核"  # held for the after-signer
    operations = json_of(client.get(f"{base}/operations", headers=kezhang))
    assert operations["submission"]["data"] == {"decision": "approve", "opinion": "同意"}

    signed = json_of(client.post(f"/api/task-requests/{signer['id']}/sign",
                                 json={"decision": "agree", "opinion": "同意"}, headers=kezhang))
    assert signed["decision_name"] == "同意" and signed["completed"]["stage"] == "拨付"
    again = client.post(f"/api/task-requests/{signer['id']}/sign", json={"decision": "agree", "opinion": "同意"},
                        headers=kezhang)
    assert again.status_code == 409
    listed = json_of(client.get("/api/supervisions", headers=kezhang))
    assert [(s["reply"], s["task"]["state"]) for s in listed] == [("已核", "completed")]


def test_the_api_transfers_urges_and_removes_a_signer(client, auth, review):
    shenhe, kezhang = auth("shenhe"), auth("kezhang")
    base = f"/api/tasks/{review.id}"
    signer = json_of(client.post(f"{base}/signers", json={"signer": "caiwu", "kind": "before", "reason": "核对"},
                                 headers=shenhe), 201)
    assert client.post(f"/api/task-requests/{signer['id']}/remove", json={}, headers=auth("caiwu")).status_code == 403
    removed = json_of(client.post(f"/api/task-requests/{signer['id']}/remove", json={"reason": "不必了"},
                                  headers=kezhang))
    assert (removed["status"], removed["withdrawn_by"], removed["completed"]) == ("withdrawn", "kezhang", None)
    again = client.post(f"/api/task-requests/{signer['id']}/remove", json={}, headers=shenhe)
    assert again.status_code == 409

    assert json_of(client.post(f"{base}/urge", json={"message": "申请人来电"}, headers=auth("shouli"))) == {
        "notified": ["shenhe"]}
    assert client.post(f"{base}/urge", json={}, headers=auth("caiwu")).status_code == 403
    transferred = json_of(client.post(f"{base}/transfer", json={"assignee": CLERK, "reason": "外出"}, headers=shenhe))
    assert transferred["assignee"] == CLERK
    assert client.post(f"{base}/transfer", json={"assignee": CLERK, "reason": "外出"},
                       headers=shenhe).status_code == 403


def test_the_api_sets_lists_and_ends_substitute_periods(client, auth):
    shenhe = auth("shenhe")
    refused = client.post("/api/me/substitutions", json={"substitute": "caiwu", "kind": "leave",
                                                         "starts_at": "2026-11-24", "ends_at": "2026-11-25"},
                          headers=shenhe)
    assert set(error_of(refused, 422, "invalid_input")["fields"]) == {"substitute"}
    period = json_of(client.post("/api/me/substitutions", json={
        "substitute": CLERK, "kind": "trip", "starts_at": "2026-11-24", "ends_at": "2026-11-25", "reason": "省局培训"},
        headers=shenhe), 201)
    assert (period["kind_name"], period["starts_at"], period["ends_at"]) == (
        "出差", "2026-11-24T00:00:00+08:00", "2026-11-26T00:00:00+08:00")
    mine = json_of(client.get("/api/me/substitutions", headers=shenhe))
    assert [p["id"] for p in mine["own"]] == [period["id"]]
    assert [p["id"] for p in json_of(client.get("/api/me/substitutions", headers=auth(CLERK)))["covering"]] == [
        period["id"]]
    assert client.post(f"/api/me/substitutions/{period['id']}/end", headers=auth(CLERK)).status_code == 404
    ended = json_of(client.post(f"/api/me/substitutions/{period['id']}/end", headers=shenhe))
    assert ended["ended_at"] == "2026-11-23T09:30:00+08:00"
    assert client.post(f"/api/me/substitutions/{period['id']}/end", headers=shenhe).status_code == 409
