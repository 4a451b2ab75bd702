"""转移接续 between two agencies of this installation, through the service layer: the receiving agency's (转入地)
case throws the 联系函, which opens a case at the sending agency (转出地) with its own clock; that case's 信息表 goes
back to the waiting receiving case; both end 办结. Also: a delivery that fails and is retried, one left pending
for the scheduler, and messages to and from another installation (outbound, and posted in, once per id).

The clock starts on Monday 2026-11-23 09:30; 10 working days after it end on 2026-12-07 17:00."""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from uuid import uuid4

import pytest

from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.services import agency_messages, cases, catalog, desk, incidents, outbox, tasks, users
from workflows.services.scheduler import fire_due_timers

from services.test_command_sql import statements_of
from support.cases import APPLICANT, at
from support.paths import CATALOG_DIR

TRANSFER = "002036003002"
LINKOU, FUSHUN, WENSHANG, SHENZHEN = "231025", "210400", "370830", "440300"  # 深圳: not in this installation
CLERKS = {LINKOU: "clerk_231025_02", FUSHUN: "clerk_210400_01", WENSHANG: "clerk_370830_01"}  # every role


@dataclass
class Transfer:
    number: str  # the receiving case
    clerk: object  # a clerk of every role in the receiving hall


def apply(ctx, staff, clock, receiving: str, sending: str, when: str = "2026-11-23 09:30") -> Transfer:
    """An application at `receiving` to move the insurance of 张伟 from `sending`, accepted and approved there:
    the case has issued its 联系函."""
    clock.now = at(when)
    clerk = staff[CLERKS[receiving]]
    data = {"from_region": "外地", "from_agency": sending, "certificate_no": "PZ-2026-0001"}
    progress = cases.open_case(ctx, clerk, TRANSFER, APPLICANT, data)
    complete(ctx, clerk, progress.case.number, "accept")
    complete(ctx, clerk, progress.case.number, "approve")
    return Transfer(progress.case.number, clerk)


def complete(ctx, clerk, number: str, decision: str):
    [task] = [t for t in tasks.list_tasks(ctx, clerk) if t.case_number == number]
    return tasks.complete_task(ctx, clerk, task.id, {"decision": decision, "opinion": "同意"}).case


def exchange(ctx, clerk, number: str) -> agency_messages.CaseExchange:
    return agency_messages.case_exchange(ctx, clerk, number)


def partner_number(ctx, transfer: Transfer) -> str:
    [linked] = exchange(ctx, transfer.clerk, transfer.number).linked
    return linked.number


def limits(ctx, clerk, number: str) -> dict:
    return {row.kind: row for row in cases.case_details(ctx, clerk, number).deadlines}


@pytest.mark.parametrize("receiving,sending", [(LINKOU, FUSHUN), (FUSHUN, LINKOU)])
def test_a_transfer_runs_through_both_agencies_to_completion(ctx, staff, clock, receiving, sending):
    transfer = apply(ctx, staff, clock, receiving, sending)
    sending_clerk = staff[CLERKS[sending]]

    waiting = cases.case_details(ctx, transfer.clerk, transfer.number).case
    assert (waiting.stage, waiting.status) == ("信息表", "open")
    [letter] = exchange(ctx, transfer.clerk, transfer.number).messages
    assert (letter.message.name, letter.message.status, letter.message.to_agency) == ("联系函", "delivered", sending)
    partner = partner_number(ctx, transfer)
    assert partner.startswith(f"{sending}-20261123-")

    opened = cases.case_details(ctx, sending_clerk, partner)
    assert (opened.case.item_name, opened.case.stage, opened.case.opened_by) == (
        "转移接续手续办理（转出地）", "审核", "system")
    assert opened.case.applicant["id_number"] == APPLICANT["id_number"]
    assert opened.case.data["contact_letter"]["certificate_no"] == "PZ-2026-0001"
    assert opened.history[0].message.endswith(f"的“联系函”，立案（关联办件 {transfer.number}）")
    [linked] = exchange(ctx, sending_clerk, partner).linked
    assert (linked.number, linked.agency_code, linked.status, linked.stage) == (
        transfer.number, receiving, "办理中", "信息表")
    [review] = [t for t in tasks.list_tasks(ctx, sending_clerk) if t.case_number == partner]
    assert (review.name, review.due_at) == ("审核", at("2026-12-07 17:00"))  # the inbox sorts by the 信息表 limit

    clock.now = at("2026-11-25 10:00")
    complete(ctx, sending_clerk, partner, "approve")  # funds transferred, 信息表 issued and sent

    sent = cases.case_details(ctx, sending_clerk, partner).case
    assert (sent.status, sent.result) == ("closed", "办结")
    received = cases.case_details(ctx, transfer.clerk, transfer.number)
    assert received.case.stage == "办结" and received.case.status == "open"
    assert received.case.data["info_sheet"] == {"certificate_no": "PZ-2026-0001"}
    assert [(m.message.name, m.message.status) for m in exchange(ctx, transfer.clerk, transfer.number).messages] == [
        ("联系函", "delivered"), ("信息表", "delivered")]
    messages = [entry.message for entry in received.history]
    assert any(m.startswith("“联系函”已送达") and m.endswith(f"：办件 {partner}") for m in messages)
    assert any(m.startswith("收到") and m.endswith("的“信息表”") for m in messages)

    done = complete(ctx, transfer.clerk, transfer.number, "accept")  # 接续确认
    assert (done.status, done.result) == ("closed", "办结")
    [linked] = exchange(ctx, sending_clerk, partner).linked
    assert linked.status == "已办结"


