"""Bad input never reaches the database and never answers 500: each is refused with a 4xx in the API's JSON
error shape naming the field, or a Chinese page in the app's layout on the web, the same on SQLite and
PostgreSQL. Every request carries a request id back (X-Request-Id), and an error's log line carries no ID number.
"""
from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import text

from support.http import error_of, json_of
from support.web import csrf_token, html, sign_in
from test_api import APPLICANT, open_case, outpatient_application, ready_task
from workflows.entrypoints import logs
from workflows.services import cases

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

BEYOND_BIGINT = str(2 ** 63)
# Every route with a numeric id, API and web: none may answer 500 for an id no database can hold
ID_ROUTES = [("GET", "/api/documents/{}/pdf"), ("GET", "/api/processes/item_002036006001/versions/{}/bpmn"),
             ("POST", "/api/me/substitutions/{}/end"), ("POST", "/api/task-requests/{}/recall"),
             ("POST", "/api/task-requests/{}/remove"), ("POST", "/api/task-requests/{}/resolve"),
             ("POST", "/api/task-requests/{}/sign"), ("POST", "/api/supervisions/{}/reply"),
             ("POST", "/api/followups/{}/result"), ("POST", "/api/escalations/{}/handle"), ("GET", "/api/calendar/{}"),
             ("GET", "/attachments/{}"), ("GET", "/documents/{}/pdf")]


def raw_post(client, path: str, headers: dict, raw: str):
    return client.post(path, headers={**headers, "Content-Type": "application/json"}, data=raw.encode("utf-8"))


@pytest.mark.parametrize("name, problem", [("张" * 201, "不能超过 200 个字符"), ("张\x00伟", "控制字符"),
                                           ("张\n伟", "控制字符")])
def test_an_applicant_name_too_long_or_with_control_characters_is_refused_naming_the_field(client, auth, name,
                                                                                           problem):
    shouli = auth("shouli")
    before = len(json_of(client.get("/api/cases", headers=shouli)))
    error = error_of(client.post("/api/cases", headers=shouli, json=outpatient_application({**APPLICANT, "name": name})),
                     422, "invalid_input")
    assert problem in error["fields"]["applicant.name"]
    assert len(json_of(client.get("/api/cases", headers=shouli))) == before


def test_a_lone_surrogate_anywhere_in_a_json_body_is_refused_naming_its_path(client, auth):
    body = json.dumps(outpatient_application(), ensure_ascii=False).replace("张伟", "\\ud800")  # JSON may spell what UTF-8 cannot
    error = error_of(raw_post(client, "/api/cases", auth("shouli"), body), 422, "invalid_input")
    assert "applicant.name" in error["fields"] and "无效字符" in error["fields"]["applicant.name"]


def test_a_ten_megabyte_name_or_bank_account_is_refused_before_the_database(client, auth):
    shouli = auth("shouli")
    huge = "6" * (10 * 1024 * 1024)
    error = error_of(client.post("/api/cases", headers=shouli, json=outpatient_application(
        {**APPLICANT, "name": "张" * (3 * 1024 * 1024)})), 422, "invalid_input")
    assert "applicant.name" in error["fields"]
    error = error_of(client.post("/api/cases", headers=shouli, json=outpatient_application(
        data={"expense_total": "1860.00", "bank_account": huge})), 422, "invalid_input")
    assert "data.bank_account" in error["fields"]


def test_a_form_field_of_a_task_is_bounded_and_named(client, auth):
    shouli = auth("shouli")
    number = open_case(client, shouli)["number"]
    task = ready_task(client, shouli, number)
    error = error_of(client.post(f"/api/tasks/{task['id']}/complete", headers=shouli,
                                 json={"data": {"decision": "accept", "opinion": "同意" * 1001}}), 422, "invalid_input")
    assert any("2000" in message for message in error["fields"].values()), error


