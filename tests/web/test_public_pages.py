"""The public pages, without signing in: 办理进度查询 (number + the applicant's ID number + phone, misses throttled),
办件公示 with masked names, and 好差评 once per completed case."""
from __future__ import annotations

import pytest

from workflows.services import cases, public, tasks
from workflows.services.demo import resident_id

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.process_driver import PERSON_ID, PERSON_PHONE, drive, proof
from support.web import csrf_token, html

OTHER_ID = resident_id("21040219900202123")


def query(client, number: str, id_number: str, phone: str = PERSON_PHONE, address: str = "127.0.0.1"):
    token = csrf_token(html(client.get("/public/progress")))
    return client.post("/public/progress", data={"csrf_token": token, "number": number, "id_number": id_number,
                                                 "phone": phone}, environ_base={"REMOTE_ADDR": address})


def rate(client, number: str, id_number: str, score: str, comment: str = ""):
    token = csrf_token(html(client.get("/public/progress")))
    return client.post("/public/rating", data={"csrf_token": token, "number": number, "id_number": id_number,
                                               "phone": PERSON_PHONE, "score": score, "comment": comment})


def stored_rating(ctx, number: str) -> dict | None:
    with ctx.uow(write=False) as uow:
        return uow.ratings.for_case(uow.cases.get(number).id)


def completed_case(ctx, staff) -> str:
    """A 门诊费用报销 case of 张伟 driven to 办结 by a clerk of every role."""
    case = drive(ctx, staff["clerk_210400_01"], OUTPATIENT).case
    assert case.status == "closed" and case.result == "办结"
    return case.number


# --- 办理进度查询 -----------------------------------------------------------------------------------------------------

def test_the_query_page_needs_no_sign_in_and_its_form_needs_the_csrf_token(client):
    page = client.get("/public/progress")
    assert page.status_code == 200 and "办理进度查询" in html(page)
    assert client.post("/public/progress", data={"number": "x", "id_number": "y"}).status_code == 400


