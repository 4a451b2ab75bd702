"""The public pages, without signing in: 办理进度查询 (with 好差评 once a case is completed) and 办件公示.

The case number and the applicant's ID number travel in POST bodies only (never in a URL, so never in a log),
and pages that show them are not cached. These pages have no rate limit yet.
"""
from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.services import catalog, public

from . import blueprint, ctx


@blueprint.get("/public")
def public_home():
    return redirect(url_for("web.public_query"))


@blueprint.get("/public/progress")
def public_query():
    return _private(render_template("public_query.html", typed={}, errors={}))


@blueprint.post("/public/progress")
def public_query_submit():
    typed = {key: request.form.get(key, "").strip() for key in ("number", "id_number")}
    return progress_answer(typed)


@blueprint.post("/public/rating")
def public_rate():
    typed = {key: request.form.get(key, "").strip() for key in ("number", "id_number")}
    rating = {key: request.form.get(key, "") for key in ("score", "comment")}
    try:
        label = public.rate_service(ctx(), typed["number"], typed["id_number"], rating["score"], rating["comment"])
    except InvalidInput as error:
        if set(error.field_errors) & {"number", "id_number"}:
            return progress_answer(typed)
        return progress_answer(typed, rating=rating, rating_errors=error.field_errors, status=422)
    except NotFound:
        return progress_answer(typed)  # the same neutral 未查到 as the query
    except Conflict as error:
        return progress_answer(typed, rating_message=str(error), status=409)
    return progress_answer(typed, thanks=f"感谢您的评价：{label}")


def progress_answer(typed: dict, status: int = 200, **extra):
    """The query page with the case, or with the one neutral message when number and ID number do not match."""
    try:
        progress = public.query_progress(ctx(), typed["number"], typed["id_number"])
    except InvalidInput as error:
        page = render_template("public_query.html", typed=typed, errors=error.field_errors)
        return _private(page, 422)
    except NotFound:
        page = render_template("public_query.html", typed=typed, errors={}, not_found=public.NOT_FOUND)
        return _private(page, 404)
    page = render_template("public_query.html", typed=typed, errors={}, progress=progress, ratings=public.RATINGS,
                           rating=extra.pop("rating", {}), rating_errors=extra.pop("rating_errors", {}), **extra)
    return _private(page, status)


def _private(page: str, status: int = 200):
    response = make_response(page, status)
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/public/cases")
def public_list():
    """办件公示: pick an agency, then its cases newest first, 20 a page."""
    agencies = catalog.list_agencies(ctx())
    agency_code = request.args.get("agency", "").strip()
    try:
        page = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page = 1
    found = None
    if agency_code:
        try:
            found = public.public_cases(ctx(), agency_code, page)
        except NotFound:
            return render_template("public_list.html", agencies=agencies, agency_code=agency_code, found=None,
                                   message=f"没有经办机构 {agency_code}"), 404
    return render_template("public_list.html", agencies=agencies, agency_code=agency_code, found=found,
                           message=None)
