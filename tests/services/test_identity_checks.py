"""Identity at intake and no payment to an unverified or uninsured applicant (issue 9), on the real item processes
through the service layer: the intake refusals name the field and open nothing; a case whose applicant the platform
does not know as insured, or whose name does not match the ID number, ends 不予受理 before any amount is computed
or paid, and its 决定书 gives the finding as the reason."""
from __future__ import annotations

import pytest

from workflows.adapters.bpmn_draft.shapes import PROFILES
from workflows.adapters.catalog_files import load_catalog
from workflows.domain.errors import InvalidInput
from workflows.domain.model import CLOSED
from workflows.services import cases, documents
from workflows.services.demo import resident_id

from services.test_documents import pdf_text
from support.cases import APPLICANT, DATA, OUTPATIENT
from support.paths import CATALOG_DIR
from support.process_driver import PERSON_ID, credit_code, drive, sample_data

CATALOG = load_catalog(CATALOG_DIR)
AGENCY = CATALOG.agency("231025")
# 林口's paying items (申请—受理—审核—拨付—办结; it has them all) that persons apply for, and those only institutions
# do (定点结算)
PAYING = [code for code, item in AGENCY.items.items() if PROFILES.get(code, ("",))[0] == "payment" and item.hall_codes]
FOR_PERSONS = [code for code in PAYING if "自然人" in AGENCY.item(code).item.applicant_kinds]
FOR_INSTITUTIONS = [code for code in PAYING if code not in FOR_PERSONS]
SETTLEMENT = "002036010001"  # 定点医疗机构费用结算
DESIGNATION = "002036009001"  # 医疗机构申请定点协议管理: its start form has a credit_code
UNKNOWN_PERSON = resident_id("21040219900101123")  # well-formed, unknown to the national platform
NOT_INSURED = resident_id("21040219930707123")
BAD_CHECK_DIGIT = "210402198001011230"  # the number of issue 9, paid 930.00 on main


def clerk(staff, item_code):
    return staff[f"clerk_{AGENCY.item(item_code).hall_codes[0].replace('-', '_')}"]


def refused_at_intake(ctx, staff, item_code=OUTPATIENT, applicant=None, data=None) -> dict[str, str]:
    """The errors of an application refused at intake: `data` is the item's form (门诊费用报销's by default)."""
    with ctx.uow(write=False) as uow:
        before = len(uow.cases.search(AGENCY.code, limit=500))
    with pytest.raises(InvalidInput) as refused:
        cases.open_case(ctx, clerk(staff, item_code), item_code, {**APPLICANT, **(applicant or {})},
                        DATA if data is None else data)
    with ctx.uow(write=False) as uow:
        assert len(uow.cases.search(AGENCY.code, limit=500)) == before, "a refused application opened a case"
    return refused.value.field_errors


@pytest.mark.parametrize("id_number, message", [
    (BAD_CHECK_DIGIT, "身份证号码校验码不正确，请核对证件"),
    (resident_id("21040219800230123"), "身份证号码中的出生日期 19800230 不是有效日期"),
    (resident_id("21040220300101123"), "身份证号码中的出生日期晚于今天"),
    (resident_id("21040218800101123"), "身份证号码中的出生日期 1880-01-01 不合常理（年龄超过130岁）"),
    ("21040219800101123", "身份证号码应为18位：17位数字加1位校验码（数字或X）"),
])
def test_a_wrong_id_number_is_refused_at_intake_with_the_field_named(fake_ctx, fake_staff, id_number, message):
    errors = refused_at_intake(fake_ctx, fake_staff, applicant={"id_number": id_number})
    assert errors == {"applicant.id_number": message}


def test_a_unit_applicant_needs_a_valid_credit_code(fake_ctx, fake_staff):
    unit = {"name": "抚顺市康宁医院", "kind": "企业法人", "phone": "024-55880000"}
    data = {"settlement_period": "2026年10月", "claimed_amount": "5000.00", "bank_account": "6222020712001234567"}
    wrong_check_digit = {**unit, "id_number": credit_code()[:17] + "0"}
    errors = refused_at_intake(fake_ctx, fake_staff, SETTLEMENT, wrong_check_digit, data)
    assert credit_code()[-1] != "0"
    assert errors == {"applicant.id_number": "统一社会信用代码校验码不正确，请核对营业执照或登记证书"}
    errors = refused_at_intake(fake_ctx, fake_staff, SETTLEMENT, {**unit, "id_number": PERSON_ID}, data)
    assert errors == {"applicant.id_number": "统一社会信用代码校验码不正确，请核对营业执照或登记证书"}


def test_a_credit_code_on_the_application_form_is_checked_too(fake_ctx, fake_staff):
    unit = {"name": "抚顺市康宁医院", "kind": "企业法人", "id_number": credit_code()}
    data = {"institution_name": "抚顺市康宁医院", "institution_address": "顺城区", "credit_code": "91210400MA0Y3KXQ5N"}
    errors = refused_at_intake(fake_ctx, fake_staff, DESIGNATION, unit, data)
    assert errors == {"credit_code": "统一社会信用代码校验码不正确，请核对营业执照或登记证书"}


