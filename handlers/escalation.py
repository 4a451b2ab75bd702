"""时限预警与督办: a BPMN timer of a time limit went off; the supervisors' desk gets a 黄牌 or 红牌."""
from .registry import HandlerContext, HandlerError, handler

LEVELS = {"yellow": "黄牌预警", "red": "红牌超期"}


@handler("escalate", "时限预警与督办")
def escalate(context: HandlerContext) -> dict:
    level, limit = context.param("level"), context.param("limit")
    if level not in LEVELS:
        raise HandlerError(f"预警级别应为 {'、'.join(LEVELS)}，而不是 {level}")
    if context.desk is None:
        raise HandlerError("督办台不可用，无法发出预警")
    raised = context.desk.raise_escalation(level, limit, context.params.get("stage"))
    # False: this limit was escalated at this level before (a later task's timer): the diagram need not ask a
    # supervisor to 督办 it again.
    return {"escalation_raised": raised}
