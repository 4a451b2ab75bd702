"""文书 through the service layer: issued as PDF where a case goes (受理, 不予受理, 办结 …), the 一次性告知书 and
退回补正 commands, the agency's own templates, who may read them, and 行政许可法 §32's deemed acceptance."""
from __future__ import annotations

import shutil
from io import BytesIO

import pytest
from pypdf import PdfReader

from workflows.domain.catalog import CatalogError
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.services import cases, catalog, documents, materials, notices, tasks
from workflows.domain.case_limits import due_label
from workflows.services.demo import resident_id
from workflows.services.scheduler import fire_due_timers

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at, limits
from support.paths import CATALOG_DIR
from support.process_driver import PERSON_ID, drive

IN_ARREARS = {"name": "刘洋", "id_number": resident_id("21041119750404456")}  # a demo person owing 1280.00

# 抚顺 门诊费用报销: 0 医保电子凭证…, 1 医院收费票据, 2 门急诊费用清单, 3 处方底方（病例材料）, 4 医保卡复印件 (可容缺)
RECEIPT, LIST = 1, 2
CERTIFICATE_ITEM = "002036003001"  # 出具《参保凭证》: its diagram runs the certificate handler
REMEDY = "如不服本决定，可在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。"


def pdf_text(content: bytes) -> str:
    """The text of a PDF as pypdf reads it back, lines joined (a paragraph may wrap anywhere)."""
    assert content.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages).replace("\n", "")


def docs(ctx, user, number) -> list:
    return documents.list_documents(ctx, user, number)


def text_of(ctx, user, document) -> str:
    return pdf_text(documents.document_pdf(ctx, user, document.id)[1])


def open_case(ctx, staff, clock, when="2026-11-23 09:30"):
    clock.now = at(when)
    return cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)


def history(ctx, staff, number) -> list[str]:
    return [entry.message for entry in cases.case_details(ctx, staff["shouli"], number).history]


# --- issued where the case goes ---------------------------------------------------------------------------------

def test_accepting_a_case_issues_the_acceptance_notice_as_a_pdf(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [notice] = docs(ctx, staff["shenhe"], number)
    assert (notice.kind, notice.title, notice.number, notice.issued_by) == (
        "acceptance_notice", "受理通知书", f"SL{number}", "system")
    assert limits(ctx, staff, number)["promised"].due_at == at("2026-12-21 17:00")

    text = text_of(ctx, staff["shouli"], notice)
    for expected in ("抚顺市医疗保障事务服务中心", "受理通知书", f"文书编号：SL{number}", "张伟：",
                     f"你（单位）于2026年11月23日提交的门诊费用报销申请（办件编号：{number}）",
                     "本机构决定自2026年11月23日起予以受理", "本事项承诺于2026年12月21日前办结",
                     "咨询电话：024-55883333", "抚顺市医疗保障事务服务中心（印章）", "顺城区临江东路19-12号楼 1层"):
        assert expected in text, expected
    assert "代理人" not in text  # no agent: that paragraph is left out
    # one number to call: the body's 咨询电话 and the foot of the page agree (not the hall's own 024-12345)
    assert text.count("024-55883333") == 3 and "电话：024-55883333第 1 页" in text and "024-12345" not in text
    assert notice.fields["due_date"] == "2026年12月21日" and notice.fields["applicant_id_masked"].endswith("1239")
    assert f"出具《受理通知书》（文书编号 SL{number}）" in history(ctx, staff, number)


def test_refusing_at_acceptance_issues_a_refusal_decision_with_reasons_and_remedies(ctx, staff, clock):
    progress = open_case(ctx, staff, clock)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id,
                        {"decision": "refuse", "opinion": "就诊医院非本市定点医疗机构"})
    [decision] = docs(ctx, staff["shouli"], progress.case.number)  # no 受理通知书
    assert (decision.kind, decision.title) == ("refusal_decision", "不予受理决定书")
    text = text_of(ctx, staff["shouli"], decision)
    for expected in ("本机构决定不予受理", "理由：就诊医院非本市定点医疗机构", REMEDY, "监督投诉电话：024-55883333"):
        assert expected in text, expected


