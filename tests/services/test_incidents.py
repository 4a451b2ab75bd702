"""Incidents on a real 门诊费用报销 case: a payment outage lists the case for the hall's 科室负责人 (told after the
commit), a retry that fails again keeps it listed with the new error, and one that succeeds pays exactly once."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner

from handlers.gateways import LocalPaymentGateway
from workflows.domain.errors import Forbidden, InvalidInput
from workflows.entrypoints.cli import main
from workflows.services import cases, incidents, outbox, tasks, users

from support.cases import accept
from support.web import csrf_token, html, sign_in

DECISIONS = {"shenhe": "approve", "caiwu": "pay"}


def complete(ctx, staff, username, number):
    [task] = [t for t in tasks.list_tasks(ctx, staff[username]) if t.case_number == number and t.stage != "督办"]
    return tasks.complete_task(ctx, staff[username], task.id, {"decision": DECISIONS[username]})


def at_payment(ctx, staff, clock) -> str:
    """A 门诊 case accepted and approved: its 拨付 waits for 财务."""
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    complete(ctx, staff, "shenhe", number)
    return number


def bank_down(monkeypatch, message):
    def refuse(self, account, amount, reference):
        raise ConnectionError(message)
    monkeypatch.setattr(LocalPaymentGateway, "pay", refuse)


def incident_notes(ctx, user):
    return [n["message"] for n in users.notifications(ctx, user) if n["kind"] == "incident"]


def test_a_payment_outage_is_an_incident_cleared_by_one_retry(ctx, staff, clock, monkeypatch):
    number = at_payment(ctx, staff, clock)
    pay = LocalPaymentGateway.pay
    bank_down(monkeypatch, "银行接口连接超时")
    complete(ctx, staff, "caiwu", number)

    [incident] = incidents.list_incidents(ctx, staff["kezhang"])
    assert (incident.ref, incident.kind_label, incident.handler, incident.task_name) == (
        f"case:{number}", "办件步骤出错", "payment", "拨付资金")
    assert "银行接口连接超时" in incident.error and incident.hall_code == "210400-01"
    assert incidents.list_incidents(ctx, staff["kezhang2"]) == []  # another hall's supervisor
    assert [i.ref for i in incidents.list_incidents(ctx, staff["admin"])] == [incident.ref]
    assert incidents.list_incidents(ctx, staff["kezhang"], handler="identity_check") == []
    assert incidents.list_incidents(ctx, staff["kezhang"], item="002036006001") == [incident]
    assert incidents.list_incidents(ctx, staff["admin"], hall="210400-02") == []  # the administrator, by hall
    assert incidents.list_incidents(ctx, staff["admin"], hall="210400-01") == [incident]
    assert incidents.list_incidents(ctx, staff["kezhang"], since=incident.since) == [incident]
    assert incidents.list_incidents(ctx, staff["kezhang"], since=incident.since + timedelta(seconds=1)) == []
    assert incidents.counts(ctx, staff["kezhang"])["case"] == 1

    assert incident_notes(ctx, staff["kezhang"]) == []  # told after the commit, from the outbox
    outbox.work_due(ctx)
    [note] = incident_notes(ctx, staff["kezhang"])
    assert number in note and "银行接口连接超时" in note
    assert incident_notes(ctx, staff["kezhang2"]) == []

    bank_down(monkeypatch, "银行返回：账户冻结")
    [outcome] = incidents.retry_incidents(ctx, staff["kezhang"], [incident.ref], "银行称已恢复")
    assert not outcome.retried and "账户冻结" in outcome.error
    [still] = incidents.list_incidents(ctx, staff["kezhang"])
    assert "账户冻结" in still.error
    outbox.work_due(ctx)
    assert len(incident_notes(ctx, staff["kezhang"])) == 1  # the same incident: not told again

    monkeypatch.setattr(LocalPaymentGateway, "pay", pay)
    outcomes = incidents.retry_incidents(ctx, staff["kezhang"], [incident.ref, incident.ref], "银行接口已恢复")
    assert [(o.ref, o.retried) for o in outcomes] == [(incident.ref, True)]  # named twice, retried once
    assert incidents.list_incidents(ctx, staff["kezhang"]) == []
    again = incidents.retry_incidents(ctx, staff["kezhang"], [incident.ref], "再试")
    assert [(o.retried, o.error) for o in again] == [(False, "故障不存在或已处理")]
    details = cases.case_details(ctx, staff["kezhang"], number)
    assert (details.case.status, details.case.result) == ("closed", "办结")
    assert len([call for call in details.external_calls if call.system == "payment"]) == 1


def test_only_supervisors_and_administrators_see_and_retry_incidents(ctx, staff):
    with pytest.raises(Forbidden):
        incidents.list_incidents(ctx, staff["caiwu"])
    with pytest.raises(Forbidden):
        incidents.retry_incidents(ctx, staff["shouli"], ["case:x"], "重试")


def test_a_retry_needs_a_selection_and_a_reason(ctx, staff):
    with pytest.raises(InvalidInput) as error:
        incidents.retry_incidents(ctx, staff["kezhang"], [], "重试")
    assert "refs" in error.value.field_errors
    with pytest.raises(InvalidInput) as error:
        incidents.retry_incidents(ctx, staff["kezhang"], ["case:x"], "  ")
    assert "reason" in error.value.field_errors
    for refs in ([{}], ["case:x", ["case:y"]], [7]):  # a ref is a text (an object once gave a 500 in the API)
        with pytest.raises(InvalidInput) as error:
            incidents.retry_incidents(ctx, staff["kezhang"], refs, "重试")
        assert "refs" in error.value.field_errors


def test_the_api_and_the_cli_list_and_retry_incidents(ctx, staff, clock, monkeypatch, client, auth):
    number = at_payment(ctx, staff, clock)
    pay = LocalPaymentGateway.pay
    bank_down(monkeypatch, "银行接口连接超时")
    complete(ctx, staff, "caiwu", number)
    kezhang = auth("kezhang")

    listed = client.get("/api/incidents?handler=payment", headers=kezhang)
    assert [(i["ref"], i["task_name"]) for i in listed.get_json()] == [(f"case:{number}", "拨付资金")]
    assert client.get("/api/incidents?since=2099-01-01", headers=kezhang).get_json() == []
    refused = client.get("/api/incidents?since=昨天", headers=kezhang)
    assert refused.status_code == 422 and "since" in refused.get_json()["error"]["fields"]
    assert client.get("/api/incidents", headers=auth("caiwu")).status_code == 403
    shown = client.get(f"/api/incidents/case:{number}", headers=kezhang).get_json()
    assert "银行接口连接超时" in shown["error"] and shown["detail"] is not None
    no_reason = client.post("/api/incidents/retry", json={"refs": [f"case:{number}"]}, headers=kezhang)
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["error"]["fields"]
    not_a_ref = client.post("/api/incidents/retry", json={"refs": [{}], "reason": ""}, headers=kezhang)
    assert not_a_ref.status_code == 422 and "refs" in not_a_ref.get_json()["error"]["fields"]

    def cli(*args, expect=0):
        result = CliRunner().invoke(main, ["--database-url", ctx_url(ctx), *args], catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result.output

    assert f"case:{number}\t办件步骤出错\t{number}\tpayment" in cli("incidents", "--user", "kezhang")
    assert "未成功：" in cli("retry", f"case:{number}", "--reason", "试一次", "--user", "kezhang", expect=1)
    monkeypatch.setattr(LocalPaymentGateway, "pay", pay)
    retried = client.post("/api/incidents/retry", json={"refs": [f"case:{number}"], "reason": "银行已恢复"},
                          headers=kezhang).get_json()
    assert retried == [{"ref": f"case:{number}", "retried": True, "error": None}]
    assert cli("incidents", "--user", "kezhang") == ""


def ctx_url(ctx) -> str:
    return ctx.session_factory.kw["bind"].url.render_as_string(hide_password=False)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_incidents_page_lists_retries_the_ticked_ones_and_statistics_counts_them(ctx, staff, clock, monkeypatch,
                                                                                    client):
    number = at_payment(ctx, staff, clock)
    pay = LocalPaymentGateway.pay
    bank_down(monkeypatch, "银行接口连接超时")
    complete(ctx, staff, "caiwu", number)
    sign_in(client, "kezhang")
    page = html(client.get("/admin/incidents"))
    assert "故障处理" in page and number in page and "银行接口连接超时" in page and "payment" in page
    assert number not in html(client.get("/admin/incidents?handler=identity_check"))
    assert re.search(r"办件步骤出错</th><td>1<", html(client.get("/statistics")))

    monkeypatch.setattr(LocalPaymentGateway, "pay", pay)
    token = csrf_token(page)
    refused = client.post("/admin/incidents/retry", data={"csrf_token": token, "ref": f"case:{number}"},
                          follow_redirects=True)
    assert "请填写重试原因" in html(refused) and number in html(refused)
    done = client.post("/admin/incidents/retry", follow_redirects=True,
                       data={"csrf_token": token, "ref": f"case:{number}", "reason": "银行接口已恢复"})
    assert f"case:{number} 已重试成功" in html(done) and "没有待处理的故障" in html(done)
