"""The new-case page refuses a wrong 身份证号码 (check digit, birth date), an agent's wrong ID number, a wrong
统一社会信用代码 and an implausible bank account: 422, each error beside its field, everything typed kept."""
from __future__ import annotations

import lxml.html
import pytest

from workflows.services import cases
from workflows.services.demo import resident_id

from support.cases import APPLICANT
from support.web import csrf_token, html, sign_in

OUTPATIENT = "002036006001"


def new_case_form(client, **fields) -> dict:
    page = html(client.get(f"/cases/new?item_code={OUTPATIENT}"))
    return {"csrf_token": csrf_token(page), "item_code": OUTPATIENT, "applicant.name": "张伟",
            "applicant.id_number": APPLICANT["id_number"], "applicant.kind": "自然人", "applicant.phone": "13804130001",
            "expense_total": "860.50", "hospital_name": "抚顺市中心医院", "bank_account": "6222020712001234567",
            **fields}


def error_beside(page: str, name: str) -> str | None:
    """The error shown in the field (div.field) that holds the input `name`, or None."""
    [field] = lxml.html.fromstring(page).xpath(f'//div[contains(@class, "field")][.//*[@name="{name}"]]')
    errors = field.xpath('.//div[@class="field-error"]')
    return errors[0].text_content().strip() if errors else None


@pytest.mark.parametrize("fields, name, message", [
    ({"applicant.id_number": "210402198001011230"}, "applicant.id_number", "身份证号码校验码不正确，请核对证件"),
    ({"applicant.id_number": resident_id("21040219800230123")}, "applicant.id_number",
     "身份证号码中的出生日期 19800230 不是有效日期"),
    ({"applicant.id_number": resident_id("21040220300101123")}, "applicant.id_number", "身份证号码中的出生日期晚于今天"),
    ({"bank_account": "1"}, "bank_account", "银行账号应为12至25位数字，请核对银行卡或开户许可证"),
    ({"applicant.kind": "企业法人", "applicant.id_number": "91210400MA0Y3KXQ5N"}, "applicant.id_number",
     "统一社会信用代码校验码不正确，请核对营业执照或登记证书"),
    ({"applicant.agent.name": "李娜", "applicant.agent.id_number": "210402198505052226",
      "applicant.agent.relation": "配偶", "applicant.agent.original_checked": "on",
      "applicant.agent.checked_on": "2026-11-23"}, "applicant.agent.id_number",
     "代理人身份证号码校验码不正确，请核对证件"),
])
def test_a_wrong_identity_is_refused_beside_its_field_and_nothing_typed_is_lost(client, ctx, staff, fields, name,
                                                                                 message):
    sign_in(client, "shouli")
    form = new_case_form(client, **fields)

    refused = client.post("/cases/new", data=form)

    assert refused.status_code == 422
    page = html(refused)
    assert error_beside(page, name) == message
    assert error_beside(page, "applicant.name") is None  # the other fields are not blamed
    document = lxml.html.fromstring(page)
    for key, typed in form.items():
        if key in ("csrf_token", "item_code", "applicant.kind", "applicant.agent.original_checked"):
            continue
        [element] = document.xpath(f'//input[@name="{key}"]')
        assert element.get("value") == typed, key
    assert cases.search_cases(ctx, staff["shouli"]) == []


def test_the_corrected_application_is_registered(client, ctx, staff):
    sign_in(client, "shouli")
    client.post("/cases/new", data=new_case_form(client, **{"applicant.id_number": "210402198001011230"}))
    registered = client.post("/cases/new", data=new_case_form(client))
    assert registered.status_code == 302
    [case] = cases.search_cases(ctx, staff["shouli"])
    with ctx.uow(write=False) as uow:  # as stored (pages show it masked to who need not see it)
        assert uow.cases.get(case.number).applicant["id_number"] == APPLICANT["id_number"]
