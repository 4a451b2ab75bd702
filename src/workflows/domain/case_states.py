"""What a case's state reads as, the same on every page, in the API and in the public list.

A closed case ended with a result: the name of the end event its own path reached in the diagram (办结, 不予受理,
禁止办理, 审核不通过, 验收不通过, 补正超时 …), or what a person ended it as (撤件, 终止). Only 办结 is a case done as
asked for; every other result is said as it is, never as 已办结. An open case whose clock is stopped (补正, 容缺补正,
中止 …) reads 暂停 with the kind of pause and the working days the pause gives back to its limits so far.
Pure: no database, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass

from workflows.domain.model import CASE_TERMINATED, CASE_WITHDRAWN, CLOSED, FAILED

COMPLETED = "办结"  # the end event of a case that ends as asked for
# What a result reads as where it differs from the end event's name.
RESULT_LABELS = {COMPLETED: "已办结", CASE_WITHDRAWN: "已撤件", CASE_TERMINATED: "已终止"}
IN_PROGRESS, BROKEN = "办理中", "故障待处理"


def result_of_end(end_event_name: str | None) -> str:
    """The result a case gets from the end event it reached: its name, 办结 for an unnamed one."""
    return (end_event_name or "").strip() or COMPLETED


def result_label(result: str | None) -> str:
    """办结 → 已办结, 撤件 → 已撤件, 终止 → 已终止; any other result (不予受理, 审核不通过 …) as it is named."""
    return RESULT_LABELS.get(result or COMPLETED, result)


def is_completed(result: str | None) -> bool:
    return (result or COMPLETED) == COMPLETED


@dataclass(frozen=True)
class PauseState:
    """An open pause of a case's clock: its kind's name (补正, 中止 …) and the working days it has covered."""
    kind_name: str
    given_back_days: int  # working days the limits will be moved by when the clock runs again


@dataclass(frozen=True)
class CaseState:
    key: str  # open | paused | closed | failed
    label: str  # 办理中 · 暂停（补正） · 已办结 · 不予受理 · 故障待处理 …
    result: str | None
    pause: PauseState | None = None

    @property
    def tone(self) -> str:
        """How a page colours it: done (办结), ended (any other result), open, paused, failed."""
        if self.key == "closed":
            return "done" if is_completed(self.result) else "ended"
        return self.key

    @property
    def detail(self) -> str:
        """The pause's days in words: "已暂停 3 个工作日，恢复计时后时限顺延 3 个工作日"."""
        if self.pause is None:
            return ""
        days = self.pause.given_back_days
        return f"已暂停 {days} 个工作日，恢复计时后时限顺延 {days} 个工作日" if days else "今日暂停，恢复计时后时限顺延"


def case_state(status: str, result: str | None, pause: PauseState | None = None) -> CaseState:
    if status == CLOSED:
        return CaseState("closed", result_label(result), result or COMPLETED)
    if status == FAILED:
        return CaseState("failed", BROKEN, None)
    if pause is not None:
        return CaseState("paused", f"暂停（{pause.kind_name}）", None, pause)
    return CaseState("open", IN_PROGRESS, None)