@pytest.mark.parametrize("account, message", [
    ("1", "银行账号应为12至25位数字，请核对银行卡或开户许可证"),
    ("13804130001", "银行账号应为12至25位数字，请核对银行卡或开户许可证"),
    ("6222 0207 1200 1234", "银行账号只能由数字组成（不含空格和字母）"),
])
def test_an_implausible_bank_account_is_refused_on_every_paying_item(fake_ctx, fake_staff, account, message):
    for item_code in PAYING:
        with fake_ctx.uow(write=False) as uow:
            latest = uow.processes.latest(AGENCY.item(item_code).process_key)
            form = fake_ctx.definition(uow, latest.id).start_form
        applicant = ({} if item_code in FOR_PERSONS else
                     {"name": "抚顺市康宁医院", "kind": AGENCY.item(item_code).item.applicant_kinds[0],
                      "id_number": credit_code()})
        data = {**sample_data(form), "bank_account": account}
        errors = refused_at_intake(fake_ctx, fake_staff, item_code, applicant, data)
        assert errors == {"bank_account": message}, item_code


def _payments(ctx, user, number) -> list:
    return [call for call in cases.case_details(ctx, user, number).external_calls
            if call.system == "payment"]


def _refusal_text(ctx, user, number) -> str:
    [decision] = [d for d in documents.list_documents(ctx, user, number)
                  if d.kind in ("refusal_decision", "rejection_decision")]
    return pdf_text(documents.document_pdf(ctx, user, decision.id)[1])


def _save_person(ctx, id_number, name, status):
    with ctx.uow() as uow:
        uow.external.save_person({"id_number": id_number, "name": name, "status": status, "arrears": "0.00",
                                  "account_balance": "0.00", "insured_since": None, "suspended": False})
        uow.commit()


@pytest.mark.parametrize("item_code", FOR_PERSONS)
def test_an_applicant_the_platform_has_no_record_of_is_never_paid(ctx, staff, item_code):
    worker = clerk(staff, item_code)
    journey = drive(ctx, worker, item_code,
                    applicant={"name": "赵六", "id_number": UNKNOWN_PERSON, "phone": "13804130009"})

    case = journey.case
    assert (case.status, case.result) == (CLOSED, "不予受理")
    assert [step.stage for step in journey.steps] == ["受理"]  # no 审核, no 拨付
    assert case.data["insured"] is False and case.data["identity_verified"] is True
    assert "calculated_amount" not in case.data and _payments(ctx, worker, case.number) == []
    assert ("经全国医疗保障信息平台核查，申请人（证件号码 210402********1233）无参保记录，不能享受医疗保障待遇"
            in _refusal_text(ctx, worker, case.number))


def test_a_person_the_platform_reports_not_insured_is_refused_with_the_reason(ctx, staff):
    _save_person(ctx, NOT_INSURED, "钱七", "未参保")
    worker = clerk(staff, OUTPATIENT)
    case = drive(ctx, worker, OUTPATIENT,
                 applicant={"name": "钱七", "id_number": NOT_INSURED}).case

    assert (case.result, case.data["insurance_status"]) == ("不予受理", "未参保")
    assert _payments(ctx, worker, case.number) == []
    text = _refusal_text(ctx, worker, case.number)
    assert f"申请人（证件号码 {NOT_INSURED[:6]}********{NOT_INSURED[-4:]}）未参保，不能享受医疗保障待遇" in text
    assert "不予受理决定书" in text and "经审查，申请不符合办理条件" not in text and "行政复议" in text
    history = [entry.message for entry in cases.case_details(ctx, worker, case.number).history]
    assert not any("拨付" in line for line in history)
    assert history[-3:-1] == [f"身份及参保核验未通过：{case.data['insured_problem']}", "办理结束：不予受理"]


@pytest.mark.parametrize("item_code", FOR_PERSONS)
def test_an_unverified_identity_is_never_paid(ctx, staff, item_code):
    """张伟's valid ID number given under another name: 身份核验 finds the platform's holder is someone else."""
    worker = clerk(staff, item_code)
    journey = drive(ctx, worker, item_code, applicant={"name": "李四", "id_number": PERSON_ID})

    case = journey.case
    assert (case.status, case.result, case.data["identity_verified"]) == (CLOSED, "不予受理", False)
    assert [step.stage for step in journey.steps] == ["受理"] and _payments(ctx, worker, case.number) == []
    assert "申请人姓名“李四”与医保信息平台登记的该证件号码持有人姓名不符" in _refusal_text(ctx, worker, case.number)


@pytest.mark.parametrize("item_code", FOR_INSTITUTIONS)
def test_an_institution_with_a_valid_credit_code_is_paid(ctx, staff, item_code):
    """A 定点 institution applies as itself: no 参保 question arises, its identity is its credit code."""
    worker = clerk(staff, item_code)
    journey = drive(ctx, worker, item_code)

    assert journey.case.result == "办结" and journey.case.data["insured"] is None
    assert len(_payments(ctx, worker, journey.case.number)) == 1


def test_an_insured_person_is_paid(ctx, staff):
    worker = clerk(staff, OUTPATIENT)
    journey = drive(ctx, worker, OUTPATIENT)
    assert journey.case.result == "办结" and journey.stages[-1] == "拨付"
    [payment] = _payments(ctx, worker, journey.case.number)
    assert payment.request["account"] == "6222020712001234567"