def test_a_message_delivered_into_its_waiting_case_reads_that_case_once_locked(ctx, staff, clock, monkeypatch):
    transfer = apply(ctx, staff, clock, LINKOU, FUSHUN)
    partner = partner_number(ctx, transfer)
    clock.now = at("2026-11-25 10:00")
    deliver, seen = agency_messages._deliver_now, []
    monkeypatch.setattr(agency_messages, "_deliver_now",
                        lambda c, message_id: seen.append(statements_of(c, lambda: deliver(c, message_id))))
    complete(ctx, staff[CLERKS[FUSHUN]], partner, "approve")  # its 信息表 goes to the waiting case
    assert cases.case_details(ctx, transfer.clerk, transfer.number).case.data["info_sheet"]
    reads_of_cases = [s for s in seen[0] if s.lstrip().startswith("SELECT cases.")]
    assert len(reads_of_cases) == 2, reads_of_cases  # the waiting case, locked as it is found; the sender's


@pytest.mark.parametrize("receiving,sending", [(LINKOU, FUSHUN), (FUSHUN, LINKOU)])
def test_each_side_keeps_its_stage_limit_and_the_sending_side_goes_red_when_late(ctx, staff, clock, receiving,
                                                                                  sending):
    """林口 sets 信息表 (10 working days from the 联系函), 抚顺 sets none: a 抚顺 sending case owes 林口's."""
    transfer = apply(ctx, staff, clock, receiving, sending)
    partner = partner_number(ctx, transfer)
    sending_clerk = staff[CLERKS[sending]]

    own = limits(ctx, sending_clerk, partner)
    assert list(own) == ["信息表"]  # no 受理 there: neither 承诺 nor 法定 limit, only the stage it owes
    assert (own["信息表"].starts_at, own["信息表"].due_at) == (at("2026-11-23 09:30"), at("2026-12-07 17:00"))
    assert cases.case_details(ctx, sending_clerk, partner).case.accepted_at == at("2026-11-23 09:30")
    theirs = limits(ctx, transfer.clerk, transfer.number)
    if receiving == LINKOU:  # 林口 watches its side too: the 联系函 sent, the 信息表 awaited from the same moment
        assert theirs["联系函"].met_at == at("2026-11-23 09:30")
        assert (theirs["信息表"].due_at, theirs["信息表"].met_at) == (at("2026-12-07 17:00"), None)
    else:
        assert list(theirs) == ["promised"]  # 抚顺 sets no stage limits

    clock.now = at("2026-12-08 09:00")
    fire_due_timers(ctx)

    supervisor = next(user for user in staff.values() if user.agency_code == sending
                      and user.hall_code == cases.case_details(ctx, sending_clerk, partner).case.hall_code
                      and user.has_role("supervisor"))
    assert [(e.limit_kind, e.level) for e in desk.list_escalations(ctx, supervisor)
            if e.case_number == partner] == [("信息表", "red")]


