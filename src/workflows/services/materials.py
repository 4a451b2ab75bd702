"""申请材料核对: the task page's checklist of a case's materials, each marked 已提交, 缺少 or 容缺.

The materials are the catalog's list for the case's item at its agency; a mark is kept by the material's position
in that list. 容缺 (waived) is allowed only where the catalog says the material is waivable. Only the hall's
受理员 and 审核员 mark materials, and only while the case is open; each change is one line of the case's history.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.domain.catalog import Material
from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.model import CaseMaterial, User

from .access import require_case_visible, require_role
from .context import Context
from .history import add_history

PRESENT, MISSING, WAIVED = "present", "missing", "waived"
STATUS_NAMES = {PRESENT: "已提交", MISSING: "缺少", WAIVED: "容缺"}
MARKING_ROLES = ("acceptor", "reviewer")


@dataclass(frozen=True)
class MaterialStatus:
    """One row of the checklist: the catalog's material and its mark (None: not marked yet)."""

    index: int
    material: Material
    status: str | None = None
    marked_by: str | None = None

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, "未核对")


def _materials_of(ctx: Context, uow, case) -> tuple[Material, ...]:
    agency = ctx.catalog(uow).agency(case.agency_code)
    item = agency.item(case.item_code) if agency else None
    return item.materials if item else ()


def case_materials(ctx: Context, actor: User, number: str) -> list[MaterialStatus]:
    """The item's materials, in catalog order, with their current marks."""
    with ctx.uow(write=False) as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        marks = uow.materials.for_case(case.id)
        rows = []
        for index, material in enumerate(_materials_of(ctx, uow, case)):
            mark = marks.get(index)
            rows.append(MaterialStatus(index, material, mark.status if mark else None,
                                       mark.marked_by if mark else None))
        return rows


def mark_materials(ctx: Context, actor: User, number: str, statuses: dict[int, str]) -> list[MaterialStatus]:
    """Mark the materials by index; all or nothing. Returns the checklist afterwards."""
    with ctx.uow() as uow:
        case = require_case_visible(actor, uow.cases.get(number))
        require_role(actor, *MARKING_ROLES)
        if not case.is_open:
            raise Conflict(f"案件 {case.number} 已办结，不能再核对材料")
        materials = _materials_of(ctx, uow, case)
        wanted: dict[int, str] = {}
        for raw_index, status in statuses.items():
            try:
                index = int(raw_index)
            except (TypeError, ValueError):
                raise InvalidInput(f"没有第 {raw_index} 项材料", {"materials": "材料不存在"}) from None
            if not 0 <= index < len(materials):
                raise InvalidInput(f"没有第 {index + 1} 项材料", {"materials": "材料不存在"})
            if status not in STATUS_NAMES:
                raise InvalidInput(f"材料“{materials[index].name}”的状态“{status}”无效",
                                   {f"material_{index}": "状态无效"})
            if status == WAIVED and not materials[index].waivable:
                raise InvalidInput(f"材料“{materials[index].name}”不可容缺", {f"material_{index}": "不可容缺"})
            wanted[index] = status
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
            uow.commit()
    return case_materials(ctx, actor, number)
