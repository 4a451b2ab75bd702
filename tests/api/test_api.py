"""The REST API as a client sees it: status codes, the Chinese messages and field errors, the data returned,
and what a refused request leaves unchanged.

Every test runs on a fresh copy of the installed database (SQLite and PostgreSQL): the catalog, every diagram
of bpmn/ at version 1, the demo staff of 抚顺 (hall 210400-01, and shouli2/shenhe2/kezhang2 in 210400-02) and a
clerk of every task role in every hall (clerk_<hall>). The clock stands at 2026-11-23 09:30 China time.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy.orm import sessionmaker

from support.diagrams import OUTPATIENT_BPMN, RENAMED_REVIEW, outpatient_diagram
from support.http import error_of, json_of
from support.process_driver import PERSON_ID
from workflows.entrypoints.app import create_app
from workflows.services import accounts, users
from workflows.services.context import Context

OUTPATIENT, TRANSFER, DESIGNATED_CLINIC = "002036006001", "002036003002", "002036009001"  # 门诊费用报销, 转移接续, 定点
OUTPATIENT_PROCESS = "item_002036006001"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
EXPENSES = {"expense_total": "1860.00", "bank_account": "6222020712001234567"}
CASE_NUMBER = re.compile(r"^210400-\d{8}-\d{5}$")


# --- helpers -------------------------------------------------------------------------------------------------------

def outpatient_application(applicant: dict | None = None, data: dict | None = None) -> dict:
    return {"item_code": OUTPATIENT, "applicant": APPLICANT if applicant is None else applicant,
            "data": EXPENSES if data is None else data}


def open_case(client, headers, application: dict | None = None) -> dict:
    """申请 (a 门诊费用报销 case unless told otherwise); returns the new case."""
    return json_of(client.post("/api/cases", headers=headers, json=application or outpatient_application()), 201)


def case_of(client, headers, number: str) -> dict:
    return json_of(client.get(f"/api/cases/{number}", headers=headers))


def inbox(client, headers, query: str = "") -> list[dict]:
    return json_of(client.get(f"/api/tasks{query}", headers=headers))


def ready_task(client, headers, number: str) -> dict:
    """The one task of the case in the user's inbox."""
    [task] = [task for task in inbox(client, headers) if task["case_number"] == number]
    return task


def task_of(client, headers, task_id: str) -> dict:
    return json_of(client.get(f"/api/tasks/{task_id}", headers=headers))


def complete(client, headers, task_id: str, **values):
    return client.post(f"/api/tasks/{task_id}/complete", headers=headers, json={"data": values})


def take_step(client, headers, number: str, **values) -> dict:
    """Complete the case's task in the user's inbox with the form values; returns the case afterwards."""
    return json_of(complete(client, headers, ready_task(client, headers, number)["id"], **values))


def deploy(client, headers, bpmn: bytes, file_name: str | None = None):
    """Upload a diagram: as the multipart field `file` when a file name is given, else as an XML body."""
    if file_name is not None:
        return client.post("/api/processes", headers=headers, data={"file": (io.BytesIO(bpmn), file_name)},
                           content_type="multipart/form-data")
    return client.post("/api/processes", headers=headers, data=bpmn, content_type="application/xml")


def versions_of(client, headers, process_key: str = OUTPATIENT_PROCESS) -> list[int]:
    return [v["version"] for v in json_of(client.get(f"/api/processes/{process_key}/versions", headers=headers))]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


# --- login and tokens ----------------------------------------------------------------------------------------------

def test_login_returns_a_token_that_identifies_the_user(client):
    login = json_of(client.post("/api/login", json={"username": "shouli", "password": "demo12345"}))

    assert login["expires_in"] == 12 * 3600
    assert login["user"] == {"username": "shouli", "full_name": "王受理", "agency_code": "210400",
                             "hall_code": "210400-01", "roles": ["acceptor"], "role_names": ["受理员"]}
    assert json_of(client.get("/api/me", headers=bearer(login["token"]))) == login["user"]


def test_login_with_a_wrong_password_or_an_unknown_user_is_refused_alike(client):
    for credentials in ({"username": "shouli", "password": "demo12346"}, {"username": "nobody", "password": "x"},
                        {"username": "shouli"}):
        error = error_of(client.post("/api/login", json=credentials), 401, "unauthenticated")
        assert error["message"] == "用户名或密码错误", credentials


def test_login_with_a_body_that_is_not_a_json_object_is_invalid_input(client):
    for body in ('{"username": "shouli", "password": ', '["shouli", "demo12345"]'):
        error = error_of(client.post("/api/login", data=body, content_type="application/json"), 422, "invalid_input")
        assert error["message"] == "请求体应为 JSON 对象"
        assert error["fields"] == {}


def test_protected_routes_refuse_a_missing_garbage_or_expired_token(client, monkeypatch):
    wall = [datetime.now(timezone.utc)]  # sessions age on the wall clock, not on the tests' clock of working days
    monkeypatch.setattr(accounts, "system_clock", lambda: wall[0])
    expired = json_of(client.post("/api/login", json={"username": "shouli", "password": "demo12345"}))["token"]
    wall[0] += timedelta(hours=11)
    login = json_of(client.post("/api/login", json={"username": "shouli", "password": "demo12345"}))
    wall[0] += timedelta(hours=1, minutes=1)  # the first token has lived its 12 hours, the second not
    refused = {
        "no Authorization header": ({}, "请先登录"),
        "not a bearer token": ({"Authorization": "Basic c2hvdWxpOmRlbW8xMjM0NQ=="}, "请先登录"),
        "garbage token": (bearer("garbage"), "令牌无效或已过期，请重新登录"),
        "tampered token": (bearer(login["token"][:-2] + "xx"), "令牌无效或已过期，请重新登录"),
        "expired token": (bearer(expired), "令牌无效或已过期，请重新登录"),
    }
    for what, (headers, message) in refused.items():
        for method, url in (("GET", "/api/me"), ("GET", "/api/tasks"), ("POST", "/api/cases")):
            response = client.open(url, method=method, headers=headers)
            assert error_of(response, 401, "unauthenticated")["message"] == message, (what, url)
    assert json_of(client.get("/api/me", headers=bearer(login["token"])))["username"] == "shouli"


