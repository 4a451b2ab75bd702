"""The supervisor's pages (科室负责人): the desk (督办台) with the hall's escalations and cases in warning or
overdue and what to do about them, and the hall's statistics with Chart.js charts and the same figures as tables."""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import flash, g, redirect, render_template, request, url_for

from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.services import desk as desk_service
from workflows.services import statistics, time_limits
from workflows.services.access import require_role
from workflows.services.time_limits import PAUSE_KINDS

from .base import blueprint, ctx, one_session, signed_in

ACTION_DONE = {"urge": "已催办", "reassign": "已改派", "extend": "已延期", "note": "已记录督办意见"}


@blueprint.get("/desk")
@one_session
@signed_in
def desk():
    return _render_desk()


DESK_QUERY = ("sort", "page", "cases_page", "waiting_page", "supervisions_page", "followups_page")


def _desk_query() -> dict:
    """The order and each list's page the desk was asked for (?sort=&page=&cases_page=&waiting_page=
    &supervisions_page=&followups_page=, or for an action the form's `back`, the query of the page it was sent
    from): a page that is no whole number is handed on as typed, for the use case to refuse by name."""
    asked = dict(parse_qsl(request.form.get("back", ""))) if request.method == "POST" else request.args
    query = {"sort": asked.get("sort", "level")}
    for name in DESK_QUERY[1:]:
        value = asked.get(name, "1").strip()
        query[name] = int(value) if value.isdigit() else value
    return query


def _render_desk(key: str | None = None, values: dict | None = None, errors: dict | None = None, status: int = 200):
    """The desk; after a refused action, the form `key` keeps what was typed and shows its field errors (in its
    dialog, open again)."""
    board = statistics.desk_board(ctx(), g.user, **_desk_query())
    kept = {key: values or {}} if key else {}
    found = {key: errors or {}} if key else {}
    pages = (board.escalation_page, board.case_page, board.waiting_page, board.supervision_page, board.followup_page)
    desk_query = {"sort": board.sort, **{name: state.number for name, state in zip(DESK_QUERY[1:], pages)}}
    return render_template("desk.html", board=board, desk_query=desk_query, desk_back=urlencode(desk_query),
                           key=key, values=kept, errors=found,
                           ACTIONS=desk_service.ACTIONS, DESK_SORTS=statistics.DESK_SORTS, PAUSE_KINDS=PAUSE_KINDS,
                           max_days=time_limits.MAX_EXTENSION_DAYS), status


def _refused(key: str, values: dict, error: Exception):
    """Show why an action was refused: a flash, field errors beside their fields, and the form as it was typed."""
    flash(str(error), "error")
    status = 422 if isinstance(error, InvalidInput) else 404 if isinstance(error, NotFound) else 409
    return _render_desk(key, values, getattr(error, "field_errors", {}) or {}, status)


def form_values() -> dict:
    values = request.form.to_dict()
    values.pop("csrf_token", None)
    values.pop("back", None)
    return values


@blueprint.post("/desk/escalations/<int:escalation_id>")
@signed_in
def handle_escalation(escalation_id):
    """督办: 催办, 改派, 延期 or 记录意见 — the button pressed says which."""
    values = form_values()
    action = values.get("action", "")
    days_text = values.get("days", "").strip()
    days = int(days_text) if days_text.isdigit() else (days_text or None)  # not a number: the use case says so
    return desk_action(f"e{escalation_id}", values, lambda: "{}：{}".format(desk_service.handle_escalation(
        ctx(), g.user, escalation_id, action, values.get("note", ""), assignee=values.get("assignee") or None,
        days=days if action == "extend" else None).case_number, ACTION_DONE[action]))


def desk_action(form_key: str, values: dict, action) -> object:
    """Run a desk action, which returns what to tell the supervisor: flashed, and back to the desk; if refused,
    the desk again with the error beside the form and what was typed kept."""
    try:
        done = action()
    except (InvalidInput, Conflict, NotFound) as error:
        return _refused(form_key, values, error)
    flash(done, "ok")
    back = {name: value for name, value in parse_qsl(request.form.get("back", "")) if name in DESK_QUERY}
    return redirect(url_for("web.desk", **back))


@blueprint.post("/desk/cases/<number>/suspend")
@signed_in
def suspend(number):
    """中止: the clock stops for a reason the law excludes from the limit, until resumed."""
    require_role(g.user, "supervisor")
    values = form_values()
    return desk_action(f"s{number}", values, lambda: time_limits.pause_clock(
        ctx(), g.user, number, "suspension", values.get("reason", "")) and f"{number}：已中止计时")


@blueprint.post("/desk/cases/<number>/resume")
@signed_in
def resume(number):
    require_role(g.user, "supervisor")  # the desk's resume; a clerk ends a 补正 pause through the API
    return desk_action(f"r{number}", {}, lambda: time_limits.resume_clock(ctx(), g.user, number)
                and f"{number}：已恢复计时")


@blueprint.post("/desk/cases/<number>/extension")
@signed_in
def decide_extension(number):
    """批准 or 不批准 the case's pending extension request."""
    values = form_values()
    decision = values.get("decision")
    if decision not in ("approve", "refuse"):
        return _refused(f"x{number}", values, InvalidInput("请选择批准或不批准", {"decision": "请选择批准或不批准"}))
    return desk_action(f"x{number}", values, lambda: time_limits.decide_extension(
        ctx(), g.user, number, decision == "approve", values.get("note", ""))
        and f"{number}：{'已批准延期' if decision == 'approve' else '已不批准延期'}")


# --- statistics --------------------------------------------------------------------------------------------------

@blueprint.get("/statistics", endpoint="statistics")
@one_session
@signed_in
def statistics_page():
    figures = statistics.hall_statistics(ctx(), g.user)
    charts = {
        "items": _rate_chart(figures.by_item),
        "halls": _rate_chart(figures.by_hall),
        "people": _rate_chart(figures.by_person),
        "backlog": _chart("bar", [row.stage for row in figures.backlog],
                          {"本大厅": [row.hall for row in figures.backlog],
                           "全机构": [row.agency for row in figures.backlog]}),
        "weeks": _chart("line", [f"{row.start:%m-%d}" for row in figures.weeks],
                        {"受理": [row.opened for row in figures.weeks], "办结": [row.closed for row in figures.weeks]}),
    }
    return render_template("statistics.html", figures=figures, charts=charts)


def _chart(kind: str, categories: list[str], series: dict[str, list], **options) -> dict:
    """The spec web/src/charts.js draws (the page's heading titles it)."""
    return {"type": kind, "categories": categories,
            "series": [{"name": name, "data": data} for name, data in series.items()], **options}


def _rate_chart(rates) -> dict:
    return _chart("bar", [rate.name for rate in rates], {"按时办结率": [rate.percent for rate in rates]},
                  unit="%", max=100, labels=True, rotate=30)
