"""A new task given as its diagram says (camunda:assignee, candidateUsers, candidateGroups, priority, dueDate,
followUpDate), on every way a case moves: the same rules for a task opened by the web, the API, the CLI or a timer.

An assignee is given the task only if the hall has that person and they can work it (its role, among its
candidate users); otherwise the task goes to the hall, and the history says why, as it does for any attribute
whose value the task could not use. A substitute stands in for an absent assignee, as for every task given.
"""
from __future__ import annotations

from datetime import datetime

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.assignment import Assignment
from workflows.domain.model import Case, CaseTask, candidate_column
from workflows.domain.roles import ANY_TASK_ROLE, role_name

from .history import SYSTEM, add_history
from .substitutes import resolve_assignee


def apply_assignment(uow: UnitOfWork, case: Case, row: CaseTask, assignment: Assignment, at: datetime) -> None:
    """Set the new task `row` (its role from the definition) as `assignment` says, with its history lines."""
    if row.role == ANY_TASK_ROLE and assignment.role:
        row.role = assignment.role  # candidateGroups given by an expression, known only now
    row.priority, row.due_date, row.follow_up_date = (assignment.priority, assignment.due_date,
                                                      assignment.follow_up_date)
    row.candidate_users = candidate_column(assignment.candidate_users)
    problems = list(assignment.problems)
    if assignment.assignee:
        problem = _give(uow, case, row, assignment.assignee, at)
        if problem:
            problems.append(problem)
    for problem in problems:
        add_history(uow, case, at, SYSTEM, "assignment", f"“{row.name}”：{problem}", stage=row.stage,
                    task_name=row.name)


def _give(uow: UnitOfWork, case: Case, row: CaseTask, username: str, at: datetime) -> str | None:
    """Give the task to `username`; or why not (the task stays with the hall)."""
    user = uow.users.get(username)
    hall = "，任务交由本大厅办理"
    if user is None or (user.agency_code, user.hall_code) != (row.agency_code, row.hall_code):
        return f"流程指定的办理人“{username}”不是本大厅人员{hall}"
    if not user.has_role(row.role):
        return f"流程指定的办理人{user.full_name}不具备{role_name(row.role)}岗位{hall}"
    if not row.offered_to(user.username):
        return f"流程指定的办理人{user.full_name}不在候选人之列{hall}"
    holder, note = resolve_assignee(uow, user.username, at, role=row.role)
    row.assignee, row.claimed_at = holder, at
    message = f"按流程指定，“{row.name}”由{user.full_name}办理" + (f"；{note}" if note else "")
    add_history(uow, case, at, SYSTEM, "assigned", message, stage=row.stage, task_name=row.name,
                detail={"to": holder, "substitute_note": note})
    uow.notifications.add(holder, "assigned", f"{message}：{case.item_name} {case.number}", at, case)
    return None
