"""The public pages, without signing in: 办理进度查询 (with 好差评 once a case is completed) and 办件公示.

The case number, the applicant's ID number and phone travel in POST bodies only (never in a URL, so never in a
log), and pages that show them are not cached. Misses are throttled per client address and per case number
(services/public.py): once locked, the page answers 429 with the minutes to wait.
"""
from __future__ import annotations

from flask import make_response, redirect, render_template, request, url_for

from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.domain.throttling import TooManyAttempts
from workflows.services import catalog, public

from .base import blueprint, ctx


@blueprint.get("/public")
def public_home():
    return redirect(url_for("web.public_query"))


@blueprint.get("/public/progress")
def public_query():
    return _private(render_template("public_query.html", typed={}, errors={}))


PROOF_FIELDS = ("number", "id_number", "phone")


def typed_proof() -> dict:
    """What the applicant typed to prove the case is theirs (kept in the page's hidden fields for its forms)."""
    return {key: request.form.get(key, "").strip() for key in PROOF_FIELDS}


def proof_of(typed: dict) -> public.Proof:
    return public.Proof(**{key: typed[key] for key in PROOF_FIELDS})


@blueprint.post("/public/progress")
def public_query_submit():
    return progress_answer(typed_proof())


@blueprint.post("/public/rating")
def public_rate():
    typed = typed_proof()
    rating = {key: request.form.get(key, "") for key in ("score", "comment")}
    try:
        label = public.rate_service(ctx(), proof_of(typed), request.remote_addr, rating["score"], rating["comment"])
    except TooManyAttempts as error:
        return locked_answer(typed, error)
    except InvalidInput as error:
        if set(error.field_errors) & set(PROOF_FIELDS):
            return progress_answer(typed)
        return progress_answer(typed, rating=rating, rating_errors=error.field_errors, status=422)
    except NotFound:
        return not_found_answer(typed)  # the same neutral 未查到 as the query (and counted once)
    except Conflict as error:
        return progress_answer(typed, rating_message=str(error), status=409)
    return progress_answer(typed, thanks=f"感谢您的评价：{label}")


def progress_answer(typed: dict, status: int = 200, **extra):
    """The query page with the case, or the one neutral message when number, ID number and phone do not match."""
    try:
        progress = public.query_progress(ctx(), proof_of(typed), request.remote_addr)
    except TooManyAttempts as error:
        return locked_answer(typed, error)
    except InvalidInput as error:
        page = render_template("public_query.html", typed=typed, errors=error.field_errors)
        return _private(page, 422)
    except NotFound:
        return not_found_answer(typed)
    page = render_template("public_query.html", typed=typed, errors={}, progress=progress, ratings=public.RATINGS,
                           rating=extra.pop("rating", {}), rating_errors=extra.pop("rating_errors", {}), **extra)
    return _private(page, status)


def not_found_answer(typed: dict):
    return _private(render_template("public_query.html", typed=typed, errors={}, not_found=public.NOT_FOUND), 404)


def locked_answer(typed: dict, error: TooManyAttempts):
    """429: too many misses from this address or for this case number; nothing is looked up meanwhile."""
    response = _private(render_template("public_query.html", typed=typed, errors={}, not_found=str(error)), 429)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


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