def test_json_nested_ten_thousand_deep_is_refused_before_it_is_parsed(client, auth):
    error = error_of(raw_post(client, "/api/cases", auth("shouli"), "[" * 10_000 + "]" * 10_000), 422,
                     "invalid_input")
    assert "嵌套过深" in error["message"]
    brackets_in_text = json.dumps(outpatient_application(data={"expense_total": "1860.00",
                                                                 "bank_account": "6222020712001234567",
                                                                 "hospital_name": "[" * 100}))
    response = raw_post(client, "/api/cases", auth("shouli"), brackets_in_text)
    assert response.status_code == 201, response.get_json()  # brackets inside strings are text, not nesting


def test_a_body_over_the_size_limit_is_413_in_the_json_shape(client, auth):
    response = raw_post(client, "/api/cases", auth("shouli"), '"' + "x" * (13 * 1024 * 1024) + '"')
    error_of(response, 413, "too_large")


@pytest.mark.parametrize("method, route", ID_ROUTES)
@pytest.mark.parametrize("given", [BEYOND_BIGINT, "9" * 5000, "-1", "abc"])
def test_ids_out_of_range_negative_or_not_numbers_are_not_found(client, auth, method, route, given):
    response = client.open(route.format(given), method=method, headers=auth("kezhang"), json={})
    assert response.status_code == 404
    if route.startswith("/api/"):
        error_of(response, 404, "not_found")
    else:
        assert "页面不存在" in html(response)


def test_control_characters_in_a_path_or_a_query_are_refused(client, auth):
    shouli = auth("shouli")
    error_of(client.get("/api/cases/210400%00", headers=shouli), 404, "not_found")
    error = error_of(client.get("/api/cases?item_code=%00", headers=shouli), 422, "invalid_input")
    assert "item_code" in error["fields"]
    error_of(client.get("/api/cases?item_code=" + "1" * 20_001, headers=shouli), 422, "invalid_input")


def test_a_method_not_allowed_says_which_are(client):
    response = client.delete("/api/cases")
    error_of(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}
    page = client.put("/login")
    assert page.status_code == 405 and "GET" in page.headers["Allow"] and "不支持" in html(page)


def test_unknown_pages_cases_and_tasks_are_a_chinese_page_in_the_layout(client):
    sign_in(client, "shouli")
    for path in ("/cases/210400-20261123-99999", "/tasks/no-such-task", "/no-such-page"):
        response = client.get(path)
        assert response.status_code == 404, path
        page = html(response)
        assert "页面不存在" in page and "返回首页" in page and 'class="topbar"' in page, path
        assert "Not Found" not in page


def test_a_web_form_with_a_nul_is_refused_with_a_chinese_page(client):
    sign_in(client, "shouli")
    token = csrf_token(html(client.get("/inbox")))
    response = client.post("/inbox/filters", data={"csrf_token": token, "name": "我的\x00筛选"})
    assert response.status_code == 422
    assert "控制字符" in html(response) and "填写有误" in html(response)


def test_form_and_multipart_fields_and_the_query_are_checked_on_the_api_too(client, auth):
    upload = client.post("/api/processes", headers=auth("sheji"),
                         data={"note": "说明\x00", "file": (io.BytesIO(b"<definitions/>"), "x.bpmn")})
    assert "控制字符" in error_of(upload, 422, "invalid_input")["fields"]["note"]
    form = client.post("/api/login", data={"username": "shouli\x00"})
    assert "控制字符" in error_of(form, 422, "invalid_input")["fields"]["username"]
    query = client.post("/api/cases?item_code=%00", headers=auth("shouli"), json=outpatient_application())
    assert "控制字符" in error_of(query, 422, "invalid_input")["fields"]["item_code"]


