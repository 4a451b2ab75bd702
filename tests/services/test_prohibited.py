"""禁办情形: 抚顺's 违规禁办事项清单 as decision tables, checked after 受理 and after 审核 on the real item processes.

A rule that matches ends the case 禁止办理 at once: the clerk who completed the step is told the rule, in the
catalog's words, and so is the case history; the case data keeps it (prohibited_rule) for the 不予受理决定书.
"""
from __future__ import annotations

import pytest

from workflows.adapters.catalog_files import load_catalog
from workflows.domain.model import CLOSED, OPEN
from workflows.services import cases, tasks
from workflows.services.demo import PEOPLE

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.paths import CATALOG_DIR
from support.process_driver import drive, mark_waivable_materials

EMPLOYEE, RESIDENT, CERTIFICATE, TRANSFER = "00203601002", "00203601003", "002036003001", "002036003002"
INPATIENT, ALLOWANCE = "002036006002", "002036007004"
BASIS = "抚顺市医疗保障事务服务中心违规禁办事项清单"
MATERNITY = {"leave_days": "98", "average_wage": "6500.00", "bank_account": "6222020712001234567"}
TRANSFER_IN_PROVINCE = {"from_region": "辽宁省沈阳市", "from_agency": "210100"}
IN_ARREARS, SUSPENDED = (  # 刘洋 owes contributions (1280.00); 杨磊's insurance is suspended (暂停参保)
    {"name": person.name, "id_number": person.id_number, "phone": person.phone} for person in (PEOPLE[3], PEOPLE[5]))
NONLOCAL_INDIVIDUAL = {"insured_kind": "flexible", "household_kind": "nonlocal"}

# item, application, applicant -> the 禁办情形 found at 受理
HITS = [
    (EMPLOYEE, NONLOCAL_INDIVIDUAL, APPLICANT, "个体参保人员是外地户口，并且没有抚顺居住证"),
    (EMPLOYEE, {**NONLOCAL_INDIVIDUAL, "insured_kind": "self_employed"}, APPLICANT,
     "个体参保人员是外地户口，并且没有抚顺居住证"),
    (RESIDENT, {"household_kind": "nonlocal"}, APPLICANT, "个体参保人员是外地户口，并且没有抚顺居住证"),
    (CERTIFICATE, {}, IN_ARREARS, "医保欠费"),
    (TRANSFER, {"from_region": "广东省深圳市", "from_agency": "440300"}, APPLICANT, "省外人员办理：无参保凭证"),
    (TRANSFER, {**TRANSFER_IN_PROVINCE, "from_suspension": "active"}, APPLICANT, "转出地医保未办理暂停"),
    (OUTPATIENT, {**DATA, "visit_kind": "ordinary", "remote_care": "true"}, APPLICANT, "普通门诊未办理异地安置"),
    (OUTPATIENT, {**DATA, "visit_kind": "emergency"}, APPLICANT, "急诊发生的费用，不是抢救、危重症"),
    (INPATIENT, DATA, SUSPENDED, "人员暂停参保"),
    (INPATIENT, {**DATA, "in_waiting_period": "true"}, APPLICANT, "人员存在待遇封锁期"),
    (ALLOWANCE, {**MATERNITY, "contribution_months": "9"}, APPLICANT, "医保连续缴费不满十个月"),
    (ALLOWANCE, MATERNITY, IN_ARREARS, "个人或单位医保欠费"),
    (ALLOWANCE, {**MATERNITY, "employer_in_arrears": "true"}, APPLICANT, "个人或单位医保欠费"),
    (ALLOWANCE, MATERNITY, SUSPENDED, "递交完材料后，人员暂停参保（离职）"),
]
# ... and the same items just outside each rule: the case goes on to 审核
MISSES = [
    (EMPLOYEE, {**NONLOCAL_INDIVIDUAL, "has_residence_permit": "true"}, APPLICANT),
    (EMPLOYEE, {**NONLOCAL_INDIVIDUAL, "insured_kind": "employee"}, APPLICANT),  # registered by the employer
    (EMPLOYEE, {"insured_kind": "flexible", "household_kind": "local"}, APPLICANT),
    (RESIDENT, {"household_kind": "nonlocal", "has_residence_permit": "true"}, APPLICANT),
    (CERTIFICATE, {}, APPLICANT),
    (TRANSFER, {"from_region": "广东省深圳市", "from_agency": "440300", "certificate_no": "PZ-4403-0001"}, APPLICANT),
    (TRANSFER, {**TRANSFER_IN_PROVINCE, "from_suspension": "suspended"}, APPLICANT),  # 省内: no 参保凭证 needed
    (OUTPATIENT, {**DATA, "visit_kind": "ordinary", "remote_care": "true", "remote_filed": "true"}, APPLICANT),
    (OUTPATIENT, {**DATA, "visit_kind": "ordinary"}, APPLICANT),
    (OUTPATIENT, {**DATA, "visit_kind": "emergency", "critical_care": "true"}, APPLICANT),
    (OUTPATIENT, DATA, APPLICANT),  # nothing said about the visit: no rule can tell
    (INPATIENT, DATA, APPLICANT),
    (ALLOWANCE, {**MATERNITY, "contribution_months": "10"}, APPLICANT),
]


def accept(ctx, clerk, item: str, data: dict, applicant: dict):
    opened = cases.open_case(ctx, clerk, item, applicant, data)
    return tasks.complete_task(ctx, clerk, opened.open_tasks[0].id, {"decision": "accept", "opinion": "材料齐全"})


