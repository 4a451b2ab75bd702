"""申请材料核对: the task page's checklist of a case's materials, each marked 已提交, 缺少, 容缺 or 告知承诺.

The materials are the catalog's list for the case's item at its agency; a mark is kept by the material's position
in that list. 容缺 (waived) is allowed only where the catalog says the material is waivable, 告知承诺 (committed)
only for a certificate or proof of an item that allows it. Only the hall's 受理员 and 审核员 mark materials, and only
while the case is open; each change is one line of the case's history. What a mark sets off (the end of
容缺补正, the 个人承诺书) is services/acceptance.py's.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.domain.acceptance import (MISSING, PRESENT, STATUS_NAMES, WAIVE, WAIVED, attested, check_acceptance,
                                         status_choices)
from workflows.domain.catalog import AgencyItem, Material
from workflows.domain.errors import InvalidInput
from workflows.domain.model import CaseMaterial, User
from workflows.domain.case_limits import ACCEPTANCE_STAGE

from . import acceptance
from .access import case_for_update, require_case_visible, require_role
from .context import Context
from .history import add_history
from .retries import retried

MARKING_ROLES = ("acceptor", "reviewer")
PREFIX = "material_"  # a form's field of the material at that position: material_0, material_1 …
ATTESTED = "（受理人确认未标注的材料已提交）"


@dataclass(frozen=True)
class MaterialStatus:
    """One row of the checklist: the catalog's material and its mark (None: not marked yet)."""

    index: int
    material: Material
    status: str | None = None
    marked_by: str | None = None
    statuses: tuple[str, ...] = (PRESENT, MISSING)  # the marks this material may get

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, "未核对")

    @property
    def choices(self) -> list[tuple[str, str]]:
        return [(status, STATUS_NAMES[status]) for status in self.statuses]


def case_materials(ctx: Context, actor: User, number: str) -> list[MaterialStatus]:
    """The item's materials, in catalog order, with their current marks."""
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        item = acceptance.case_item(ctx, uow, case)
        marks = uow.materials.for_case(case.id)
        rows = []
        for index, material in enumerate(item.materials if item else ()):
            mark = marks.get(index)
            rows.append(MaterialStatus(index, material, mark.status if mark else None,
                                       mark.marked_by if mark else None,
                                       status_choices(material, item.commitment_allowed)))
        return rows


@retried
def mark_materials(ctx: Context, actor: User, number: str, statuses: dict[int, str]) -> list[MaterialStatus]:
    """Mark the materials by index; all or nothing. Returns the checklist afterwards."""
    with ctx.uow() as uow:
        case = case_for_update(uow, actor, number)
        if apply_marks(uow, ctx, actor, case, statuses):
            uow.commit()
    return case_materials(ctx, actor, number)


def apply_marks(uow, ctx: Context, actor: User, case, statuses: dict, note: str = "") -> bool:
    """Mark the case's materials by index inside the caller's transaction (the materials form, or the task form
    that submits the marks with the decision); whether any mark changed. `note` ends the history line."""
    require_role(actor, *MARKING_ROLES)
    acceptance.require_markable(uow, ctx, case)
    item = acceptance.case_item(ctx, uow, case)
    materials = item.materials if item else ()
    wanted = _wanted(item, statuses)
    marks = uow.materials.for_case(case.id)
    at = ctx.now()
    changed = []
    for index in sorted(wanted):
        status, mark = wanted[index], marks.get(index)
        if mark is not None and mark.status == status:
            continue
        if mark is None:
            uow.materials.add(CaseMaterial(case_id=case.id, material_index=index, name=materials[index].name,
                                           status=status, marked_by=actor.username, marked_at=at))
        else:
            mark.status, mark.marked_by, mark.marked_at = status, actor.username, at
        changed.append((index, materials[index].name, status))
    if changed:
        message = "材料核对：" + "；".join(f"{name} {STATUS_NAMES[status]}" for _, name, status in changed) + note
        add_history(uow, case, at, actor.username, "materials_marked", message, stage=case.stage,
                    detail={"materials": [{"index": index, "name": name, "status": status}
                                          for index, name, status in changed]})
        acceptance.after_marks(uow, ctx, actor, case, [(name, status) for _, name, status in changed])
    return bool(changed)


def submitted_marks(values: dict) -> dict[str, str]:
    """The marks sent with a task's form: `material_<n>` fields (the task page) and a `materials` object
    (position -> status, the API)."""
    marks = {key[len(PREFIX):]: value for key, value in values.items() if key.startswith(PREFIX) and value}
    given = values.get("materials")
    if given is not None and not isinstance(given, dict):
        raise InvalidInput("materials 应为对象：材料序号 -> 状态", {"materials": "应为对象：材料序号 -> 状态"})
    return {**marks, **{str(key): value for key, value in (given or {}).items()}}


def with_completion(uow, ctx: Context, actor: User, case, step, decision: str | None, values: dict) -> None:
    """complete_task's part, before the workflow moves (`step`: the task's definition): the marks sent with the
    decision are saved with it, and 受理 (受理 or 容缺受理) takes the materials as marked: refused while a required
    one is 缺少 (受理 proper, domain/acceptance.py), the ones not marked attested 已提交 by the accepting clerk."""
    marks = submitted_marks(values)
    if marks:
        apply_marks(uow, ctx, actor, case, marks)
    outcome = step.outcomes.get(decision)
    if step.stage != ACCEPTANCE_STAGE or not decision or (outcome is not None and outcome.is_refusal):
        return
    item = acceptance.case_item(ctx, uow, case)
    listed = item.materials if item else ()
    saved = {index: mark.status for index, mark in uow.materials.for_case(case.id).items()}
    if decision != WAIVE:
        check_acceptance(listed, saved, waiver_offered=WAIVE in dict(step.form.decisions))
    unmarked = attested(listed, saved)
    if unmarked:
        apply_marks(uow, ctx, actor, case, {index: PRESENT for index in unmarked}, note=ATTESTED)


def check_marks(ctx: Context, uow, case, statuses: dict) -> None:
    """The marks asked for are ones their materials may get (InvalidInput naming the material's field)."""
    _wanted(acceptance.case_item(ctx, uow, case), statuses)


def _wanted(item: AgencyItem | None, statuses: dict) -> dict[int, str]:
    """The marks asked for, by position, each checked against what its material may get."""
    materials = item.materials if item else ()
    wanted: dict[int, str] = {}
    for raw_index, status in statuses.items():
        try:
            index = int(raw_index)
        except (TypeError, ValueError):
            raise InvalidInput(f"没有第 {raw_index} 项材料", {"materials": "材料不存在"}) from None
        if not 0 <= index < len(materials):
            raise InvalidInput(f"没有第 {index + 1} 项材料", {"materials": "材料不存在"})
        material, field = materials[index], f"material_{index}"
        if status not in STATUS_NAMES:
            raise InvalidInput(f"材料“{material.name}”的状态“{status}”无效", {field: "状态无效"})
        if status not in status_choices(material, item.commitment_allowed):
            refusal = ("不可容缺" if status == WAIVED else
                       "本事项不适用告知承诺" if not item.commitment_allowed else "不是证明材料，不适用告知承诺")
            raise InvalidInput(f"材料“{material.name}”{refusal}", {field: refusal})
        wanted[index] = status
    return wanted
