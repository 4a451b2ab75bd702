"""出具文书: numbers the result document of a case (参保凭证, 联系函, 信息表, 服务协议, 认定通知书 …)."""
from .registry import HandlerContext, handler

DOCUMENT_PREFIXES = {"参保凭证": "PZ", "联系函": "LXH", "信息表": "XXB", "定点医药机构服务协议": "XY",
                     "门诊慢特病待遇认定通知书": "MTB"}


@handler("certificate", "出具文书", changes_outside=True)
def certificate(context: HandlerContext) -> dict:
    kind = context.param("document")
    number = f"{DOCUMENT_PREFIXES.get(kind, 'WS')}{context.case_number}"
    documents = [*context.data.get("documents", []), {"kind": kind, "number": number}]
    return {"documents": documents, "last_document_number": number}