def test_a_delivery_that_fails_is_kept_failed_and_delivered_on_retry(ctx, staff, clock, tmp_path):
    """汶上 does not handle 转移接续: the 联系函 cannot be delivered until its list has the item."""
    transfer = apply(ctx, staff, clock, LINKOU, WENSHANG)

    [letter] = exchange(ctx, transfer.clerk, transfer.number).messages
    assert (letter.message.status, letter.target) == ("failed", None)
    assert letter.message.error.startswith("汶上县医疗保险管理中心没有等待“联系函”的办件")
    [linked] = exchange(ctx, transfer.clerk, transfer.number).linked
    assert (linked.number, linked.agency_code, linked.local) == (None, WENSHANG, True)  # no case there yet
    history = [entry.message for entry in cases.case_details(ctx, transfer.clerk, transfer.number).history]
    assert f"“联系函”送达汶上县医保中心失败：{letter.message.error}" in history
    window_clerk = users.save_user(ctx, "linkou_shouli", "林口受理员", "password123", LINKOU, "231025-02",
                                   ["acceptor"])
    with pytest.raises(Forbidden):  # the hall's clerk sees the case, retrying is for its supervisors
        agency_messages.retry(ctx, window_clerk, letter.message.id)
    with pytest.raises(NotFound):  # another hall's supervisor does not see it
        agency_messages.retry(ctx, staff["kezhang"], letter.message.id)
    with pytest.raises(Conflict, match="仍未送达"):
        agency_messages.retry(ctx, staff["admin"], letter.message.id)

    clock.now = at("2026-11-24 09:00")  # the next day 汶上's list has the item
    catalog.load_catalog(ctx, catalog_with_transfer_at(WENSHANG, tmp_path))
    retried = agency_messages.retry(ctx, transfer.clerk, letter.message.id)  # the hall's supervisor

    assert (retried.message.status, retried.message.error) == ("delivered", None)
    assert retried.target["agency_code"] == WENSHANG
    opened = cases.case_details(ctx, staff[CLERKS[WENSHANG]], retried.target["number"]).case
    assert opened.stage == "审核"
    with pytest.raises(Conflict, match="已送达"):
        agency_messages.retry(ctx, staff["admin"], letter.message.id)


def catalog_with_transfer_at(agency_code: str, tmp_path):
    """The catalog, with 转移接续 added to the agency's list (every hall)."""
    directory = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, directory)
    path = directory / "agencies" / f"{agency_code}.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f'\n  - code: "{TRANSFER}"\n'
                    "    promised_limit: {value: 20, unit: working_days}\n", encoding="utf-8")
    return directory


def test_a_message_left_pending_is_delivered_by_the_scheduler_once(ctx, staff, clock, monkeypatch):
    with monkeypatch.context() as stopped:  # the process stops between the commit and the delivery
        stopped.setattr(agency_messages, "deliver_after_commit", lambda ctx, event: None)
        transfer = apply(ctx, staff, clock, LINKOU, FUSHUN)
    [letter] = exchange(ctx, transfer.clerk, transfer.number).messages
    assert (letter.message.status, exchange(ctx, transfer.clerk, transfer.number).linked[0].number) == (
        "pending", None)

    assert agency_messages.deliver_pending(ctx) == 1
    assert agency_messages.deliver_pending(ctx) == 0
    [letter] = exchange(ctx, transfer.clerk, transfer.number).messages
    assert letter.message.status == "delivered"
    with ctx.uow(write=False) as uow:
        assert len(uow.cases.search(FUSHUN, item_code=TRANSFER)) == 1


# --- another installation ----------------------------------------------------------------------------------------

def letter_from_shenzhen(correlation: str = "440300-20261120-00007", **changes) -> dict:
    return {"id": str(uuid4()), "name": "联系函", "from_agency": SHENZHEN, "to_agency": FUSHUN,
            "correlation": correlation, "payload": {"certificate_no": "PZ-4403-0001", "applicant": APPLICANT},
            **changes}


def test_a_message_from_another_installation_opens_one_case_however_often_it_is_replayed(ctx, staff, clock):
    clock.now = at("2026-11-23 09:30")
    letter = letter_from_shenzhen()
    record, new = agency_messages.receive(ctx, staff["admin"], letter)
    assert new and (record.message.status, record.source) == ("delivered", None)
    partner = record.target["number"]

    again, new = agency_messages.receive(ctx, staff["admin"], dict(letter))
    assert not new and again.target["number"] == partner
    with pytest.raises(Conflict, match="内容与此次不同"):
        agency_messages.receive(ctx, staff["admin"], {**letter, "payload": {"certificate_no": "改过"}})
    with pytest.raises(Conflict, match="不在等待“联系函”"):  # another id, the same exchange: no second case
        agency_messages.receive(ctx, staff["admin"], {**letter, "id": str(uuid4())})
    with ctx.uow(write=False) as uow:
        assert [c.number for c in uow.cases.search(FUSHUN, item_code=TRANSFER)] == [partner]
    details = cases.case_details(ctx, staff["shenhe"], partner)
    assert details.case.applicant["name"] == "张伟"
    assert list(limits(ctx, staff["shenhe"], partner)) == []  # 深圳's entry is unknown here, 抚顺 sets none

    complete(ctx, staff["shenhe"], partner, "approve")

    [sheet] = agency_messages.list_messages(ctx, staff["admin"], "outbound")
    assert (sheet.message.name, sheet.message.to_agency, sheet.message.correlation, sheet.source["number"]) == (
        "信息表", SHENZHEN, "440300-20261120-00007", partner)
    [linked] = exchange(ctx, staff["shenhe"], partner).linked
    assert (linked.number, linked.agency_code, linked.status, linked.local) == (
        "440300-20261120-00007", SHENZHEN, None, False)
    sent = agency_messages.mark_sent(ctx, staff["admin"], sheet.message.id)
    assert sent.message.status == "sent"
    assert agency_messages.list_messages(ctx, staff["admin"], "outbound") == []
    with pytest.raises(Conflict, match="只有待转发的消息"):
        agency_messages.mark_sent(ctx, staff["admin"], sheet.message.id)


