"""The clerk's pages: the inbox (待办 / 已办), a task with its form, a case with its timeline and diagram."""
from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for

from workflows.domain.amounts import APPROVED, yuan
from workflows.domain.case_states import result_label
from workflows.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from workflows.domain.model import COMPLETED, READY
from workflows.domain.roles import TASK_ROLE_NAMES
from workflows.services import cases, catalog, inbox_filters, inbox_rows, materials, notices, processes, tasks, users
from workflows.services.access import require_role
from workflows.domain.case_limits import due_label, limit_name

from .base import blueprint, ctx, one_session, page_of, signed_in

LEVEL_NAMES = {"normal": "正常", "yellow": "黄牌", "red": "红牌", "paused": "暂停", "met": "已完成",
               "not_started": "未开始"}
INBOX_ROWS = 100  # tasks a page of the inbox; read at the call: a test makes the page small
TAB_QUERIES = {"waiting": {}, "mine": {"mine": 1}, "done": {"view": "done"}, "hall": {"all": 1}}  # the inbox's tabs
AGENT_PREFIX = "applicant.agent."  # 委托代理人's fields on the new-case form


@blueprint.app_template_filter("local")
def local_time(moment) -> str:
    from workflows.entrypoints.views import moment as iso

    return iso(moment)[:16].replace("T", " ") if moment else ""


@blueprint.record_once
def page_globals(state):
    """Names every page uses, as globals: macros imported from other templates see them too."""
    state.app.jinja_env.globals.update(LEVEL_NAMES=LEVEL_NAMES, ROLE_NAMES=TASK_ROLE_NAMES, due_label=due_label,
                                       limit_name=limit_name, yuan=yuan)


class RowLink:
    """The address of an endpoint for each row of a list page, built by url_for once: `link(row.number)` puts the
    row's value where the argument goes. A url_for per row and link was a third of the desk's and the inbox's
    rendering. For arguments that need no quoting in a path (case numbers, ids)."""

    _MARK = 7_340_051  # an int, for int converters; as text, for the others: found once in the built address

    def __init__(self, endpoint: str, name: str):
        address = url_for(endpoint, **{name: self._MARK})
        if address.count(str(self._MARK)) != 1:
            raise ValueError(f"{endpoint}: {name} cannot be placed in {address}")
        self.before, self.after = address.split(str(self._MARK))

    def __call__(self, value) -> str:
        return f"{self.before}{value}{self.after}"


@blueprint.app_template_global()
def row_link(endpoint: str, name: str) -> RowLink:
    return RowLink(endpoint, name)


@blueprint.get("/")
@signed_in
def home():
    return redirect(url_for("web.inbox"))


@blueprint.get("/inbox")
@one_session
@signed_in
def inbox():
    state = COMPLETED if request.args.get("view") == "done" else READY
    filters = {key: request.args.get(key) or None for key in ("item_code", "stage", "search", "level")}
    if filters["level"] not in tasks.LEVELS:
        filters["level"] = None
    supervisor = g.user.has_role("supervisor")
    whole_hall = supervisor and state == READY and request.args.get("all") == "1"
    if whole_hall:  # the supervisor's view: every open task of the hall, to reassign them
        def read(limit, offset):
            return tasks.list_hall_tasks(ctx(), g.user, limit=limit, offset=offset, **filters)
    else:
        def read(limit, offset):
            return tasks.list_tasks(ctx(), g.user, mine=request.args.get("mine") == "1", state=state, limit=limit,
                                    offset=offset, **filters)
    found, number, more = page_of(read, "page", INBOX_ROWS)
    agency = catalog.get_agency(ctx(), g.user.agency_code)
    own_filters, shared_filters = inbox_filters.list_filters(ctx(), g.user)
    view = "done" if state == COMPLETED else "mine" if request.args.get("mine") == "1" else "hall" if whole_hall \
        else "waiting"
    page = inbox_rows.inbox_page(ctx(), g.user, found, state)
    return render_template("inbox.html", rows=page.rows, suspended=page.suspended, state=state, view=view,
                           number=number, more=more,
                           tab_query=TAB_QUERIES[view], filters=filters, stages=page.stages,
                           items=sorted(agency.items.values(), key=lambda item: item.code),
                           supervisor=supervisor, whole_hall=whole_hall,
                           current_query=inbox_filters.clean_query(request.args.to_dict()),
                           own_filters=own_filters, shared_filters=shared_filters,
                           candidates=tasks.reassign_candidates(ctx(), g.user) if supervisor else [])


@blueprint.post("/inbox/filters")
@signed_in
def save_filter():
    """我的筛选: keep the inbox's current filter under a name, shared with the hall if asked."""
    query = inbox_filters.clean_query(request.form.to_dict())
    try:
        saved = inbox_filters.save_filter(ctx(), g.user, request.form.get("name", ""), query,
                                          shared=request.form.get("shared") == "1")
        flash(f"已保存筛选“{saved.name}”" + ("（本大厅共享）" if saved.shared else ""), "ok")
    except InvalidInput as error:
        flash("；".join(error.field_errors.values()) or str(error), "error")
    return redirect(url_for("web.inbox", **query))


