"""差评回访 in the web app: the applicant's poor rating on the public page puts a follow-up on the desk of the case's
hall supervisors, with its due date and 黄牌/红牌; one of them records it from the desk, once; the applicant then
reads it on the progress page.

A 抚顺 门诊费用报销 case of 张伟 (hall 210400-01) is rated on Tuesday 2026-09-29 10:00; 5 working days over 国庆 end
on Monday 2026-10-12 17:00, yellow from Saturday 2026-10-10 17:00 (a working day)."""
from __future__ import annotations

import lxml.html

from support.cases import OUTPATIENT, at
from support.process_driver import PERSON_ID, PERSON_PHONE, drive
from support.web import csrf_token, html, sign_in


def rows(page: str) -> list[list[str]]:
    document = lxml.html.fromstring(page)
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./td")[:5]]
            for row in document.xpath('//table[contains(@class, "desk-followups")]/tbody/tr')]


def rate_on_the_public_page(client, ctx, staff, clock, score: str) -> str:
    clock.now = at("2026-09-28 09:30")
    number = drive(ctx, staff["clerk_210400_01"], OUTPATIENT).case.number
    clock.now = at("2026-09-29 10:00")
    applicant = applicant_browser(client)
    token = csrf_token(html(applicant.get("/public/progress")))
    answer = applicant.post("/public/rating", data={"csrf_token": token, "number": number, "id_number": PERSON_ID,
                                                    "phone": PERSON_PHONE,
                                                    "score": score, "comment": "等了两个小时"})
    assert answer.status_code == 200 and "感谢您的评价" in html(answer)
    return number


def applicant_browser(client):
    """A browser of its own for the applicant, who is not signed in."""
    return client.application.test_client()


def query(client, number: str) -> str:
    token = csrf_token(html(client.get("/public/progress")))
    return html(client.post("/public/progress", data={"csrf_token": token, "number": number,
                                                      "id_number": PERSON_ID, "phone": PERSON_PHONE}))


def test_a_satisfied_applicant_puts_nothing_on_the_desk(client, ctx, staff, clock):
    rate_on_the_public_page(client, ctx, staff, clock, "4")
    sign_in(client, "kezhang")
    page = html(client.get("/desk"))
    assert "差评回访（0）" in page and "没有待回访的差评" in page


def test_a_poor_rating_is_on_the_desk_with_its_due_date_and_turns_yellow_then_red(client, ctx, staff, clock):
    number = rate_on_the_public_page(client, ctx, staff, clock, "2")
    sign_in(client, "kezhang")

    assert rows(html(client.get("/desk"))) == [
        ["正常", number, "门诊费用报销", "不满意：等了两个小时", "2026-10-12 17:00"]]
    clock.now = at("2026-10-10 17:00")
    assert rows(html(client.get("/desk")))[0][0] == "黄牌"
    clock.now = at("2026-10-13 09:00")
    assert rows(html(client.get("/desk")))[0][0] == "红牌"
    assert any("差评回访" in n["message"] for n in client.get("/api/notifications").get_json())

    other = client.application.test_client()
    sign_in(other, "kezhang2")
    assert rows(html(other.get("/desk")))[0][0] == "没有待回访的差评"  # another hall's supervisor


def test_the_supervisor_records_the_follow_up_once_and_the_applicant_reads_it(client, ctx, staff, clock):
    number = rate_on_the_public_page(client, ctx, staff, clock, "1")
    applicant = applicant_browser(client)
    assert "差评回访" not in query(applicant, number)
    sign_in(client, "kezhang")
    page = html(client.get("/desk"))
    [followup_id] = lxml.html.fromstring(page).xpath('//table[contains(@class, "desk-followups")]/tbody/tr/@id')
    url = f"/desk/followups/{followup_id[1:]}"

    empty = client.post(url, data={"csrf_token": csrf_token(page), "visit_note": "电话未接通", "remedy": ""})
    assert empty.status_code == 422
    assert "请填写整改措施" in html(empty) and "电话未接通" in html(empty)  # what was typed is kept

    clock.now = at("2026-10-08 15:00")
    done = client.post(url, data={"csrf_token": csrf_token(page), "visit_note": "已电话致歉，申请人表示理解",
                                  "remedy": "高峰期增开综合窗口"})
    assert done.status_code == 302 and done.headers["Location"] == "/desk"
    page = html(client.get("/desk"))
    assert f"{number}：已记录差评回访" in page and "没有待回访的差评" in page

    again = client.post(url, data={"csrf_token": csrf_token(page), "visit_note": "再记", "remedy": "再记"})
    assert again.status_code == 409 and "不能重复记录" in html(again)

    answer = query(applicant, number)
    document = lxml.html.fromstring(answer)
    assert [" ".join(cell.text_content().split()) for cell in document.xpath('//*[@id="followup-result"]//td')] == [
        "已电话致歉，申请人表示理解", "高峰期增开综合窗口", "2026-10-08 15:00"]
    assert "孙科长" not in answer and "kezhang" not in answer  # no staff names for the public


def test_only_a_supervisor_of_the_case_hall_may_record_it(client, ctx, staff, clock):
    rate_on_the_public_page(client, ctx, staff, clock, "2")
    sign_in(client, "kezhang")
    page = html(client.get("/desk"))
    [followup_id] = lxml.html.fromstring(page).xpath('//table[contains(@class, "desk-followups")]/tbody/tr/@id')
    form = {"visit_note": "已回访", "remedy": "无需整改：高峰期排队"}

    for username, status in (("shouli", 403), ("kezhang2", 404)):
        browser = client.application.test_client()
        sign_in(browser, username)
        token = csrf_token(html(browser.get("/login")))
        response = browser.post(f"/desk/followups/{followup_id[1:]}", data={"csrf_token": token, **form})
        assert response.status_code == status, username
    assert len(rows(html(client.get("/desk")))) == 1  # still open
