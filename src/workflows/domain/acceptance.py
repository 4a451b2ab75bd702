"""The window's acceptance rules (受理) on the marks a clerk gave an item's 申请材料: 容缺受理 and 告知承诺.

容缺受理: the case is accepted while materials on the agency's 容缺 list are still missing; the applicant signs a
《容缺承诺书》 and hands them in within the 补正期限 (the agency's waiver period), or the case closes 补正超时. A
missing material that is required and not on that list cannot be waived: the applicant gets the 一次性告知书 instead.

告知承诺: where the item allows it, a certificate or proof may be replaced by the applicant's signed 个人承诺书.
"""
from __future__ import annotations

from typing import Mapping, Sequence

from .catalog import Material, TimeLimit
from .errors import InvalidInput

PRESENT, MISSING, WAIVED, COMMITTED = "present", "missing", "waived", "committed"
STATUS_NAMES = {PRESENT: "已提交", MISSING: "缺少", WAIVED: "容缺", COMMITTED: "告知承诺"}
SUPPLIED = (PRESENT, COMMITTED)  # a waived material counts as handed in when it is here, or a 承诺书 replaces it

WAIVE = "waive"  # the 受理 decision 容缺受理
WAIVER_STAGE = "容缺补正"  # the stage a 容缺 case waits in, and the kind of its 补正期限 limit
WAIVER_SUPPLIED = "容缺材料补齐"  # the message that ends the wait: every waived material handed in
WAIVER_EXPIRED = "补正超时"  # how the case ends when the 补正期限 passes first (its end event's name)
DEFAULT_WAIVER_PERIOD = TimeLimit(20, "working_days")  # 抚顺's 补正期限, for an agency whose catalog names none
COMMITMENT_FIELD = "waiver_commitment"  # the 受理 form's checkbox: the applicant signed the 《容缺承诺书》

# 告知承诺 replaces proofs of a fact (证明事项), never the applicant's identity, an application form or a bill. The
# catalog prints each material's name as the guide does, so the kind is read from the name; what follows a
# bracket only lists alternatives (“…或个人承诺书”).
_PROOF_WORDS = ("证明", "证书", "认定材料", "登记单", "许可证", "结婚证", "居住证", "户口簿")
_IDENTITY_WORDS = ("身份证", "社保卡", "医保卡", "医保电子凭证")


def is_proof(material: Material) -> bool:
    name = material.name.split("（")[0]
    return any(word in name for word in _PROOF_WORDS) and not any(word in name for word in _IDENTITY_WORDS)


def may_commit(material: Material, commitment_allowed: bool) -> bool:
    """Whether the material may be marked 告知承诺 for an item that does or does not allow commitments."""
    return commitment_allowed and is_proof(material)


def status_choices(material: Material, commitment_allowed: bool) -> tuple[str, ...]:
    """The marks a material may get: 容缺 only if waivable, 告知承诺 only if the item allows it for this material."""
    return tuple(status for status in STATUS_NAMES
                 if (status != WAIVED or material.waivable)
                 and (status != COMMITTED or may_commit(material, commitment_allowed)))


def check_waiver(materials: Sequence[Material], marks: Mapping[int, str], commitment_signed: bool) -> list[int]:
    """The positions of the materials waived, when the case may be accepted with 容缺; else InvalidInput saying
    what stands in the way, each problem under its field."""
    waived = [index for index, _ in enumerate(materials) if marks.get(index) == WAIVED]
    blocking = [material.name for index, material in enumerate(materials)
                if marks.get(index) == MISSING and material.required and not material.waivable]
    errors = {}
    if blocking:
        errors["materials"] = (f"缺少必要材料{'、'.join(blocking)}，不在容缺清单内，不能容缺受理："
                               "请出具《一次性告知书》，告知申请人补齐后再申请")
    elif not waived:
        errors["materials"] = "没有标为“容缺”的材料，不能容缺受理：请先在申请材料中将暂缺的可容缺材料标为“容缺”"
    if not commitment_signed:
        errors[COMMITMENT_FIELD] = "容缺受理须由申请人签署《容缺承诺书》，请确认后勾选"
    if errors:
        raise InvalidInput("不能容缺受理：" + "；".join(errors.values()), errors)
    return waived


def checked(value) -> bool:
    """A checkbox or a JSON flag: true, "true", "on", "1" (what browsers and API clients send)."""
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "on", "1", "yes"))


def check_acceptance(materials: Sequence[Material], marks: Mapping[int, str], waiver_offered: bool) -> None:
    """受理 (without 容缺) only while no required material is marked 缺少: else InvalidInput on `materials` naming
    them and what to do instead: 容缺受理 when the step offers it and each of them may be waived, else the
    《一次性告知书》. A material not marked counts as handed in: the accepting clerk attests it (`attested`)."""
    missing = [material for index, material in enumerate(materials)
               if marks.get(index) == MISSING and material.required]
    if not missing:
        return
    names = "、".join(material.name for material in missing)
    if waiver_offered and all(material.waivable for material in missing):
        advice = "这些材料可以容缺：请将其标为“容缺”，申请人签署《容缺承诺书》后选择“容缺受理”"
    else:
        advice = "请出具《一次性告知书》，告知申请人补齐后再申请"
    raise InvalidInput(f"缺少必要材料{names}，不能受理：{advice}", {"materials": f"缺少必要材料{names}：{advice}"})


def attested(materials: Sequence[Material], marks: Mapping[int, str]) -> list[int]:
    """The positions of the materials not marked: at 受理 the accepting clerk attests them 已提交."""
    return [index for index, _ in enumerate(materials) if index not in marks]
