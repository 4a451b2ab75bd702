"""Questions put to the national platform about an insured person: 参保信息查询 and 欠费核查."""
from decimal import Decimal

from .registry import HandlerContext, handler


@handler("insurance_query", "参保信息查询")
def insurance_query(context: HandlerContext) -> dict:
    record = context.platform.query_insured(str(context.applicant.get("id_number", "")))
    return {"insurance_record": record}


@handler("arrears_check", "欠费核查")
def arrears_check(context: HandlerContext) -> dict:
    record = context.platform.query_insured(str(context.applicant.get("id_number", "")))
    arrears = Decimal(record["arrears"])
    return {"in_arrears": arrears > 0, "arrears_amount": arrears, "insurance_status": record["status"]}
