"""The use cases behind Camunda 7's REST API for user tasks and process instances (entrypoints/engine_rest.py).
Each maps Camunda's request onto the platform's own use case — the inbox, completing a task, opening a case, the
case's details — so that every rule of our API holds there as well: the form's checks, 禁办, amounts, claims,
held submissions, the hall and the roles, personal data masked by need."""
from __future__ import annotations

from collections.abc import Mapping

from workflows.domain import camunda_rest as rules
from workflows.domain.errors import NotFound
from workflows.domain.external_tasks import to_typed
from workflows.domain.model import CaseTask, ProcessVersion, User
from workflows.domain.pages import MAX_PAGE

from . import cases, tasks
from .context import Context, jsonable
from .progress import Progress


def find_tasks(ctx: Context, actor: User, case_number: str | None = None, spec_id: str | None = None,
               assignee: str | None = None, role: str | None = None, offset: int = 0,
               limit: int = MAX_PAGE) -> list[CaseTask]:
    """GET /task: the actor's open tasks (those of the inbox), narrowed as Camunda's filters say and paged by
    firstResult/maxResults, all in the inbox's SQL."""
    return tasks.list_tasks(ctx, actor, role=role, case_number=case_number, spec_id=spec_id, assignee=assignee,
                            limit=limit, offset=offset)


def definitions_of_cases(ctx: Context, case_ids) -> dict[int, str]:
    """case id -> the Camunda id of the process definition (version) the case runs."""
    with ctx.uow(write=False) as uow:
        return {case_id: rules.definition_id(version) for case_id, version in uow.processes.of_cases(case_ids).items()}


def definitions(ctx: Context, version_ids) -> dict[int, str]:
    """version row id -> its Camunda process definition id."""
    with ctx.uow(write=False) as uow:
        return {version_id: rules.definition_id(uow.processes.get(version_id)) for version_id in set(version_ids)}


def process_definition(ctx: Context, actor: User, definition: str) -> ProcessVersion:
    """GET /process-definition/{id}: the version that id names, if it is national or the actor's agency's."""
    key, number, version_id = rules.version_id_of(definition)
    with ctx.uow(write=False) as uow:
        version = uow.processes.get(version_id)
    if version is None or (version.process_key, version.version) != (key, number) \
            or version.agency_code not in (None, actor.agency_code):
        raise NotFound(f"流程定义 {definition} 不存在")
    return version


def complete_task(ctx: Context, actor: User, task_id: str, variables: Mapping) -> Progress:
    """POST /task/{id}/complete: the task completed as our API completes it."""
    data, others = rules.completion_parts(variables)
    return tasks.complete_task(ctx, actor, task_id, data, others)


def form_variables(ctx: Context, actor: User, task_id: str, names: tuple[str, ...] | None) -> dict:
    """GET /task/{id}/form-variables: the step's fields with the case's values or their defaults."""
    details = tasks.task_details(ctx, actor, task_id)
    return rules.form_variables(details.definition.form, jsonable(details.case.data), jsonable(details.defaults),
                                names)


def start_case(ctx: Context, actor: User, process_key: str, business_key, variables: Mapping) -> Progress:
    """POST /process-definition/key/{key}/start: a case of the actor's agency's item run by that process, opened
    as at the window (the applicant from the variable applicant, the application form's fields from theirs)."""
    applicant, others = rules.start_parts(variables, business_key)
    return cases.open_case(ctx, actor, _item_of(ctx, actor, process_key), applicant, {}, others)


def _item_of(ctx: Context, actor: User, process_key: str) -> str:
    """The item of the actor's agency that runs `process_key`, one of the actor's hall first."""
    with ctx.uow(write=False) as uow:
        agency = ctx.catalog(uow).agency(actor.agency_code)
    items = sorted((item for item in (agency.items.values() if agency else ()) if item.process_key == process_key),
                   key=lambda item: (actor.hall_code not in item.hall_codes, item.code))
    if not items:
        raise NotFound(f"本机构没有由流程 {process_key} 办理的事项")
    return items[0].code


def case_variables(ctx: Context, actor: User, number: str, names: tuple[str, ...] | None) -> dict:
    """GET /process-instance/{id}/variables: the case's data, typed, masked as the actor's roles see it."""
    return to_typed(jsonable(cases.case_details(ctx, actor, number).case.data), names)