@blueprint.post("/inbox/filters/<int:filter_id>/delete")
@signed_in
def delete_filter(filter_id):
    """Only the owner deletes a filter: another's is refused (403), another hall's is not found (404)."""
    saved = inbox_filters.delete_filter(ctx(), g.user, filter_id)
    flash(f"已删除筛选“{saved.name}”", "ok")
    return redirect(url_for("web.inbox"))


@blueprint.post("/tasks/reassign")
@signed_in
def reassign_many():
    """改派所选: a supervisor hands the selected tasks to one person; each task that person cannot work is
    reported and left as it was. Not a supervisor: 403."""
    try:
        done, refused = tasks.reassign_tasks(ctx(), g.user, request.form.getlist("task_id"),
                                             request.form.get("assignee", ""))
    except InvalidInput as error:
        flash("；".join(error.field_errors.values()) or str(error), "error")
        return redirect(request.referrer or url_for("web.inbox", all=1))
    if done:
        chosen = users.get_user(ctx(), request.form["assignee"])
        holders = {task.assignee for task in done} - {chosen.username}  # a substitute while the chosen one is away
        flash(f"已改派 {len(done)} 件给{chosen.full_name}"
              + (f"（外出期间由{'、'.join(users.get_user(ctx(), h).full_name for h in holders)}代办）" if holders else ""),
              "ok")
    for message in refused:
        flash(message, "error")
    return redirect(request.referrer or url_for("web.inbox", all=1))


@blueprint.post("/tasks/claim")
@signed_in
def claim_many():
    """Claim one or several tasks (bulk); each that someone else took first is reported, not lost."""
    return _each_selected(tasks.claim_task, "已认领 {} 件", url_for("web.inbox"))


@blueprint.post("/tasks/release")
@signed_in
def release_many():
    """退回认领所选 (我认领的): each task given back to the pool; one that is no longer the user's is reported."""
    return _each_selected(tasks.release_task, "已退回认领 {} 件", url_for("web.inbox", mine=1))


def _each_selected(command, done: str, fallback: str):
    """`command` on each selected task, each in its own transaction; what was refused is told one by one."""
    count, refused = 0, []
    for task_id in request.form.getlist("task_id"):
        try:
            command(ctx(), g.user, task_id)
            count += 1
        except (Conflict, Forbidden, NotFound) as error:
            refused.append(str(error))
    if count:
        flash(done.format(count), "ok")
    for message in refused:
        flash(message, "error")
    return redirect(request.referrer or fallback)


@blueprint.post("/tasks/<task_id>/release")
@signed_in
def release(task_id):
    try:
        tasks.release_task(ctx(), g.user, task_id)
        flash("已退回认领", "ok")
    except (Conflict, Forbidden, NotFound) as error:
        flash(str(error), "error")
    return redirect(url_for("web.inbox"))


@blueprint.get("/tasks/<task_id>")
@signed_in
def task_page(task_id):
    return _render_task(task_id)


@blueprint.post("/tasks/<task_id>")
@signed_in
def complete(task_id):
    """The task form: material marks, 办理意见 and the decision in one submission. A refusal that issues a 决定书
    is shown first as the text to be printed (`preview`); only its confirmation (`confirmed`) completes the task.
    `edit` goes back from that text, `save_materials` and `notice` act on the marks: each of these shows the
    form again with everything as typed."""
    values = request.form.to_dict()
    for key in ("csrf_token", "next", "confirmed", "edit", "save_materials", "notice"):  # the page's own controls
        values.pop(key, None)
    try:
        if "edit" in request.form:
            return _render_task(task_id, values)
        if "save_materials" in request.form or "notice" in request.form:
            return _act_on_materials(task_id, values)
        preview = None if "confirmed" in request.form else tasks.preview_completion(ctx(), g.user, task_id, values)
        if preview is not None:
            return _render_task(task_id, values, preview=preview)
        progress = tasks.complete_task(ctx(), g.user, task_id, values)
    except InvalidInput as error:
        return _render_task(task_id, values, error.field_errors, str(error)), 422
    except (Conflict, Forbidden) as error:
        return _render_task(task_id, values, {}, str(error)), 409 if isinstance(error, Conflict) else 403
    if any(task.id == task_id for task in progress.open_tasks):  # held for its after- or parallel signers
        flash(f"{progress.case.number} 已提交，待加签人签署后流转", "ok")
    else:
        flash(f"{progress.case.number} 已办理，" + (f"结果：{result_label(progress.case.result)}" if not progress.case.is_open
                                                   else f"当前环节：{progress.case.stage}"), "ok")
    for notice in progress.notices:  # a 禁办情形 found: the case ended 禁止办理
        flash(f"{progress.case.number} {notice}", "error")
    return redirect(url_for("web.inbox"))


