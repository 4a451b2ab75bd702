"""The window clerk's acceptance rules in a real browser: 委托办理 at registration, the 一次性告知书 with its PDF,
容缺受理 and the waived material handed in later, and a 禁办情形 found at 受理."""
from __future__ import annotations

import re
from io import BytesIO
from urllib.parse import urljoin

from playwright.sync_api import expect
from pypdf import PdfReader

from workflows.services.demo import resident_id

from .conftest import shot, sign_in

OUTPATIENT = "002036006001"  # 门诊费用报销
MATERNITY = "002036007004"  # 生育津贴支付: 结婚证, 生育登记单, 医保卡复印件 可容缺 at 抚顺
EMPLOYEE = "00203601002"  # 职工参保登记: 禁办 for a 个体 of 外地户籍 without a 抚顺 居住证
WANG_FANG = {"name": "王芳", "id_number": resident_id("21040319850202234")}  # a demo insured person
ZHANG_WEI = {"name": "张伟", "id_number": resident_id("21040219800101123")}
AGENT = {"name": "王建国", "id_number": resident_id("21040219580808111"), "relation": "父母"}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


# --- what the clerk does on the pages -----------------------------------------------------------------------------

def start_application(page, server: str, item_code: str, applicant: dict) -> None:
    """新建办件: choose the item (the page reloads with its form) and type the applicant."""
    page.goto(f"{server}/cases/new")
    page.get_by_label("事项").select_option(item_code)
    page.get_by_role("heading", name="申请人").wait_for()
    page.get_by_label("姓名或单位名称").fill(applicant["name"])
    page.get_by_label("身份证号码或统一社会信用代码").fill(applicant["id_number"])


def fill_maternity_form(page) -> None:
    """生育津贴支付's application form: what a birth allowance needs."""
    page.get_by_label("产假天数").fill("98")
    page.get_by_label("单位上年度职工月平均工资（元）").fill("6500.00")
    page.get_by_label("银行账号").fill("6222020712001234567")


def register(page) -> str:
    """登记申请, landing on the case's 受理 task; returns the case number."""
    page.get_by_role("button", name="登记申请").click()
    page.wait_for_url(re.compile(r"/tasks/[0-9a-f-]+$"))
    number = page.locator("h1 a").inner_text()
    expect(page.get_by_role("status")).to_contain_text(f"已登记 {number}")
    return number


def mark_materials(page, statuses: dict[str, str], others: str | None = None) -> None:
    """申请材料核对: each named material gets its status (已提交/缺少/容缺), every other one `others`; save."""
    for group in page.locator("fieldset.material-status").all():
        status = statuses.get(group.get_attribute("aria-label"), others)
        if status:
            group.get_by_label(status, exact=True).check()
    page.get_by_role("button", name="保存材料核对").click()
    expect(page.get_by_role("status")).to_contain_text("已保存材料核对")


def document_row(page, title: str):
    return page.locator("#documents tbody tr").filter(has_text=f"《{title}》")


def fetch(page, link):
    """What a link of the page answers, with the browser's session."""
    return page.request.get(urljoin(page.url, link.get_attribute("href")))


def pdf_of(page, row) -> str:
    """The text of a listed document's PDF (its 下载 link), fetched as the browser would."""
    response = fetch(page, row.get_by_role("link", name="下载", exact=True))
    assert response.ok and response.headers["content-type"] == "application/pdf"
    return "".join(p.extract_text() for p in PdfReader(BytesIO(response.body())).pages).replace("\n", "")


def history(page):
    return page.locator("#history")


# --- the flows ----------------------------------------------------------------------------------------------------

def test_an_application_through_an_agent_needs_the_agents_id_and_keeps_what_was_typed(page, server, tmp_path):
    proof = tmp_path / "授权委托书.pdf"
    proof.write_bytes(PDF)
    sign_in(page, server, "shouli")
    start_application(page, server, MATERNITY, WANG_FANG)
    fill_maternity_form(page)
    page.get_by_text("委托代理人（委托他人代为办理时填写）").click()  # unfold 委托办理
    page.get_by_label("代理人姓名").fill(AGENT["name"])
    page.get_by_label("与申请人关系").fill(AGENT["relation"])
    page.get_by_label("上传扫描件").set_input_files(proof)
    page.get_by_role("button", name="登记申请").click()

    error = page.locator(".field.has-error").filter(has=page.get_by_label("代理人身份证号码"))
    expect(error.get_by_role("alert")).to_have_text("请填写委托代理人身份证号码")
    shot(page, "window-agent-refused")
    for label, typed in (("姓名或单位名称", WANG_FANG["name"]), ("代理人姓名", AGENT["name"]),
                         ("与申请人关系", AGENT["relation"]), ("产假天数", "98"),
                         ("银行账号", "6222020712001234567")):
        expect(page.get_by_label(label)).to_have_value(typed)

    page.get_by_label("代理人身份证号码").fill(AGENT["id_number"])
    page.get_by_label("上传扫描件").set_input_files(proof)  # a page shown again cannot keep a chosen file
    number = register(page)

    agent = page.locator("dd.agent")
    expect(agent).to_have_text(f"{AGENT['name']}（{AGENT['relation']}）· {AGENT['id_number']}")
    link = page.locator("dl.summary").get_by_role("link", name="授权委托书.pdf")
    assert fetch(page, link).body() == PDF
    shot(page, "window-agent-task")
    page.goto(f"{server}/cases/{number}")
    expect(page.locator("dd.agent")).to_contain_text(AGENT["name"])