def test_a_prohibited_case_gets_the_refusal_decision_in_the_rules_words_and_is_no_acceptance(ctx, staff, clock):
    clock.now = at("2026-11-23 09:30")
    progress = cases.open_case(ctx, staff["shouli"], CERTIFICATE_ITEM, IN_ARREARS, {})
    closed = tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"}).case
    assert (closed.result, closed.accepted_at) == ("禁止办理", None)
    [decision] = docs(ctx, staff["shouli"], closed.number)
    rule = "属于禁办情形“医保欠费”（依据：抚顺市医疗保障事务服务中心违规禁办事项清单）。"
    assert (decision.kind, decision.title, decision.fields["reasons"]) == ("refusal_decision", "不予受理决定书", rule)
    assert f"理由：{rule}" in text_of(ctx, staff["shouli"], decision)


def test_a_review_rejection_needs_the_reviewers_reasons_and_prints_them_never_an_earlier_opinion(ctx, staff, clock):
    progress = open_case(ctx, staff, clock)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept", "opinion": "材料齐全"})
    [review] = [t for t in cases.case_details(ctx, staff["shenhe"], progress.case.number).tasks if t.state == "ready"]
    with pytest.raises(InvalidInput) as refused:
        tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "reject", "opinion": "  "})
    assert refused.value.field_errors == {"opinion": "请填写审核不通过的理由"}
    assert [d.kind for d in docs(ctx, staff["shenhe"], progress.case.number)] == ["acceptance_notice"]

    reason = "处方底方显示所购药品不在医保目录内，依《基本医疗保险用药管理暂行办法》第二十九条不予支付"
    tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "reject", "opinion": reason})
    kinds = [(d.kind, d.title) for d in docs(ctx, staff["shenhe"], progress.case.number)]
    assert kinds == [("acceptance_notice", "受理通知书"), ("rejection_decision", "不予批准决定书")]
    text = text_of(ctx, staff["shenhe"], docs(ctx, staff["shenhe"], progress.case.number)[1])
    assert f"理由：{reason}" in text and "材料齐全" not in text and REMEDY in text
    assert "经审查，申请不符合办理条件" not in text


def test_completion_issues_the_completion_notice_and_the_result_document_the_handler_numbered(ctx, staff):
    clerk = staff["clerk_210400_01"]
    case = drive(ctx, clerk, CERTIFICATE_ITEM).case
    assert case.result == "办结"
    issued = docs(ctx, clerk, case.number)
    assert [(d.kind, d.title, d.number) for d in issued] == [
        ("acceptance_notice", "受理通知书", f"SL{case.number}"), ("completion_notice", "办结通知书", f"BJ{case.number}"),
        ("result_document", "参保凭证", f"PZ{case.number}")]
    assert case.data["last_document_number"] == f"PZ{case.number}"
    text = text_of(ctx, clerk, issued[2])
    assert "参保凭证" in text and f"PZ{case.number}" in text and f"证件号码：{PERSON_ID[:6]}********" in text
    assert "本机构已于2026年11月23日办结" in text_of(ctx, clerk, issued[1])


def test_a_waiver_period_running_out_brings_the_correction_timeout_notice(ctx, staff, clock):
    clerk = staff["clerk_210400_01"]
    number = drive(ctx, clerk, OUTPATIENT, waive=True, until_waiting=True).case.number
    clock.advance(days=34)
    fire_due_timers(ctx)
    issued = docs(ctx, clerk, number)
    assert [d.kind for d in issued] == ["waiver_notice", "correction_timeout_notice"]  # 容缺受理: no 受理通知书
    text = text_of(ctx, clerk, issued[1])
    assert "你（单位）未在补正期限内补正" in text and f"补正期限：{issued[0].fields['correction_due_date']}。" in text
    assert REMEDY in text


