"""The case aggregate's rules (domain/case.py), in memory, without a database: a delegate only answers, nobody
completes while a held submission, a delegation, a 前加签 or an unreplied 督办 waits, a task under a request does
not change hands, and completing a task marks it and records what follows."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from workflows.domain.case import CaseAggregate, TaskParts
from workflows.domain.errors import Conflict, Forbidden
from workflows.domain.events import TaskCompleted
from workflows.domain.model import (AFTER, BEFORE, COMPLETED, DELEGATE, DONE, PARALLEL, PENDING, READY, WITHDRAWN,
                                    Case, CasePause, CaseTask, TaskActivity, TaskRequest, TaskSupervision)

CHINA = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CHINA)
NAMES = {"wang": "王受理", "li": "李审核", "zhao": "赵科长", "chen": "陈复核"}
name_of = NAMES.get


def task(assignee: str | None = "wang", due_at=None, warning_at=None) -> CaseTask:
    return CaseTask(id="t1", case_id=1, name="受理", stage="受理", role="acceptor", state=READY, assignee=assignee,
                    due_at=due_at, warning_at=warning_at, completed_level=None)


def request(kind: str, assignee: str, status: str = PENDING) -> TaskRequest:
    return TaskRequest(task_id="t1", case_id=1, kind=kind, assignee=assignee, status=status)


def parts(*requests: TaskRequest, submission: bool = False, supervisions=()) -> TaskParts:
    return TaskParts(TaskActivity(bool(requests), submission, bool(supervisions)), list(requests),
                     list(supervisions))


def test_a_task_nobody_else_has_a_part_in_may_be_completed_and_change_hands():
    nobody = TaskParts()
    nobody.refuse_delegate(task(), "wang", name_of)
    nobody.require_completable(name_of)
    assert nobody.transfer_obstacle(name_of) is None


def test_a_delegate_only_answers_while_the_holder_decides():
    delegated = parts(request(DELEGATE, "li"))
    with pytest.raises(Forbidden, match="您受王受理委派，只能填写办理意见"):
        delegated.refuse_delegate(task(), "li", name_of)
    delegated.refuse_delegate(task(), "wang", name_of)  # the holder is not refused as a delegate…
    with pytest.raises(Conflict, match="任务已委派给李审核，待其办理意见后再办理"):
        delegated.require_completable(name_of)  # …but waits for the delegate's opinion
    assert delegated.transfer_obstacle(name_of) == "已委派给李审核，尚未办理"


def test_a_delegation_answered_or_recalled_no_longer_blocks():
    done = parts(request(DELEGATE, "li", DONE), request(DELEGATE, "chen", WITHDRAWN))
    done.refuse_delegate(task(), "li", name_of)
    done.require_completable(name_of)
    assert done.transfer_obstacle(name_of) is None


def test_before_signers_sign_first_and_are_named_once_each():
    before = parts(request(BEFORE, "li"), request(BEFORE, "zhao"), request(BEFORE, "li"))
    with pytest.raises(Conflict, match="须待李审核、赵科长前加签签署后再办理"):
        before.require_completable(name_of)
    assert before.transfer_obstacle(name_of) is None  # a 前加签 does not keep the task from changing hands


def test_a_held_submission_waits_for_its_signers_and_keeps_the_task_in_hand():
    held = parts(request(AFTER, "li"), request(PARALLEL, "zhao"), request(AFTER, "chen", DONE), submission=True)
    with pytest.raises(Conflict, match="已提交，待李审核、赵科长签署后流转"):
        held.require_completable(name_of)
    assert held.transfer_obstacle(name_of) == "已提交，待加签人签署"
    assert TaskParts(requests=[]).pending_names(name_of, AFTER) == "加签人"  # nobody named: the word for them


def test_an_unreplied_supervision_must_be_answered_before_completing():
    supervision = TaskSupervision(supervisor="zhao", instruction="请今日办结", replied_at=None)
    with pytest.raises(Conflict, match="赵科长督办：“请今日办结”，请先回复督办意见再办理"):
        parts(supervisions=[supervision]).require_completable(name_of)


def test_completing_a_task_marks_it_with_its_level_then_and_records_what_follows():
    open_task = task(due_at=NOW + timedelta(days=1), warning_at=NOW - timedelta(hours=1))
    aggregate = CaseAggregate(Case(id=1, number="C1"), [open_task], open_task)
    aggregate.complete("wang", {"decision": "accept"}, {"decision": "accept", "materials": "1"}, NOW)
    assert (open_task.state, open_task.completed_by, open_task.completed_at, open_task.decision,
            open_task.completed_level) == (COMPLETED, "wang", NOW, "accept", "yellow")
    assert aggregate.take_events() == [TaskCompleted(1, "t1", "wang", "accept", {"decision": "accept"},
                                                     {"decision": "accept", "materials": "1"})]
    assert aggregate.take_events() == []  # published once
    with pytest.raises(Conflict, match="任务已办理或已取消"):
        aggregate.complete("wang", {}, {}, NOW)


def test_a_task_completed_while_the_clock_is_stopped_keeps_paused_as_its_level():
    open_task = task()
    pause = CasePause(case_id=1, kind="补正", started_at=NOW - timedelta(days=1), ended_at=None)
    aggregate = CaseAggregate(Case(id=1, number="C1"), [open_task], open_task, pauses=[pause])
    assert aggregate.open_pause() is pause
    aggregate.complete("li", {}, {}, NOW)
    assert (open_task.completed_level, open_task.assignee, open_task.decision) == ("paused", "li", None)