# --- catalog -------------------------------------------------------------------------------------------------------

def test_agencies_are_listed_with_their_item_counts_and_without_halls(client):
    agencies = json_of(client.get("/api/agencies"))

    assert [(a["code"], a["short_name"], a["item_count"]) for a in agencies] == [
        ("210400", "抚顺市医保中心", 24), ("231025", "林口县医保局", 29), ("370830", "汶上县医保中心", 3),
        ("510000", "四川省医保局", 13)]
    assert not any("halls" in agency for agency in agencies)


def test_an_agency_shows_its_halls_and_office_hours(client):
    fushun = json_of(client.get("/api/agencies/210400"))

    assert (fushun["name"], fushun["region"], fushun["consult_phone"]) == (
        "抚顺市医疗保障事务服务中心", "辽宁省抚顺市", "024-55883333")
    assert fushun["office_hours"] == [["08:30", "11:30"], ["13:00", "17:00"]]
    assert [hall["code"] for hall in fushun["halls"]] == [f"210400-{n:02d}" for n in range(1, 11)]
    assert fushun["halls"][1] == {"code": "210400-02", "name": "抚顺市医疗保障事务服务中心 顺城分中心",
                                  "address": "顺城区临江东路19-12号楼 2层", "phone": "024-53997796"}


def test_an_agency_lists_its_items_with_their_promised_limits(client):
    items = json_of(client.get("/api/agencies/231025/items"))

    assert len(items) == 29 == len({item["code"] for item in items})
    outpatient = next(item for item in items if item["code"] == OUTPATIENT)
    assert (outpatient["name"], outpatient["process_key"]) == ("门诊费用报销", OUTPATIENT_PROCESS)
    assert outpatient["stages"] == ["申请", "受理", "审核", "拨付", "办结"]
    assert outpatient["promised_limit"] == {"value": 20, "unit": "working_days", "label": "20个工作日"}
    assert "materials" not in outpatient  # the list is a summary; the materials are in the item's detail


def test_an_item_shows_its_materials_halls_and_limits(client):
    outpatient = json_of(client.get(f"/api/agencies/231025/items/{OUTPATIENT}"))

    assert outpatient["promised_limit"]["label"] == "20个工作日"
    assert outpatient["halls"] == ["231025-02"] and outpatient["phones"] == ["0453-3527166"]
    assert [m["name"] for m in outpatient["materials"] if m["required"]] == [
        "医保电子凭证或有效身份证件或社保卡", "医院收费票据", "门急诊费用清单"]
    assert {"name": "病历复印件", "required": False, "form": "复印件", "waivable": False, "source": None,
            "condition": "特殊报销提供"} in outpatient["materials"]
    assert outpatient["commitment_allowed"] is True

    linkou_clinic = json_of(client.get(f"/api/agencies/231025/items/{DESIGNATED_CLINIC}"))
    assert linkou_clinic["promised_limit"]["label"] == "30个工作日"
    assert linkou_clinic["exceptional_limit"] == {"value": 3, "unit": "months", "label": "3个月"}
    assert linkou_clinic["stage_limits"][0] == {
        "stage": "验收", "starts_at": "受理", "limit": {"value": 20, "unit": "working_days", "label": "20个工作日"}}

    fushun_clinic = json_of(client.get(f"/api/agencies/210400/items/{DESIGNATED_CLINIC}"))
    assert fushun_clinic["promised_limit"] == {"value": 3, "unit": "months", "label": "3个月"}  # 评审在3个月内完成
    assert fushun_clinic["exceptional_limit"] is None
    assert fushun_clinic["halls"] == [f"210400-{n:02d}" for n in range(2, 10)]  # 各县区医保中心, not the main hall
    assert fushun_clinic["applicant_kinds"] == ["企业法人", "事业法人"]


def test_an_unknown_agency_or_item_is_not_found(client):
    for url, message in (("/api/agencies/999999", "经办机构 999999 不存在"),
                         ("/api/agencies/999999/items", "经办机构 999999 不存在"),
                         ("/api/agencies/999999/items/002036006001", "经办机构 999999 不存在"),
                         ("/api/agencies/210400/items/000000000000", "经办机构 210400 没有事项 000000000000")):
        assert error_of(client.get(url), 404, "not_found")["message"] == message, url


# --- processes -----------------------------------------------------------------------------------------------------

def test_processes_lists_the_latest_version_of_every_deployed_diagram(client, auth):
    assert error_of(client.get("/api/processes"), 401, "unauthenticated")["message"] == "请先登录"

    processes = json_of(client.get("/api/processes", headers=auth("shouli")))

    assert len(processes) == 37 == len({p["process_key"] for p in processes})
    assert {p["version"] for p in processes} == {1}
    outpatient = next(p for p in processes if p["process_key"] == OUTPATIENT_PROCESS)
    assert (outpatient["name"], outpatient["file_name"], outpatient["deployed_by"]) == (
        "门诊费用报销", "item_002036006001.bpmn", "system")
    assert outpatient["deployed_at"] == "2026-11-23T09:30:00+08:00"