def test_issue_fills_in_the_catalog_materials_and_the_correction_period(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    with ctx.uow() as uow:
        case = uow.cases.get(number)
        waiver = documents.issue(uow, ctx, case, "waiver_notice", staff["shouli"], materials=["医保卡复印件"],
                                 due=at("2026-12-21 17:00"))
        uow.commit()
    assert waiver.issued_by == "shouli" and waiver.fields["material_rows"] == [
        {"name": "医保卡复印件", "form": "复印件", "source": "参保人", "condition": "异地就医结算"}]
    text = text_of(ctx, staff["shouli"], waiver)
    assert "请于2026年12月21日前补交上述材料" in text and "医保卡复印件" in text and "异地就医结算" in text


# --- 一次性告知书, 退回补正 --------------------------------------------------------------------------------------

def test_the_notice_lists_every_missing_material_and_is_refused_with_nothing_missing(ctx, staff, clock):
    number = open_case(ctx, staff, clock).case.number
    with pytest.raises(InvalidInput, match="没有标为“缺少”的材料"):
        notices.issue_missing_materials_notice(ctx, staff["shouli"], number)
    assert docs(ctx, staff["shouli"], number) == []

    materials.mark_materials(ctx, staff["shouli"], number, {0: "present", RECEIPT: "missing", LIST: "missing"})
    notice = notices.issue_missing_materials_notice(ctx, staff["shouli"], number)
    assert (notice.kind, notice.title, notice.number) == ("missing_materials_notice", "一次性告知书", f"GZ{number}")
    text = text_of(ctx, staff["shouli"], notice)
    for expected in ("现将需要补正的全部材料一次性告知如下", "材料名称", "取得途径", "医院收费票据", "门急诊费用清单", "原件"):
        assert expected in text, expected
    assert "处方底方" not in text  # not marked missing

    again = notices.issue_missing_materials_notice(ctx, staff["shenhe"], number)  # a new one, never changed
    assert again.number == f"GZ{number}-2" and len(docs(ctx, staff["shouli"], number)) == 2


def test_only_the_halls_acceptors_and_reviewers_issue_the_notice_on_an_open_case(ctx, staff, clock):
    number = open_case(ctx, staff, clock).case.number
    materials.mark_materials(ctx, staff["shouli"], number, {RECEIPT: "missing"})
    for user in ("caiwu", "kezhang", "yiyuan"):
        with pytest.raises(Forbidden):
            notices.issue_missing_materials_notice(ctx, staff[user], number)
    for user in ("shouli2", "shenhe2"):
        with pytest.raises(NotFound):
            notices.issue_missing_materials_notice(ctx, staff[user], number)
        with pytest.raises(NotFound):
            docs(ctx, staff[user], number)
    [task] = cases.case_details(ctx, staff["shouli"], number).tasks
    tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "refuse", "opinion": "材料不全"})
    with pytest.raises(Conflict, match="已办结"):
        notices.issue_missing_materials_notice(ctx, staff["shouli"], number)