def rule_lines(ctx, clerk, number: str) -> list[tuple[str, str]]:
    return [(entry.stage, entry.message) for entry in cases.case_details(ctx, clerk, number).history
            if entry.action == "rule"]


@pytest.mark.parametrize("item,data,applicant,rule", HITS, ids=[f"{h[0]}-{h[3]}" for h in HITS])
def test_a_prohibited_case_ends_at_acceptance_and_the_clerk_is_told_why(ctx, staff, item, data, applicant, rule):
    progress = accept(ctx, staff["shouli"], item, data, applicant)

    message = f"禁办情形核查：属于禁办情形“{rule}”，禁止办理"
    assert progress.notices == (message,) and progress.open_tasks == []
    case = progress.case
    assert (case.status, case.result) == (CLOSED, "禁止办理")
    assert (case.data["prohibited_rule"], case.data["prohibited_basis"]) == (rule, BASIS)
    assert rule_lines(ctx, staff["shouli"], case.number) == [("受理", message)]
    [line] = [e for e in cases.case_details(ctx, staff["shouli"], case.number).history if e.action == "rule"]
    assert line.detail == {"outputs": {"prohibited_rule": rule, "prohibited_basis": BASIS}}


@pytest.mark.parametrize("item,data,applicant", MISSES, ids=[m[0] for m in MISSES])
def test_a_case_outside_every_rule_goes_on_to_review(ctx, staff, item, data, applicant):
    progress = accept(ctx, staff["shouli"], item, data, applicant)
    assert progress.notices == ()
    assert (progress.case.status, progress.case.stage) == (OPEN, "审核")
    assert progress.case.data["prohibited_rule"] is None
    assert rule_lines(ctx, staff["shouli"], progress.case.number) == [("受理", "禁办情形核查：未发现禁办情形")]


def test_an_insurance_suspended_after_submission_is_found_after_review(ctx, staff):
    """生育津贴: 递交完材料后，人员暂停参保（离职）— the check after 审核 asks the national platform again."""
    progress = accept(ctx, staff["shouli"], ALLOWANCE, MATERNITY, APPLICANT)
    assert progress.case.stage == "审核"
    with ctx.uow() as uow:  # 张伟 leaves his job: his insurance is suspended
        uow.external.save_person({"id_number": APPLICANT["id_number"], "name": "张伟", "status": "暂停参保",
                                  "arrears": "0.00", "account_balance": "0.00", "suspended": True})
        uow.commit()
    [review] = [t for t in tasks.list_tasks(ctx, staff["shenhe"]) if t.case_number == progress.case.number]
    reviewed = tasks.complete_task(ctx, staff["shenhe"], review.id, {"decision": "approve"})

    rule = "递交完材料后，人员暂停参保（离职）"
    assert reviewed.notices == (f"禁办情形核查：属于禁办情形“{rule}”，禁止办理",)
    assert (reviewed.case.result, reviewed.case.data["prohibited_rule"]) == ("禁止办理", rule)
    assert rule_lines(ctx, staff["shouli"], progress.case.number) == [
        ("受理", "禁办情形核查：未发现禁办情形"), ("审核", f"禁办情形核查：属于禁办情形“{rule}”，禁止办理")]
    assert [t for t in tasks.list_tasks(ctx, staff["caiwu"]) if t.case_number == progress.case.number] == []


def test_rules_apply_only_where_the_agencys_own_list_has_them(ctx, staff):
    """林口 lists no 禁办情形: the same emergency costs without rescue go on there."""
    hall = load_catalog(CATALOG_DIR).agency("231025").item(OUTPATIENT).hall_codes[0]
    clerk = staff[f"clerk_{hall.replace('-', '_')}"]
    progress = accept(ctx, clerk, OUTPATIENT, {**DATA, "visit_kind": "emergency"}, APPLICANT)
    assert (progress.case.status, progress.case.stage, progress.notices) == (OPEN, "审核", ())


def test_a_prohibited_case_accepted_with_waiver_ends_without_waiting(ctx, staff):
    clerk = staff["shouli"]
    journey = drive(ctx, clerk, ALLOWANCE, waive=True, until_waiting=True)  # 张伟, nothing prohibited: it waits
    assert journey.case.stage == "容缺补正"
    opened = cases.open_case(ctx, clerk, ALLOWANCE, IN_ARREARS, MATERNITY)
    mark_waivable_materials(ctx, clerk, ALLOWANCE, opened.case.number)
    progress = tasks.complete_task(ctx, clerk, opened.open_tasks[0].id,
                                   {"decision": "waive", "waiver_commitment": True})
    assert (progress.case.status, progress.case.result) == (CLOSED, "禁止办理")
    assert progress.notices == ("禁办情形核查：属于禁办情形“个人或单位医保欠费”，禁止办理",)


def test_a_case_left_without_answers_is_recorded_as_such(ctx, staff):
    """The inputs the application left empty read as None in the table, and stay so in the case data."""
    progress = accept(ctx, staff["shouli"], OUTPATIENT, DATA, APPLICANT)
    data = progress.case.data
    assert {key: data[key] for key in ("visit_kind", "remote_care", "remote_filed", "critical_care")} == \
        dict.fromkeys(("visit_kind", "remote_care", "remote_filed", "critical_care"))