def _act_on_materials(task_id, values):
    """保存材料核对 or 出具一次性告知书 from the task form: the marks saved (and the notice issued), the form shown
    again as typed."""
    number = tasks.task_details(ctx(), g.user, task_id).case.number
    marks = materials.submitted_marks(values)
    if "notice" in request.form:
        document = notices.issue_missing_materials_notice(ctx(), g.user, number, marks)
        flash(f"已出具《{document.title}》（文书编号 {document.number}）", "ok")
    elif marks:
        materials.mark_materials(ctx(), g.user, number, marks)
        flash("已保存材料核对", "ok")
    else:
        raise InvalidInput("请至少为一项材料选择状态", {"materials": "请至少为一项材料选择状态"})
    return _render_task(task_id, values)


def _render_task(task_id, values=None, errors=None, message=None, preview=None):
    try:
        details = tasks.task_details(ctx(), g.user, task_id)
    except NotFound:
        abort(404)
    case = cases.case_details(ctx(), g.user, details.case.number)
    if values is not None:
        g.materials_draft = materials.submitted_marks(values)  # the marks as sent, over the saved ones
    return render_template("task.html", details=details, case=case, values=values or _suggested(details),
                           errors=errors or {}, message=message, preview=preview,
                           next_task=tasks.next_task(ctx(), g.user, task_id))


def _suggested(details) -> dict:
    """A review's 核定金额 starts as the proposal: the reviewer lowers it (with a reason) or leaves it. A readonly
    field shows the case's value, another field its default (defaultValue) for the case."""
    fields = {f.id for f in details.definition.form.fields}
    readonly = {f.id: details.case.data[f.id] for f in details.definition.form.fields
                if f.readonly and f.id in (details.case.data or {})}
    proposal = {APPROVED: yuan(details.payment.proposal.amount)} if details.payment and APPROVED in fields else {}
    return {**details.defaults, **readonly, **proposal}


@blueprint.get("/cases/<number>")
@signed_in
def case_page(number):
    try:
        details = cases.case_details(ctx(), g.user, number)
    except NotFound:
        abort(404)
    completed, current = ctx().engine.path(details.case.workflow_state)
    return render_template("case.html", details=details, current=current, completed=completed)


@blueprint.get("/cases/new")
@signed_in
def new_case():
    """申请: the window clerk registers an application — choose the item, then fill the applicant and its form."""
    require_role(g.user, "acceptor")
    return _render_new_case(request.args.get("item_code", ""))


@blueprint.post("/cases/new")
@signed_in
def open_case():
    require_role(g.user, "acceptor")
    typed = request.form.to_dict()
    typed.pop("csrf_token", None)
    values = dict(typed)
    item_code = values.pop("item_code", "")
    applicant = {key: values.pop(f"applicant.{key}", "") for key in ("name", "id_number", "kind", "phone")}
    applicant["agent"] = _agent(values)
    try:
        progress = cases.open_case(ctx(), g.user, item_code, applicant, values)
    except (InvalidInput, NotFound, Forbidden) as error:
        return _render_new_case(item_code, typed, getattr(error, "field_errors", {}), str(error)), 422
    flash(f"已登记 {progress.case.number}（{progress.case.item_name}）", "ok")
    first = progress.open_tasks[0] if progress.open_tasks else None
    return redirect(url_for("web.task_page", task_id=first.id) if first
                    else url_for("web.case_page", number=progress.case.number))


def _agent(values: dict) -> dict:
    """委托办理's part of the new-case form (taken out of `values`): the agent, and the 授权委托书 uploaded or
    its original checked."""
    agent = {key[len(AGENT_PREFIX):]: values.pop(key) for key in list(values) if key.startswith(AGENT_PREFIX)}
    upload = request.files.get(f"{AGENT_PREFIX}power_of_attorney")
    proof = {"original_checked": agent.pop("original_checked", ""), "checked_on": agent.pop("checked_on", "")}
    if upload and upload.filename:
        proof = {"file": {"file_name": upload.filename, "media_type": upload.mimetype, "content": upload.read()}}
    return {**agent, "power_of_attorney": proof}


def _render_new_case(item_code: str, values=None, errors=None, message=None):
    agency = catalog.get_agency(ctx(), g.user.agency_code)
    items = sorted((item for item in agency.items.values() if g.user.hall_code in item.hall_codes),
                   key=lambda item: item.code)
    chosen = next((item for item in items if item.code == item_code), None)
    form = processes.application_form(ctx(), chosen.process_key, g.user.agency_code) if chosen else None
    return render_template("new_case.html", items=items, chosen=chosen, form=form, values=values or {},
                           errors=errors or {}, message=message, today=ctx().today().isoformat())
