"""Authorization of every route, API and pages: a user of another hall or without the role is refused.

One table, ROUTES, has a row for every (method, rule) of the application's url_map; a route added without a row
fails test_every_route_of_the_application_is_in_the_table. Each row says how to call the route on a small world
(a 门诊 case waiting for 受理 and an accepted case that went overdue, with its 黄牌 and 红牌), who must be refused
and with which status (401 / a redirect to /login when not signed in, 403 without the role, 404 from another hall),
who must not see the world's records in a list, and one user who is let in (2xx, 3xx, or 409/422 when the action
itself has nothing to do — never 401/403/404). Public routes are listed as public.

Every demo user is in 抚顺 (210400): hall 210400-01 shouli 受理员, shenhe 审核员, caiwu 财务, kezhang 科室负责人,
yiyuan 定点医院, sheji 流程设计员, admin 系统管理员+设计员; hall 210400-02 shouli2, shenhe2, kezhang2.
Rows run in table order, each (route, user) as its own subtest, in a few slices of the table run as tests of their
own (pytest-xdist spreads them over its workers): each slice on a copy of one world, built once per worker.
"""
from __future__ import annotations

import io
from uuid import uuid4
from dataclasses import dataclass, field
from typing import Callable

import pytest

from workflows.entrypoints.app import create_app
from workflows.services import case_files, cases, desk, documents
from workflows.services import substitutes, task_operations, tasks, users
from workflows.services import agency_messages, camunda_rest, followups
from workflows.services.public import rate_service
from workflows.services.context import Context
from workflows.services.demo import DEMO_PASSWORD
from workflows.services.scheduler import fire_due_timers

from support.cases import APPLICANT, DATA, OUTPATIENT, accept, at
from support.diagrams import OUTPATIENT_PROCESS, RENAMED_REVIEW, outpatient_diagram
from support.paths import BPMN_DIR
from support.process_driver import PERSON_ID, PERSON_PHONE, drive, proof
from support.web import csrf_token, html, sign_in

ANON = "anonymous"
OUTPATIENT_RULES = f"prohibited_{OUTPATIENT}"  # 门诊费用报销's 禁办情形 table
PUBLIC = "public"
NOT_SIGNED_IN = 401  # the API answers 401; a page redirects to /login (checked as such)


@dataclass
class World:
    waiting: str  # a case at 受理, its 受理 task ready for the hall's acceptors
    accept_task: str
    overdue: str  # accepted 2026-11-23, 红牌 since 2026-12-21 17:00; its 审核 task ready for the hall's reviewers
    review_task: str
    yellow: int  # open escalations in hall 210400-01: a warned case's 黄牌, the overdue case's 红牌
    red: int
    attachment: int  # a PDF attached to the overdue case
    document: int  # the overdue case's 受理通知书
    ops: "Operations"  # a third case's 审核 task with its 委派, 加签 and 督办; shenhe's 外出代理
    exchange: "Exchange"  # a 联系函 from another installation; a 差评回访 of hall 210400-01
    definition: str  # the Camunda process definition id (key:version:id) the waiting case runs


PDF = b"%PDF-1.4\n%%EOF\n"


def build_world(ctx, staff, clock) -> World:
    users.save_user(ctx, WORKER, "医保接口系统", DEMO_PASSWORD, "210400", "210400-01", ["integrator"])
    overdue = accept(ctx, staff, clock, "2026-11-23 09:30")
    warned = accept(ctx, staff, clock, "2026-11-27 09:30")  # yellow from 2026-12-21 17:00
    for moment in ("2026-12-16 09:00", "2026-12-22 09:00"):
        clock.now = at(moment)
        fire_due_timers(ctx)
    escalations = {e.level: e.id for e in desk.list_escalations(ctx, staff["kezhang"])
                   if e.case_number in (overdue, warned)}  # the overdue case's 红牌 replaced its 黄牌
    [review] = [t for t in cases.case_details(ctx, staff["shenhe"], overdue).tasks if t.state == "ready"
                and t.role == "reviewer"]
    waiting = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    attachment = case_files.add_attachment(ctx, staff["shouli"], overdue, "发票.pdf", "application/pdf", PDF)
    [notice] = documents.list_documents(ctx, staff["shouli"], overdue)
    return World(waiting.case.number, waiting.open_tasks[0].id, overdue, review.id, escalations["yellow"],
                 escalations["red"], attachment.id, notice.id, operations_world(ctx, staff),
                 exchange_world(ctx, staff),
                 camunda_rest.definitions(ctx, [waiting.case.process_version_id])[waiting.case.process_version_id])


@dataclass
class Exchange:
    message: str  # delivered: it opened a 转出地 case in hall 210400-01
    followup: int  # open, for a 门诊 case rated 非常不满意
    rated_case: str


def exchange_world(ctx, staff) -> Exchange:
    letter = {"id": str(uuid4()), "name": "联系函", "from_agency": "440300", "to_agency": "210400",
              "correlation": "440300-20261201-00001", "payload": {"applicant": APPLICANT}}
    record, _ = agency_messages.receive(ctx, staff["admin"], letter)
    rated = drive(ctx, staff["clerk_210400_01"], OUTPATIENT).case.number
    rate_service(ctx, proof(rated), None, 1)
    [row] = followups.list_followups(ctx, staff["kezhang"])
    return Exchange(record.message.id, row.followup.id, rated)


@dataclass
class Operations:
    case: str
    task: str  # its 审核 task, held by shenhe
    delegation: int  # pending, to caiwu
    signer: int  # 前加签 of kezhang, pending
    supervision: int  # kezhang's 督办, unreplied
    substitution: int  # shenhe's 外出代理 period (clerk_210400_01 stands in), not begun


def operations_world(ctx, staff) -> Operations:
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    [review] = [t for t in cases.case_details(ctx, staff["shenhe"], progress.case.number).tasks if t.state == "ready"]
    delegation = task_operations.delegate_task(ctx, staff["shenhe"], review.id, "caiwu", "请核对发票")
    signer = task_operations.add_signer(ctx, staff["shenhe"], review.id, "kezhang", "before", "请科长把关")
    supervision = task_operations.supervise_task(ctx, staff["kezhang"], review.id, "请说明进度")
    period = substitutes.name_substitute(ctx, staff["shenhe"], "clerk_210400_01", "leave", "", "2027-01-04",
                                         "2027-01-05")
    return Operations(progress.case.number, review.id, delegation.id, signer.id, supervision.id, period.id)