def test_a_receiving_case_sends_its_letter_out_and_takes_the_sheet_another_installation_posts(ctx, staff, clock):
    transfer = apply(ctx, staff, clock, LINKOU, SHENZHEN)
    [letter] = agency_messages.list_messages(ctx, staff["admin"], "outbound")
    assert (letter.message.name, letter.message.correlation, letter.message.payload["from_agency"]) == (
        "联系函", transfer.number, SHENZHEN)
    history = [entry.message for entry in cases.case_details(ctx, transfer.clerk, transfer.number).history]
    assert f"“联系函”发往其他系统的经办机构 {SHENZHEN}，待转发" in history

    sheet = {"id": str(uuid4()), "name": "信息表", "from_agency": SHENZHEN, "to_agency": LINKOU,
             "correlation": transfer.number, "payload": {"certificate_no": "PZ-2026-0001", "months": 96}}
    record, new = agency_messages.receive(ctx, staff["admin"], sheet)

    assert new and record.target["number"] == transfer.number
    case = cases.case_details(ctx, transfer.clerk, transfer.number).case
    assert case.data["info_sheet"]["months"] == 96
    assert complete(ctx, transfer.clerk, transfer.number, "accept").result == "办结"


def test_what_cannot_be_delivered_is_refused_whole(ctx, staff, clock):
    waiting_at_acceptance = cases.open_case(ctx, staff["clerk_231025_02"], TRANSFER, APPLICANT, {
        "from_region": "深圳", "from_agency": SHENZHEN, "certificate_no": "PZ-1"}).case.number
    admin = staff["admin"]
    refusals = [
        (NotFound, "本系统没有经办机构 110000", letter_from_shenzhen(to_agency="110000")),
        (NotFound, "没有等待“信息表”的办件", letter_from_shenzhen(name="信息表", to_agency=LINKOU,
                                                          correlation="231025-20261101-00099")),
        (Conflict, "案件当前不在等待“信息表”", letter_from_shenzhen(name="信息表", to_agency=LINKOU,
                                                           correlation=waiting_at_acceptance)),
    ]
    for error, message, posted in refusals:
        with pytest.raises(error, match=message):
            agency_messages.receive(ctx, admin, posted)
    with pytest.raises(InvalidInput) as invalid:
        agency_messages.receive(ctx, admin, {"id": "1", "name": "", "from_agency": "4403", "payload": []})
    assert set(invalid.value.field_errors) == {"id", "name", "from_agency", "to_agency", "correlation", "payload"}
    with pytest.raises(Forbidden):
        agency_messages.receive(ctx, staff["shouli"], letter_from_shenzhen())
    assert agency_messages.list_messages(ctx, admin) == []  # nothing half-done
    with ctx.uow(write=False) as uow:
        assert uow.cases.search(FUSHUN, item_code=TRANSFER) == []


def test_an_undelivered_message_is_an_incident_of_the_sending_hall_retried_from_the_list(ctx, staff, clock,
                                                                                           tmp_path):
    transfer = apply(ctx, staff, clock, LINKOU, WENSHANG)
    [letter] = exchange(ctx, transfer.clerk, transfer.number).messages
    [incident] = incidents.list_incidents(ctx, transfer.clerk)  # a supervisor (among its roles) of the hall
    assert (incident.ref, incident.kind_label, incident.case_number, incident.handler) == (
        f"message:{letter.message.id}", "消息送达失败", transfer.number, "联系函")
    outbox.work_due(ctx)
    [note] = [n["message"] for n in users.notifications(ctx, transfer.clerk) if n["kind"] == "incident"]
    assert transfer.number in note and "“联系函”送达失败" in note

    [failed] = incidents.retry_incidents(ctx, transfer.clerk, [incident.ref], "汶上尚未开通该事项")
    assert not failed.retried and "仍未送达" in failed.error
    clock.now = at("2026-11-24 09:00")  # the next day 汶上's list has the item
    catalog.load_catalog(ctx, catalog_with_transfer_at(WENSHANG, tmp_path))
    [outcome] = incidents.retry_incidents(ctx, transfer.clerk, [incident.ref], "汶上已开通该事项")
    assert outcome.retried and incidents.list_incidents(ctx, transfer.clerk) == []
