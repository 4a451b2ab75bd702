"""Form defaults and JUEL text templates, on tests/fixtures/conformance/form_defaults.bpmn as the Camunda Modeler 5
writes it: a script sets registered_unit and visits_on_record, then the task 受理${applicant.name}的报销申请 with its
documentation 核对${registered_unit}出具的票据… and fields whose defaultValue is JUEL (${applicant.name},
${visits_on_record + 1}, 票据由${registered_unit}出具) or a literal (true, 窗口). The defaults are evaluated for the
case when the form is shown and taken for a field left out, through the API, the web form and the CLI; the name is
the case's in the inbox, the task page and the history."""
from __future__ import annotations

import re

import lxml.html
import pytest

from support.http import error_of, json_of
from support.web import csrf_token, html

from api.test_api import case_of, deploy, inbox, task_of
from api.test_conformance_api import APPLICANT, CLERK, ITEM, diagram
from api.test_forms_and_variables_api import browser  # noqa: F401 - the fixture: a clerk signed in on the web
from entrypoints.test_cli import run

NAME = "受理张伟的报销申请"
DEFAULTS = {"payee": "张伟", "visit_count": 4, "unit_note": "票据由抚顺市第一人民医院出具", "urgent": "true",
            "channel": "窗口"}


@pytest.fixture
def task_id(client, auth) -> str:
    json_of(deploy(client, auth("sheji"), diagram("form_defaults.bpmn"), "form_defaults.bpmn"), 201)
    number = json_of(client.post("/api/cases", headers=auth(CLERK),
                                 json={"item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]
    [task] = [task for task in inbox(client, auth(CLERK)) if task["case_number"] == number]
    return task["id"]


def completed(client, auth, task_id: str, data: dict):
    return client.post(f"/api/tasks/{task_id}/complete", headers=auth(CLERK), json={"data": data})


def test_the_task_is_named_for_its_case_and_its_form_has_the_defaults_evaluated(client, auth, task_id):
    task = task_of(client, auth(CLERK), task_id)

    assert (task["name"], task["stage"]) == (NAME, "受理的报销申请")  # the stage: the name's own words
    assert task["form"]["defaults"] == DEFAULTS
    assert task["documentation"] == "核对抚顺市第一人民医院出具的票据，共 3 次就诊"
    assert [field["default"] for field in task["form"]["fields"]][:2] == [None, "${applicant.name}"]  # as drawn


def test_fields_left_out_take_their_defaults_and_fields_sent_keep_what_was_sent(client, auth, task_id):
    number = json_of(completed(client, auth, task_id, {"invoice_no": "FP2026", "payee": "李四", "urgent": False}))[
        "number"]
    data = case_of(client, auth(CLERK), number)["data"]

    assert (data["payee"], data["urgent"]) == ("李四", False)
    assert (data["visit_count"], data["unit_note"], data["channel"]) == (4, "票据由抚顺市第一人民医院出具", "窗口")


def test_a_default_is_checked_as_what_a_clerk_types(client, auth, task_id):
    """The default is a value like any other: a JUEL default over the field's max is refused naming the field."""
    refused = client.post(f"/api/tasks/{task_id}/complete", headers=auth(CLERK),
                          json={"data": {"invoice_no": "FP2026", "visit_count": 31}})

    assert error_of(refused, 422, "invalid_input")["fields"] == {"visit_count": "就诊次数不得大于30"}


def test_the_history_names_the_task_as_the_inbox_did(client, auth, task_id):
    number = json_of(completed(client, auth, task_id, {"invoice_no": "FP2026"}))["number"]

    assert any(f"完成“{NAME}”" in entry["message"] and entry["task_name"] == NAME
               for entry in case_of(client, auth(CLERK), number)["history"])


# --- the task page ------------------------------------------------------------------------------------------------

def test_the_task_page_shows_the_name_the_documentation_and_the_defaults_for_the_case(browser, task_id):
    page = lxml.html.fromstring(html(browser.get(f"/tasks/{task_id}")))

    assert NAME in page.findtext(".//title") or NAME in page.text_content()
    assert page.get_element_by_id("task-documentation").text_content() == "核对抚顺市第一人民医院出具的票据，共 3 次就诊"
    assert [page.get_element_by_id(f"f-{name}").get("value") for name in ("payee", "visit_count", "unit_note")] == [
        "张伟", "4", "票据由抚顺市第一人民医院出具"]
    assert "checked" in page.get_element_by_id("f-urgent").attrib
    assert "${" not in html(browser.get(f"/tasks/{task_id}"))


def test_a_box_unchecked_on_the_page_is_no_not_its_default(client, auth, browser, task_id):
    token = csrf_token(html(browser.get(f"/tasks/{task_id}")))
    # the page sends every field; the unchecked box only its hidden "false"
    answer = browser.post(f"/tasks/{task_id}", data={"csrf_token": token, "invoice_no": "FP2026", "payee": "张伟",
                                                     "visit_count": "4", "unit_note": "", "channel": "窗口",
                                                     "urgent": "false"})
    assert answer.status_code == 302
    [number] = {task["case_number"] for task in inbox(client, auth(CLERK), "?state=completed")
                if task["id"] == task_id} or [None]
    data = case_of(client, auth(CLERK), number)["data"]

    assert data["urgent"] is False
    assert "unit_note" not in data  # cleared on the page: left empty, not its default


# --- the command line ---------------------------------------------------------------------------------------------

def test_the_command_line_takes_the_defaults_and_refuses_a_key_outside_the_form(app, client, auth, task_id,
                                                                                database_url):
    refused = run(database_url, "complete", task_id, "invoice_no=FP2026", "smuggled=1", "--user", CLERK, expect=1)
    assert "smuggled" in refused and "未声明的字段，流程变量请放在 variables 中" in refused

    done = run(database_url, "complete", task_id, "invoice_no=FP2026", "--user", CLERK)
    number = re.match(r"(\S+)\t", done).group(1)

    assert DEFAULTS.items() - {("urgent", "true")} <= case_of(client, auth(CLERK), number)["data"].items()
    assert case_of(client, auth(CLERK), number)["data"]["urgent"] is True