# --- the table ---------------------------------------------------------------------------------------------------

@dataclass
class Route:
    method: str
    rule: str
    call: Callable[[World], dict]  # -> {"url": ..., and json / data / content_type / headers}
    allowed: str  # a user let in (PUBLIC: anyone, tried without signing in)
    refused: dict[str, int] = field(default_factory=dict)  # user -> 401 | 403 | 404
    hidden: tuple[str, ...] = ()  # users answered 200 who must not see the world's record named by `marker`
    marker: Callable[[World], str] | None = None
    flashed: bool = False  # the page always redirects and flashes why it refused: checked by message and effect
    absent: bool = False  # the let-in call names a record the world lacks: its 404 comes after authorization

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.rule

    @property
    def page(self) -> bool:
        return not self.rule.startswith(("/api/", "/engine-rest/"))


def get(url: str) -> Callable[[World], dict]:
    return lambda w: {"url": url.format(w=w)}


def send(url: str, **body) -> Callable[[World], dict]:
    """JSON for the API, a form for pages (the CSRF token is added by the caller)."""
    key = "json" if url.startswith(("/api/", "/engine-rest/")) else "data"
    return lambda w: {"url": url.format(w=w), key: {k: (v.format(w=w) if isinstance(v, str) else v)
                                                     for k, v in body.items()}}


def upload(url: str) -> Callable[[World], dict]:
    if url.startswith("/api/"):
        return lambda w: {"url": url, "data": outpatient_diagram(RENAMED_REVIEW), "content_type": "application/xml"}
    return lambda w: {"url": url, "content_type": "multipart/form-data",
                      "data": {"file": (io.BytesIO(outpatient_diagram(RENAMED_REVIEW)), "门诊费用报销_v2.bpmn")}}


def dmn(url: str, path) -> Callable[[World], dict]:
    """A decision table as the request body (the one in force: publishing it changes nothing)."""
    return lambda w: {"url": url, "data": path.read_bytes(), "content_type": "application/xml"}


def attach(url: str) -> Callable[[World], dict]:
    return lambda w: {"url": url.format(w=w), "content_type": "multipart/form-data",
                      "data": {"file": (io.BytesIO(PDF), "发票.pdf", "application/pdf")}}


def worker(url: str, **body) -> Callable[[World], dict]:
    """A worker's JSON request to the external-task API (engine_rest.py)."""
    return lambda w: {"url": url, "json": body}


WORKER_REFUSED = {ANON: 401, "shouli": 403, "sheji": 403, "admin": 403}  # the external-task API: integrators only
WORKER = "waibu"  # an integrator of agency 210400 (build_world)


def worker_route(operation: str, **body) -> Route:
    """An operation on one external task: the world has none, so the integrator let in meets a 404."""
    return Route("POST", f"/engine-rest/external-task/<task_id>/{operation}",
                 worker(f"/engine-rest/external-task/unknown/{operation}", workerId="w", **body), WORKER,
                 WORKER_REFUSED, absent=True)


def public(method: str, rule: str, call) -> Route:
    return Route(method, rule, call, allowed=PUBLIC)


OTHER_HALL_CLERKS = {"shouli2": 404, "shenhe2": 404, "kezhang2": 404}
CLOCK_REFUSED = {ANON: 401, "yiyuan": 403, "sheji": 403, **OTHER_HALL_CLERKS}  # 暂停/恢复/延期: 受理 审核 财务 科长
ADMIN_ONLY = {ANON: 401, "shouli": 403, "kezhang": 403, "sheji": 403}
DESIGNER_ONLY = {ANON: 401, "shouli": 403, "kezhang": 403, "yiyuan": 403}
SUPERVISOR_ONLY = {ANON: 401, "shouli": 403, "shenhe": 403, "caiwu": 403, "yiyuan": 403, "sheji": 403}
ACCEPT_TASK_REFUSED = {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang": 403, "sheji": 403, "shouli2": 404,
                       "shenhe2": 404}
REVIEW_TASK_REFUSED = {ANON: 401, "shouli": 403, "caiwu": 403, "kezhang": 403, "shenhe2": 404, "shouli2": 404}
SIGNED_IN = {ANON: 401}
MIGRATION_REFUSED = {ANON: 401, "shouli": 403, "caiwu": 403, "yiyuan": 403}  # designers, supervisors, admins
WITHDRAW_REFUSED = {ANON: 401, "shenhe": 403, "kezhang": 403, "shouli2": 404, "shenhe2": 404}  # 撤回: who did it
CASE_WITHDRAWAL_REFUSED = {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang": 403, "sheji": 403, "shouli2": 404,
                           "shenhe2": 403}  # 撤件: the hall's 受理员; role before hall
HOLDER_ONLY = {ANON: 401, "caiwu": 403, "kezhang": 403, "shouli": 403, "shenhe2": 404}  # 转办, 委派, 加签, 督办回复
URGE_REFUSED = {ANON: 401, "shenhe": 403, "caiwu": 403, "yiyuan": 403, "sheji": 403,
                **OTHER_HALL_CLERKS}  # 催办: supervisors and 受理员 of the task's hall
NOT_MINE = {ANON: 401, "shouli": 404, "caiwu": 404, "shenhe2": 404}  # one's own 外出代理 period
NOTICE_REFUSED = {ANON: 401, "caiwu": 403, "kezhang": 403, "yiyuan": 403, "sheji": 403, "shouli2": 404,
                  "shenhe2": 404, "kezhang2": 403}  # 一次性告知书, 退回补正: the hall's 受理员 and 审核员; role before hall

