"""Use cases of a designer's tests of a diagram (domain/process_tests.py): run a draft against its tests, save the
tests with the process, and hold a publish to them.

A test runs entirely in memory on the real engine adapter — the same sandbox and limits, decision tables (禁办情形),
form and amount rules (services/tasks.checked_values), handlers (身份核验, 待遇金额核算 …) — and writes nothing:
the handlers' outside systems are the local stand-ins, answering from the test's recorded people and recording
into the run instead of the database; a service task the test stubs answers as it says. The case limits' timers
never go off by themselves: a test fires the timers it means to.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from handlers import HandlerError
from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.bpmn_flows import sequence_flows
from workflows.adapters.bpmn_parsing import ProcessDefinition
from workflows.adapters.dmn_parsing import decision_files
from workflows.adapters.engine import CaseBindings, CaseRun, Engine
from workflows.adapters.limits import NEVER
from workflows.adapters.process_test_files import read_tests, suite_file_beside, suite_files
from workflows.domain.amounts import PaymentPolicy
from workflows.domain.applicants import PERSON, validate_applicant
from workflows.domain.catalog import Catalog
from workflows.domain.errors import Conflict, InvalidInput
from workflows.domain.forms import DEFAULT_MAX_AMOUNT, validate_form
from workflows.domain.model import SavedTests, User
from workflows.domain.process_tests import (MESSAGE, START_STEP, TASK, TIMER, Coverage, ProcessTest, RunOutcome,
                                            SavedTestsFailed, Step, StepTrace, coverage, expectation_problems,
                                            first_failure, parse_suite, suite_document)

from . import drafts, forms
from .access import require_role
from .context import Context, system_clock
from .tasks import checked_values

TEST_CASE_NUMBER = "测试"  # what handlers see as the case number: no case is opened


@dataclass(frozen=True)
class Setting:
    """What a test runs with besides its diagram: the agency whose rules apply and the installation's bound on
    amounts."""
    agency_code: str
    item_code: str = ""
    item_name: str = ""
    policy: PaymentPolicy | None = None
    max_amount: Decimal = DEFAULT_MAX_AMOUNT
    applicant_kinds: tuple[str, ...] = (PERSON,)


@dataclass(frozen=True)
class SuiteReport:
    outcomes: list[RunOutcome]
    coverage: Coverage

    @property
    def failure(self) -> RunOutcome | None:
        return first_failure(self.outcomes)


class _Stopped(Exception):
    def __init__(self, number: int | None, problem: str, element_id: str | None):
        super().__init__(problem)
        self.number, self.problem, self.element_id = number, problem, element_id


class _TestRun:
    """One test on one definition: the script applied step by step, a trace kept after each."""

    def __init__(self, engine: Engine, definition: ProcessDefinition, test: ProcessTest, setting: Setting):
        self.engine, self.definition, self.test, self.setting = engine, definition, test, setting
        self.calls: list[str] = []
        self.trace: list[StepTrace] = []
        self.run: CaseRun | None = None
        self.applicant: dict = {}

    def outcome(self) -> RunOutcome:
        number = START_STEP
        try:
            self._start()
            for number, step in self.test.script:
                self._take(number, step)
            problems = self._expectations()
            if problems:
                stopped = self.run.end_element or next(iter(self.run.waiting_elements()), None)
                raise _Stopped(None, "；".join(problems), stopped)
            return self._outcome(None)
        except _Stopped as stop:
            return self._outcome(stop.problem, stop.number, stop.element_id)
        except Exception as error:  # a draft is the designer's code: what breaks in it is the test's finding
            return self._outcome(f"运行出错：{error or type(error).__name__}", number)

    def _outcome(self, problem, number=None, element_id=None) -> RunOutcome:
        pairs = frozenset(self.run.passed_pairs()) if self.run else frozenset()
        return RunOutcome(self.test.name, problem, number, element_id, tuple(self.trace), pairs, tuple(self.calls))

    def _start(self) -> None:
        start = self.definition.spec.start.outputs[0].name
        applicant, errors = validate_applicant(self.test.applicant, self.setting.applicant_kinds)
        values, form_errors = validate_form(self.definition.start_form, self.test.data, self.setting.max_amount)
        if errors or form_errors:
            raise _Stopped(START_STEP, "申请信息有误：" + _fields({**errors, **form_errors}), start)
        self.applicant = applicant
        data = {"applicant": applicant, **values}
        if self.definition.initiator:
            data[self.definition.initiator] = "designer"
        self.run = self.engine.start(self.definition, data, self._bindings())
        self._settle(START_STEP, "申请")

    def _take(self, number: int, step: Step) -> None:
        if step.kind == TASK:
            self._complete(number, step)
        elif step.kind == TIMER:
            if not self.run.fire_timer(step.element):
                raise _Stopped(number, f"{step.label}未在等待中{self._where()}", step.element)
        elif step.kind == MESSAGE:
            try:
                self.run.deliver_message(step.element, step.values)
            except Conflict as refused:
                raise _Stopped(number, f"{refused}{self._where()}", None) from None
        self._settle(number, step.label)

    def _complete(self, number: int, step: Step) -> None:
        ready = next((task for task in self.run.ready_tasks() if task.definition.spec_id == step.element), None)
        if ready is None:
            known = self.definition.user_tasks.get(step.element)
            label = f"用户任务“{known.name}”（{step.element}）" if known else step.label
            raise _Stopped(number, f"{label}未在办理中{self._where()}", step.element)
        try:
            cleaned = checked_values(ready.definition, self.run.data, step.values, self.setting.max_amount,
                                     defaults=forms.defaults(ready.definition.form, self.run.data, system_clock,
                                                             self.engine.limits))
        except InvalidInput as refused:
            unmet = [name for name in step.refused if name not in refused.field_errors]
            if step.refused and not unmet:
                return  # refused as expected: the task stays open
            raise _Stopped(number, f"“{ready.definition.name}”的表单被拒绝：" + _fields(refused.field_errors),
                           step.element) from None
        if step.refused:
            raise _Stopped(number, f"期望“{ready.definition.name}”拒绝 {'、'.join(step.refused)}，实际被接受",
                           step.element)
        self.run.complete(ready.id, cleaned)

    def _settle(self, number: int, label: str) -> None:
        """After a step: the external tasks the test answers are answered; a failed step stops the test."""
        stubs = self.test.stubs
        while not self.run.failure and (waiting := [t for t in self.run.external_tasks()
                                                    if t.activity_id in stubs]):
            stub = stubs[waiting[0].activity_id]
            if stub.error is None:
                self.run.complete_external(waiting[0].id, dict(stub.values))
            elif not self.run.throw_external_error(waiting[0].id, stub.error, dict(stub.values)):
                self.run.fail_external(waiting[0].id, stub.error)
        self.trace.append(StepTrace(number, label, tuple(self.run.waiting_elements()),
                                    tuple(self.run.completed_elements())))
        if self.run.failure:
            failure = self.run.failure
            raise _Stopped(number, f"“{failure.task_name}”出错：{failure.message}", failure.element_id)

    def _where(self) -> str:
        waiting = self.run.waiting_elements()
        if self.run.completed:
            return f"（流程已结束于“{self.run.end_element}”）"
        return f"（当前停在 {'、'.join(waiting)}）" if waiting else ""

    def _expectations(self) -> list[str]:
        run = self.run
        return expectation_problems(self.test.expect, run.end_element if run.completed else None, run.result,
                                    [] if run.completed else run.waiting_elements(), run.data)

    def _bindings(self) -> CaseBindings:
        people = self.test.people

        def record(system: str, operation: str, request: dict, response: dict) -> None:
            self.calls.append(f"{system}.{operation}")

        setting = self.setting
        return CaseBindings(TEST_CASE_NUMBER, self.test.agency or setting.agency_code, setting.item_code,
                            setting.item_name, self.applicant,
                            LocalNationalPlatform(lambda id_number: people.get(id_number), record),
                            LocalPaymentGateway(record), LocalSmsNotifier(record), _QuietDesk(), functions=_TIMERS,
                            policy=setting.policy, stubs={element: _stub(step)
                                                          for element, step in self.test.stubs.items()})


class _QuietDesk:
    """The supervisors' desk of a test run: an escalation is raised, once per limit and level, nowhere."""

    def __init__(self):
        self.raised: set = set()

    def raise_escalation(self, level: str, limit: str, stage: str | None) -> bool:
        new = (level, limit) not in self.raised
        self.raised.add((level, limit))
        return new


