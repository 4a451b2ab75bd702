"""Identity at intake and no payment to an unverified or uninsured applicant, over the REST API: POST /api/cases
answers 422 naming the field (applicant, agent, bank account), an inbound 联系函 with a wrong ID number opens
nothing, and an uninsured applicant's case ends 不予受理 with the finding in its 决定书, never paid."""
from __future__ import annotations

from uuid import uuid4

import pytest

from workflows.services.demo import resident_id

from services.test_documents import pdf_text
from support.http import error_of, json_of
from support.process_driver import PERSON_ID

OUTPATIENT = "002036006001"
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
EXPENSES = {"expense_total": "860.00", "bank_account": "6222020712001234567"}
AGENT = {"name": "李娜", "id_number": resident_id("21040219850505222"), "relation": "配偶",
         "power_of_attorney": {"original_checked": True, "checked_on": "2026-11-23"}}


def apply(client, headers, applicant=None, data=None):
    application = {"item_code": OUTPATIENT, "applicant": applicant or APPLICANT, "data": data or EXPENSES}
    return client.post("/api/cases", headers=headers, json=application)


@pytest.mark.parametrize("applicant, data, fields", [
    ({**APPLICANT, "id_number": "210402198001011230"}, EXPENSES,
     {"applicant.id_number": "身份证号码校验码不正确，请核对证件"}),
    ({**APPLICANT, "id_number": resident_id("21040219801301123")}, EXPENSES,
     {"applicant.id_number": "身份证号码中的出生日期 19801301 不是有效日期"}),
    ({**APPLICANT, "agent": {**AGENT, "id_number": "210402198505052226"}}, EXPENSES,
     {"applicant.agent.id_number": "代理人身份证号码校验码不正确，请核对证件"}),
    (APPLICANT, {**EXPENSES, "bank_account": "1"}, {"bank_account": "银行账号应为12至25位数字，请核对银行卡或开户许可证"}),
    ({**APPLICANT, "kind": "企业法人", "id_number": "91210400MA0Y3KXQ5N"}, {**EXPENSES, "bank_account": "62220207A"},
     {"applicant.id_number": "统一社会信用代码校验码不正确，请核对营业执照或登记证书",
      "bank_account": "银行账号只能由数字组成（不含空格和字母）"}),
])
def test_a_wrong_identity_or_bank_account_is_refused_with_422_naming_the_field(client, auth, applicant, data, fields):
    shouli = auth("shouli")
    error = error_of(apply(client, shouli, applicant, data), 422, "invalid_input")
    assert error["fields"] == fields
    assert json_of(client.get("/api/cases", headers=shouli)) == []


def test_an_uninsured_applicant_is_refused_with_the_finding_and_never_paid(client, auth):
    shouli, unknown = auth("shouli"), resident_id("21040219900101123")
    number = json_of(apply(client, shouli, {"name": "赵六", "id_number": unknown}), 201)["number"]
    [task] = [t for t in json_of(client.get("/api/tasks", headers=shouli)) if t["case_number"] == number]

    closed = json_of(client.post(f"/api/tasks/{task['id']}/complete", headers=shouli,
                                 json={"data": {"decision": "accept", "opinion": "材料齐全"}}))

    assert (closed["status"], closed["result"]) == ("closed", "不予受理")
    case = json_of(client.get(f"/api/cases/{number}", headers=shouli))
    assert case["data"]["insured"] is False and "payable_amount" not in case["data"]
    assert [c["system"] for c in case["external_calls"] if c["system"] == "payment"] == []
    assert not [t for t in json_of(client.get("/api/tasks", headers=auth("caiwu"))) if t["case_number"] == number]
    [decision] = [d for d in json_of(client.get(f"/api/cases/{number}/documents", headers=shouli))
                  if d["kind"] == "refusal_decision"]
    text = pdf_text(client.get(decision["pdf_url"], headers=shouli).data)
    assert "申请人（证件号码 210402********1233）无参保记录，不能享受医疗保障待遇" in text


def test_an_inbound_contact_letter_with_a_wrong_id_number_opens_nothing(client, auth):
    """A 联系函 from another installation's 转入地 asks 抚顺 (转出地) to open a case: its applicant is checked as at
    the window."""
    admin = auth("admin")
    letter = {"id": str(uuid4()), "name": "联系函", "from_agency": "440300", "to_agency": "210400",
              "correlation": "440300-20261120-00007",
              "payload": {"certificate_no": "PZ-2104-0001", "from_region": "辽宁省抚顺市", "from_agency": "210400",
                          "applicant": {"name": "张伟", "id_number": "210402198001011230", "kind": "自然人"}}}

    error = error_of(client.post("/api/agency-messages", headers=admin, json=letter), 422, "invalid_input")

    assert error["fields"] == {"payload.applicant.id_number": "身份证号码校验码不正确，请核对证件"}
    assert json_of(client.get("/api/cases", headers=admin)) == []
    letter["payload"]["applicant"]["id_number"] = PERSON_ID
    assert json_of(client.post("/api/agency-messages", headers=admin, json=letter), 201)["target_case"]
