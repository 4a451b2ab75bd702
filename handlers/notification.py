"""通知申请人: texts the applicant that the case is done."""
from .registry import HandlerContext, handler


@handler("notify_applicant", "通知申请人")
def notify_applicant(context: HandlerContext) -> dict:
    phone = context.applicant.get("phone")
    if not phone:
        return {"applicant_notified": False}
    text = f"您申请的{context.item_name}（办件编号{context.case_number}）已办理完成。"
    context.notifier.send(str(phone), text)
    return {"applicant_notified": True}
