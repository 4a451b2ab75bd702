"""Identity at intake in a real browser: a wrong 身份证号码 and an implausible bank account are refused beside their
fields with everything typed kept; an applicant the national platform does not know as insured is refused at 受理
with the finding, in the flash and in the 不予受理决定书."""
from __future__ import annotations

from playwright.sync_api import expect

from workflows.services.demo import resident_id

from .conftest import shot, sign_in
from .test_window_flow import document_row, pdf_of, register, start_application

OUTPATIENT = "002036006001"  # 门诊费用报销
ZHANG_WEI = {"name": "张伟", "id_number": resident_id("21040219800101123")}  # a demo insured person
UNKNOWN = {"name": "赵六", "id_number": resident_id("21040219900101123")}  # well-formed, no 参保 record


def fill_outpatient_form(page, account: str) -> None:
    page.get_by_label("医疗费用总额（元）").fill("860.00")
    page.get_by_label("就诊医院").fill("抚顺市中心医院")
    page.get_by_label("银行账号").fill(account)


def error_of(page, label: str):
    return page.locator(".field.has-error").filter(has=page.get_by_label(label)).get_by_role("alert")


def test_a_wrong_id_number_and_bank_account_are_refused_beside_the_fields(page, server):
    sign_in(page, server, "shouli")
    start_application(page, server, OUTPATIENT, {"name": "张伟", "id_number": "210402198001011230"})
    fill_outpatient_form(page, "1")
    page.get_by_role("button", name="登记申请").click()

    expect(error_of(page, "身份证号码或统一社会信用代码")).to_have_text("身份证号码校验码不正确，请核对证件")
    expect(error_of(page, "银行账号")).to_have_text("银行账号应为12至25位数字，请核对银行卡或开户许可证")
    shot(page, "identity-refused")
    for label, typed in (("姓名或单位名称", "张伟"), ("身份证号码或统一社会信用代码", "210402198001011230"),
                         ("医疗费用总额（元）", "860.00"), ("就诊医院", "抚顺市中心医院"), ("银行账号", "1")):
        expect(page.get_by_label(label)).to_have_value(typed)

    page.get_by_label("身份证号码或统一社会信用代码").fill(ZHANG_WEI["id_number"])
    page.get_by_label("银行账号").fill("6222020712001234567")
    assert register(page)


def test_an_applicant_without_insurance_is_refused_at_acceptance_with_the_finding(page, server):
    finding = "经全国医疗保障信息平台核查，申请人（证件号码 210402********1233）无参保记录，不能享受医疗保障待遇"
    sign_in(page, server, "shouli")
    start_application(page, server, OUTPATIENT, UNKNOWN)
    fill_outpatient_form(page, "6222020712001234567")
    number = register(page)

    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.locator(".flash-error")).to_contain_text(f"身份及参保核验未通过：{finding}")

    page.goto(f"{server}/cases/{number}")
    expect(page.locator("p.status")).to_contain_text("不予受理")
    row = document_row(page, "不予受理决定书")
    expect(row).to_be_visible()
    assert finding in pdf_of(page, row)
    shot(page, "identity-uninsured-case")
