"""身份核验: the applicant's 居民身份证号码 (GB 11643) or 统一社会信用代码 (GB 32100), the agent's ID number, and a
person's name against the national platform's record of that number (人证相符).

The numbers were checked at intake already (domain/identity.py); the handler asks again so that a case opened by a
way in that skipped the check, or before it existed, is not decided on a wrong identity. Its verdict
`identity_verified` is read by the paying diagrams' gateway 身份及参保核验: a case that fails never reaches 拨付.
"""
from datetime import date

from workflows.domain.applicants import PERSON, agent_of, id_number_problem
from workflows.domain.identity import resident_id_problem

from .registry import HandlerContext, handler


@handler("identity_check", "身份核验")
def identity_check(context: HandlerContext) -> dict:
    problem = _number_problem(context) or _name_problem(context)
    return {"identity_verified": problem is None, "identity_problem": problem}


def _number_problem(context: HandlerContext) -> str | None:
    applicant, today = context.applicant, date.today()
    id_number = str(applicant.get("id_number") or "")
    if not id_number:
        return "申请人未提供证件号码"
    if problem := id_number_problem(id_number, applicant.get("kind") or PERSON, today):
        return f"申请人{problem}"
    agent = agent_of(dict(applicant))
    if agent and (problem := resident_id_problem(str(agent.get("id_number") or ""), today)):
        return f"委托代理人{problem}"
    return None


def _name_problem(context: HandlerContext) -> str | None:
    """A person the platform knows under another name: the ID number is someone else's (or the name mistyped)."""
    if (context.applicant.get("kind") or PERSON) != PERSON:
        return None
    record = context.platform.query_insured(str(context.applicant["id_number"]))
    name, registered = str(context.applicant.get("name") or ""), record.get("name")
    if record["found"] and registered and registered != name:
        return f"申请人姓名“{name}”与医保信息平台登记的该证件号码持有人姓名不符"
    return None