def test_a_multipart_part_whose_name_does_not_parse_is_checked_as_a_nameless_field(client, auth):
    # name="\x01\" ends in an escaped quote: werkzeug gives the part the name None (it once gave a 500)
    body = (b'--B\r\nContent-Disposition: form-data; name="\x01\\"\r\n\r\n%s\r\n'
            b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.bpmn"\r\n\r\n<definitions/>\r\n--B--\r\n')
    upload = lambda value: client.post("/api/processes", headers=auth("sheji"), data=body % value,  # noqa: E731
                                       content_type="multipart/form-data; boundary=B")
    assert "控制字符" in error_of(upload(b"\x00"), 422, "invalid_input")["fields"][""]
    assert "可执行的主流程" in error_of(upload(b"{}"), 422, "invalid_process")["message"]  # on to the diagram


def test_every_answer_carries_a_request_id_and_keeps_a_given_one(client):
    assert len(client.get("/api/agencies").headers["X-Request-Id"]) == 16
    assert client.get("/nowhere", headers={"X-Request-Id": "abc-123-def"}).headers["X-Request-Id"] == "abc-123-def"
    assert client.get("/", headers={"X-Request-Id": "bad id"}).headers["X-Request-Id"] != "bad id"


@pytest.fixture
def captured_log():
    """What the server's log handler would print (masked, with request ids), while the test runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.MaskingFormatter(logs.FORMAT))
    handler.addFilter(logs.RequestIdFilter())
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def test_an_unexpected_error_is_500_in_our_words_and_its_log_has_no_id_number(client, auth, monkeypatch,
                                                                              captured_log):
    """A database error mentioning an applicant: the API answers in its JSON shape, the log line is masked."""

    def failing(context, *args, **kwargs):
        with context.session_factory() as session:
            session.execute(text("SELECT :id_number FROM no_such_table"), {"id_number": "210402198001011237"})

    monkeypatch.setattr(cases, "case_details", failing)
    shouli = auth("shouli")
    error = error_of(client.get("/api/cases/210400-20261123-00001?phone=13804130001", headers=shouli), 500,
                     "internal_error")
    assert "系统出错" in error["message"]
    sign_in(client, "shouli")
    page = client.get("/cases/210400-20261123-00001?id_number=210402198001011237")
    assert page.status_code == 500 and "系统出错" in html(page) and "Traceback" not in html(page)
    logged = captured_log.getvalue()
    assert "no_such_table" in logged and "Traceback" in logged  # the operator sees what failed …
    assert "210402198001011237" not in logged and "13804130001" not in logged  # … but not who it was about
    assert "SQL parameters hidden" in logged
    assert f"[{page.headers['X-Request-Id']}]" in logged


def test_masking_keeps_enough_to_tell_lines_apart():
    line = logs.mask("id=210402198001011237 phone 13804130001 account 6222020712001234567 case 210400-20261123-00001")
    assert line == ("id=210402**********37 phone 138****0001 account ***************4567 "
                    "case 210400-20261123-00001")


def test_a_reason_over_the_free_text_limit_is_refused_naming_the_field(client, auth):
    shouli = auth("shouli")
    number = open_case(client, shouli)["number"]
    take = ready_task(client, shouli, number)
    json_of(client.post(f"/api/tasks/{take['id']}/complete", headers=shouli, json={"data": {"decision": "accept"}}))
    error = error_of(client.post(f"/api/cases/{number}/pause", headers=auth("shenhe"),
                                 json={"kind": "expert_review", "reason": "评" * 2001}), 422, "invalid_input")
    assert "2000" in error["fields"]["reason"]


@pytest.mark.parametrize("status, title", [(403, "无权访问"), (409, "已被他人处理"), (413, "内容过大"),
                                           (429, "操作过于频繁"), (500, "系统出错")])
def test_each_error_status_is_json_on_the_api_and_a_chinese_page_on_the_web(ctx, status, title):
    """Whatever raises it (a use case, Werkzeug, a throttle), the answer has the one shape of its side."""
    from werkzeug.exceptions import abort

    from workflows.entrypoints.app import create_app

    app = create_app(ctx, secret_key="test-secret")  # its own: the test adds routes to it

    def failing():
        if status == 500:
            raise RuntimeError("a bug")
        abort(status)

    app.add_url_rule("/api/failing", "api_failing", failing)
    app.add_url_rule("/failing", "web_failing", failing)
    client = app.test_client()
    answer = client.get("/api/failing")
    assert answer.status_code == status and answer.get_json()["error"]["message"]
    page = client.get("/failing")
    assert page.status_code == status
    assert title in html(page) and "返回首页" in html(page) and 'class="topbar"' in html(page)
    assert "Traceback" not in html(page) and "Forbidden" not in html(page) and "Conflict" not in html(page)
