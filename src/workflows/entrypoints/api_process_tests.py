"""REST routes of a designer's tests of a diagram (services/process_tests.py): run a draft against tests, read and
save the tests a process keeps (JSON, or YAML as the file beside a diagram holds them)."""
from __future__ import annotations

import yaml
from flask import current_app, g, jsonify, request

from workflows.domain.errors import InvalidInput
from workflows.domain.process_tests import RunOutcome, suite_document
from workflows.services import process_tests
from workflows.services.process_tests import SuiteReport

from .api_base import authenticated, blueprint, body, ctx


def outcome_view(outcome: RunOutcome) -> dict:
    return {"name": outcome.name, "passed": outcome.passed, "problem": outcome.problem,
            "summary": None if outcome.passed else outcome.summary(), "failed_step": outcome.failed_step,
            "element_id": outcome.element_id, "calls": list(outcome.calls),
            "trace": [{"step": trace.number, "label": trace.label, "waiting": list(trace.waiting),
                       "passed": list(trace.passed)} for trace in outcome.trace]}


def report_view(process_key: str, report: SuiteReport) -> dict:
    coverage = report.coverage
    return {"process_key": process_key, "passed": report.failure is None,
            "tests": [outcome_view(outcome) for outcome in report.outcomes],
            "coverage": {"taken": list(coverage.taken), "missed": list(coverage.missed),
                         "missed_branches": list(coverage.missed_branches), "elements": list(coverage.elements),
                         "ratio": round(coverage.ratio, 3)}}


@blueprint.post("/process-tests/run")
@authenticated
def run_tests():
    """{"xml": "<bpmn>", "file_name"?, "tests"?: [...]}: the draft run against the tests given, or else those its
    process keeps; nothing is stored."""
    data = body()
    file_name = data.get("file_name") if isinstance(data.get("file_name"), str) else "draft.bpmn"
    key, report = process_tests.run_draft(ctx(), g.user, data.get("xml"), file_name, data.get("tests"))
    return jsonify(report_view(key, report))


@blueprint.get("/processes/<process_key>/tests")
@authenticated
def get_tests(process_key):
    document = suite_document(process_tests.tests_of(ctx(), g.user, process_key))
    if request.args.get("format") == "yaml":
        text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
        return current_app.response_class(text, mimetype="application/yaml", headers={
            "Content-Disposition": f"attachment; filename={process_key}.tests.yaml"})
    return jsonify(document)


@blueprint.put("/processes/<process_key>/tests")
@authenticated
def save_tests(process_key):
    """The process's tests replaced: JSON {"tests": [...]}, or the YAML file (Content-Type application/yaml)."""
    if request.mimetype in ("application/yaml", "application/x-yaml", "text/yaml"):
        try:
            document = yaml.safe_load(request.get_data(as_text=True))
        except yaml.YAMLError as error:
            raise InvalidInput("测试文件不是有效的 YAML", {"tests": str(error)[:200]}) from None
    else:
        document = body()
    saved = process_tests.save_tests(ctx(), g.user, process_key, document)
    return jsonify(suite_document(saved))
