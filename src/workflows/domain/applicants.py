"""The applicant (申请人) of a case: who they are, checked before a case is opened; and, for 委托办理, the agent
(委托代理人) who applies for them with a power of attorney (授权委托书)."""
from __future__ import annotations

import re
from datetime import date

from .acceptance import checked
from .text import NAME_LENGTH, text_problem
from .identity import credit_code_problem, resident_id_problem

PERSON = "自然人"
_PHONE_FORMAT = re.compile(r"^[0-9+\-() ]{5,20}$")
FIELDS = ("name", "id_number", "kind", "phone")
AGENT_FIELDS = ("name", "id_number", "phone", "relation")
AGENT = "agent"
# Each field's longest value; every field is one line of text
_LENGTHS = {"name": NAME_LENGTH, "id_number": 18, "kind": 40, "phone": 20, "relation": 50}
# The 授权委托书 as submitted: the uploaded file ({"file_name", "media_type", "content"}), left for the service to
# check and store as an attachment; or the clerk's word that the original was checked, and on which day.
POWER_OF_ATTORNEY, UPLOAD, ORIGINAL_CHECKED, CHECKED_ON = "power_of_attorney", "file", "original_checked", "checked_on"


def validate_applicant(submitted: dict, allowed_kinds: tuple[str, ...],
                       today: date | None = None) -> tuple[dict, dict[str, str]]:
    """Return the cleaned applicant and the errors per field (prefixed `applicant.`, the agent's
    `applicant.agent.`). An agent is there when any of its fields is given."""
    applicant = {key: str(submitted.get(key) or "").strip() for key in FIELDS}
    applicant["id_number"] = applicant["id_number"].upper()
    applicant["kind"] = applicant["kind"] or PERSON
    errors = {f"applicant.{key}": problem for key, problem in _text_problems(applicant).items()}
    if not applicant["name"]:
        errors["applicant.name"] = "请填写申请人姓名或单位名称"
    today = today or date.today()
    if "applicant.id_number" not in errors and (
            problem := id_number_problem(applicant["id_number"], applicant["kind"], today)):
        errors["applicant.id_number"] = problem
    if allowed_kinds and applicant["kind"] not in allowed_kinds and "applicant.kind" not in errors:
        errors["applicant.kind"] = f"本事项的服务对象为：{'、'.join(allowed_kinds)}"
    if applicant["phone"] and not _PHONE_FORMAT.match(applicant["phone"]):
        errors["applicant.phone"] = "联系电话格式不正确"
    agent = submitted.get(AGENT)
    if isinstance(agent, dict) and _given(agent):
        applicant[AGENT], agent_errors = _validate_agent(agent, applicant["id_number"], today)
        errors.update({f"applicant.agent.{key}": message for key, message in agent_errors.items()})
    elif agent not in (None, {}) and not isinstance(agent, dict):
        errors["applicant.agent"] = "委托代理人应为 JSON 对象"
    return applicant, errors


def _text_problems(person: dict) -> dict[str, str]:
    """Fields too long or holding characters no database stores; the format checks below then say the rest."""
    problems = {key: text_problem(person[key], _LENGTHS[key], multiline=False) for key in _LENGTHS if key in person}
    return {key: problem for key, problem in problems.items() if problem}


def id_number_problem(id_number: str, kind: str, today: date) -> str | None:
    """Why the 证件号码 of an applicant of `kind` is wrong: a person's is a 居民身份证号码, any other kind's
    (企业法人, 事业法人 …) a 统一社会信用代码. None when it is well-formed."""
    if not id_number:
        return "请填写身份证号码或统一社会信用代码"
    return resident_id_problem(id_number, today) if kind == PERSON else credit_code_problem(id_number)


def _given(agent: dict) -> bool:
    proof = agent.get(POWER_OF_ATTORNEY)
    return (any(str(agent.get(key) or "").strip() for key in AGENT_FIELDS)
            or (isinstance(proof, dict) and bool(proof.get(UPLOAD) or checked(proof.get(ORIGINAL_CHECKED)))))


def _validate_agent(submitted: dict, applicant_id: str, today: date) -> tuple[dict, dict[str, str]]:
    agent = {key: str(submitted.get(key) or "").strip() for key in AGENT_FIELDS}
    agent["id_number"] = agent["id_number"].upper()
    errors = _text_problems(agent)
    if not agent["name"]:
        errors["name"] = "请填写委托代理人姓名"
    if not agent["id_number"]:
        errors["id_number"] = "请填写委托代理人身份证号码"
    elif problem := resident_id_problem(agent["id_number"], today):
        errors["id_number"] = f"代理人{problem}"
    elif agent["id_number"] == applicant_id:
        errors["id_number"] = "代理人不能是申请人本人"
    if agent["phone"] and not _PHONE_FORMAT.match(agent["phone"]):
        errors["phone"] = "代理人联系电话格式不正确"
    if not agent["relation"]:
        errors["relation"] = "请填写代理人与申请人的关系"
    agent[POWER_OF_ATTORNEY], message = _power_of_attorney(submitted.get(POWER_OF_ATTORNEY), today)
    if message:
        errors[POWER_OF_ATTORNEY] = message
    return agent, errors


def _power_of_attorney(submitted, today: date) -> tuple[dict | None, str | None]:
    """The upload as given (the service checks it) or {original_checked, checked_on}; else why it is missing."""
    if not isinstance(submitted, dict):
        return None, "请上传授权委托书（PDF 或图片），或确认已核验授权委托书原件"
    if submitted.get(UPLOAD):
        return {UPLOAD: submitted[UPLOAD]}, None
    if not checked(submitted.get(ORIGINAL_CHECKED)):
        return None, "请上传授权委托书（PDF 或图片），或确认已核验授权委托书原件"
    try:
        checked_on = date.fromisoformat(str(submitted.get(CHECKED_ON) or "").strip())
    except ValueError:
        return None, "请填写核验授权委托书原件的日期（YYYY-MM-DD）"
    if checked_on > today:
        return None, "核验日期不能晚于今天"
    return {ORIGINAL_CHECKED: True, CHECKED_ON: checked_on.isoformat()}, None


def agent_of(applicant: dict) -> dict | None:
    """The case's 委托代理人, if an agent applied."""
    agent = applicant.get(AGENT)
    return agent if isinstance(agent, dict) else None
