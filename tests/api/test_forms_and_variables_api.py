"""Form constraints and process variables, on a diagram as the Camunda Modeler 5 writes it
(tests/fixtures/conformance/form_constraints.bpmn: a script sets registered_unit and source, then 受理 with 票据号
(required, 4–8 characters), 就诊次数 (long, 1–30), 登记单位 (readonly), 加急 (boolean), 就诊日期 (date)).
Every constraint holds on the server for the API, the web form and the CLI, refused with 422 naming the field;
variables beside the form keep their JSON types, and what they may not write is refused, named."""
from __future__ import annotations

import lxml.html
import pytest

from support.http import error_of, json_of
from support.web import csrf_token, html, sign_in

from api.test_api import case_of, deploy, inbox
from api.test_conformance_api import APPLICANT, CLERK, ITEM, diagram

GOOD = {"invoice_no": "FP2026", "visit_count": "3"}


@pytest.fixture
def task_id(client, auth) -> str:
    """The 受理 task of a fresh case of the diagram."""
    json_of(deploy(client, auth("sheji"), diagram("form_constraints.bpmn"), "form_constraints.bpmn"), 201)
    number = json_of(client.post("/api/cases", headers=auth(CLERK),
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]
    [task] = [task for task in inbox(client, auth(CLERK)) if task["case_number"] == number]
    return task["id"]


def completed(client, auth, task_id: str, data: dict, variables: dict | None = None):
    body = {"data": data, **({"variables": variables} if variables is not None else {})}
    return client.post(f"/api/tasks/{task_id}/complete", headers=auth(CLERK), json=body)


REFUSED_VALUES = [  # the form's values, the field named, its message
    ({"visit_count": "3"}, "invoice_no", "请填写票据号"),
    ({**GOOD, "invoice_no": "FP2"}, "invoice_no", "票据号至少4个字符"),
    ({**GOOD, "invoice_no": "FP20261123"}, "invoice_no", "票据号最多8个字符"),
    ({**GOOD, "visit_count": "0"}, "visit_count", "就诊次数不得小于1"),
    ({**GOOD, "visit_count": 31}, "visit_count", "就诊次数不得大于30"),
    ({**GOOD, "visit_count": "三"}, "visit_count", "就诊次数应为整数"),
    ({**GOOD, "registered_unit": "别的医院"}, "registered_unit", "登记单位为只读，取自案件数据，不能修改"),
    ({**GOOD, "urgent": "maybe"}, "urgent", "加急应为是或否"),
    ({**GOOD, "visit_date": "2026-13-01"}, "visit_date", "就诊日期应为日期（YYYY-MM-DD）"),
]


@pytest.mark.parametrize("data, field, message", REFUSED_VALUES)
def test_a_value_outside_its_fields_constraints_is_refused_naming_the_field(client, auth, task_id, data, field,
                                                                            message):
    error = error_of(completed(client, auth, task_id, data), 422, "invalid_input")

    assert error["fields"][field] == message
    assert [task["id"] for task in inbox(client, auth(CLERK))].count(task_id) == 1  # nothing moved


def test_a_readonly_field_sent_unchanged_or_left_out_keeps_the_cases_value(client, auth, task_id):
    number = json_of(completed(client, auth, task_id, {**GOOD, "registered_unit": "抚顺市第一人民医院"}))["number"]
    case = case_of(client, auth(CLERK), number)

    assert case["data"]["registered_unit"] == "抚顺市第一人民医院"
    assert (case["data"]["invoice_no"], case["data"]["visit_count"]) == ("FP2026", 3)


VARIABLES = {"tags": ["门诊", 2], "extra": {"note": None}, "blank": "", "nothing": None, "ratio": 0.5,
             "checked": False}


def test_variables_keep_their_json_types_beside_the_form(client, auth, task_id):
    number = json_of(completed(client, auth, task_id, GOOD, VARIABLES))["number"]

    assert VARIABLES.items() <= case_of(client, auth(CLERK), number)["data"].items()


def test_a_variable_that_is_a_field_of_the_form_is_checked_as_the_field(client, auth, task_id):
    error = error_of(completed(client, auth, task_id, {"invoice_no": "FP2026"}, {"visit_count": 99}), 422,
                     "invalid_input")

    assert error["fields"] == {"visit_count": "就诊次数不得大于30"}


REFUSED_VARIABLES = [  # the variable, its message
    ({"applicant": {"name": "李四"}}, "variables.applicant", "变量 applicant 由平台设置，不能传入"),
    ({"payable_amount": 100000}, "variables.payable_amount", "变量 payable_amount 由平台设置，不能传入"),
    ({"material_0": "present"}, "variables.material_0", "变量 material_0 由平台设置，不能传入"),
    ({"source": "伪造"}, "variables.source", "案件已有变量 source，不能覆盖"),
    ({"_secret": 1}, "variables._secret", "变量名只能由字母、数字和下划线组成，以字母开头，最长 64 个字符，且不能是 Python 关键字"),
    ({"class": 1}, "variables.class", "变量名只能由字母、数字和下划线组成，以字母开头，最长 64 个字符，且不能是 Python 关键字"),
]


@pytest.mark.parametrize("variables, field, message", REFUSED_VARIABLES)
def test_a_variable_the_client_may_not_write_is_refused_naming_it(client, auth, task_id, variables, field, message):
    error = error_of(completed(client, auth, task_id, GOOD, variables), 422, "invalid_input")

    assert error["fields"] == {field: message}


def test_variables_that_are_not_an_object_are_refused(client, auth, task_id):
    error = error_of(completed(client, auth, task_id, GOOD, ["tags"]), 422, "invalid_input")

    assert error["fields"] == {"variables": "应为 JSON 对象：变量名 -> 值"}


def test_a_case_opens_with_variables_and_refuses_another_steps_field(client, auth):
    json_of(deploy(client, auth("sheji"), diagram("form_constraints.bpmn"), "form_constraints.bpmn"), 201)
    opening = {"item_code": ITEM, "applicant": APPLICANT, "data": {}}
    refused = client.post("/api/cases", headers=auth(CLERK), json={**opening, "variables": {"invoice_no": "FP2026"}})
    assert error_of(refused, 422, "invalid_input")["fields"] == {
        "variables.invoice_no": "变量 invoice_no 是流程中另一步骤的表单字段，只能在该步骤的表单中填写"}

    opened = json_of(client.post("/api/cases", headers=auth(CLERK), json={**opening, "variables": VARIABLES}), 201)

    assert VARIABLES.items() <= case_of(client, auth(CLERK), opened["number"])["data"].items()


# --- the task page ------------------------------------------------------------------------------------------------

@pytest.fixture
def browser(app):
    signed = app.test_client()
    sign_in(signed, CLERK, "password123")
    return signed


def test_the_task_form_shows_each_constraint_as_an_html_attribute_with_a_hint(browser, task_id):
    page = lxml.html.fromstring(html(browser.get(f"/tasks/{task_id}")))
    invoice, count, unit = (page.get_element_by_id(f"f-{name}")
                            for name in ("invoice_no", "visit_count", "registered_unit"))

    assert ("required" in invoice.attrib, invoice.get("minlength"), invoice.get("maxlength")) == (True, "4", "8")
    assert (count.get("type"), count.get("min"), count.get("max")) == ("number", "1", "30")
    assert ("readonly" in unit.attrib, unit.get("value")) == (True, "抚顺市第一人民医院")
    assert [page.get_element_by_id(f"hint-{name}").text_content() for name in ("invoice_no", "visit_count",
                                                                             "registered_unit")] == [
        "4–8个字符", "1–30", "只读，取自案件数据"]


def test_the_web_form_refuses_a_changed_readonly_field_keeping_what_was_typed(browser, task_id):
    token = csrf_token(html(browser.get(f"/tasks/{task_id}")))
    answer = browser.post(f"/tasks/{task_id}", data={"csrf_token": token, **GOOD, "registered_unit": "别的医院"})

    page = lxml.html.fromstring(html(answer))
    assert answer.status_code == 422
    [alert] = page.xpath('//div[contains(@class, "has-error")]//*[@role="alert"]')
    assert alert.text_content() == "登记单位为只读，取自案件数据，不能修改"
    assert page.get_element_by_id("f-invoice_no").get("value") == "FP2026"


# --- keys of `data` that are no field of the form -----------------------------------------------------------------

UNDECLARED = "未声明的字段，流程变量请放在 variables 中"


def test_a_key_of_data_that_is_no_field_of_the_step_is_refused_naming_it(client, auth, task_id):
    error = error_of(completed(client, auth, task_id, {**GOOD, "priority_note": "加急"}), 422, "invalid_input")

    assert error["fields"] == {"priority_note": UNDECLARED}
    assert [task["id"] for task in inbox(client, auth(CLERK))].count(task_id) == 1  # nothing moved


def test_the_same_value_passed_as_a_variable_is_kept(client, auth, task_id):
    number = json_of(completed(client, auth, task_id, GOOD, {"priority_note": "加急"}))["number"]

    assert case_of(client, auth(CLERK), number)["data"]["priority_note"] == "加急"


def test_a_case_opened_with_a_key_of_data_outside_the_application_form_is_refused(client, auth):
    json_of(deploy(client, auth("sheji"), diagram("form_constraints.bpmn"), "form_constraints.bpmn"), 201)
    refused = client.post("/api/cases", headers=auth(CLERK),
                          json={"item_code": ITEM, "applicant": APPLICANT, "data": {"tags": ["门诊"]}})

    assert error_of(refused, 422, "invalid_input")["fields"] == {"tags": UNDECLARED}


def test_the_web_form_refuses_a_key_outside_the_form_and_shows_why(browser, task_id):
    token = csrf_token(html(browser.get(f"/tasks/{task_id}")))
    answer = browser.post(f"/tasks/{task_id}", data={"csrf_token": token, **GOOD, "smuggled": "1"})

    assert answer.status_code == 422
    assert UNDECLARED in html(answer)
