"""Drives a case of any item through the service layer, as clerks would, choosing each decision in turn."""
from __future__ import annotations

from dataclasses import dataclass, field

from workflows.domain.identity import credit_code_problem
from workflows.services import cases, tasks
from workflows.services.demo import resident_id

# The result each refusing decision leads to, as the conventions name the end events.
NEGATIVE_RESULTS = {"refuse": "不予受理", "reject": "审核不通过", "fail": "验收不通过", "decline": "协议未签订"}
HOSPITAL_REJECT = "认定不通过"
SAMPLE_BY_TYPE = {"string": "测试", "decimal": "1500.00", "long": "98", "date": "2026-12-01", "boolean": False}
SAMPLE_BY_PATTERN = {"[0-9]{6}": "210100"}  # 转移接续's 转出地经办机构代码: 沈阳 (same province as 抚顺)
WAIVE = "waive"  # 受理's 容缺受理
WAIVER_SUPPLIED = "容缺材料补齐"
PERSON_ID = resident_id("21040219800101123")
PERSON_PHONE = "13804130001"


def proof(number: str, id_number: str = PERSON_ID, phone: str = PERSON_PHONE):
    """What the applicant types on the public progress page to show the case is theirs."""
    from workflows.services.public import Proof

    return Proof(number, id_number, phone)


def credit_code(prefix17: str = "91210400MA0Y3KXQ5") -> str:
    return next(prefix17 + c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if credit_code_problem(prefix17 + c) is None)


SAMPLE_BY_FIELD = {"bank_account": "6222020712001234567", "credit_code": credit_code(),  # checked at intake
                   "self_pay_total": "200.00"}  # part of the expense total: leaves something to pay


def sample_data(form) -> dict:
    """A valid value for every field of a start form."""
    return {f.id: (SAMPLE_BY_FIELD[f.id] if f.id in SAMPLE_BY_FIELD else f.options[0][0] if f.type == "enum"
                   else SAMPLE_BY_PATTERN[f.pattern] if f.pattern else SAMPLE_BY_TYPE[f.type]) for f in form.fields}


def applicant_for(agency_item) -> dict:
    kinds = agency_item.item.applicant_kinds
    if not kinds or "自然人" in kinds:
        return {"name": "张伟", "id_number": PERSON_ID, "kind": "自然人", "phone": PERSON_PHONE}
    return {"name": "抚顺市康宁医药有限公司", "id_number": credit_code(), "kind": kinds[0], "phone": "024-55880000"}


@dataclass(frozen=True)
class Step:
    task_name: str
    stage: str
    role: str
    options: tuple[str, ...]  # the decisions the step offered
    decision: str


@dataclass
class Journey:
    case: object
    steps: list[Step] = field(default_factory=list)

    @property
    def stages(self) -> list[str]:
        return [step.stage for step in self.steps]

    def refusal_points(self) -> list[int]:
        return [index for index, step in enumerate(self.steps) if len(step.options) > 1]

    @property
    def waivable(self) -> bool:
        """受理 offers 容缺受理."""
        return WAIVE in self.steps[0].options

    def expected_result(self) -> str:
        """The result a refusal at the last step should lead to."""
        last = self.steps[-1]
        if last.decision == last.options[0]:
            return "办结"
        return HOSPITAL_REJECT if last.role == "hospital" else NEGATIVE_RESULTS[last.decision]


def drive(ctx, clerk, item_code: str, refuse_at: int | None = None, messages: dict | None = None,
          waive: bool = False, until_waiting: bool = False, applicant: dict | None = None) -> Journey:
    """Open a case and complete its tasks; at task number `refuse_at` (0-based) take the refusing decision (the
    last one offered). `waive`: accept with 容缺 (the item's waivable materials marked 容缺, the rest 已提交, the
    applicant's 《容缺承诺书》 signed).

    When the case waits with no task, deliver the next of `messages` (name -> payload) to it; `until_waiting`:
    stop there instead. `applicant`: who applies (default: 张伟, or a company where the item serves no persons).
    """
    from workflows.services.catalog import get_agency_item

    agency_item = get_agency_item(ctx, clerk.agency_code, item_code)
    definition = _definition(ctx, agency_item.process_key)
    case = cases.open_case(ctx, clerk, item_code, applicant or applicant_for(agency_item),
                           sample_data(definition.start_form)).case
    journey, pending = Journey(case), list((messages or {}).items())
    while case.is_open:
        ready = [t for t in tasks.list_tasks(ctx, clerk) if t.case_number == case.number]
        if not ready:
            if until_waiting:
                break
            assert pending, f"{item_code}: 案件停在“{case.stage}”，既无任务也无可投递的消息"
            name, payload = pending.pop(0)
            case = cases.deliver_message(ctx, clerk, case.number, name, payload).case
            continue
        [task] = ready
        options = tuple(value for value, _ in definition.user_tasks[task.spec_id].form.decisions)
        decision = options[-1] if refuse_at == len(journey.steps) and len(options) > 1 else options[0]
        values = {"decision": decision, "opinion": "测试意见"}
        if waive and WAIVE in options:
            decision = values["decision"] = WAIVE
            values["waiver_commitment"] = True
            mark_waivable_materials(ctx, clerk, item_code, case.number)
        case = tasks.complete_task(ctx, clerk, task.id, values).case
        journey.steps.append(Step(task.name, task.stage, task.role, options, decision))
        journey.case = case
    return journey


def mark_waivable_materials(ctx, clerk, item_code: str, number: str) -> None:
    """What 容缺受理 needs first: the item's waivable materials marked 容缺, the others 已提交."""
    from workflows.services import materials
    from workflows.services.catalog import get_agency_item

    agency_item = get_agency_item(ctx, clerk.agency_code, item_code)
    materials.mark_materials(ctx, clerk, number, {index: "waived" if material.waivable else "present"
                                                  for index, material in enumerate(agency_item.materials)})


def _definition(ctx, process_key: str):
    from workflows.services.processes import process_version

    version = process_version(ctx, process_key)
    with ctx.uow(write=False) as uow:
        return ctx.definition(uow, version.id)

