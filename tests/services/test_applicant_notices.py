"""短信通知申请人: the applicant's phone gets a text when the case is 受理, returned for 补正 (一次性告知书), 办结 or
refused; the text is fixed by the command and sent after its commit through the outbox, once, retried with backoff
after a gateway failure, shown on 后台任务 while it fails and given up visibly. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from workflows.adapters.sms_gateway import RecordingSmsGateway, SmsFailed
from workflows.bootstrap import bootstrap
from workflows.domain.errors import Conflict
from workflows.domain.events import MAX_ATTEMPTS
from workflows.entrypoints.app import create_app
from workflows.services import applicant_notices, cases, demo, materials, notices, outbox, tasks

from support.cases import APPLICANT, DATA, OUTPATIENT, accept
from support.documented import DocumentedClient
from support.process_driver import drive

pytestmark = pytest.mark.both_databases  # the outbox rows are the command's: the database matters


@pytest.fixture
def gateway():
    return RecordingSmsGateway()


@pytest.fixture
def texting(ctx, clock, gateway):
    """The installation as bootstrap wires it, with the SMS gateway the test watches."""
    return bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock, sms=gateway)


class Unreachable:
    """A gateway that is down: every text fails until `up` is set."""

    def __init__(self, then: RecordingSmsGateway):
        self.then, self.up, self.tries = then, False, 0

    def send(self, phone, text, key):
        self.tries += 1
        if not self.up:
            raise SmsFailed("短信网关无法连接（Connection refused）")
        return self.then.send(phone, text, key)


def texts(gateway) -> list[str]:
    return [message.text for message in gateway.sent]


def test_an_accepted_case_texts_the_applicant_once_after_the_commit(texting, staff, clock, gateway):
    number = accept(texting, staff, clock, "2026-11-23 09:30")
    assert gateway.sent == []  # nothing goes out from inside the command

    assert outbox.work_due(texting) == 1
    [message] = gateway.sent
    assert message.phone == APPLICANT["phone"]
    assert message.text == (f"【医保经办】您申请的门诊费用报销（办件编号{number}）已受理，《受理通知书》文书编号SL{number}。")
    [shown] = applicant_notices.case_messages(texting, staff["shouli"], _case_id(texting, staff, number))
    assert (shown.phone, shown.status, shown.text) == (APPLICANT["phone"], "已发送", message.text)

    assert outbox.work_due(texting) == 0  # exactly once: the entry is done
    assert len(gateway.sent) == 1
    calls = [c for c in cases.case_details(texting, staff["shouli"], number).external_calls if c.system == "sms"]
    assert [(c.request["text"], c.response["idempotency_key"]) for c in calls] == [(message.text, message.key)]


def test_a_designer_reads_the_texts_with_the_phone_masked(texting, staff, clock):
    number = accept(texting, staff, clock, "2026-11-23 09:30")
    outbox.work_due(texting)
    [shown] = applicant_notices.case_messages(texting, staff["sheji"], _case_id(texting, staff, number))
    assert shown.phone == "138****0001"


def test_a_returned_case_is_texted_its_correction_and_a_rolled_back_command_sends_nothing(texting, staff, clock,
                                                                                         gateway):
    number = accept(texting, staff, clock, "2026-11-23 09:30")
    materials.mark_materials(texting, staff["shouli"], number, {0: "missing"})
    notices.return_for_correction(texting, staff["shouli"], number, "发票不清晰")
    with pytest.raises(Conflict):  # the notice is issued, then the clock is found paused already: all undone
        notices.return_for_correction(texting, staff["shouli"], number, "再次补正")

    outbox.work_due(texting)
    assert len(gateway.sent) == 2
    assert f"材料需补正，请按《一次性告知书》（文书编号GZ{number}）一次性补齐" in texts(gateway)[1]


def test_a_refused_case_is_texted_its_decision(texting, staff):
    journey = drive(texting, staff["clerk_210400_01"], OUTPATIENT, refuse_at=0)
    outbox.work_due(texting)
    number = journey.case.number
    assert applicant_notices.case_messages(texting, staff["shouli"], journey.case.id)[-1].text == (
        f"【医保经办】您申请的门诊费用报销（办件编号{number}）不予受理，理由及救济途径见《不予受理决定书》"
        f"（文书编号BSL{number}）。")


def test_a_completed_case_is_texted_once_about_its_completion(texting, staff, gateway):
    journey = drive(texting, staff["clerk_210400_01"], OUTPATIENT)
    assert journey.case.result == "办结"
    outbox.work_due(texting)
    done = [text for text in texts(gateway) if "已办结" in text or "已办理完成" in text]
    assert len(done) == 1, texts(gateway)  # the process's 通知申请人 step, or the 办结通知书: not both
    assert texts(gateway)[0].startswith("【医保经办】") and len(gateway.sent) == 2  # 受理, then 办结


def test_an_applicant_without_a_phone_gets_no_text(texting, staff, gateway):
    applicant = {key: value for key, value in APPLICANT.items() if key != "phone"}
    progress = cases.open_case(texting, staff["shouli"], OUTPATIENT, applicant, DATA)
    tasks.complete_task(texting, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    assert outbox.work_due(texting) == 0 and gateway.sent == []


def test_a_gateway_failure_is_shown_and_retried_with_backoff_then_sent_once(ctx, staff, clock, gateway):
    down = Unreachable(gateway)
    texting = bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock, sms=down)
    number = accept(texting, staff, clock, "2026-11-23 09:30")

    assert outbox.work_due(texting) == 0
    [failure] = outbox.failures(texting, staff["kezhang"])
    assert (failure.label, failure.case_number, failure.entry.attempts) == ("短信通知申请人", number, 1)
    assert failure.entry.last_error == "SmsFailed: 短信网关无法连接（Connection refused）"
    assert failure.entry.next_attempt_at == clock.now + timedelta(minutes=1)
    [shown] = applicant_notices.case_messages(texting, staff["shouli"], _case_id(texting, staff, number))
    assert (shown.status, shown.sent_at) == ("发送失败（将重试）", None)

    assert outbox.work_due(texting) == 0 and down.tries == 1  # not before its time
    down.up = True
    clock.advance(minutes=1)
    assert outbox.work_due(texting) == 1
    assert len(gateway.sent) == 1 and outbox.failures(texting, staff["admin"]) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_failed_text_is_listed_on_the_api_as_the_document_describes_it(ctx, staff, clock, gateway):
    texting = bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock, sms=Unreachable(gateway))
    number = accept(texting, staff, clock, "2026-11-23 09:30")
    outbox.work_due(texting)
    app = create_app(texting, secret_key="test-secret")
    app.test_client_class = DocumentedClient  # fails on an answer outside the OpenAPI document
    client = app.test_client()
    token = client.post("/api/login", json={"username": "admin", "password": demo.DEMO_PASSWORD}).get_json()["token"]

    [listed] = client.get("/api/outbox/failures", headers={"Authorization": f"Bearer {token}"}).get_json()

    assert (listed["kind"], listed["kind_name"], listed["case_number"]) == ("send_sms", "短信通知申请人", number)


def test_a_text_sent_again_after_a_crash_carries_the_same_key_and_arrives_once(ctx, staff, clock, gateway):
    class TakenThenLost:
        """The platform takes the text, but its answer is lost: the entry stays undone."""

        def __init__(self):
            self.keys = []

        def send(self, phone, text, key):
            self.keys.append(key)
            gateway.send(phone, text, key)
            if len(self.keys) == 1:
                raise SmsFailed("短信网关无法连接（timed out）")
            return f"SMS{key}"

    flaky = TakenThenLost()
    texting = bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock, sms=flaky)
    accept(texting, staff, clock, "2026-11-23 09:30")
    outbox.work_due(texting)
    clock.advance(minutes=1)
    assert outbox.work_due(texting) == 1
    assert len(set(flaky.keys)) == 1 and len(flaky.keys) == 2 and len(gateway.sent) == 1


def test_a_text_that_keeps_failing_is_given_up_visibly_until_a_person_retries_it(ctx, staff, clock, gateway):
    down = Unreachable(gateway)
    texting = bootstrap(ctx.session_factory, engine=ctx.engine, clock=clock, sms=down)
    number = accept(texting, staff, clock, "2026-11-23 09:30")
    for _ in range(MAX_ATTEMPTS):
        outbox.work_due(texting)
        clock.advance(hours=2)
    assert down.tries == MAX_ATTEMPTS
    [failure] = outbox.failures(texting, staff["admin"])
    assert failure.entry.given_up and failure.entry.next_attempt_at is None
    [shown] = applicant_notices.case_messages(texting, staff["shouli"], _case_id(texting, staff, number))
    assert shown.status == "发送失败（已停止自动重试）"
    clock.advance(days=1)
    assert outbox.work_due(texting) == 0 and down.tries == MAX_ATTEMPTS  # no more tries by itself

    down.up = True
    entry, _ = outbox.retry(texting, staff["admin"], failure.entry.id)
    assert entry.done_at is not None and len(gateway.sent) == 1


def _case_id(ctx, staff, number: str) -> int:
    return cases.case_details(ctx, staff["shouli"], number).case.id