def _stub(step: Step):
    def answer(context):
        if step.error:
            raise HandlerError(step.error)
        return dict(step.values)
    return answer


# The limits' timers wait until a test fires them; a designer's own working_days(n) timer too.
_TIMERS = {"deadline": lambda kind="promised": NEVER, "warning_time": lambda kind="promised": NEVER,
           "working_days": lambda count: NEVER}


def _fields(errors: dict) -> str:
    return "；".join(f"{field}：{message}" for field, message in errors.items())


def run_suite(engine: Engine, definition: ProcessDefinition, bpmn: str, tests: list[ProcessTest],
              setting: Setting) -> SuiteReport:
    """Run each test on the parsed diagram (`bpmn`: its XML, for the flows to cover)."""
    outcomes = [_TestRun(engine, definition, test, setting).outcome() for test in tests]
    return SuiteReport(outcomes, coverage(sequence_flows(bpmn, definition.key), outcomes))


def item_setting(ctx: Context, uow, process_key: str, agency_code: str | None) -> Setting:
    return catalog_setting(ctx.catalog(uow), process_key, agency_code, ctx.max_amount)


def catalog_setting(catalog: Catalog, process_key: str, agency_code: str | None, max_amount: Decimal) -> Setting:
    """The agency's item running `process_key` (its payment policy), or the first agency with such an item when
    none is named (a national diagram)."""
    agencies = [catalog.agency(agency_code)] if agency_code else list(catalog.agencies.values())
    for agency in agencies:
        for item in (agency.items.values() if agency else ()):
            if process_key in (item.process_key, item.item.partner_process_key):
                return Setting(agency.code, item.code, item.name, item.payment_policy, max_amount,
                               item.item.applicant_kinds)
    return Setting(agency_code or "", max_amount=max_amount)


