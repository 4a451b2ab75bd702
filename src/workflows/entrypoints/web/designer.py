"""The designer's and administrator's pages: processes and their versions, publishing a diagram, the modeler,
and the working-day calendar."""
from __future__ import annotations

import re
from datetime import date, timedelta

from flask import flash, g, redirect, render_template, request, url_for

from workflows.domain.calendar import parse_day
from workflows.domain.errors import Forbidden, InvalidInput, InvalidProcess
from workflows.services import calendar, processes as process_service
from workflows.services.access import require_role

from .base import blueprint, ctx, page_of, signed_in

MAX_RANGE_DAYS = 366
WEEKDAYS = "一二三四五六日"
CHANGE_NAMES = {"publish_year": "发布全年安排", "correct_day": "更正单日"}
CHANGE_ROWS = 50  # 变更记录 a page; read at the call: a test makes the page small


@blueprint.app_template_filter("weekday")
def weekday_name(day: date) -> str:
    return "周" + WEEKDAYS[day.weekday()]


# --- processes ------------------------------------------------------------------------------------------------------

@blueprint.get("/processes", endpoint="processes")
@signed_in
def process_list():
    require_role(g.user, "designer", "admin")
    return _render_processes()


@blueprint.post("/processes", endpoint="upload_process")
@signed_in
def upload_process():
    """Publish BPMN files made elsewhere (e.g. in the Camunda Modeler) as the next versions of their processes:
    several at once when a call activity calls a process of another file, with the DMN files of their tables."""
    require_role(g.user, "designer", "admin")
    uploads = [(upload.filename or f"upload{index}.bpmn", upload.read())
               for index, upload in enumerate(request.files.getlist("file"), 1)]
    files = {name: bpmn for name, bpmn in uploads if bpmn}
    tables = {dmn.filename: dmn.read() for dmn in request.files.getlist("decisions") if dmn.filename}
    file_name = "、".join(files) or ""
    try:
        if not files:
            raise InvalidInput("请选择要发布的 BPMN 文件", {"file": "请选择 .bpmn 文件"})
        versions = process_service.deploy_files(ctx(), g.user, files, tables,
                                                national=request.form.get("national") == "on")
    except InvalidProcess as error:
        return _render_processes(error={"reason": error.reason, "element_id": error.element_id,
                                        "file_name": error.file_name or file_name}), 422
    except InvalidInput as error:
        return _render_processes(error={"reason": str(error), "element_id": None, "file_name": file_name}), 422
    except Forbidden as error:  # another agency's process, or national without being an administrator
        return _render_processes(error={"reason": str(error), "element_id": None, "file_name": file_name}), 403
    for version in versions:
        flash(f"已发布 {version.name}（{version.process_key}）第 {version.version} 版", "ok")
    return redirect(url_for("web.processes", _anchor=versions[0].process_key))


def _render_processes(error: dict | None = None):
    latest = process_service.list_processes(ctx(), g.user.agency_code)
    versions = {version.process_key: process_service.process_versions(ctx(), version.process_key)
                for version in latest}
    return render_template("processes.html", latest=latest, versions=versions, error=error)


@blueprint.get("/processes/<process_key>/modeler")
@signed_in
def modeler(process_key):
    require_role(g.user, "designer", "admin")
    # the version the designer's agency runs (not another agency's); NotFound is a 404 page
    version = process_service.process_version(ctx(), process_key, agency_code=g.user.agency_code)
    return render_template("modeler.html", version=version)


# --- the working-day calendar ---------------------------------------------------------------------------------------

@blueprint.get("/calendar", endpoint="calendar_admin")
@signed_in
def calendar_admin():
    require_role(g.user, "admin")
    return _render_calendar(_year_asked(request.args.get("year")))


@blueprint.post("/calendar/years")
@signed_in
def calendar_publish():
    require_role(g.user, "admin")
    form = request.form
    typed = {key: form.get(key, "") for key in ("year", "source", "days_off", "workdays")}
    errors = {}
    year = _year_typed(typed["year"], errors)
    days_off = _days_typed(typed["days_off"], "days_off", errors)
    workdays = _days_typed(typed["workdays"], "workdays", errors)
    if not errors:
        try:
            calendar.publish_year(ctx(), g.user, year, days_off, workdays, typed["source"])
        except InvalidInput as error:
            errors = error.field_errors
    if errors:
        return _render_calendar(year or ctx().today().year, publish=typed, publish_errors=errors), 422
    flash(f"已发布 {year} 年工作日历（{typed['source'].strip()}），在办案件时限已重算", "ok")
    return redirect(url_for("web.calendar_admin", year=year))


@blueprint.post("/calendar/days")
@signed_in
def calendar_correct():
    require_role(g.user, "admin")
    form = request.form
    typed = {key: form.get(key, "") for key in ("day", "working", "name", "source")}
    errors = {}
    day = None
    try:
        day = parse_day(typed["day"].strip())
    except ValueError:
        errors["day"] = f"“{typed['day']}”不是 YYYY-MM-DD 格式的日期"
    if typed["working"] not in ("true", "false"):
        errors["working"] = "请选择该日上班还是休息"
    if not errors:
        try:
            calendar.correct_day(ctx(), g.user, day, typed["working"] == "true", typed["name"], typed["source"])
        except InvalidInput as error:
            errors = error.field_errors
    if errors:
        year = day.year if day else _year_asked(request.args.get("year"))
        return _render_calendar(year, correct=typed, correct_errors=errors), 422
    flash(f"已将 {day.isoformat()} 调整为{'工作日' if typed['working'] == 'true' else '休息日'}，在办案件时限已重算", "ok")
    return redirect(url_for("web.calendar_admin", year=day.year))


def _render_calendar(year: int, publish: dict | None = None, publish_errors: dict | None = None,
                     correct: dict | None = None, correct_errors: dict | None = None):
    changes, number, more = page_of(lambda limit, offset: calendar.calendar_changes(ctx(), limit, offset),
                                    "changes_page", CHANGE_ROWS)
    return render_template("calendar_admin.html", year=year, view=calendar.calendar_year(ctx(), year),
                           changes=changes, changes_page=number, more_changes=more, change_names=CHANGE_NAMES,
                           publish=publish or {"year": str(year)}, publish_errors=publish_errors or {},
                           correct=correct or {}, correct_errors=correct_errors or {})


def _year_asked(text: str | None) -> int:
    try:
        year = int(text or "")
    except ValueError:
        return ctx().today().year
    return year if 2000 <= year <= 2100 else ctx().today().year


def _year_typed(text: str, errors: dict) -> int | None:
    try:
        year = int(text.strip())
    except ValueError:
        year = None
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = "年份应为 2000 到 2100 之间的四位数字"
        return None
    return year


_SEPARATORS = re.compile(r"[\n,，、;；]+")
_RANGE = re.compile(r"\s*(?:\.\.|～|~|至)\s*")


def _days_typed(text: str, field: str, errors: dict) -> list[date]:
    """Days as lines of YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD (both ends included); the first bad line is named."""
    days = []
    for line in _SEPARATORS.split(text):
        line = line.strip()
        if not line:
            continue
        parts = _RANGE.split(line)
        try:
            if len(parts) > 2:
                raise ValueError
            first, last = parse_day(parts[0]), parse_day(parts[-1])
        except ValueError:
            errors[field] = f"“{line}”应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD"
            return []
        if last < first or (last - first).days >= MAX_RANGE_DAYS:
            errors[field] = f"“{line}”：起止日期有误（结束不能早于开始，且不超过一年）"
            return []
        days.extend(first + timedelta(days=offset) for offset in range((last - first).days + 1))
    return days
