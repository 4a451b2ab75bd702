"""Demo data for `make run`: staff of every role, people the local platform knows, cases at every stage.

Everything goes through the same use cases a clerk's clicks would, so the demo is also a smoke test.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from itertools import count

from workflows.domain.identity import resident_id_check_character
from workflows.domain.model import User

from . import cases, tasks, time_limits, users
from .calendar import working_calendar
from .context import CHINA, Context
from .scheduler import fire_due_timers
from .retries import retried

DEMO_PASSWORD = "demo12345"
AGENCY, HALL, OTHER_HALL, INSTITUTION_HALL = "210400", "210400-01", "210400-02", "210400-02"

DEMO_USERS = [  # username, name, hall, roles
    ("shouli", "王受理", HALL, ["acceptor"]),
    ("shenhe", "李审核", HALL, ["reviewer"]),
    ("caiwu", "赵财务", HALL, ["finance"]),
    ("kezhang", "孙科长", HALL, ["supervisor"]),
    ("yiyuan", "周医师", HALL, ["hospital"]),
    ("sheji", "钱设计", HALL, ["designer"]),
    ("admin", "系统管理员", HALL, ["admin", "designer"]),
    ("shouli2", "吴受理", OTHER_HALL, ["acceptor"]),
    ("shenhe2", "郑审核", OTHER_HALL, ["reviewer"]),
    ("kezhang2", "冯科长", OTHER_HALL, ["supervisor"]),
]


def resident_id(prefix17: str) -> str:
    """A well-formed 居民身份证 number for demo people: the 17 digits given and their check character."""
    return prefix17 + resident_id_check_character(prefix17)


@dataclass(frozen=True)
class DemoPerson:
    name: str
    id_number: str
    phone: str
    status: str = "参保缴费"
    arrears: str = "0.00"
    account_balance: str = "0.00"


PEOPLE = [
    DemoPerson("张伟", resident_id("21040219800101123"), "13804130001", account_balance="3260.45"),
    DemoPerson("王芳", resident_id("21040319850202234"), "13804130002"),
    DemoPerson("李娜", resident_id("21040419900303345"), "13804130003"),
    DemoPerson("刘洋", resident_id("21041119750404456"), "13804130004", arrears="1280.00"),
    DemoPerson("陈静", resident_id("21042119920505567"), "13804130005"),
    DemoPerson("杨磊", resident_id("21042219680606678"), "13804130006", status="暂停参保", account_balance="812.30"),
]


def seed(ctx: Context) -> bool:
    """Add the demo staff and people, then the demo cases, each only where there are none yet.

    Returns whether anything was added: running it again on an installation in use changes nothing.
    """
    staff_added = not users.list_users(ctx)
    if staff_added:
        seed_staff(ctx)
    with ctx.uow(write=False) as uow:
        cases_added = not uow.cases.search(AGENCY, limit=1)
    if cases_added:
        _seed_cases(ctx, {username: users.get_user(ctx, username) for username, *_ in DEMO_USERS})
    return staff_added or cases_added


@retried
def seed_staff(ctx: Context) -> None:
    for username, name, hall, roles in DEMO_USERS:
        users.save_user(ctx, username, name, DEMO_PASSWORD, AGENCY, hall, roles)
    with ctx.uow() as uow:
        for person in PEOPLE:
            uow.external.save_person({"id_number": person.id_number, "name": person.name, "status": person.status,
                                      "arrears": person.arrears, "account_balance": person.account_balance,
                                      "insured_since": "2010-01", "suspended": person.status != "参保缴费"})
        uow.commit()


OUTPATIENT, EMPLOYEE, CERTIFICATE, INSTITUTION, WITHDRAWAL = (
    "002036006001", "00203601002", "002036003001", "002036009001", "002036002003")
ACCEPT, APPROVE, PAY = {"decision": "accept"}, {"decision": "approve"}, {"decision": "pay"}
EXPENSES = {"expense_total": "1860.00", "self_pay_total": "120.00", "hospital_name": "抚顺市中心医院",
            "bank_name": "中国工商银行", "bank_account": "6222020712001234567"}
CLINIC = {"institution_name": "抚顺市顺城区康宁诊所", "institution_kind": "诊所",
          "institution_address": "顺城区临江东路 88 号", "credit_code": "91210400MA0Y3KXQ5P"}


@dataclass(frozen=True)
class DemoCase:
    opener: str
    item: str
    person: int  # index into PEOPLE
    data: dict
    steps: tuple = ()  # (who, form values), in order
    working_days_ago: int = 0  # when it was opened and worked: old cases show the 黄牌 and 红牌 states
    then: str | None = None  # "pause" (补正) or "extension" (a request waiting for the supervisor)


DEMO_CASES = [
    DemoCase("shouli", OUTPATIENT, 0, EXPENSES),
    DemoCase("shouli", OUTPATIENT, 1, EXPENSES, (("shouli", ACCEPT),)),
    DemoCase("shouli", OUTPATIENT, 2, EXPENSES, (("shouli", ACCEPT), ("shenhe", APPROVE))),
    DemoCase("shouli", OUTPATIENT, 4, EXPENSES, (("shouli", ACCEPT), ("shenhe", APPROVE), ("caiwu", PAY))),
    DemoCase("shouli", OUTPATIENT, 3, EXPENSES, (("shouli", {"decision": "refuse", "opinion": "发票原件缺失"}),)),
    DemoCase("shouli", EMPLOYEE, 1, {"insured_kind": "flexible"}, (("shouli", ACCEPT),)),
    DemoCase("shouli", EMPLOYEE, 2, {"insured_kind": "employee", "employer_name": "抚顺石化公司"},
             (("shouli", ACCEPT), ("shenhe", APPROVE))),
    DemoCase("shouli", CERTIFICATE, 3, {}, (("shouli", ACCEPT),)),
    DemoCase("shouli", WITHDRAWAL, 5, {"withdrawal_reason": "emigration", "bank_account": "6217000010001234"},
             (("shouli", ACCEPT), ("shenhe", {"decision": "reject", "opinion": "出国定居证明不全"}))),
    DemoCase("shouli2", INSTITUTION, 4, CLINIC, (("shouli2", ACCEPT),)),
    # Old cases: in warning (3 of 20 working days left), overdue, a 5-day item overdue, a paused one, and one
    # whose handler asked for more time.
    DemoCase("shouli", OUTPATIENT, 4, EXPENSES, (("shouli", ACCEPT),), working_days_ago=17),
    DemoCase("shouli", OUTPATIENT, 0, EXPENSES, (("shouli", ACCEPT), ("shenhe", APPROVE)), working_days_ago=23),
    DemoCase("shouli", EMPLOYEE, 4, {"insured_kind": "flexible"}, (("shouli", ACCEPT),), working_days_ago=7),
    DemoCase("shouli", OUTPATIENT, 1, EXPENSES, (("shouli", ACCEPT),), working_days_ago=10, then="pause"),
    DemoCase("shouli", OUTPATIENT, 2, EXPENSES, (("shouli", ACCEPT),), working_days_ago=16, then="extension"),
]


def _seed_cases(ctx: Context, staff: dict[str, User]) -> None:
    for plan in DEMO_CASES:
        _seed_case(_context_at(ctx, plan.working_days_ago), staff, plan)
    fire_due_timers(ctx)  # the old cases' 黄牌 and 红牌 are raised now, as the scheduler would


def _context_at(ctx: Context, working_days_ago: int) -> Context:
    """The same installation on a clock set back to 09:30 that many working days ago (0: the real clock)."""
    if not working_days_ago:
        return ctx
    with ctx.uow(write=False) as uow:
        day = working_calendar(ctx, uow).subtract_working_days(ctx.today(), working_days_ago)
    start = datetime.combine(day, time(9, 30), CHINA)
    ticks = count()
    return replace(ctx, clock=lambda: start + timedelta(minutes=next(ticks)))


def _seed_case(ctx: Context, staff: dict[str, User], plan: DemoCase) -> None:
    person = PEOPLE[plan.person]
    applicant = {"name": person.name, "id_number": person.id_number, "phone": person.phone}
    if plan.item == INSTITUTION:
        applicant.update(name=plan.data["institution_name"], id_number=plan.data["credit_code"], kind="企业法人")
    case = cases.open_case(ctx, staff[plan.opener], plan.item, applicant, plan.data).case
    for who, values in plan.steps:
        [task] = [t for t in tasks.list_tasks(ctx, staff[who]) if t.case_number == case.number]
        tasks.complete_task(ctx, staff[who], task.id, {"opinion": "材料齐全", **values})
    if plan.then == "pause":
        time_limits.pause_clock(ctx, staff["shenhe"], case.number, "correction", "医疗费用明细清单需补正")
    if plan.then == "extension":
        time_limits.request_extension(ctx, staff["shenhe"], case.number, 5, "需向外省医院核实费用")