def test_a_process_version_and_its_bpmn_xml_can_be_read(client, auth):
    headers = auth("shouli")

    assert versions_of(client, headers) == [1]
    response = client.get(f"/api/processes/{OUTPATIENT_PROCESS}/versions/1/bpmn", headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/xml"
    assert response.get_data(as_text=True) == OUTPATIENT_BPMN

    for url, message in ((f"/api/processes/item_999/versions", "流程 item_999 不存在"),
                         (f"/api/processes/{OUTPATIENT_PROCESS}/versions/2/bpmn",
                          f"流程 {OUTPATIENT_PROCESS} 版本 2 不存在")):
        assert error_of(client.get(url, headers=headers), 404, "not_found")["message"] == message


def test_a_designer_deploys_a_changed_diagram_as_the_next_version(client, auth):
    designer = auth("sheji")
    version_2 = outpatient_diagram(RENAMED_REVIEW)
    version_3 = outpatient_diagram(RENAMED_REVIEW, ('label="办理意见"', 'label="审核意见"'))

    deployed = json_of(deploy(client, designer, version_2, file_name="门诊费用报销_v2.bpmn"), 201)
    assert (deployed["process_key"], deployed["version"], deployed["name"]) == (OUTPATIENT_PROCESS, 2, "门诊费用报销")
    assert (deployed["deployed_by"], deployed["file_name"]) == ("sheji", "门诊费用报销_v2.bpmn")

    deployed = json_of(deploy(client, auth("admin"), version_3), 201)  # the XML as the request body
    assert (deployed["version"], deployed["deployed_by"], deployed["file_name"]) == (3, "admin", "upload.bpmn")

    assert versions_of(client, designer) == [3, 2, 1]
    latest = json_of(client.get("/api/processes", headers=designer))
    assert len(latest) == 37
    assert next(p for p in latest if p["process_key"] == OUTPATIENT_PROCESS)["version"] == 3
    stored = client.get(f"/api/processes/{OUTPATIENT_PROCESS}/versions/2/bpmn", headers=designer)
    assert stored.get_data() == version_2


def test_a_change_note_is_kept_with_the_version_and_a_bad_one_refuses_the_deploy(client, auth):
    designer = auth("sheji")
    upload = lambda **fields: client.post(  # noqa: E731 - the modeler's multipart upload, with its change note
        "/api/processes", headers=designer, content_type="multipart/form-data",
        data={"file": (io.BytesIO(outpatient_diagram(RENAMED_REVIEW)), "v2.bpmn"), **fields})

    for bad, why in (("很长" * 1001, "不能超过 2000 个字符"), ("改\x07名", "控制字符")):
        error = error_of(upload(note=bad), 422, "invalid_input")
        assert why in error["fields"]["note"]
    assert versions_of(client, designer) == [1]  # nothing deployed by a refused upload

    deployed = json_of(upload(note="  审核改名为复核：按新的经办规程  "), 201)
    assert deployed["change_note"] == "审核改名为复核：按新的经办规程"
    listed = json_of(client.get(f"/api/processes/{OUTPATIENT_PROCESS}/versions", headers=designer))
    assert [v["change_note"] for v in listed] == ["审核改名为复核：按新的经办规程", None]
    assert json_of(upload(note="   "), 201)["change_note"] is None  # blank: no note


def test_a_clerk_cannot_deploy_a_diagram(client, auth):
    clerk = auth("clerk_210400_01")

    error = error_of(deploy(client, clerk, outpatient_diagram(RENAMED_REVIEW)), 403, "forbidden")

    assert error["message"] == "需要岗位：流程设计员、系统管理员"
    assert versions_of(client, clerk) == [1]


INVALID_DIAGRAMS = [  # what is wrong, the upload, the element at fault, the reason given
    ("not XML", b"<bpmn:definitions><bpmn:process", None, "不是合法的 XML"),
    ("JUEL condition calling a method", outpatient_diagram(('decision == "refuse"', '${decision.toString()}')),
     "Flow_3", "JUEL 表达式不受支持：方法调用 decision.toString() 第 1 列"),
    ("external topic that is no name", outpatient_diagram(('camunda:topic="payment"', 'camunda:topic="${wire}"')),
     "Task_payment", "外部任务主题“${wire}”无效"),
    ("element id Start", outpatient_diagram(("StartEvent_apply", "Start")), "Start",
     "元素 id 不能是 Start 或 End（与引擎内部名称冲突），请改名"),
    ("condition importing a module", outpatient_diagram(('decision == "refuse"', '__import__("os")')), "Flow_3",
     "不允许使用以下划线开头的名字"),
    ("no executable process", outpatient_diagram(('isExecutable="true"', 'isExecutable="false"')), None,
     "文件须恰好包含一个可执行的主流程（isExecutable=\"true\"），现有 0 个"),
    ("external entity", outpatient_diagram(
        ("<bpmn:definitions", '<!DOCTYPE d [<!ENTITY host SYSTEM "file:///etc/hostname">]>\n<bpmn:definitions'),
        ('label="办理意见"', 'label="办理意见&host;"')), None, "不是合法的 XML：Attribute references external entity"),
    ("larger than 2 MB", outpatient_diagram(("</bpmn:definitions>", f"<!-- {'流程' * 400_000} -->\n</bpmn:definitions>")),
     None, "文件超过 2 MB"),
]


def test_an_invalid_diagram_is_refused_with_the_reason_and_the_element_at_fault(client, auth, subtests):
    designer = auth("sheji")
    for what, bpmn, element_id, reason in INVALID_DIAGRAMS:
        for file_name in ("bad.bpmn", None):
            with subtests.test(what, upload="multipart" if file_name else "xml body"):
                error = error_of(deploy(client, designer, bpmn, file_name), 422, "invalid_process")
                assert reason in error["message"]
                assert error["message"].startswith(file_name or "upload.bpmn")
                assert error["element_id"] == element_id
    assert versions_of(client, designer) == [1]


def test_an_empty_upload_is_refused(client, auth):
    designer = auth("sheji")
    uploads = {"empty XML body": lambda: deploy(client, designer, b""),
               "empty file": lambda: deploy(client, designer, b"", file_name="empty.bpmn"),
               "multipart without the file field": lambda: client.post(
                   "/api/processes", headers=designer, data={"bpmn": "x"}, content_type="multipart/form-data")}
    for what, upload in uploads.items():
        error = error_of(upload(), 422, "invalid_input")
        assert error["message"] == "请上传 BPMN 文件（multipart 字段 file，或以 application/xml 作为请求体）", what
    assert versions_of(client, designer) == [1]


def test_a_diagram_not_in_utf8_is_refused_with_a_reason(client, auth):
    gbk = outpatient_diagram(("encoding='UTF-8'", "encoding='GBK'")).decode("utf-8").encode("gbk")

    response = deploy(client, auth("sheji"), gbk, file_name="门诊费用报销.bpmn")

    assert "须为 UTF-8 编码" in error_of(response, 422, "invalid_process")["message"]
    assert versions_of(client, auth("sheji")) == [1]


def test_a_new_version_does_not_change_running_cases(client, auth):
    shouli, shenhe, caiwu = auth("shouli"), auth("shenhe"), auth("caiwu")
    running = open_case(client, shouli)["number"]

    assert json_of(deploy(client, auth("sheji"), outpatient_diagram(RENAMED_REVIEW)), 201)["version"] == 2

    take_step(client, shouli, running, decision="accept")
    assert ready_task(client, shenhe, running)["name"] == "审核"  # the task as version 1 names it
    take_step(client, shenhe, running, decision="approve")
    closed = take_step(client, caiwu, running, decision="pay")
    assert (closed["status"], closed["result"]) == ("closed", "办结")
    assert case_of(client, shouli, running)["process"] == {"key": OUTPATIENT_PROCESS, "version": 1}

    new = open_case(client, shouli)["number"]
    assert case_of(client, shouli, new)["process"] == {"key": OUTPATIENT_PROCESS, "version": 2}
    take_step(client, shouli, new, decision="accept")
    assert ready_task(client, shenhe, new)["name"] == "初审"


# --- cases ---------------------------------------------------------------------------------------------------------

def test_an_acceptor_opens_a_case_at_stage_acceptance(client, auth):
    shouli = auth("shouli")

    case = open_case(client, shouli)

    assert CASE_NUMBER.match(case["number"]) and case["number"] == "210400-20261123-00001"
    assert (case["stage"], case["status"], case["status_name"], case["result"]) == ("受理", "open", "办理中", None)
    assert (case["item_code"], case["item_name"], case["hall_code"]) == (OUTPATIENT, "门诊费用报销", "210400-01")
    assert (case["opened_by"], case["opened_at"], case["closed_at"]) == ("shouli", "2026-11-23T09:30:00+08:00", None)
    assert case["applicant"] == {**APPLICANT, "kind": "自然人"}
    assert [c["number"] for c in json_of(client.get("/api/cases", headers=shouli))] == [case["number"]]


def test_case_numbers_follow_the_date_in_china(client, auth, clock):
    clock.advance(hours=15)  # 16:30 UTC: already 00:30 the next day in 抚顺

    case = open_case(client, auth("shouli"))

    assert case["number"] == "210400-20261124-00001"
    assert case["opened_at"] == "2026-11-24T00:30:00+08:00"


def test_an_application_with_invalid_fields_names_each_and_creates_nothing(client, auth):
    shouli = auth("shouli")
    first = open_case(client, shouli)["number"]
    application = outpatient_application(applicant={"name": "张伟", "id_number": "21040219800101"},
                                         data={"bank_account": "6222020712001234567", "expense_total": ""})

    error = error_of(client.post("/api/cases", headers=shouli, json=application), 422, "invalid_input")

    assert error["message"] == "申请信息填写有误"
    assert error["fields"] == {"expense_total": "请填写医疗费用总额（元）",
                               "applicant.id_number": "身份证号码应为18位：17位数字加1位校验码（数字或X）"}
    assert [c["number"] for c in json_of(client.get("/api/cases", headers=shouli))] == [first]
    assert [t["case_number"] for t in inbox(client, shouli)] == [first]
    assert open_case(client, shouli)["number"] == "210400-20261123-00002"  # no number was used up


@pytest.mark.parametrize("raw, message", [
    ("-100.00", "医疗费用总额（元）不能为负数"), ("1e30", "医疗费用总额（元）应为金额，最多两位小数"),
    ("NaN", "医疗费用总额（元）应为金额，最多两位小数"), ("Infinity", "医疗费用总额（元）应为金额，最多两位小数"),
    ("1.234", "医疗费用总额（元）应为金额，最多两位小数"), ('"1.234"', "医疗费用总额（元）应为金额，最多两位小数"),
    ("0", "医疗费用总额（元）应大于0"), ("100000000.01", "医疗费用总额（元）不得超过100000000.00")])
def test_an_amount_that_is_no_amount_is_refused_naming_the_field(client, auth, raw, message):
    """JSON numbers as sent (Python's JSON reader also takes NaN and Infinity): none becomes an amount."""
    shouli = auth("shouli")
    body = ('{"item_code": "002036006001", "applicant": {"name": "张伟", "id_number": "%s"}, '
            '"data": {"bank_account": "6222020712001234567", "expense_total": %s}}') % (PERSON_ID, raw)
    response = client.post("/api/cases", headers={**shouli, "Content-Type": "application/json"}, data=body)
    assert error_of(response, 422, "invalid_input")["fields"] == {"expense_total": message}
    assert json_of(client.get("/api/cases", headers=shouli)) == []


def test_an_application_whose_data_is_not_an_object_is_invalid_input(client, auth):
    shouli = auth("shouli")
    for application in (outpatient_application(data=["1860.00"]), outpatient_application(applicant="张伟")):
        error = error_of(client.post("/api/cases", headers=shouli, json=application), 422, "invalid_input")
        assert error["message"] == "applicant 和 data 应为 JSON 对象"
    assert json_of(client.get("/api/cases", headers=shouli)) == []


def test_a_case_is_opened_only_for_an_item_of_the_hall_by_an_acceptor(client, auth):
    refused = [  # who, item, status, code, message
        ("shouli", "000000000000", 404, "not_found", "本机构没有事项 000000000000"),
        ("shouli", DESIGNATED_CLINIC, 403, "forbidden", "“医疗机构申请定点协议管理”不在本大厅办理"),
        ("shenhe", OUTPATIENT, 403, "forbidden", "需要岗位：受理员"),
        ("sheji", OUTPATIENT, 403, "forbidden", "需要岗位：受理员"),
    ]
    for username, item_code, status, code, message in refused:
        application = {**outpatient_application(), "item_code": item_code}
        response = client.post("/api/cases", headers=auth(username), json=application)
        assert error_of(response, status, code)["message"] == message, (username, item_code)
    assert json_of(client.get("/api/cases", headers=auth("admin"))) == []


def test_an_application_without_item_code_names_the_missing_field(client, auth):
    application = outpatient_application()
    del application["item_code"]

    error = error_of(client.post("/api/cases", headers=auth("shouli"), json=application), 422, "invalid_input")

    assert "item_code" in error["fields"]


def test_a_case_shows_its_data_process_tasks_and_history(client, auth):
    shouli = auth("shouli")
    number = open_case(client, shouli, outpatient_application(data={**EXPENSES, "hospital_name": "抚顺市中心医院"}))[
        "number"]

    case = case_of(client, shouli, number)

    assert case["process"] == {"key": OUTPATIENT_PROCESS, "version": 1}
    assert case["data"] == {**EXPENSES, "hospital_name": "抚顺市中心医院", "applicant": {**APPLICANT, "kind": "自然人"}}
    assert [(t["name"], t["stage"], t["role_name"], t["state"], t["assignee"]) for t in case["tasks"]] == [
        ("受理", "受理", "受理员", "ready", None)]
    assert case["history"] == [{"at": "2026-11-23T09:30:00+08:00", "actor": "shouli", "action": "opened",
                                "stage": "申请", "task_name": None, "message": "王受理登记申请",
                                "detail": {"data": {**EXPENSES, "hospital_name": "抚顺市中心医院"}}}]
    assert case["external_calls"] == []


def test_a_case_of_another_hall_is_not_found_for_its_clerks(client, auth):
    shouli, shouli2 = auth("shouli"), auth("shouli2")
    number = open_case(client, shouli)["number"]

    for headers, url in ((shouli2, f"/api/cases/{number}"), (shouli, "/api/cases/210400-20261123-09999")):
        assert error_of(client.get(url, headers=headers), 404, "not_found")["message"] == "案件不存在"
    assert json_of(client.get("/api/cases", headers=shouli2)) == []
    # a clerk cannot look into another hall by asking for it; the administrator can
    other = open_case(client, shouli2)["number"]
    assert [c["number"] for c in json_of(client.get("/api/cases?hall_code=210400-02", headers=shouli))] == [number]
    admin = auth("admin")
    assert [c["number"] for c in json_of(client.get("/api/cases?hall_code=210400-02", headers=admin))] == [other]
    assert case_of(client, admin, other)["hall_code"] == "210400-02"


def test_cases_are_listed_newest_first_by_status_and_page(client, auth):
    shouli = auth("shouli")
    refused, open_ = open_case(client, shouli)["number"], open_case(client, shouli)["number"]
    take_step(client, shouli, refused, decision="refuse", opinion="发票原件缺失")

    def numbers(query: str) -> list[str]:
        return [case["number"] for case in json_of(client.get(f"/api/cases{query}", headers=shouli))]

    assert numbers("") == [open_, refused]
    assert numbers("?status=open") == [open_]
    assert numbers("?status=closed") == [refused]
    assert case_of(client, shouli, refused)["result"] == "不予受理"
    assert numbers(f"?item_code={TRANSFER}") == []
    assert numbers("?limit=1") == [open_] and numbers("?limit=1&offset=1") == [refused]
    for query in ("?limit=ten", "?offset=1.5"):
        error = error_of(client.get(f"/api/cases{query}", headers=shouli), 422, "invalid_input")
        assert error["message"] == "limit 和 offset 应为非负整数"


def test_negative_paging_is_invalid_input(client, auth):
    shouli = auth("shouli")
    open_case(client, shouli)
    for url in ("/api/cases?limit=-1", "/api/cases?offset=-1", "/api/tasks?offset=-1"):
        assert error_of(client.get(url, headers=shouli), 422, "invalid_input")["message"] == "limit 和 offset 应为非负整数"


# --- tasks ---------------------------------------------------------------------------------------------------------

def test_the_new_acceptance_task_is_in_the_inbox_of_the_halls_acceptors_only(client, auth):
    shouli = auth("shouli")
    number = open_case(client, shouli)["number"]

    [task] = inbox(client, shouli)
    assert (task["case_number"], task["name"], task["stage"], task["role"], task["role_name"]) == (
        number, "受理", "受理", "acceptor", "受理员")
    assert (task["state"], task["state_name"], task["assignee"]) == ("ready", "待办", None)
    assert inbox(client, shouli, "?role=acceptor") == [task]
    assert inbox(client, auth("shenhe")) == []
    assert inbox(client, auth("shouli2")) == []
    assert inbox(client, auth("clerk_210400_01")) == [task]

    error = error_of(client.get("/api/tasks?role=finance", headers=shouli), 403, "forbidden")
    assert error["message"] == "只能查看本人岗位的任务"
    error = error_of(client.get("/api/tasks?state=cancelled", headers=shouli), 422, "invalid_input")
    assert error["message"] == "state 只能是 ready 或 completed"


def test_a_task_shows_its_form_decisions_and_case(client, auth):
    shouli = auth("shouli")
    number = open_case(client, shouli)["number"]
    task_id = ready_task(client, shouli, number)["id"]

    task = task_of(client, shouli, task_id)

    assert task["decisions"] == [{"value": "accept", "label": "受理"}, {"value": "waive", "label": "容缺受理"},
                                 {"value": "refuse", "label": "不予受理"}]
    assert task["form"]["fields"] == [
        {"id": "decision", "label": "办理结果", "type": "enum", "required": True, "default": None,
         "options": task["decisions"], "pattern": None, "minimum": None, "maximum": None,
         "min_length": None, "max_length": None, "readonly": False},
        {"id": "opinion", "label": "办理意见", "type": "string", "required": False, "default": None, "options": [],
         "pattern": None, "minimum": None, "maximum": None, "min_length": None, "max_length": None,
         "readonly": False}]
    assert task["payment"] is None  # 受理 of a case not yet calculated
    assert (task["case"]["number"], task["case"]["applicant"]["name"]) == (number, "张伟")
    for headers, task_id in ((auth("shouli2"), task_id), (shouli, "no-such-task")):
        assert error_of(client.get(f"/api/tasks/{task_id}", headers=headers), 404, "not_found")["message"] == "任务不存在"


def test_a_task_is_claimed_by_one_acceptor_and_released_only_by_them(client, auth, ctx):
    users.save_user(ctx, "shouli3", "陈受理", "demo12345", "210400", "210400-01", ["acceptor"])
    shouli, shouli3 = auth("shouli"), auth("shouli3")
    number = open_case(client, shouli)["number"]
    task_id = ready_task(client, shouli3, number)["id"]

    claimed = json_of(client.post(f"/api/tasks/{task_id}/claim", headers=shouli))
    assert (claimed["assignee"], claimed["claimed_at"]) == ("shouli", "2026-11-23T09:30:00+08:00")
    assert [t["id"] for t in inbox(client, shouli, "?mine=true")] == [task_id]
    assert inbox(client, shouli3, "?mine=true") == []

    for action in ("claim", "release"):
        error = error_of(client.post(f"/api/tasks/{task_id}/{action}", headers=shouli3), 409, "conflict")
        assert error["message"] == {"claim": "任务已由shouli认领", "release": "只能退回本人认领的任务"}[action]
    error = error_of(complete(client, shouli3, task_id, decision="accept"), 403, "forbidden")
    assert error["message"] == "任务已由shouli认领"
    assert task_of(client, shouli, task_id)["assignee"] == "shouli"
    assert case_of(client, shouli, number)["stage"] == "受理"

    released = json_of(client.post(f"/api/tasks/{task_id}/release", headers=shouli))
    assert (released["assignee"], released["claimed_at"], released["state"]) == (None, None, "ready")
    assert json_of(client.post(f"/api/tasks/{task_id}/claim", headers=shouli3))["assignee"] == "shouli3"
    history = [(h["actor"], h["action"], h["message"]) for h in case_of(client, shouli, number)["history"]]
    assert history[1:] == [("shouli", "claimed", "王受理认领“受理”"), ("shouli", "released", "王受理退回“受理”"),
                           ("shouli3", "claimed", "陈受理认领“受理”")]


def test_a_refused_completion_leaves_the_task_open_and_the_case_where_it_was(client, auth, subtests):
    shouli = auth("shouli")
    number = open_case(client, shouli)["number"]
    task_id = ready_task(client, shouli, number)["id"]
    refused = [  # what, who, form data, status, code, message, field errors
        ("unknown decision", shouli, {"decision": "maybe"}, 422, "invalid_input", "表单填写有误",
         {"decision": "办理结果只能是：受理、容缺受理、不予受理"}),
        ("missing decision", shouli, {"opinion": "材料齐全"}, 422, "invalid_input", "表单填写有误",
         {"decision": "请填写办理结果"}),
        ("data not an object", shouli, "accept", 422, "invalid_input", "data 应为 JSON 对象", {}),
        ("wrong role", auth("shenhe"), {"decision": "accept"}, 403, "forbidden", "该任务由受理员办理", None),
        ("clerk of another hall", auth("shouli2"), {"decision": "accept"}, 404, "not_found", "任务不存在", None),
    ]
    for what, headers, data, status, code, message, fields in refused:
        with subtests.test(what):
            response = client.post(f"/api/tasks/{task_id}/complete", headers=headers, json={"data": data})
            error = error_of(response, status, code)
            assert error["message"] == message
            assert error.get("fields") == fields

    task = task_of(client, shouli, task_id)
    assert (task["state"], task["assignee"], task["completed_by"]) == ("ready", None, None)
    case = case_of(client, shouli, number)
    assert (case["stage"], case["status"]) == ("受理", "open")
    assert [h["action"] for h in case["history"]] == ["opened"]


def test_a_task_is_completed_once(client, auth):
    shouli = auth("shouli")
    number = open_case(client, shouli)["number"]
    task_id = ready_task(client, shouli, number)["id"]

    case = json_of(complete(client, shouli, task_id, decision="accept", opinion="材料齐全"))
    assert (case["stage"], case["status"]) == ("审核", "open")

    for response in (complete(client, shouli, task_id, decision="refuse"),
                     client.post(f"/api/tasks/{task_id}/claim", headers=shouli),
                     client.post(f"/api/tasks/{task_id}/release", headers=shouli)):
        assert error_of(response, 409, "conflict")["message"] == "任务已办理或已取消"
    task = task_of(client, shouli, task_id)
    assert (task["state"], task["decision"], task["completed_by"]) == ("completed", "accept", "shouli")
    assert case_of(client, shouli, number)["stage"] == "审核"


def test_an_outpatient_claim_goes_through_to_payment(client, auth, clock):
    shouli, shenhe, caiwu = auth("shouli"), auth("shenhe"), auth("caiwu")
    number = open_case(client, shouli)["number"]

    clock.advance(hours=1)
    smuggled = complete(client, shouli, ready_task(client, shouli, number)["id"], decision="accept", opinion="材料齐全",
                        payable_amount="99999.00")  # not a field of 受理: refused, named
    assert error_of(smuggled, 422, "invalid_input")["fields"] == {
        "payable_amount": "未声明的字段，流程变量请放在 variables 中"}
    case = take_step(client, shouli, number, decision="accept", opinion="材料齐全")
    assert case["stage"] == "审核"
    data = case_of(client, shouli, number)["data"]
    assert data["payable_amount"] == data["calculated_amount"] != "99999.00"

    clock.advance(hours=1)
    review_id = ready_task(client, shenhe, number)["id"]
    calculation = "(1860.00 − 自费 0.00 − 起付线 0.00) × 50% = 930.00，封顶 3000.00"
    assert task_of(client, shenhe, review_id)["payment"] == {
        "claimed_amount": "1860.00", "proposed_amount": "930.00", "cap": "3000.00", "calculation": calculation,
        "approved_amount": None, "approved_by": None, "approved_by_name": None, "review_opinion": None,
        "reduction_reason": None, "bank_name": None, "bank_account": "6222020712001234567", "paid_amount": None}
    for values, fields in (({"payable_amount": "99999"}, {"payable_amount": "核定金额不得超过申报金额 1860.00 元"}),
                           ({"payable_amount": "1e30"}, {"payable_amount": "核定金额（元）应为金额，最多两位小数"}),
                           ({"payable_amount": "800.00"},
                            {"reduction_reason": "核定金额低于核算金额 930.00 元，请填写核减理由"})):
        refused = error_of(complete(client, shenhe, review_id, decision="approve", **values), 422, "invalid_input")
        assert refused["fields"] == fields
    assert take_step(client, shenhe, number, decision="approve", opinion="同意", payable_amount="800.00",
                     reduction_reason="130 元为自费药品")["stage"] == "拨付"
    pay = task_of(client, caiwu, ready_task(client, caiwu, number)["id"])["payment"]
    assert (pay["claimed_amount"], pay["approved_amount"], pay["approved_by_name"], pay["review_opinion"],
            pay["reduction_reason"], pay["bank_account"]) == (
        "1860.00", "800.00", "李审核", "同意", "130 元为自费药品", "6222020712001234567")
    clock.advance(hours=1)
    closed = take_step(client, caiwu, number, decision="pay")

    assert (closed["status"], closed["status_name"], closed["stage"], closed["result"]) == (
        "closed", "已办结", "办结", "办结")
    assert closed["closed_at"] == "2026-11-23T12:30:00+08:00"
    case = case_of(client, shouli, number)
    [payment] = [call for call in case["external_calls"] if call["system"] == "payment"]
    assert payment["request"] == {"account": "6222020712001234567", "amount": "800.00", "reference": number}
    assert case["data"]["paid_amount"] == "800.00"
    assert case["data"]["payment_reference"] == payment["response"]["transaction"]
    assert [(h["actor"], h["action"], h["task_name"], h["message"]) for h in case["history"]] == [
        ("shouli", "opened", None, "王受理登记申请"),
        ("shouli", "materials_marked", None, "材料核对：医保电子凭证或有效身份证件或社保卡 已提交；医院收费票据 已提交；"
         "门急诊费用清单 已提交；处方底方（病例材料） 已提交；医保卡复印件 已提交（受理人确认未标注的材料已提交）"),
        ("shouli", "completed", "受理", "王受理完成“受理”：受理（材料齐全）"),
        ("system", "rule", "禁办情形核查", "禁办情形核查：未发现禁办情形"),
        ("system", "service", "核验身份", "系统完成“核验身份”"),
        ("system", "service", "核查参保状态", "系统完成“核查参保状态”"),
        ("system", "service", "核算待遇", f"系统完成“核算待遇”：核算金额 930.00 元（{calculation}）"),
        ("system", "document_issued", None, f"出具《受理通知书》（文书编号 SL{number}）"),
        ("shenhe", "completed", "审核", "李审核完成“审核”：审核通过（同意）；核定金额 800.00 元，核减理由：130 元为自费药品"),
        ("system", "rule", "禁办情形核查", "禁办情形核查：未发现禁办情形"),
        ("caiwu", "completed", "拨付", "赵财务完成“拨付”：确认拨付"),
        ("system", "service", "拨付资金", f"系统完成“拨付资金”：拨付 800.00 元（交易号 {payment['response']['transaction']}）"),
        ("system", "service", "告知申请人", "系统完成“告知申请人”"),
        ("system", "end", "办结", "办理结束：办结"),
        ("system", "document_issued", None, f"出具《办结通知书》（文书编号 BJ{number}）")]
    assert [(t["name"], t["state"], t["completed_by"], t["decision"]) for t in case["tasks"]] == [
        ("受理", "completed", "shouli", "accept"), ("审核", "completed", "shenhe", "approve"),
        ("拨付", "completed", "caiwu", "pay")]

    for headers, name in ((shouli, "受理"), (shenhe, "审核"), (caiwu, "拨付")):
        [done] = inbox(client, headers, "?state=completed")
        assert (done["case_number"], done["name"], done["state"], done["state_name"]) == (
            number, name, "completed", "已办")
        assert inbox(client, headers) == []


# --- messages ------------------------------------------------------------------------------------------------------

def test_a_transfer_waits_for_the_information_sheet_and_goes_on_when_it_arrives(client, auth):
    clerk = auth("clerk_210400_01")
    number = open_case(client, clerk, {"item_code": TRANSFER, "applicant": APPLICANT,
                                       "data": {"from_region": "辽宁省沈阳市", "from_agency": "210100",
                                                "certificate_no": "PZ-2101-0001"}})["number"]

    def deliver(name: str, payload: dict | None = None, headers: dict = clerk):
        return client.post(f"/api/cases/{number}/messages", headers=headers,
                           json={"name": name, "payload": payload or {}})

    error = error_of(deliver("信息表"), 409, "conflict")  # still at 受理
    assert error["message"] == "案件当前不在等待“信息表”"
    take_step(client, clerk, number, decision="accept")
    waiting = take_step(client, clerk, number, decision="approve")
    assert (waiting["stage"], waiting["status"]) == ("信息表", "open")
    assert [t for t in inbox(client, clerk) if t["case_number"] == number] == []

    assert error_of(deliver("联系函"), 409, "conflict")["message"] == "案件当前不在等待“联系函”"
    assert error_of(deliver(""), 422, "invalid_input")["fields"] == {"name": "请填写消息名称"}  # any JSON payload
    assert error_of(deliver("信息表", headers=auth("caiwu")), 403, "forbidden")["message"] == (
        "需要岗位：受理员、审核员、系统管理员")
    assert error_of(deliver("信息表", headers=auth("shouli2")), 404, "not_found")["message"] == "案件不存在"
    assert case_of(client, clerk, number)["stage"] == "信息表"

    sheet = {"sheet_no": "XXB-2101-0001", "insured_months": 96}
    json_of(deliver("信息表", sheet))

    confirm = ready_task(client, clerk, number)
    assert (confirm["name"], confirm["role"]) == ("接续确认", "acceptor")
    case = case_of(client, clerk, number)
    assert case["data"]["info_sheet"] == sheet
    [received] = [h for h in case["history"] if h["action"] == "message_received"]
    assert (received["actor"], received["message"], received["detail"]) == (
        "clerk_210400_01", "收到“信息表”", {"name": "信息表", "payload": sheet})  # the name: GET /api/cases/<n>/messages
    assert error_of(deliver("信息表", sheet), 409, "conflict")["message"] == "案件当前不在等待“信息表”"
    done = take_step(client, clerk, number, decision="accept")
    assert (done["status"], done["result"]) == ("closed", "办结")


# --- OpenAPI -------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def offline_app():
    """The application without a database: the OpenAPI document and the routes do not need one."""
    return create_app(Context(sessionmaker()), secret_key="test-secret")


@pytest.fixture(scope="module")
def openapi(offline_app) -> dict:
    return json_of(offline_app.test_client().get("/api/openapi.json"))


def api_routes(app) -> set[tuple[str, str]]:
    """(path as OpenAPI writes it, method) of every route of the app under /api."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            routes |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def documented(openapi: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, operations in openapi["paths"].items() for method in operations}


def test_the_openapi_document_is_valid_openapi_3(openapi):
    validate(openapi)
    assert openapi["openapi"].startswith("3.")
    assert openapi["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}


def test_every_api_route_is_in_the_openapi_document(offline_app, openapi):
    routes = api_routes(offline_app)
    assert {("/api/cases", "post"), ("/api/tasks/{task_id}/complete", "post")} <= routes  # the routes were found
    assert routes - {("/api/openapi.json", "get")} <= documented(openapi)


def test_the_openapi_document_describes_itself(openapi):
    assert ("/api/openapi.json", "get") in documented(openapi)


STATUSES_RETURNED = [  # (method, path, status) that the tests above see the API answer
    ("post", "/api/login", "401"), ("post", "/api/login", "422"), ("get", "/api/me", "401"),
    ("get", "/api/agencies/{agency_code}", "404"), ("get", "/api/agencies/{agency_code}/items", "404"),
    ("get", "/api/agencies/{agency_code}/items/{item_code}", "404"), ("get", "/api/processes", "401"),
    ("post", "/api/processes", "201"), ("post", "/api/processes", "403"), ("post", "/api/processes", "422"),
    ("get", "/api/processes/{process_key}/versions", "404"),
    ("get", "/api/processes/{process_key}/versions/{version}/bpmn", "404"),
    ("post", "/api/cases", "201"), ("post", "/api/cases", "401"), ("post", "/api/cases", "403"),
    ("post", "/api/cases", "404"), ("post", "/api/cases", "422"), ("get", "/api/cases/{number}", "404"),
    ("post", "/api/cases/{number}/messages", "403"), ("post", "/api/cases/{number}/messages", "404"),
    ("post", "/api/cases/{number}/messages", "409"), ("post", "/api/cases/{number}/messages", "422"),
    ("get", "/api/tasks", "401"), ("get", "/api/tasks", "403"), ("get", "/api/tasks", "422"),
    ("get", "/api/tasks/{task_id}", "404"), ("post", "/api/tasks/{task_id}/claim", "409"),
    ("post", "/api/tasks/{task_id}/release", "409"), ("post", "/api/tasks/{task_id}/complete", "403"),
    ("post", "/api/tasks/{task_id}/complete", "404"), ("post", "/api/tasks/{task_id}/complete", "409"),
    ("post", "/api/tasks/{task_id}/complete", "422"),
]


def test_the_openapi_document_lists_the_statuses_the_api_returns(openapi):
    missing = [(method, path, status) for method, path, status in STATUSES_RETURNED
               if status not in openapi["paths"][path][method]["responses"]]
    assert missing == []


def test_the_openapi_document_lists_invalid_paging_of_the_case_list(openapi):
    assert "422" in openapi["paths"]["/api/cases"]["get"]["responses"]


def test_unknown_api_paths_and_methods_answer_in_json(client):
    assert error_of(client.get("/api/no-such-thing"), 404, "not_found")["message"] == "没有这个接口"
    assert error_of(client.delete("/api/cases"), 405, "method_not_allowed")["message"] == "接口不支持该请求方法"