def test_a_number_with_the_wrong_id_number_is_answered_like_an_unknown_number(client, ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    answers = [query(client, number, OTHER_ID), query(client, "210400-20261123-09999", PERSON_ID),
               query(client, number, PERSON_ID[:-1])]
    for response in answers:
        assert response.status_code == 404
        assert public.NOT_FOUND in html(response)
        assert "门诊费用报销" not in html(response) and "当前环节" not in html(response)
    assert response.headers["Cache-Control"] == "no-store"
    blank = query(client, number, "")
    assert blank.status_code == 422 and "请填写申请人的身份证号码" in html(blank) and number in html(blank)


def test_the_phone_given_when_applying_is_needed_as_well(client, ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    missing = query(client, number, PERSON_ID, phone="")
    assert missing.status_code == 422 and "请填写申请时登记的联系电话" in html(missing) and number in html(missing)
    wrong = query(client, number, PERSON_ID, phone="13800000000")
    assert wrong.status_code == 404 and public.NOT_FOUND in html(wrong) and "当前环节" not in html(wrong)
    for written in ("138 0413 0001", "+86 138-0413-0001"):  # the same number, written otherwise
        assert query(client, number, PERSON_ID, phone=written).status_code == 200, written


def test_a_case_opened_without_a_phone_is_not_found_online(client, ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, {**APPLICANT, "phone": ""}, DATA).case.number
    assert query(client, number, PERSON_ID, phone="13804130001").status_code == 404


LOCKED = "查询失败次数过多，请 {} 分钟后再试"


def test_misses_from_one_address_lock_it_out_then_time_lifts_the_lock(client, ctx, staff, clock):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    others = [cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number for _ in range(3)]
    for attempt in range(9):  # ID-number guesses over several case numbers, none locking a number alone
        assert query(client, others[attempt % 3], OTHER_ID, address="10.3.3.3").status_code == 404
    locked = query(client, number, OTHER_ID, address="10.3.3.3")
    assert locked.status_code == 429 and LOCKED.format(15) in html(locked) and locked.headers["Retry-After"] == "900"
    assert query(client, number, PERSON_ID, address="10.3.3.3").status_code == 429  # the right triple too
    assert query(client, number, PERSON_ID, address="10.3.3.4").status_code == 200  # another address goes on
    clock.advance(minutes=15)
    assert query(client, number, PERSON_ID, address="10.3.3.3").status_code == 200


def test_misses_on_one_case_number_from_many_addresses_lock_that_number(client, ctx, staff, clock):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    other = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    for attempt in range(4):
        assert query(client, number, OTHER_ID, address=f"10.4.0.{attempt}").status_code == 404
    assert query(client, number, OTHER_ID, address="10.4.0.4").status_code == 429
    refused = query(client, number, PERSON_ID, address="10.4.1.1")
    assert refused.status_code == 429 and LOCKED.format(30) in html(refused)
    assert query(client, other, PERSON_ID, address="10.4.1.1").status_code == 200
    clock.advance(minutes=30)
    assert query(client, number, PERSON_ID, address="10.4.1.1").status_code == 200


def test_a_public_withdrawal_needs_the_phone_and_its_misses_count_like_the_querys(client, ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    token = csrf_token(html(client.get("/public/progress")))

    def withdraw(phone: str):
        return client.post("/public/withdrawal", data={"csrf_token": token, "number": number, "id_number": PERSON_ID,
                                                       "phone": phone, "reason": "不办了"})

    for attempt in range(4):
        assert withdraw(f"1390000000{attempt}").status_code == 404
    assert withdraw("13900000009").status_code == 429
    assert withdraw(PERSON_PHONE).status_code == 429  # locked: not withdrawn
    with ctx.uow(write=False) as uow:
        assert uow.cases.get(number).status == "open"


def test_the_right_pair_shows_the_stage_times_and_steps_without_internal_data(client, ctx, staff):
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept",
                                                                           "opinion": "材料齐全，内部意见"})

    response = query(client, f" {progress.case.number} ", PERSON_ID.lower())  # spaces, a lower-case x

    page = html(response)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "门诊费用报销" in page and "<th>当前环节</th><td>审核</td>" in page and "办理中" in page
    assert "<th>申报时间</th><td>2026-11-23 09:30</td>" in page and "<th>受理时间</th><td>2026-11-23 09:30</td>" in page
    assert "<th>办结时间</th><td>—</td>" in page
    steps = page[page.index('<ol class="steps">'):page.index("</ol>")]
    assert [s in steps for s in ('step-done">申请', 'step-done">受理', 'step-current">审核', 'step-pending">办结')] \
        == [True] * 4
    for internal in ("王受理", "shouli", "内部意见", "6222020712001234567", "800.00"):
        assert internal not in page, internal
    assert "办件办结后可在此评价" in page and 'name="score"' not in page


# --- 办件公示 -------------------------------------------------------------------------------------------------------

def test_names_are_masked(client):
    assert [public.mask_name(name) for name in ("张伟", "张三伟", "欧阳娜娜", "王", "")] == \
        ["张*", "张*伟", "欧**娜", "*", ""]
    assert public.mask_name("抚顺市康宁医药有限公司", "企业法人") == "抚顺*******公司"
    assert public.mask_name("康宁药房", "企业法人") == "康**房"


def test_the_public_list_shows_an_agencys_cases_newest_first_masked_and_paged(client, ctx, staff, clock,
                                                                             monkeypatch):
    monkeypatch.setattr(public, "PAGE_SIZE", 2)
    for minutes, name, id_prefix in ((0, "张伟", "21040219800101123"), (5, "张三伟", "21040219800101124"),
                                     (10, "欧阳娜娜", "21040219800101125")):
        clock.advance(minutes=minutes)
        cases.open_case(ctx, staff["shouli"], OUTPATIENT,
                        {"name": name, "id_number": resident_id(id_prefix), "phone": "13804130001"}, DATA)

    first = html(client.get("/public/cases?agency=210400"))

    assert "抚顺市医疗保障事务服务中心" in first
    rows = first[first.index("<tbody>"):first.index("</tbody>")]
    assert rows.index("欧**娜") < rows.index("张*伟") and "张*</td>" not in rows  # newest first, two a page
    assert "欧阳娜娜" not in first and "张三伟" not in first and "办理中" in rows
    assert "<th>申报人</th><th>事项</th><th>申报时间</th><th>受理时间</th><th>办结时间</th><th>状态</th><th>结果</th>" in first
    assert "2026-11-23 09:45" in rows and 'rel="next"' in first and 'rel="prev"' not in first
    second = html(client.get("/public/cases?agency=210400&page=2"))
    assert "<td>张*</td>" in second and "张*伟" not in second and 'rel="next"' not in second
    assert client.get("/public/cases?agency=999999").status_code == 404
    assert "请选择" in html(client.get("/public/cases"))


# --- 好差评 ---------------------------------------------------------------------------------------------------------

def test_a_completed_case_is_rated_once(client, ctx, staff):
    number = completed_case(ctx, staff)
    page = html(query(client, number, PERSON_ID))
    assert 'id="progress-status">已办结<' in page and 'name="score"' in page and "非常不满意" in page
    assert 'step-done">办结' in page

    response = rate(client, number, PERSON_ID, "4", "窗口服务很耐心")

    assert response.status_code == 200 and "感谢您的评价：满意" in html(response)
    rating = stored_rating(ctx, number)
    assert (rating["score"], rating["label"], rating["comment"]) == (4, "满意", "窗口服务很耐心")
    assert "您已评价：<strong>满意</strong>" in html(query(client, number, PERSON_ID))

    again = rate(client, number, PERSON_ID, "1", "改评差评")
    assert again.status_code == 409 and "该办件已评价，每件只能评价一次" in html(again)
    assert stored_rating(ctx, number)["score"] == 4


def test_a_poor_rating_is_stored_and_a_rating_needs_the_right_pair_and_a_score(client, ctx, staff):
    number = completed_case(ctx, staff)
    wrong = rate(client, number, OTHER_ID, "5")
    assert wrong.status_code == 404 and public.NOT_FOUND in html(wrong)
    no_score = rate(client, number, PERSON_ID, "", "没选评价但写了意见")
    assert no_score.status_code == 422 and "请选择评价" in html(no_score)
    assert "没选评价但写了意见</textarea>" in html(no_score)  # what was typed is kept
    assert stored_rating(ctx, number) is None

    assert rate(client, number, PERSON_ID, "1", "等待时间太长").status_code == 200
    assert stored_rating(ctx, number)["label"] == "非常不满意"


def test_a_case_not_yet_completed_cannot_be_rated(client, ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    response = rate(client, number, PERSON_ID, "5")
    assert response.status_code == 409 and "办件办结后才能评价" in html(response)
    assert stored_rating(ctx, number) is None
    with pytest.raises(Exception, match="办件办结后才能评价"):
        public.rate_service(ctx, proof(number), None, 5)
