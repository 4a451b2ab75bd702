"""What follows a command, as events the bus dispatches in its transaction: the people told of a 转办 (StaffNotified),
a 容缺受理's record and notice (TaskCompleted), the documents of where the case went (CaseAccepted, CaseClosed), each
undone with the command that published it."""
from __future__ import annotations

import pytest

from workflows.adapters.sms_gateway import RecordingSmsGateway
from workflows.bootstrap import bootstrap
from workflows.domain.errors import InvalidInput
from workflows.domain.events import CaseAccepted, CaseClosed, StaffNotified
from workflows.domain.model import CASE_TERMINATED
from workflows.services import case_operations, cases, documents, materials, outbox, task_operations, tasks, users

from support.cases import APPLICANT, accept, at

MATERNITY = "002036007004"  # 抚顺 生育津贴支付: 容缺 结婚证, 生育登记单, 医保卡复印件
MATERNITY_DATA = {"leave_days": "98", "average_wage": "6500.00", "bank_account": "6222020712001234567"}
CHECKED = {0: "present", 1: "present", 2: "present", 3: "present", 4: "present", 5: "waived", 6: "waived",
           7: "missing"}


def review_task(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [task] = [t for t in cases.case_details(ctx, staff["shenhe"], number).tasks if t.state == "ready"]
    tasks.claim_task(ctx, staff["shenhe"], task.id)
    return number, task


def told(ctx, user, kind: str) -> list[str]:
    return [n["message"] for n in users.notifications(ctx, user) if n["kind"] == kind]


def test_the_new_holder_of_a_transferred_task_is_told_by_the_bus(ctx, staff, clock):
    number, task = review_task(ctx, staff, clock)
    task_operations.transfer_task(ctx, staff["shenhe"], task.id, "clerk_210400_01", "本人下午外出")
    [message] = told(ctx, staff["clerk_210400_01"], "transferred")
    assert message.endswith(f"（门诊费用报销 {number}）") and "本人下午外出" in message


def test_without_its_handler_on_the_bus_nobody_is_told(ctx, staff, clock):
    quiet = bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock)
    del quiet.bus.atomic[StaffNotified]  # the handler, not the use case, writes the notifications
    _, task = review_task(quiet, staff, clock)
    task_operations.transfer_task(quiet, staff["shenhe"], task.id, "clerk_210400_01", "本人下午外出")
    assert told(ctx, staff["clerk_210400_01"], "transferred") == []


def test_nobody_is_told_of_a_command_that_did_not_commit(ctx, staff, clock):
    number, _ = review_task(ctx, staff, clock)
    case_id = cases.case_details(ctx, staff["shenhe"], number).case.id
    with pytest.raises(RuntimeError), ctx.uow() as uow:
        uow.publish(StaffNotified(case_id, ("kezhang", "kezhang"), "urge", "请尽快办理", clock.now))
        raise RuntimeError("the command failed after deciding")
    assert told(ctx, staff["kezhang"], "urge") == []
    with ctx.uow() as uow:
        uow.publish(StaffNotified(case_id, ("kezhang", "kezhang", ""), "urge", "请尽快办理", clock.now))
        uow.commit()
    assert told(ctx, staff["kezhang"], "urge") == [f"请尽快办理（门诊费用报销 {number}）"]  # each person once


def test_the_documents_of_where_a_case_went_are_issued_by_its_events(ctx, staff, clock):
    seen = []
    watched = bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock)
    for kind in (CaseAccepted, CaseClosed):  # the documents' handlers taken off: the commands only decide
        watched.bus.atomic[kind] = [lambda uow, event: seen.append(event)]
    number = accept(watched, staff, clock, "2026-11-23 09:30")
    case_operations.terminate_case(watched, staff["kezhang"], number, "申请人已死亡")
    case_id = cases.case_details(ctx, staff["shouli"], number).case.id
    assert seen == [CaseAccepted(case_id), CaseClosed(case_id, CASE_TERMINATED)]
    assert documents.list_documents(ctx, staff["shouli"], number) == []

    number = accept(ctx, staff, clock, "2026-11-23 10:30")
    case_operations.terminate_case(ctx, staff["kezhang"], number, "申请人已死亡")
    assert [d.kind for d in documents.list_documents(ctx, staff["shouli"], number)] == [
        documents.ACCEPTANCE, documents.TERMINATION]


@pytest.fixture
def texting(ctx, clock):
    gateway = RecordingSmsGateway()
    return bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock, sms=gateway), gateway


def opened_maternity(ctx, staff, clock):
    clock.now = at("2026-11-23 09:30")
    progress = cases.open_case(ctx, staff["shouli"], MATERNITY, APPLICANT, MATERNITY_DATA)
    materials.mark_materials(ctx, staff["shouli"], progress.case.number, CHECKED)
    return progress.case.number, progress.open_tasks[0].id


def test_a_waived_acceptance_is_recorded_noticed_and_texted_by_its_completion_event(texting, staff, clock):
    ctx, gateway = texting
    number, task_id = opened_maternity(ctx, staff, clock)
    tasks.complete_task(ctx, staff["shouli"], task_id, {"decision": "waive", "waiver_commitment": "true"})
    assert [d.kind for d in documents.list_documents(ctx, staff["shouli"], number)] == [documents.WAIVER]
    outbox.work_due(ctx)
    [text] = [m.text for m in gateway.sent]
    assert f"已容缺受理，请在补正期限内补齐材料，详见《容缺受理通知书》（文书编号RQ{number}）" in text


def test_a_refused_waiver_undoes_the_completion_and_texts_nobody(texting, staff, clock):
    ctx, gateway = texting
    number, task_id = opened_maternity(ctx, staff, clock)
    with pytest.raises(InvalidInput, match="容缺承诺书"):
        tasks.complete_task(ctx, staff["shouli"], task_id, {"decision": "waive", "waiver_commitment": ""})
    assert cases.case_details(ctx, staff["shouli"], number).case.stage == "受理"
    assert outbox.work_due(ctx) == 0 and gateway.sent == []