ROUTES: list[Route] = [
    # external-task workers (Camunda 7 REST subset)
    Route("POST", "/engine-rest/external-task/fetchAndLock",
          worker("/engine-rest/external-task/fetchAndLock", workerId="w", maxTasks=1,
                 topics=[{"topicName": "nothing_here", "lockDuration": 1000}]), WORKER, WORKER_REFUSED),
    worker_route("complete"), worker_route("failure", retries=1), worker_route("bpmnError", errorCode="E1"),
    worker_route("extendLock", newDuration=1000), worker_route("lock", lockDuration=1000), worker_route("unlock"),
    # Camunda 7 REST for user tasks and process instances: the same rules as /api
    Route("GET", "/engine-rest/task", get("/engine-rest/task"), "shouli", {ANON: 401}, hidden=("shouli2",),
          marker=lambda w: w.accept_task),
    Route("GET", "/engine-rest/task/<task_id>/form-variables", get("/engine-rest/task/{w.accept_task}/form-variables"),
          "shouli", {ANON: 401, "shouli2": 404, "shenhe2": 404}),
    # a decision the step lacks: the holder meets a 422 after authorization, and the 受理 task stays open for the rows below
    Route("POST", "/engine-rest/task/<task_id>/complete", send(
        "/engine-rest/task/{w.accept_task}/complete", variables={"decision": {"value": "无此决定", "type": "String"}}),
        "shouli", ACCEPT_TASK_REFUSED),
    Route("POST", "/engine-rest/process-definition/key/<process_key>/start", send(
        f"/engine-rest/process-definition/key/{OUTPATIENT_PROCESS}/start", variables={
            "applicant": {"value": APPLICANT, "type": "Json"},
            **{name: {"value": value} for name, value in DATA.items()}}),
        "shouli", {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang": 403, "yiyuan": 403, "sheji": 403}),
    Route("GET", "/engine-rest/process-definition/<definition>", get("/engine-rest/process-definition/{w.definition}"),
          "shouli", SIGNED_IN),
    Route("GET", "/engine-rest/process-instance/<number>/variables", get("/engine-rest/process-instance/{w.overdue}/variables"),
          "shouli", {ANON: 401, **OTHER_HALL_CLERKS}),
    # public: the catalog, the calendar, the deadline calculator, the API's description, assets, signing in
    public("GET", "/api/openapi.json", get("/api/openapi.json")),
    public("POST", "/api/login", send("/api/login", username="shouli", password=DEMO_PASSWORD)),
    public("GET", "/api/agencies", get("/api/agencies")),
    public("GET", "/api/agencies/<agency_code>", get("/api/agencies/210400")),
    public("GET", "/api/agencies/<agency_code>/items", get("/api/agencies/210400/items")),
    public("GET", "/api/agencies/<agency_code>/items/<item_code>", get(f"/api/agencies/210400/items/{OUTPATIENT}")),
    public("GET", "/api/agencies/<agency_code>/items/<item_code>/deadline",
           get(f"/api/agencies/210400/items/{OUTPATIENT}/deadline?accepted=2026-11-23 09:30")),
    public("GET", "/api/calendar/<int:year>", get("/api/calendar/2026")),
    public("GET", "/assets/<path:name>", get("/assets/app.css")),
    public("GET", "/favicon.ico", get("/favicon.ico")),
    public("GET", "/static/<path:filename>", get("/static/app.css")),
    public("GET", "/login", get("/login")),
    public("POST", "/login", send("/login", username="shouli", password=DEMO_PASSWORD)),
    public("POST", "/logout", send("/logout")),
    public("GET", "/public", get("/public")),
    public("GET", "/public/progress", get("/public/progress")),
    public("POST", "/public/progress", send("/public/progress", number="{w.overdue}", id_number=PERSON_ID,
                                            phone=PERSON_PHONE)),
    public("POST", "/public/rating", send("/public/rating", number="{w.overdue}", id_number=PERSON_ID,
                                          phone=PERSON_PHONE, score="5", comment="")),
    public("GET", "/public/cases", get("/public/cases?agency=210400")),

    # API: reads for any signed-in user, cases and tasks of the own hall only
    Route("GET", "/api/me", get("/api/me"), "shouli", SIGNED_IN),
    Route("GET", "/api/notifications", get("/api/notifications"), "shouli", SIGNED_IN),
    Route("GET", "/api/calendar/changes", get("/api/calendar/changes"), "shouli", SIGNED_IN),
    Route("GET", "/api/handlers", get("/api/handlers"), "sheji", SIGNED_IN),
    Route("GET", "/api/processes", get("/api/processes"), "shouli", SIGNED_IN),  # clerks read diagrams too
    Route("GET", "/api/processes/<process_key>/versions", get(f"/api/processes/{OUTPATIENT_PROCESS}/versions"),
          "shouli", SIGNED_IN),
    Route("GET", "/api/processes/<process_key>/versions/<int:version>/bpmn",
          get(f"/api/processes/{OUTPATIENT_PROCESS}/versions/1/bpmn"), "shouli", SIGNED_IN),
    Route("GET", "/api/cases", get("/api/cases?hall_code=210400-01"), "shouli", SIGNED_IN,
          hidden=("shouli2", "shenhe2", "kezhang2"), marker=lambda w: w.overdue),
    Route("GET", "/api/cases/<number>", get("/api/cases/{w.overdue}"), "shouli", {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("GET", "/api/tasks", get("/api/tasks"), "shouli", {ANON: 401}, hidden=("shouli2",),
          marker=lambda w: w.accept_task),
    Route("GET", "/api/tasks/<task_id>", get("/api/tasks/{w.accept_task}"), "shouli",
          {ANON: 401, "shouli2": 404, "shenhe2": 404}),
    Route("GET", "/api/escalations", get("/api/escalations"), "kezhang", SUPERVISOR_ONLY, hidden=("kezhang2",),
          marker=lambda w: w.overdue),

    # API: the 受理 task, then the overdue case's clock, extension and escalations
    Route("POST", "/api/cases", send("/api/cases", item_code=OUTPATIENT, applicant=APPLICANT, data=DATA), "shouli",
          {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang": 403, "yiyuan": 403, "sheji": 403}),
    Route("POST", "/api/tasks/<task_id>/claim", send("/api/tasks/{w.accept_task}/claim"), "shouli",
          ACCEPT_TASK_REFUSED),
    Route("POST", "/api/tasks/<task_id>/release", send("/api/tasks/{w.accept_task}/release"), "shouli",
          ACCEPT_TASK_REFUSED),
    Route("POST", "/api/tasks/<task_id>/complete", send("/api/tasks/{w.accept_task}/complete",
                                                        data={"decision": "accept"}), "shouli", ACCEPT_TASK_REFUSED),
    Route("POST", "/api/tasks/<task_id>/bpmn-error", send("/api/tasks/{w.accept_task}/bpmn-error", code="NOT_INSURED"),
          "shouli", ACCEPT_TASK_REFUSED),  # (the outpatient diagram catches no error there: 422 once let in)
    Route("POST", "/api/tasks/<task_id>/escalation", send("/api/tasks/{w.accept_task}/escalation", code="REPORT"),
          "shouli", ACCEPT_TASK_REFUSED),  # (the outpatient diagram catches no escalation there: 422 once let in)
    Route("POST", "/api/tasks/<task_id>/preview", send("/api/tasks/{w.accept_task}/preview",
                                                       data={"decision": "refuse", "opinion": "非本市参保人员"}),
          "shouli", ACCEPT_TASK_REFUSED),
    Route("POST", "/api/cases/<number>/messages", send("/api/cases/{w.overdue}/messages", name="信息表", payload={}),
          "shenhe", {ANON: 401, "caiwu": 403, "kezhang": 403, "yiyuan": 403, "sheji": 403, "shouli2": 404,
                     "shenhe2": 404, "kezhang2": 403}),  # the role is checked before the hall
    Route("GET", "/api/cases/<number>/messages", get("/api/cases/{w.overdue}/messages"), "shouli",
          {ANON: 401, "shouli2": 404, "shenhe2": 404}),
    Route("POST", "/api/agencies/<agency_code>/messages",  # a message no case waits for and no process starts by
          send("/api/agencies/210400/messages", name="无人等待的消息", payload={}), "shouli",
          {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang": 403, "sheji": 403}, absent=True),
    Route("POST", "/api/signals", send("/api/signals", name="无人等待的信号"), "kezhang", SUPERVISOR_ONLY),
    Route("POST", "/api/cases/<number>/pause", send("/api/cases/{w.overdue}/pause", kind="correction",
                                                    reason="补正材料"), "shenhe", CLOCK_REFUSED),
    Route("POST", "/api/cases/<number>/resume", send("/api/cases/{w.overdue}/resume"), "shenhe", CLOCK_REFUSED),
    Route("POST", "/api/cases/<number>/extensions", send("/api/cases/{w.overdue}/extensions", days=5,
                                                         reason="外省协查"), "shouli", CLOCK_REFUSED),
    Route("POST", "/api/cases/<number>/extensions/decision",
          send("/api/cases/{w.overdue}/extensions/decision", approve=False, note="材料齐全，不必延期"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404, "shouli2": 403, "shenhe2": 403}),
    Route("GET", "/api/cases/<number>/materials", get("/api/cases/{w.overdue}/materials"), "caiwu",
          {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("PUT", "/api/cases/<number>/materials", send("/api/cases/{w.overdue}/materials", marks={"1": "present"}),
          "shenhe", {ANON: 401, "caiwu": 403, "kezhang": 403, "yiyuan": 403, "sheji": 403, **OTHER_HALL_CLERKS}),
    Route("GET", "/api/cases/<number>/documents", get("/api/cases/{w.overdue}/documents"), "shouli",
          {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("GET", "/api/documents/<int:document_id>/pdf", get("/api/documents/{w.document}/pdf"), "shouli",
          {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("POST", "/api/cases/<number>/missing-materials-notice",  # 422: nothing marked missing
          send("/api/cases/{w.waiting}/missing-materials-notice"), "shouli", NOTICE_REFUSED),
    Route("POST", "/api/cases/<number>/correction", send("/api/cases/{w.overdue}/correction", reason="发票需补正"),
          "shenhe", NOTICE_REFUSED),
    Route("POST", "/api/escalations/<int:escalation_id>/handle",
          send("/api/escalations/{w.yellow}/handle", action="note", note="已知悉"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),

    # pages of the clerks: the 审核 task of the overdue case (the API's rows used the 受理 task)
    Route("GET", "/", get("/"), "shouli", SIGNED_IN),
    Route("GET", "/cases/new", get("/cases/new?item_code=002036006001"), "shouli",
          {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang": 403, "sheji": 403}),
    Route("POST", "/cases/new", send("/cases/new", item_code="002036006001"), "shouli",
          {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang": 403, "sheji": 403}),
    Route("GET", "/inbox", get("/inbox"), "shenhe", SIGNED_IN, hidden=("shenhe2",), marker=lambda w: w.overdue),
    Route("GET", "/tasks/<task_id>", get("/tasks/{w.review_task}"), "shenhe",
          {ANON: 401, "shenhe2": 404, "shouli2": 404}),
    Route("POST", "/tasks/claim", send("/tasks/claim", task_id="{w.review_task}"), "shenhe",
          {ANON: 401, **{user: status for user, status in REVIEW_TASK_REFUSED.items() if user != ANON}},
          flashed=True),
    Route("POST", "/tasks/<task_id>/release", send("/tasks/{w.review_task}/release"), "shenhe",
          {ANON: 401, **{user: status for user, status in REVIEW_TASK_REFUSED.items() if user != ANON}},
          flashed=True),
    Route("POST", "/tasks/<task_id>", send("/tasks/{w.review_task}"), "shenhe", REVIEW_TASK_REFUSED),  # 422: empty
    Route("POST", "/tasks/reassign", send("/tasks/reassign", task_id="{w.review_task}", assignee="shenhe"), "kezhang",
          SUPERVISOR_ONLY),
    # 退回认领所选, once the supervisor has handed the task to shenhe again
    Route("POST", "/tasks/release", send("/tasks/release", task_id="{w.review_task}"), "shenhe",
          {ANON: 401, **{user: status for user, status in REVIEW_TASK_REFUSED.items() if user != ANON}},
          flashed=True),
    Route("POST", "/inbox/filters", send("/inbox/filters", name="审核中", stage="审核"), "shouli", SIGNED_IN),
    Route("POST", "/inbox/filters/<int:filter_id>/delete", send("/inbox/filters/1/delete"), "shouli",  # the row above's
          {ANON: 401, "shenhe": 403, "shouli2": 404}),
    Route("GET", "/cases/<number>", get("/cases/{w.overdue}"), "shouli", {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("POST", "/cases/<number>/comments", send("/cases/{w.overdue}/comments", text="申请人来电询问进度"),
          "shouli", {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("POST", "/cases/<number>/attachments", attach("/cases/{w.overdue}/attachments"), "shouli",
          {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("GET", "/attachments/<int:attachment_id>", get("/attachments/{w.attachment}"), "shouli",
          {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("GET", "/documents/<int:document_id>/pdf", get("/documents/{w.document}/pdf"), "shouli",
          {ANON: 401, **OTHER_HALL_CLERKS}),
    Route("POST", "/cases/<number>/missing-materials-notice", send("/cases/{w.waiting}/missing-materials-notice"),
          "shouli", NOTICE_REFUSED),
    Route("POST", "/cases/<number>/correction", send("/cases/{w.overdue}/correction", reason="发票需补正"), "shenhe",
          NOTICE_REFUSED),
    Route("POST", "/cases/<number>/materials", send("/cases/{w.overdue}/materials", material_1="present"), "shenhe",
          {ANON: 401, "caiwu": 403, "kezhang": 403, "yiyuan": 403, "sheji": 403, **OTHER_HALL_CLERKS}),

    # pages of the supervisor
    Route("GET", "/desk", get("/desk"), "kezhang", SUPERVISOR_ONLY, hidden=("kezhang2",), marker=lambda w: w.overdue),
    Route("POST", "/desk/escalations/<int:escalation_id>",
          send("/desk/escalations/{w.red}", action="note", note="已知悉"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/desk/cases/<number>/suspend", send("/desk/cases/{w.overdue}/suspend", reason="等待司法鉴定"),
          "kezhang", {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/desk/cases/<number>/resume", send("/desk/cases/{w.overdue}/resume"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/desk/cases/<number>/extension", send("/desk/cases/{w.overdue}/extension", decision="refuse",
                                                         note=""), "kezhang", {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("GET", "/statistics", get("/statistics"), "kezhang", SUPERVISOR_ONLY),

    # task operations on the third case's 审核 task (shenhe holds it; caiwu is its delegate, kezhang its signer)
    Route("GET", "/api/tasks/<task_id>/operations", get("/api/tasks/{w.ops.task}/operations"), "shenhe",
          {ANON: 401, "shouli2": 404, "shenhe2": 404}),
    Route("POST", "/api/tasks/<task_id>/urge", send("/api/tasks/{w.ops.task}/urge", message="请尽快"), "kezhang",
          URGE_REFUSED),
    Route("POST", "/api/tasks/<task_id>/supervisions", send("/api/tasks/{w.ops.task}/supervisions",
                                                            instruction="请说明"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/api/supervisions/<int:supervision_id>/reply",
          send("/api/supervisions/{w.ops.supervision}/reply", reply="今日办结"), "shenhe", HOLDER_ONLY),
    Route("POST", "/api/task-requests/<int:request_id>/resolve",
          send("/api/task-requests/{w.ops.delegation}/resolve", opinion="无误"), "caiwu",
          {ANON: 401, "shenhe": 403, "kezhang": 403, "shenhe2": 404, "kezhang2": 404}),
    Route("POST", "/api/task-requests/<int:request_id>/recall",  # 409: answered above
          send("/api/task-requests/{w.ops.delegation}/recall"), "shenhe", HOLDER_ONLY),
    Route("POST", "/api/task-requests/<int:request_id>/sign",
          send("/api/task-requests/{w.ops.signer}/sign", decision="agree", opinion="同意"), "kezhang",
          {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang2": 404}),
    Route("POST", "/api/task-requests/<int:request_id>/remove",  # 409: signed above
          send("/api/task-requests/{w.ops.signer}/remove"), "shenhe",
          {ANON: 401, "caiwu": 403, "shouli": 403, "kezhang2": 404}),
    Route("POST", "/api/tasks/<task_id>/delegations", send("/api/tasks/{w.ops.task}/delegations", delegate="caiwu",
                                                           reason="请核对"), "shenhe", HOLDER_ONLY),
    Route("POST", "/api/tasks/<task_id>/signers", send("/api/tasks/{w.ops.task}/signers", signer="kezhang",
                                                       kind="after", reason="请复核"), "shenhe", HOLDER_ONLY),
    Route("POST", "/api/tasks/<task_id>/transfer",  # 409: delegated above
          send("/api/tasks/{w.ops.task}/transfer", assignee="shenhe", reason="外出"), "shenhe", HOLDER_ONLY),
    Route("GET", "/api/supervisions", get("/api/supervisions"), "kezhang", SUPERVISOR_ONLY, hidden=("kezhang2",),
          marker=lambda w: w.ops.case),
    Route("GET", "/api/me/awaiting", get("/api/me/awaiting"), "caiwu", SIGNED_IN, hidden=("shenhe2",),
          marker=lambda w: w.ops.task),
    Route("GET", "/api/me/substitutions", get("/api/me/substitutions"), "shenhe", SIGNED_IN),
    Route("POST", "/api/me/substitutions", send("/api/me/substitutions", substitute="clerk_210400_01", kind="out",
                                                starts_at="2027-02-01", ends_at="2027-02-02"), "shenhe", SIGNED_IN),
    Route("POST", "/api/me/substitutions/<int:substitution_id>/end",
          send("/api/me/substitutions/{w.ops.substitution}/end"), "shenhe", NOT_MINE),
    Route("POST", "/tasks/<task_id>/bpmn-error", send("/tasks/{w.ops.task}/bpmn-error", code="NOT_INSURED"),
          "shenhe", HOLDER_ONLY),  # (the outpatient diagram catches no error there: 422 once let in)
    Route("POST", "/tasks/<task_id>/escalation", send("/tasks/{w.ops.task}/escalation", code="REPORT"),
          "shenhe", HOLDER_ONLY),  # (the outpatient diagram catches no escalation there: 422 once let in)
    Route("POST", "/tasks/<task_id>/transfer", send("/tasks/{w.ops.task}/transfer", assignee="shenhe", reason="外出"),
          "shenhe", HOLDER_ONLY),
    Route("POST", "/tasks/<task_id>/delegate", send("/tasks/{w.ops.task}/delegate", delegate="caiwu",
                                                    reason="请核对"), "shenhe", HOLDER_ONLY),
    Route("POST", "/tasks/<task_id>/signers", send("/tasks/{w.ops.task}/signers", signer="kezhang", kind="before",
                                                   reason="请把关"), "shenhe", HOLDER_ONLY),
    Route("POST", "/tasks/<task_id>/requests/<int:request_id>",  # 409: signed above
          send("/tasks/{w.ops.task}/requests/{w.ops.signer}", action="sign", decision="agree", opinion="同意"),
          "kezhang", {ANON: 401, "shenhe": 403, "caiwu": 403, "kezhang2": 404}),
    # A refused operation shows the task page again, which a hospital's assessor may not see for a case not
    # assigned to the hospital (services.privacy): 404 there, where the API says 403 for the operation itself.
    Route("POST", "/tasks/<task_id>/urge", send("/tasks/{w.ops.task}/urge"), "shouli",
          {**URGE_REFUSED, "yiyuan": 404}),
    Route("POST", "/tasks/<task_id>/supervise", send("/tasks/{w.ops.task}/supervise", instruction="请说明"),
          "kezhang", {**SUPERVISOR_ONLY, "kezhang2": 404, "yiyuan": 404}),
    Route("POST", "/tasks/<task_id>/supervisions/<int:supervision_id>/reply",  # 409: replied above
          send("/tasks/{w.ops.task}/supervisions/{w.ops.supervision}/reply", reply="今日办结"), "shenhe",
          HOLDER_ONLY),
    Route("GET", "/me/substitute", get("/me/substitute"), "shenhe", SIGNED_IN),
    Route("POST", "/me/substitute", send("/me/substitute", substitute="clerk_210400_01", kind="out",
                                         starts_at="2027-03-01", ends_at="2027-03-02"), "shenhe", SIGNED_IN),
    Route("POST", "/me/substitute/<int:substitution_id>/end",  # 409: ended above
          send("/me/substitute/{w.ops.substitution}/end"), "shenhe", NOT_MINE),

    # 流程操作 (case_operations): each let-in call leaves the world as it was (422: no reason or no such step;
    # 409: nothing failed, nothing suspended). The waiting case's 受理 was completed by shouli above.
    Route("GET", "/api/tasks/<task_id>/return-targets", get("/api/tasks/{w.review_task}/return-targets"), "shenhe",
          REVIEW_TASK_REFUSED),
    Route("POST", "/api/tasks/<task_id>/return", send("/api/tasks/{w.review_task}/return", target_task_id="无此环节",
                                                      reason="材料不全"), "shenhe", REVIEW_TASK_REFUSED),
    Route("POST", "/tasks/<task_id>/return", send("/tasks/{w.review_task}/return", target_task_id="无此环节",
                                                  reason="材料不全"), "shenhe", REVIEW_TASK_REFUSED),
    Route("POST", "/api/tasks/<task_id>/withdraw", send("/api/tasks/{w.accept_task}/withdraw", reason=""), "shouli",
          WITHDRAW_REFUSED),
    Route("POST", "/tasks/<task_id>/withdraw", send("/tasks/{w.accept_task}/withdraw", reason=""), "shouli",
          WITHDRAW_REFUSED),
    Route("POST", "/api/cases/<number>/withdrawal", send("/api/cases/{w.overdue}/withdrawal", reason=""), "shouli",
          CASE_WITHDRAWAL_REFUSED),
    Route("POST", "/cases/<number>/withdrawal", send("/cases/{w.overdue}/withdrawal", reason=""), "shouli",
          CASE_WITHDRAWAL_REFUSED),
    Route("POST", "/api/cases/<number>/termination", send("/api/cases/{w.overdue}/termination", reason=""),
          "kezhang", {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/cases/<number>/termination", send("/cases/{w.overdue}/termination", reason=""), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/api/cases/<number>/retry", send("/api/cases/{w.overdue}/retry", reason="银行已恢复"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/cases/<number>/retry", send("/cases/{w.overdue}/retry", reason="银行已恢复"), "admin",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/cases/<number>/suspension", send("/cases/{w.overdue}/suspension", reason=""), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/cases/<number>/resumption", send("/cases/{w.overdue}/resumption"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    public("POST", "/public/withdrawal", send("/public/withdrawal", number="{w.overdue}", id_number=PERSON_ID,
                                              phone=PERSON_PHONE, reason="")),

    # messages between agencies (a relay's, as system administrator) and 差评回访 (the hall's supervisors)
    Route("GET", "/api/agency-messages", get("/api/agency-messages"), "admin", ADMIN_ONLY),
    Route("POST", "/api/agency-messages", send("/api/agency-messages"), "admin", ADMIN_ONLY),  # 422: empty
    Route("POST", "/api/agency-messages/<message_id>/sent",  # 409: delivered, not outbound
          send("/api/agency-messages/{w.exchange.message}/sent"), "admin", ADMIN_ONLY),
    Route("POST", "/api/agency-messages/<message_id>/retry",  # 409: delivered; no case of theirs sent it
          send("/api/agency-messages/{w.exchange.message}/retry"), "admin",
          {ANON: 401, "shouli": 404, "kezhang": 404, "kezhang2": 404}),
    Route("POST", "/agency-messages/<message_id>/retry", send("/agency-messages/{w.exchange.message}/retry"),
          "admin", {ANON: 401, "shouli": 404, "kezhang": 404, "kezhang2": 404}),
    Route("GET", "/api/personal-data-reads", get("/api/personal-data-reads"), "admin", ADMIN_ONLY),
    Route("GET", "/api/followups", get("/api/followups"), "kezhang", SUPERVISOR_ONLY, hidden=("kezhang2",),
          marker=lambda w: w.exchange.rated_case),
    Route("POST", "/api/followups/<int:followup_id>/result",
          send("/api/followups/{w.exchange.followup}/result", visit_note="已回访", remedy="增开窗口"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/desk/followups/<int:followup_id>",  # 409: recorded by the row above
          send("/desk/followups/{w.exchange.followup}", visit_note="已回访", remedy="增开窗口"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),

    # pages and API of the designer and the administrator
    # 流程测试 (issue 13): a draft run in memory, the tests a process keeps; designers (and administrators)
    Route("POST", "/api/process-tests/run", send("/api/process-tests/run", xml=""), "sheji", DESIGNER_ONLY),
    Route("GET", "/api/processes/<process_key>/tests", get(f"/api/processes/{OUTPATIENT_PROCESS}/tests"), "sheji",
          DESIGNER_ONLY),
    Route("PUT", "/api/processes/<process_key>/tests", send(f"/api/processes/{OUTPATIENT_PROCESS}/tests", tests=[]),
          "sheji", DESIGNER_ONLY),
    Route("GET", "/processes", get("/processes"), "sheji", DESIGNER_ONLY),
    Route("GET", "/processes/<process_key>/modeler", get(f"/processes/{OUTPATIENT_PROCESS}/modeler"), "sheji",
          DESIGNER_ONLY),
    Route("POST", "/processes", upload("/processes"), "sheji", DESIGNER_ONLY),
    Route("POST", "/api/processes", upload("/api/processes"), "admin", DESIGNER_ONLY),
    Route("POST", "/api/deployments", lambda w: {"url": "/api/deployments", "json": {"files": [
        {"name": "门诊费用报销_v2.bpmn", "xml": outpatient_diagram(RENAMED_REVIEW).decode("utf-8")}]}},
          "admin", DESIGNER_ONLY),
    Route("GET", "/api/decisions", get("/api/decisions"), "sheji", DESIGNER_ONLY),
    Route("GET", "/api/decisions/<decision_id>", get(f"/api/decisions/{OUTPATIENT_RULES}"), "sheji", DESIGNER_ONLY),
    Route("PUT", "/api/decisions/<decision_id>", dmn(f"/api/decisions/{OUTPATIENT_RULES}",
                                                     BPMN_DIR / "decisions" / f"{OUTPATIENT_RULES}.dmn"),
          "admin", DESIGNER_ONLY),
    Route("GET", "/decisions", get("/decisions"), "sheji", DESIGNER_ONLY),
    Route("GET", "/decisions/<decision_id>/editor", get(f"/decisions/{OUTPATIENT_RULES}/editor"), "sheji",
          DESIGNER_ONLY),
    Route("GET", "/calendar", get("/calendar"), "admin", ADMIN_ONLY),
    Route("PUT", "/api/calendar/<int:year>", send("/api/calendar/2030", days_off=["2030-01-01"], workdays=[],
                                                  source="国办发明电〔2029〕1号"), "admin", ADMIN_ONLY),
    Route("PUT", "/api/calendar/days/<day>", send("/api/calendar/days/2030-01-02", working=False, name="测试",
                                                  source="国办发明电〔2029〕2号"), "admin", ADMIN_ONLY),
    Route("POST", "/calendar/years", send("/calendar/years", year="2031", source="国办发明电〔2030〕1号",
                                          days_off="2031-01-01", workdays=""), "admin", ADMIN_ONLY),
    Route("POST", "/calendar/days", send("/calendar/days", day="2031-01-02", working="false", name="测试",
                                         source="国办发明电〔2030〕2号"), "admin", ADMIN_ONLY),

    # accounts: one's own password, the administrator's locks (422: nothing named to unlock)
    Route("GET", "/account/password", get("/account/password"), "shouli", SIGNED_IN),
    Route("POST", "/account/password", send("/account/password", current_password="", new_password=""), "shouli",
          SIGNED_IN),
    Route("POST", "/api/me/password", send("/api/me/password", current_password="", new_password=""), "shouli",
          SIGNED_IN),
    Route("GET", "/admin/lockouts", get("/admin/lockouts"), "admin", ADMIN_ONLY),
    Route("POST", "/admin/lockouts/unlock", send("/admin/lockouts/unlock", kind="account", subject=""), "admin",
          ADMIN_ONLY),
    Route("GET", "/api/lockouts", get("/api/lockouts"), "admin", ADMIN_ONLY),
    Route("POST", "/api/lockouts/unlock", send("/api/lockouts/unlock", kind="account", subject=""), "admin",
          ADMIN_ONLY),
    # 后台任务 (the outbox): administrators and supervisors; entry 1 is a 文书 of the world's, rendered (409)
    Route("GET", "/admin/outbox", get("/admin/outbox"), "kezhang", {ANON: 401, "shouli": 403, "sheji": 403}),
    Route("GET", "/api/outbox/failures", get("/api/outbox/failures"), "admin",
          {ANON: 401, "shouli": 403, "sheji": 403}),
    Route("POST", "/api/outbox/<int:entry_id>/retry", send("/api/outbox/1/retry"), "admin",
          {ANON: 401, "shouli": 403, "sheji": 403}),
    Route("POST", "/admin/outbox/<int:entry_id>/retry", send("/admin/outbox/1/retry"), "kezhang",
          {ANON: 401, "shouli": 403, "sheji": 403}),
    # 故障处理 (incidents): supervisors (their hall) and administrators (the agency)
    Route("GET", "/admin/incidents", get("/admin/incidents"), "kezhang", {ANON: 401, "shouli": 403, "sheji": 403}),
    Route("POST", "/admin/incidents/retry", send("/admin/incidents/retry", ref="case:x", reason="重试"), "kezhang",
          {ANON: 401, "shouli": 403, "sheji": 403}),
    Route("GET", "/api/incidents", get("/api/incidents"), "admin", {ANON: 401, "shouli": 403, "sheji": 403}),
    Route("GET", "/api/incidents/<path:ref>", get("/api/incidents/case:x"), "admin",
          {ANON: 401, "shouli": 403, "sheji": 403}, absent=True),
    Route("POST", "/api/incidents/retry", send("/api/incidents/retry", refs=["case:x"], reason="重试"), "admin",
          {ANON: 401, "shouli": 403, "sheji": 403}),
    # 案件迁移 (issue 13): designers plan, supervisors approve, designers or administrators run; plan 999999 is none
    Route("GET", "/api/migration-plans", get("/api/migration-plans"), "sheji", MIGRATION_REFUSED),
    Route("POST", "/api/migration-plans", send("/api/migration-plans"), "sheji", DESIGNER_ONLY),  # 422: empty
    Route("GET", "/api/migration-plans/<int:plan_id>", get("/api/migration-plans/999999"), "kezhang",
          MIGRATION_REFUSED, absent=True),
    Route("POST", "/api/migration-plans/<int:plan_id>/approve", send("/api/migration-plans/999999/approve"),
          "kezhang", SUPERVISOR_ONLY, absent=True),
    Route("POST", "/api/migration-plans/<int:plan_id>/run", send("/api/migration-plans/999999/run"), "admin",
          DESIGNER_ONLY, absent=True),
    Route("GET", "/api/migration-plans/<int:plan_id>/runs/<int:run_id>", get("/api/migration-plans/999999/runs/1"),
          "kezhang", MIGRATION_REFUSED, absent=True),
    Route("GET", "/migrations", get("/migrations"), "kezhang", MIGRATION_REFUSED),
    Route("POST", "/migrations", send("/migrations", process_key=OUTPATIENT_PROCESS), "sheji", DESIGNER_ONLY),
    Route("GET", "/migrations/<int:plan_id>", get("/migrations/999999"), "sheji", MIGRATION_REFUSED, absent=True),
    Route("GET", "/migrations/<int:plan_id>/run-progress", get("/migrations/999999/run-progress"), "kezhang",
          MIGRATION_REFUSED, absent=True),
    Route("POST", "/migrations/<int:plan_id>/approve", send("/migrations/999999/approve"), "kezhang",
          SUPERVISOR_ONLY, absent=True),
    Route("POST", "/migrations/<int:plan_id>/run", send("/migrations/999999/run"), "sheji", DESIGNER_ONLY,
          absent=True),
    # 跳转: the hall's supervisors (an administrator any hall's case); 422: no move chosen
    Route("GET", "/api/cases/<number>/token-moves", get("/api/cases/{w.overdue}/token-moves"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/api/cases/<number>/token-moves", send("/api/cases/{w.overdue}/token-moves", reason="跳转"),
          "admin", {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/cases/<number>/token-move", send("/cases/{w.overdue}/token-move", reason="跳转"), "kezhang",
          {**SUPERVISOR_ONLY, "kezhang2": 404}),
    Route("POST", "/api/logout", send("/api/logout"), "yiyuan", SIGNED_IN),  # last: it ends the token it is sent with
]

# --- calling a route as someone ----------------------------------------------------------------------------------

class Callers:
    """An API client with each user's Bearer token, and a signed-in browser (test client) per user for pages."""

    def __init__(self, client):
        self.client, self.app = client, client.application
        self.headers: dict[str, dict] = {}
        self.browsers: dict[str, tuple] = {}

    def token(self, user: str) -> dict:
        if user not in self.headers:
            response = self.client.post("/api/login", json={"username": user, "password": DEMO_PASSWORD})
            assert response.status_code == 200, response.get_json()
            self.headers[user] = {"Authorization": f"Bearer {response.get_json()['token']}"}
        return self.headers[user]

    def browser(self, user: str):
        """A browser of its own for each user (and one not signed in), with the CSRF token of its session."""
        if user in (ANON, PUBLIC):  # afresh each time: signing in or out, or being sent to /login, clears it
            browser = self.app.test_client()
            return browser, csrf_token(html(browser.get("/login")))
        if user not in self.browsers:
            browser = self.app.test_client()
            sign_in(browser, user)
            self.browsers[user] = (browser, csrf_token(html(browser.get("/login"))))
        return self.browsers[user]

    def call(self, route: Route, world: World, user: str):
        request = route.call(world)
        url = request.pop("url")
        if route.page:
            browser, token = self.browser(user)
            if route.method != "GET":
                request["data"] = {**request.get("data", {}), "csrf_token": token}
            return browser.open(url, method=route.method, **request), browser
        headers = {} if user in (ANON, PUBLIC) else self.token(user)
        return self.client.open(url, method=route.method, headers=headers, **request), None


def to_login(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].startswith("/login")


def describe(response) -> str:
    return f"{response.status_code} {response.headers.get('Location', '')} {response.get_data(as_text=True)[:200]}"


def assert_refused(route: Route, response, browser, user: str, status: int) -> None:
    if user == ANON and route.page:
        assert to_login(response), describe(response)
    elif route.flashed:  # the inbox again, with why: the task is left as it was
        assert response.status_code == 302, describe(response)
        page = html(browser.get("/inbox"))
        assert ("任务不存在" if status == 404 else "该任务由审核员办理") in page, page[:500]
        assert "已认领" not in page and "已退回认领" not in page
    else:
        assert response.status_code == status, describe(response)


def assert_let_in(route: Route, response, browser, user: str) -> None:
    if route.absent and response.status_code == 404:
        return
    assert response.status_code not in (401, 403, 404) and not to_login(response), describe(response)
    assert 200 <= response.status_code < 400 or response.status_code in (409, 422), describe(response)
    if route.flashed:
        page = html(browser.get("/inbox"))
        assert "已认领" in page or "已退回认领" in page, page[:500]


def run_table(client, world: World, subtests, routes=ROUTES) -> None:
    callers = Callers(client)
    for route in routes:
        if route.allowed == PUBLIC:
            with subtests.test(f"{route.method} {route.rule}", user=ANON, expect="public"):
                response, _ = callers.call(route, world, PUBLIC)
                assert response.status_code not in (401, 403), describe(response)
                assert not to_login(response) or route.rule == "/logout", describe(response)  # signed out: /login
            continue
        for user, status in route.refused.items():
            with subtests.test(f"{route.method} {route.rule}", user=user, expect=status):
                response, browser = callers.call(route, world, user)
                assert_refused(route, response, browser, user, status)
        for user in route.hidden:
            with subtests.test(f"{route.method} {route.rule}", user=user, expect="200 without the other hall's"):
                response, _ = callers.call(route, world, user)
                assert response.status_code == 200, describe(response)
                assert route.marker(world) not in response.get_data(as_text=True)
        with subtests.test(f"{route.method} {route.rule}", user=route.allowed, expect="let in"):
            response, browser = callers.call(route, world, route.allowed)
            assert_let_in(route, response, browser, route.allowed)
            if route.marker:
                assert route.marker(world) in response.get_data(as_text=True)


# --- the tests ---------------------------------------------------------------------------------------------------

def test_every_route_of_the_application_is_in_the_table():
    app = create_app(Context(None), secret_key="test-secret")  # no database: only the url_map is read
    served = {(method, rule.rule) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    listed = [route.key for route in ROUTES]
    assert len(listed) == len(set(listed)), "a route is listed twice"
    assert sorted(served - set(listed)) == [], "routes without an authorization row in ROUTES"
    assert sorted(set(listed) - served) == [], "rows for routes the application no longer has"
    for route in ROUTES:
        assert route.allowed == PUBLIC or route.refused, f"{route.key} is neither public nor refuses anyone"
        assert route.allowed not in route.refused and not (route.hidden and route.marker is None), route.key


# The table in slices, each a test of its own on a copy of the world (the table run whole was the suite's longest
# test: 10 s of CPU, 170 s on a loaded machine, in one worker). A slice starts at a row that no later row relies on
# the effect of an earlier one: the claims, completions and task requests of the rows from /api/tasks/… to the
# withdrawals act on the same tasks in turn, so they stay in one slice. Every call answers as in the whole table.
# The first slice starts at the table's first row; these are where the others start.
SLICE_STARTS = [("GET", "/api/cases"), ("POST", "/cases/<number>/termination"), ("GET", "/calendar")]


def table_slice(part: int) -> list[Route]:
    bounds = [0, *(next(i for i, route in enumerate(ROUTES) if route.key == key) for key in SLICE_STARTS),
              len(ROUTES)]
    return ROUTES[bounds[part]:bounds[part + 1]]


@pytest.mark.long  # seconds of wall: started first (tests/conftest.py)
@pytest.mark.parametrize("part", range(len(SLICE_STARTS) + 1))
def test_every_route_refuses_who_it_must_and_lets_in_who_it_may(client, ctx, built_once, staff, clock, subtests,
                                                               part):
    world = built_once("authorization world", lambda: build_world(ctx, staff, clock))
    run_table(client, world, subtests, table_slice(part))
