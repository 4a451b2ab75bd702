"""The inbox page shows what a diagram says of a task: its priority, its own due and follow-up dates beside the
case's limit, its candidate users; a task for any role of the hall is in every clerk's inbox."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.services import cases, processes

from support.paths import ROOT
from support.process_driver import PERSON_ID

from .conftest import shot, sign_in

ITEM = "002036002002"
FIXTURES = ROOT / "tests" / "fixtures" / "conformance"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}


def deploy_fixture(ctx, staff, file_name: str, edit=lambda xml: xml) -> None:
    bpmn = edit((FIXTURES / file_name).read_text(encoding="utf-8").replace('"Process_conformance"',
                                                                            f'"item_{ITEM}"'))
    processes.deploy_process(ctx, staff["sheji"], bpmn.encode("utf-8"), file_name)


def test_the_inbox_shows_priority_dates_and_candidates_of_the_diagram(page, server, ctx, staff):
    deploy_fixture(ctx, staff, "lanes_without_roles.bpmn", lambda xml: xml.replace(
        '<bpmn:userTask id="Task_accept" name="受理">',
        '<bpmn:userTask id="Task_accept" name="受理" camunda:priority="80" camunda:candidateUsers="shouli,caiwu"'
        ' camunda:dueDate="2026-12-31T17:00:00+08:00" camunda:followUpDate="2026-12-20">'))
    number = cases.open_case(ctx, staff["shouli"], ITEM, APPLICANT, {}).case.number

    sign_in(page, server, "caiwu")  # 财务: the task names no role, and caiwu is among its candidates
    row = page.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("优先级 80")
    expect(row).to_contain_text("候选人：shouli、caiwu")
    expect(row).to_contain_text("任务到期 2026-12-31 17:00")
    expect(row).to_contain_text("跟进 2026-12-20 23:59")
    shot(page, "inbox-task-attributes")
    page.get_by_role("button", name="退出").click()

    sign_in(page, server, "shenhe")  # not a candidate
    expect(page.get_by_role("row").filter(has_text=number)).to_have_count(0)
