"""Refusals: a person's decision that ends a case against the applicant, or sends it back, must say why.

行政许可法 §38 (and 社会保险法 §83 for the remedies): a decision not to accept or not to approve is written and
gives its reasons. So every decision of a user task that leads the case to an end other than 办结 (不予受理,
审核不通过, 验收不通过, 不予签订 / 协议未签订, 认定不通过 …) or back to an earlier task (退回) needs a written reason,
whoever sends it (web, API, CLI). Which decisions those are is read from the diagram (adapters/bpmn_parsing.py
records where each decision value leads, `DecisionOutcome`); this module says what that means and holds the rule.
The reason is the step's 办理意见 (`opinion`), kept with the completion and printed verbatim in the 决定书.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .errors import InvalidInput

REASON_FIELD = "opinion"  # the 办理意见 of a step: for a refusal, its reason
MAX_REASON = 500
COMPLETED = "办结"  # the result of a case that ends as it should
END, RETURN, ONWARD = "end", "return", "onward"  # where a decision leads: an end event, back, or on


@dataclass(frozen=True)
class DecisionOutcome:
    """Where a decision value of a user task leads: `kind` END (an end event, `target` its name: the case's
    result), RETURN (an earlier user task, `target` its name) or ONWARD (on to the next steps)."""

    kind: str
    target: str = ""

    @property
    def is_refusal(self) -> bool:
        return (self.kind == END and self.target != COMPLETED) or self.kind == RETURN


def refusals(outcomes: Mapping[str, DecisionOutcome]) -> dict[str, DecisionOutcome]:
    """The decisions, of a step's `outcomes`, that need a written reason."""
    return {decision: outcome for decision, outcome in outcomes.items() if outcome.is_refusal}


def require_reason(outcomes: Mapping[str, DecisionOutcome], decisions: Mapping[str, str], submitted: dict) -> str:
    """The reason given for the submitted decision, stripped ('' when the decision is no refusal); InvalidInput on
    the `opinion` field when a refusal has none, or one too long for a 决定书. `decisions`: value -> label."""
    decision = submitted.get("decision")
    raw = submitted.get(REASON_FIELD)
    reason = raw.strip() if isinstance(raw, str) else ""
    outcome = outcomes.get(decision) if isinstance(decision, str) else None
    if outcome is None or not outcome.is_refusal:
        return reason
    label = decisions.get(decision, decision)
    if not reason:
        what = f"退回到“{outcome.target}”" if outcome.kind == RETURN else label
        raise InvalidInput(f"{label}须写明理由：请在办理意见中填写{what}的理由（将写入文书，告知申请人）",
                           {REASON_FIELD: f"请填写{what}的理由"})
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"{label}的理由过长", {REASON_FIELD: f"不超过 {MAX_REASON} 字（现有 {len(reason)} 字）"})
    return reason
