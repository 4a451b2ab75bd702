"""Who may do what: every use case checks its actor's agency, hall and roles here."""
from workflows.domain.errors import Forbidden, NotFound
from workflows.domain.model import READY, Case, CaseTask, User
from workflows.domain.roles import ROLE_NAMES, role_name


def require_role(actor: User, *roles: str) -> None:
    if not any(actor.has_role(role) for role in roles):
        names = "、".join(ROLE_NAMES.get(role, role) for role in roles)
        raise Forbidden(f"需要岗位：{names}")


def sees_all_halls(actor: User) -> bool:
    return actor.has_role("admin")


def require_case_visible(actor: User, case: Case | None) -> Case:
    """A case of another agency or hall is reported as missing: its existence is not the clerk's business."""
    if case is None or case.agency_code != actor.agency_code:
        raise NotFound("案件不存在")
    if case.hall_code != actor.hall_code and not sees_all_halls(actor):
        raise NotFound("案件不存在")
    return case


def case_for_update(uow, actor: User, number) -> Case:
    """The case a command names by its number (the web and the API pass the number), loaded once for update
    (CaseRepository.get_for_update_by_number) and visible to the actor: NotFound otherwise, as for a read."""
    found = uow.cases.get_for_update_by_number(number) if isinstance(number, str) else None
    return require_case_visible(actor, found.case if found else None)


def require_task_visible(actor: User, task: CaseTask | None) -> CaseTask:
    if task is None or task.agency_code != actor.agency_code or task.hall_code != actor.hall_code:
        raise NotFound("任务不存在")
    return task


def require_task_role(actor: User, task: CaseTask) -> None:
    if not actor.has_role(task.role):
        raise Forbidden(f"该任务由{role_name(task.role)}办理")


def require_candidate(actor: User, task: CaseTask) -> None:
    """A task naming its candidate users (camunda:candidateUsers) is claimed and done by them alone (or by whom
    it was given to)."""
    if not task.offered_to(actor.username) and task.assignee != actor.username:
        raise Forbidden(f"该任务只由指定人员办理：{'、'.join(task.candidates)}")


def may_take(actor: User, task: CaseTask) -> bool:
    """Whether the actor may open the open task to work it: of the actor's hall and role (or one of its candidate
    users), not held by another."""
    try:
        require_task_role(actor, require_task_visible(actor, task))
        require_candidate(actor, task)
    except (NotFound, Forbidden):
        return False
    return task.state == READY and task.assignee in (None, actor.username)
