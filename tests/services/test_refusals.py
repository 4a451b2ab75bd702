"""Refusals through the service layer: every refusing decision of a person (不予受理, 审核不通过, 验收不通过, 不予签订,
认定不通过) and every ending or sending back (退回, 撤件, 终止) needs a written reason; the 决定书 prints it verbatim;
its preview is the text issued and issues nothing."""
from __future__ import annotations

import pytest

from workflows.domain.errors import InvalidInput
from workflows.services import case_operations, cases, documents, tasks
from workflows.services.catalog import get_agency_item

from services.test_documents import text_of
from services.test_item_processes import clerk_for
from support.process_driver import _definition as definition_of
from support.process_driver import applicant_for, sample_data

OUTPATIENT, DESIGNATED, CHRONIC = "002036006001", "002036009001", "002036005000"
REFUSALS = [  # agency, item, the step, the refusing decision, the case's result, the document
    ("210400", OUTPATIENT, "受理", "refuse", "不予受理", "不予受理决定书"),
    ("210400", OUTPATIENT, "审核", "reject", "审核不通过", "不予批准决定书"),
    ("210400", DESIGNATED, "现场验收", "fail", "验收不通过", "不予批准决定书"),
    ("210400", DESIGNATED, "签订协议", "decline", "协议未签订", "不予批准决定书"),
    ("231025", CHRONIC, "医院鉴定", "reject", "认定不通过", "不予批准决定书"),  # 林口: 抚顺 decides it at a hospital
]


def task_at(ctx, clerk, item_code: str, step: str):
    """A case of the item, taken by the first decision of each step up to `step`; its task there."""
    agency_item = get_agency_item(ctx, clerk.agency_code, item_code)
    definition = definition_of(ctx, agency_item.process_key)
    case = cases.open_case(ctx, clerk, item_code, applicant_for(agency_item), sample_data(definition.start_form)).case
    while True:
        [task] = [t for t in tasks.list_tasks(ctx, clerk) if t.case_number == case.number]
        if task.name == step:
            return task, case.number
        first = definition.user_tasks[task.spec_id].form.decisions[0][0]
        tasks.complete_task(ctx, clerk, task.id, {"decision": first, "opinion": "符合条件"})


@pytest.mark.parametrize("agency_code, item_code, step, decision, result, title", REFUSALS)
def test_a_refusal_needs_its_reason_and_the_decision_prints_it_verbatim(ctx, staff, agency_code, item_code, step,
                                                                       decision, result, title):
    clerk = clerk_for(staff, agency_code, item_code)
    task, number = task_at(ctx, clerk, item_code, step)
    for missing in ({}, {"opinion": ""}, {"opinion": " \n "}):
        with pytest.raises(InvalidInput) as refused:
            tasks.complete_task(ctx, clerk, task.id, {"decision": decision, **missing})
        assert set(refused.value.field_errors) == {"opinion"} and "理由" in refused.value.field_errors["opinion"]
    assert cases.case_details(ctx, clerk, number).case.is_open
    with pytest.raises(InvalidInput) as too_long:
        tasks.complete_task(ctx, clerk, task.id, {"decision": decision, "opinion": "理" * 501})
    assert "不超过 500 字" in too_long.value.field_errors["opinion"]

    reason = f"经{step}核查：申请人提交的材料与实际情况不符（第{len(step)}项）"
    preview = tasks.preview_completion(ctx, clerk, task.id, {"decision": decision, "opinion": reason})
    assert preview.title == title and f"理由：{reason}" in preview.paragraphs
    assert documents.list_documents(ctx, clerk, number) == [] or all(
        d.title != title for d in documents.list_documents(ctx, clerk, number))  # the preview issued nothing
    assert cases.case_details(ctx, clerk, number).case.is_open

    closed = tasks.complete_task(ctx, clerk, task.id, {"decision": decision, "opinion": reason}).case
    assert closed.result == result
    [issued] = [d for d in documents.list_documents(ctx, clerk, number) if d.title == title]
    text = text_of(ctx, clerk, issued)
    assert f"理由：{reason}" in text and "不符合办理条件" not in text
    assert (issued.number, issued.fields["reasons"]) == (preview.number, reason)
    assert all(paragraph in text for paragraph in preview.paragraphs)  # the text previewed is the text printed


def test_a_positive_decision_needs_no_reason(ctx, staff):
    clerk = staff["clerk_210400_01"]
    task, number = task_at(ctx, clerk, OUTPATIENT, "受理")
    assert tasks.preview_completion(ctx, clerk, task.id, {"decision": "accept"}) is None
    assert tasks.complete_task(ctx, clerk, task.id, {"decision": "accept"}).case.stage == "审核"


@pytest.mark.parametrize("operation, label", [("return", "退回"), ("withdraw", "撤件"), ("terminate", "终止")])
def test_sending_back_withdrawing_and_terminating_need_a_reason(ctx, staff, operation, label):
    clerk, supervisor = staff["clerk_210400_01"], staff["kezhang"]
    task, number = task_at(ctx, clerk, OUTPATIENT, "审核")
    calls = {"return": lambda reason: case_operations.return_task(
                 ctx, clerk, task.id, case_operations.return_targets(ctx, clerk, task.id)[0].task_id, reason),
             "withdraw": lambda reason: case_operations.withdraw_case(ctx, clerk, number, reason),
             "terminate": lambda reason: case_operations.terminate_case(ctx, supervisor, number, reason)}
    for reason in ("", "  "):
        with pytest.raises(InvalidInput) as refused:
            calls[operation](reason)
        assert refused.value.field_errors == {"reason": f"请填写{label}原因"}
    assert cases.case_details(ctx, clerk, number).case.stage == "审核"
    calls[operation]("申请人要求更正银行账号")
    history = [entry.message for entry in cases.case_details(ctx, clerk, number).history]
    assert any("申请人要求更正银行账号" in line for line in history)


def test_a_terminated_case_gets_a_termination_decision_with_the_supervisors_reason(ctx, staff):
    clerk, supervisor = staff["clerk_210400_01"], staff["kezhang"]
    task, number = task_at(ctx, clerk, OUTPATIENT, "审核")
    reason = "申请人已于2026年11月20日死亡，申请事项已无办理必要"
    case_operations.terminate_case(ctx, supervisor, number, reason)
    [decision] = [d for d in documents.list_documents(ctx, clerk, number) if d.kind == "termination_decision"]
    assert (decision.title, decision.number) == ("终止办理决定书", f"ZZ{number}")
    text = text_of(ctx, clerk, decision)
    assert f"理由：{reason}" in text and "本机构决定终止办理" in text and "行政复议" in text
