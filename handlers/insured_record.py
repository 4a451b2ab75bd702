"""Questions put to the national platform about an insured person: 参保信息查询, 欠费核查 and 参保状态核查."""
from decimal import Decimal

from workflows.domain.applicants import PERSON
from workflows.domain.documents import mask_id

from .registry import HandlerContext, handler

NOT_INSURED = "未参保"  # the platform's 参保状态 of a person without insurance (or unknown to it)


@handler("insurance_query", "参保信息查询")
def insurance_query(context: HandlerContext) -> dict:
    record = context.platform.query_insured(str(context.applicant.get("id_number", "")))
    return {"insurance_record": record}


@handler("arrears_check", "欠费核查")
def arrears_check(context: HandlerContext) -> dict:
    record = context.platform.query_insured(str(context.applicant.get("id_number", "")))
    arrears = Decimal(record["arrears"])
    return {"in_arrears": arrears > 0, "arrears_amount": arrears, "insurance_status": record["status"]}


@handler("insured_check", "参保状态核查")
def insured_check(context: HandlerContext) -> dict:
    """Is the applicant insured at all? Read by the paying diagrams' gateway 身份及参保核验: the platform's 未参保
    (or no record of the person) never reaches 拨付. A unit or institution applies as itself, not as an insured
    person: the question does not arise (None), the 定点 agreement and the unit's own registration stand for it."""
    if (context.applicant.get("kind") or PERSON) != PERSON:
        return {"insured": None, "insurance_status": None, "insured_problem": None}
    id_number = str(context.applicant.get("id_number", ""))
    record = context.platform.query_insured(id_number)
    insured = record["found"] and record["status"] != NOT_INSURED
    problem = None if insured else (f"经全国医疗保障信息平台核查，申请人（证件号码 {mask_id(id_number)}）"
                                    f"{'未参保' if record['found'] else '无参保记录'}，不能享受医疗保障待遇")
    return {"insured": insured, "insurance_status": record["status"], "insured_problem": problem}