def run_test_file(engine: Engine, catalog: Catalog, bpmn: Path, tests: Path | None = None,
                  agency_code: str | None = None, max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> tuple[str, SuiteReport]:
    """Run a diagram of a folder (bpmn/item_X.bpmn, its decision tables in the folder's decisions/) against its
    test file (`tests`, or the one beside it); no database. Returns the process key and the report."""
    tests = tests or suite_file_beside(bpmn)
    if tests is None:
        raise InvalidInput(f"{bpmn.name} 旁没有测试文件", {"tests": f"请提供 {bpmn.stem}.tests.yaml"})
    decisions = {name: xml.decode("utf-8")
                 for name, xml in decision_files(bpmn.parent / drafts.DECISIONS_FOLDER).items()}
    xml = bpmn.read_text(encoding="utf-8")
    definition = engine.definition(xml, bpmn.name, decisions)
    setting = catalog_setting(catalog, definition.key, agency_code, max_amount)
    return definition.key, run_suite(engine, definition, xml, parse_suite(read_tests(tests)), setting)


def run_draft(ctx: Context, actor: User, bpmn: str | None, file_name: str, tests=None) -> tuple[str, SuiteReport]:
    """Run a draft (not deployed) against the tests given, or else against those saved with its process; returns
    the process key and the report. Nothing is stored. The draft is checked and parsed as a publish would parse it
    (its decision tables those in force for the designer's agency)."""
    require_role(actor, "designer", "admin")
    if not isinstance(bpmn, str) or not bpmn.strip():
        raise InvalidInput("请给出要测试的流程图", {"xml": "请给出 BPMN XML 文本"})
    bpmn = bpmn.encode("utf-8")
    suite = parse_suite(tests) if tests is not None else None
    definition = drafts.parse_draft(ctx, {file_name: bpmn}, {}, actor.agency_code)[0]
    with ctx.uow(write=False) as uow:
        suite = suite if suite is not None else saved_suite(uow, definition.key, actor.agency_code)
        setting = item_setting(ctx, uow, definition.key, actor.agency_code)
    return definition.key, run_suite(ctx.engine, definition, _text(bpmn), suite, setting)


def saved_suite(uow, process_key: str, agency_code: str | None) -> list[ProcessTest]:
    saved = uow.process_tests.suite(process_key, agency_code)
    return parse_suite(saved.document) if saved else []


def check_before_publish(ctx: Context, definitions: list[ProcessDefinition], files: dict[str, bytes],
                         agency_code: str | None) -> None:
    """A publish whose saved tests fail is refused (422), naming the test, the step and the element at fault. The
    tests are read in one short transaction and run after it (they take CPU, not the database)."""
    with ctx.uow(write=False) as uow:
        planned = [(definition, suite, item_setting(ctx, uow, definition.key, agency_code))
                   for definition in definitions if (suite := saved_suite(uow, definition.key, agency_code))]
    for definition, suite, setting in planned:
        report = run_suite(ctx.engine, definition, _text(files[definition.file_name]), suite, setting)
        if report.failure:
            raise SavedTestsFailed(report.failure, definition.file_name)


def _text(bpmn: bytes | str) -> str:
    return bpmn.decode("utf-8") if isinstance(bpmn, bytes) else bpmn


def save_tests(ctx: Context, actor: User, process_key: str, tests) -> list[ProcessTest]:
    """Save the process's tests for the designer's agency (an administrator's: the national ones), replacing those
    saved before; each publish of the process then runs them. The process must be one of the agency's."""
    require_role(actor, "designer", "admin")
    suite = parse_suite(tests)
    agency_code = None if actor.has_role("admin") else actor.agency_code
    with ctx.uow() as uow:
        if agency_code is not None:
            drafts.require_agency_process(ctx, uow, agency_code, process_key)
        saved = uow.process_tests.own(process_key, agency_code)
        document = suite_document(suite)
        if saved is None:
            uow.process_tests.add(SavedTests(process_key=process_key, agency_code=agency_code, document=document,
                                             saved_by=actor.username, saved_at=ctx.now()))
        else:
            saved.document, saved.saved_by, saved.saved_at = document, actor.username, ctx.now()
        uow.commit()
    return suite


INSTALLER = "system"


def load_test_files(ctx: Context, directory: Path) -> list[str]:
    """At installation: the tests beside the diagrams of a folder (item_X.tests.yaml) become the national tests of
    their processes, so that every publish runs them from the first install on. A suite saved by a person is kept
    (theirs is newer than the file); one the installation saved is replaced when the file changed. Returns the
    process keys whose tests were written."""
    suites = {key: suite_document(parse_suite(read_tests(path))) for key, path in suite_files(directory).items()}
    written = []
    with ctx.uow() as uow:
        for key, document in suites.items():
            saved = uow.process_tests.own(key, None)
            if saved is None:
                uow.process_tests.add(SavedTests(process_key=key, agency_code=None, document=document,
                                                 saved_by=INSTALLER, saved_at=ctx.now()))
            elif saved.saved_by == INSTALLER and saved.document != document:
                saved.document, saved.saved_at = document, ctx.now()
            else:
                continue
            written.append(key)
        uow.commit()
    return written


def tests_of(ctx: Context, actor: User, process_key: str) -> list[ProcessTest]:
    """The tests a publish of the process by the actor would run."""
    require_role(actor, "designer", "admin")
    with ctx.uow(write=False) as uow:
        return saved_suite(uow, process_key, actor.agency_code)
