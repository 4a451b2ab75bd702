"""Personal data by need, as the use cases apply it: what of a case an actor sees in full, and the audit of it.

The rule is in domain.privacy; here the actor's roles are narrowed to those that work the case (a hospital's
assessor only on the cases assigned to the hospital), the records a read use case returns are masked accordingly,
and each read that showed an ID number or a bank account in full is recorded in its own short transaction.
"""
from __future__ import annotations

from workflows.domain import pages, privacy
from workflows.domain.errors import Forbidden, NotFound
from workflows.domain.model import Case, PersonalDataRead, User
from workflows.domain.roles import TASK_ROLES

from .access import require_role
from .context import Context
from .retries import retried

READERS = TASK_ROLES | {"admin", "designer"}  # who may open a case of the hall at all (designers masked)
HOSPITAL = "hospital"
LISTED = frozenset({privacy.PHONE, privacy.NAME})  # what a list of cases may show in full: nothing audited


def working_roles(uow, actor: User, case: Case) -> set[str]:
    """The actor's roles that concern this case: a hospital's role only where the case has a hospital task.
    Someone left with no role that may read cases is told the case does not exist."""
    roles = set(actor.roles)
    if HOSPITAL in roles and not uow.tasks.has_role(case.id, HOSPITAL):
        roles.discard(HOSPITAL)
    if not roles & READERS:
        raise NotFound("案件不存在")
    return roles


def shown_kinds(uow, actor: User, case: Case) -> frozenset[str]:
    return privacy.needs_of(working_roles(uow, actor, case))


def require_case_worker(uow, actor: User, case: Case) -> None:
    """Files and notes of a case (downloads, 备注, 附件) are for those who work its tasks, not for a designer or an
    administrator reading it."""
    if not working_roles(uow, actor, case) & TASK_ROLES:
        raise Forbidden("只有办理本案件的岗位可以查看或添加案件的附件、文书和备注")


def mask_case(case: Case, shown: frozenset[str]) -> None:
    """Mask a case the use case's unit of work has let go of (a detached record: nothing is written back)."""
    case.applicant = privacy.masked_applicant(case.applicant or {}, shown)
    case.data = privacy.masked(case.data or {}, shown)


def mask_records(records, attributes: tuple[str, ...], shown: frozenset[str]) -> None:
    """The same for the JSON attributes of detached records (history details, outside calls)."""
    for record in records:
        for attribute in attributes:
            setattr(record, attribute, privacy.masked(getattr(record, attribute), shown))


@retried
def audit_read(ctx: Context, actor: User, case: Case, kinds: set[str], purpose: str) -> None:
    """Record that `actor` was shown `kinds` of the case in full (nothing when `kinds` is empty)."""
    if not kinds:
        return
    with ctx.uow() as uow:
        uow.personal_data_reads.add(PersonalDataRead(
            case_id=case.id, case_number=case.number, agency_code=case.agency_code, actor=actor.username,
            kinds=",".join(sorted(kinds)), purpose=purpose, at=ctx.now()))
        uow.commit()


def reads(ctx: Context, actor: User, case_number: str | None = None, reader: str | None = None,
          limit: int = 100, offset: int = 0) -> list[PersonalDataRead]:
    """个人信息查阅记录 of the actor's agency, newest first: for its administrators."""
    require_role(actor, "admin")
    with ctx.uow(write=False) as uow:
        case_id = None
        if case_number:
            case = uow.cases.get(case_number)
            if case is None or case.agency_code != actor.agency_code:
                raise NotFound("案件不存在")
            case_id = case.id
        return uow.personal_data_reads.search(actor.agency_code, case_id, reader, min(limit, pages.MAX_PAGE), offset)
