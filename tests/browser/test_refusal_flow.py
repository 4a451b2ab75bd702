"""A refusal and the materials at 受理 in a real browser: 受理 with a required material 缺少 is refused with every
mark, the 办理意见 and the decision kept, and offers the 一次性告知书; a 不予受理 shows its 决定书 for confirmation
(going back loses nothing), and only the confirmation issues it, with the reason printed verbatim."""
from __future__ import annotations

from playwright.sync_api import expect

from .conftest import shot, sign_in
from .test_window_flow import OUTPATIENT, ZHANG_WEI, document_row, pdf_of, register, start_application

REASON = "就诊医院非本市定点医疗机构，依《抚顺市基本医疗保险门诊费用结算办法》第六条不予报销"


def open_outpatient(page, server) -> str:
    sign_in(page, server, "shouli")
    start_application(page, server, OUTPATIENT, ZHANG_WEI)
    page.get_by_label("医疗费用总额（元）").fill("860.50")
    page.get_by_label("银行账号").fill("6222020712001234567")
    return register(page)


def material(page, name: str):
    return page.locator(f'fieldset.material-status[aria-label="{name}"]')


def test_acceptance_with_a_required_material_missing_is_refused_and_nothing_typed_is_lost(page, server):
    number = open_outpatient(page, server)
    material(page, "医院收费票据").get_by_label("已提交", exact=True).check()
    material(page, "门急诊费用清单").get_by_label("缺少", exact=True).check()
    material(page, "医保卡复印件").get_by_label("容缺", exact=True).check()
    page.get_by_label("办理意见").fill("费用清单未带")
    page.get_by_role("button", name="受理", exact=True).click()

    expect(page.locator(".materials-error")).to_contain_text("缺少必要材料门急诊费用清单：请出具《一次性告知书》")
    expect(material(page, "医院收费票据").get_by_label("已提交", exact=True)).to_be_checked()
    expect(material(page, "门急诊费用清单").get_by_label("缺少", exact=True)).to_be_checked()
    expect(material(page, "医保卡复印件").get_by_label("容缺", exact=True)).to_be_checked()
    expect(page.get_by_label("办理意见")).to_have_value("费用清单未带")
    expect(page.locator("h1")).to_contain_text("受理")
    shot(page, "refusal-missing-material")

    page.locator("#task-form").get_by_role("button", name="按所核材料出具一次性告知书").click()
    expect(page.get_by_role("status")).to_contain_text(f"已出具《一次性告知书》（文书编号 GZ{number}）")
    expect(page.get_by_label("办理意见")).to_have_value("费用清单未带")
    expect(material(page, "门急诊费用清单").get_by_label("缺少", exact=True)).to_be_checked()
    assert "门急诊费用清单" in pdf_of(page, document_row(page, "一次性告知书"))


def test_a_refusal_shows_its_decision_for_confirmation_before_it_is_issued(page, server):
    number = open_outpatient(page, server)
    page.get_by_role("button", name="不予受理").click()
    error = page.locator(".field.has-error").filter(has=page.get_by_label("办理意见"))
    expect(error.get_by_role("alert")).to_have_text("请填写不予受理的理由")

    page.get_by_label("办理意见").fill(REASON)
    page.get_by_role("button", name="不予受理").click()
    preview = page.get_by_role("region", name="不予受理决定书预览")
    expect(preview).to_contain_text(f"文书编号：BSL{number}")
    expect(preview).to_contain_text(f"理由：{REASON}")
    expect(preview).to_contain_text("如不服本决定，可在收到本决定书之日起六十日内依法申请行政复议")
    expect(document_row(page, "不予受理决定书")).to_have_count(0)  # nothing issued yet
    shot(page, "refusal-preview")

    page.get_by_role("button", name="返回修改").click()
    expect(page.get_by_label("办理意见")).to_have_value(REASON)
    page.get_by_role("button", name="不予受理").click()
    page.get_by_role("button", name="确认出具《不予受理决定书》").click()
    expect(page.get_by_role("status").first).to_contain_text(f"{number} 已办理")

    page.goto(f"{server}/cases/{number}")
    row = document_row(page, "不予受理决定书")
    expect(row).to_contain_text(f"BSL{number}")
    text = pdf_of(page, row)
    assert f"理由：{REASON}" in text and "不符合办理条件" not in text