def test_a_missing_material_is_told_once_in_a_notice_with_its_pdf(page, server):
    sign_in(page, server, "shouli")
    start_application(page, server, OUTPATIENT, ZHANG_WEI)
    page.get_by_label("医疗费用总额（元）").fill("860.50")
    page.get_by_label("银行账号").fill("6222020712001234567")
    number = register(page)

    mark_materials(page, {"门急诊费用清单": "缺少"}, others="已提交")
    page.get_by_role("toolbar").get_by_role("button", name="一次性告知").click()  # confirmed in its dialog
    page.locator("dialog[open]").get_by_role("button", name="出具一次性告知书").click()

    expect(page.get_by_role("status")).to_contain_text(f"已出具《一次性告知书》（文书编号 GZ{number}）")
    row = document_row(page, "一次性告知书")
    expect(row).to_contain_text(f"GZ{number}")
    row.scroll_into_view_if_needed()  # the page scrolls inside its main column
    shot(page, "window-missing-notice")
    text = pdf_of(page, row)
    assert "门急诊费用清单" in text and number in text and "医院收费票据" not in text  # only what is missing


def test_acceptance_with_a_waived_material_waits_until_it_is_handed_in(page, server):
    sign_in(page, server, "shouli")
    start_application(page, server, MATERNITY, WANG_FANG)
    fill_maternity_form(page)
    number = register(page)

    mark_materials(page, {"结婚证": "容缺"}, others="已提交")
    page.get_by_label("办理意见").fill("结婚证后补")
    page.get_by_label("申请人已签署《容缺承诺书》").check()
    page.get_by_role("button", name="容缺受理", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text(f"{number} 已办理，当前环节：容缺补正")

    page.goto(f"{server}/cases/{number}")
    expect(page.locator("p.status")).to_contain_text("当前环节：容缺补正")
    promised = page.locator("table.deadlines tr").filter(has_text="承诺时限")
    expect(promised).to_contain_text("已暂停")
    expect(promised.locator(".badge")).to_have_text("暂停")
    expect(page.locator("table.deadlines tr").filter(has_text="容缺补正期限")).to_be_visible()
    expect(document_row(page, "容缺受理通知书")).to_be_visible()
    expect(page.get_by_text("容缺受理，等待申请人补齐容缺材料（系统）")).to_be_visible()  # 暂停计时
    expect(history(page)).to_contain_text("容缺受理：申请人已签署《容缺承诺书》，容缺材料 结婚证")
    shot(page, "window-waiver-waiting")
    history(page).scroll_into_view_if_needed()
    shot(page, "window-waiver-waiting-history")

    mark_materials(page, {"结婚证": "已提交"})
    expect(history(page)).to_contain_text("容缺材料已补齐（结婚证），结束容缺补正，恢复计时")
    expect(page.locator("p.status")).to_contain_text("当前环节：审核")
    expect(promised).not_to_contain_text("已暂停")
    history(page).scroll_into_view_if_needed()
    shot(page, "window-waiver-supplied")


def test_a_prohibited_application_is_ended_at_acceptance_with_the_rules_words(page, server):
    rule = "个体参保人员是外地户口，并且没有抚顺居住证"
    sign_in(page, server, "shouli")
    start_application(page, server, EMPLOYEE, {"name": "孙海", "id_number": resident_id("13010219880707231")})
    page.get_by_label("参保身份").select_option(label="个体参保人员")
    page.get_by_label("户籍类别").select_option(label="非本地户籍")
    expect(page.get_by_label("持有本地居住证")).not_to_be_checked()
    number = register(page)

    page.get_by_role("button", name="受理", exact=True).click()
    expect(page.locator(".flash-error")).to_have_text(f"{number} 禁办情形核查：属于禁办情形“{rule}”，禁止办理")
    shot(page, "window-prohibited-flash")

    page.goto(f"{server}/cases/{number}")
    expect(page.locator("p.status")).to_contain_text("结果：禁止办理")
    expect(history(page)).to_contain_text(rule)
    row = document_row(page, "不予受理决定书")
    expect(row).to_be_visible()
    assert rule in pdf_of(page, row)
    row.scroll_into_view_if_needed()
    shot(page, "window-prohibited-case")