def test_a_document_of_another_halls_case_does_not_exist(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [notice] = docs(ctx, staff["shouli"], number)
    for user in ("shouli2", "kezhang2"):
        with pytest.raises(NotFound, match="文书不存在"):
            documents.document_pdf(ctx, staff[user], notice.id)
    with pytest.raises(NotFound, match="文书不存在"):
        documents.document_pdf(ctx, staff["shouli"], notice.id + 1000)
    assert documents.document_pdf(ctx, staff["admin"], notice.id)[0].number == notice.number  # admin: every hall


def test_returning_for_correction_gives_the_notice_and_pauses_the_clock(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    clock.now = at("2026-11-25 10:00")
    with pytest.raises(InvalidInput, match="没有标为“缺少”的材料"):
        notices.return_for_correction(ctx, staff["shenhe"], number, "发票金额与清单不符")
    assert due_label(limits(ctx, staff, number)["promised"]) == "2026-12-21 17:00"  # nothing paused

    materials.mark_materials(ctx, staff["shenhe"], number, {RECEIPT: "missing"})
    with pytest.raises(InvalidInput, match="请说明退回补正的原因"):
        notices.return_for_correction(ctx, staff["shenhe"], number, " ")
    notice = notices.return_for_correction(ctx, staff["shenhe"], number, "发票金额与清单不符")
    assert notice.kind == "missing_materials_notice" and "说明：发票金额与清单不符" in text_of(ctx, staff["shenhe"], notice)
    details = cases.case_details(ctx, staff["shenhe"], number)
    assert [(p.kind, p.ended_at) for p in details.pauses] == [("correction", None)]
    assert due_label(limits(ctx, staff, number)["promised"]) == "已暂停"
    with pytest.raises(Conflict, match="计时已暂停"):  # all or nothing: no second notice either
        notices.return_for_correction(ctx, staff["shenhe"], number, "再次退回")
    assert len(docs(ctx, staff["shenhe"], number)) == 2  # 受理通知书 and the one notice


def test_returning_for_correction_needs_an_accepted_case_and_the_role(ctx, staff, clock):
    number = open_case(ctx, staff, clock).case.number
    materials.mark_materials(ctx, staff["shouli"], number, {RECEIPT: "missing"})
    with pytest.raises(InvalidInput, match="尚未受理"):
        notices.return_for_correction(ctx, staff["shouli"], number, "补正")
    with pytest.raises(Forbidden):
        notices.return_for_correction(ctx, staff["caiwu"], number, "补正")
    assert docs(ctx, staff["shouli"], number) == []


# --- the agency's own templates -----------------------------------------------------------------------------------

OVERRIDE = """
documents:
  acceptance_notice:
    title: 受理回执
    paragraphs:
      - "{applicant_name}："
      - "抚顺市医保中心已收到并受理你的{item_name}申请，办件编号{case_number}，请于{due_date}后查询结果。"
"""


def catalog_copy(tmp_path, extra: str):
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG_DIR, target)
    agency = target / "agencies" / "210400.yaml"
    agency.write_text(agency.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return target


def test_an_agencys_own_template_is_used_for_its_cases(ctx, staff, clock, tmp_path):
    catalog.load_catalog(ctx, catalog_copy(tmp_path, OVERRIDE))
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    [notice] = docs(ctx, staff["shouli"], number)
    assert notice.title == "受理回执"
    text = text_of(ctx, staff["shouli"], notice)
    assert f"抚顺市医保中心已收到并受理你的门诊费用报销申请，办件编号{number}，请于2026年12月21日后查询结果。" in text
    assert "本机构决定" not in text


def test_a_catalog_with_an_unknown_placeholder_is_refused_and_the_old_one_kept(ctx, staff, clock, tmp_path):
    broken = catalog_copy(tmp_path, OVERRIDE.replace("{case_number}", "{case_no}"))
    with pytest.raises(CatalogError) as raised:
        catalog.load_catalog(ctx, broken)
    assert raised.value.file.endswith("agencies/210400.yaml")
    assert raised.value.field == "documents.acceptance_notice.paragraphs[1]"
    assert "unknown placeholder {case_no}" in raised.value.message
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    assert [d.title for d in docs(ctx, staff["shouli"], number)] == ["受理通知书"]


# --- 行政许可法 §32 -----------------------------------------------------------------------------------------------

def test_a_case_left_undecided_for_five_working_days_is_deemed_accepted_on_receipt_once(ctx, staff, clock):
    number = open_case(ctx, staff, clock, "2026-11-23 09:30").case.number  # Monday
    clock.now = at("2026-11-30 17:00")  # the close of the 5th working day after receipt: not yet
    assert notices.deem_undecided_acceptances(ctx) == 0
    assert cases.case_details(ctx, staff["shouli"], number).case.accepted_at is None

    clock.now = at("2026-11-30 17:01")
    assert notices.deem_undecided_acceptances(ctx) == 1
    details = cases.case_details(ctx, staff["shouli"], number)
    assert details.case.accepted_at == at("2026-11-23 09:30") and details.case.stage == "受理"
    assert [t.name for t in details.tasks if t.state == "ready"] == ["受理"]  # still the clerk's to decide
    promised = limits(ctx, staff, number)["promised"]
    assert (promised.starts_at, promised.due_at) == (at("2026-11-23 09:30"), at("2026-12-21 17:00"))
    assert [h.actor for h in details.history if h.message == notices.DEEMED_MESSAGE] == ["system"]

    clock.advance(days=3)
    assert notices.deem_undecided_acceptances(ctx) == 0  # once
    [task] = [t for t in details.tasks if t.state == "ready"]
    tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "accept"})
    assert limits(ctx, staff, number)["promised"].due_at == at("2026-12-21 17:00")  # the clock kept its start
    assert [d.kind for d in docs(ctx, staff["shouli"], number)] == ["acceptance_notice"]


def test_a_case_given_the_notice_in_time_or_decided_is_not_deemed_accepted(ctx, staff, clock):
    noticed = open_case(ctx, staff, clock, "2026-11-23 09:30").case.number
    materials.mark_materials(ctx, staff["shouli"], noticed, {RECEIPT: "missing"})
    clock.now = at("2026-11-27 10:00")
    notices.issue_missing_materials_notice(ctx, staff["shouli"], noticed)
    refused = open_case(ctx, staff, clock, "2026-11-23 10:00").case
    [task] = cases.case_details(ctx, staff["shouli"], refused.number).tasks
    tasks.complete_task(ctx, staff["shouli"], task.id, {"decision": "refuse", "opinion": "非本统筹区参保"})
    recent = open_case(ctx, staff, clock, "2026-11-26 09:00").case.number

    clock.now = at("2026-12-01 09:00")
    assert notices.deem_undecided_acceptances(ctx) == 0
    for number in (noticed, refused.number, recent):
        assert cases.case_details(ctx, staff["shouli"], number).case.accepted_at is None
    clock.now = at("2026-12-04 09:00")  # the recent one's 5 working days are over now
    assert notices.deem_undecided_acceptances(ctx) == 1
    assert cases.case_details(ctx, staff["shouli"], recent).case.accepted_at == at("2026-11-26 09:00")
