"""申请材料核对: the task page's checklist of a case's materials, each marked 已提交, 缺少, 容缺 or 告知承诺.

The materials are the catalog's list for the case's item at its agency; a mark is kept by the material's position
in that list. 容缺 (waived) is allowed only where the catalog says the material is waivable, 告知承诺 (committed)
only for a certificate or proof of an item that allows it. Only the hall's 受理员 and 审核员 mark materials, and only
while the case is open; each change is one line of the case's history. What a mark sets off (the end of
容缺补正, the 个人承诺书) is services/acceptance.py's.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.domain.acceptance import MISSING, PRESENT, STATUS_NAMES, WAIVED, status_choices
from workflows.domain.catalog import AgencyItem, Material
from workflows.domain.errors import InvalidInput
from workflows.domain.model import CaseMaterial, User

from . import acceptance
from .access import require_case_visible, require_role
from .context import Context
from .history import add_history

MARKING_ROLES = ("acceptor", "reviewer")


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


def mark_materials(ctx: Context, actor: User, number: str, statuses: dict[int, str]) -> list[MaterialStatus]:
    """Mark the materials by index; all or nothing. Returns the checklist afterwards."""
    with ctx.uow() as uow:
        case = require_case_visible(actor, uow.cases.get(number))
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
            message = "材料核对：" + "；".join(f"{name} {STATUS_NAMES[status]}" for _, name, status in changed)
            add_history(uow, case, at, actor.username, "materials_marked", message, stage=case.stage,
                        detail={"materials": [{"index": index, "name": name, "status": status}
                                              for index, name, status in changed]})
            acceptance.after_marks(uow, ctx, actor, case, [(name, status) for _, name, status in changed])
            uow.commit()
    return case_materials(ctx, actor, number)


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
