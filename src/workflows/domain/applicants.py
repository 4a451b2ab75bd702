"""The applicant (申请人) of a case: who they are, checked before a case is opened."""
from __future__ import annotations

import re

PERSON = "自然人"
_ID_FORMAT = re.compile(r"^[0-9A-Z]{18}$")  # 居民身份证 and 统一社会信用代码 are both 18 characters
_PHONE_FORMAT = re.compile(r"^[0-9+\-() ]{5,20}$")
FIELDS = ("name", "id_number", "kind", "phone")


def validate_applicant(submitted: dict, allowed_kinds: tuple[str, ...]) -> tuple[dict, dict[str, str]]:
    """Return the cleaned applicant and the errors per field (prefixed `applicant.`)."""
    applicant = {key: str(submitted.get(key) or "").strip() for key in FIELDS}
    applicant["id_number"] = applicant["id_number"].upper()
    applicant["kind"] = applicant["kind"] or PERSON
    errors = {}
    if not applicant["name"]:
        errors["applicant.name"] = "请填写申请人姓名或单位名称"
    if not _ID_FORMAT.match(applicant["id_number"]):
        errors["applicant.id_number"] = "证件号码应为18位身份证号码或统一社会信用代码"
    if allowed_kinds and applicant["kind"] not in allowed_kinds:
        errors["applicant.kind"] = f"本事项的服务对象为：{'、'.join(allowed_kinds)}"
    if applicant["phone"] and not _PHONE_FORMAT.match(applicant["phone"]):
        errors["applicant.phone"] = "联系电话格式不正确"
    return applicant, errors
