"""A designer's tests of a diagram (流程测试): run a draft on sample data and a script of decisions before it is
published, without a case and without outside systems, and see which paths it took.

A test is a name, the application (the applicant and the start form's data), what the national platform answers
about people (its recorded responses, by ID number), a script of steps — for each user task reached the form values
to submit, for a service task a stubbed answer or error, a timer to fire, a message and its payload — and what is
expected at the end: the end event reached or the tasks waiting, and values of the case data. The process's saved
tests run at every publish: a publish whose tests fail is refused, naming the test, the step and its element.

Coverage is counted over sequence flows: those some test took and those none did, gateway branches apart, as
element ids the modeler colours on the canvas.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .errors import InvalidInput, InvalidProcess
from .text import NAME_LENGTH, text_problem

TASK, SERVICE, TIMER, MESSAGE = "task", "service", "timer", "message"
STEP_KINDS = {TASK: "用户任务", SERVICE: "服务任务", TIMER: "定时器", MESSAGE: "消息"}
MAX_TESTS = 50  # saved with one process
MAX_STEPS = 100  # of one test
START_STEP = 0  # the application itself (the start form's data, the steps the case runs by itself from there)


@dataclass(frozen=True)
class Step:
    kind: str  # task | service | timer | message
    element: str  # the element id of the task, service task or timer; a message's name
    values: dict = field(default_factory=dict)  # task: the form values; service: its answer; message: the payload
    error: str | None = None  # service: its handler fails with this message (an outage), or for an external
    # task the BPMN error code it throws
    refused: tuple[str, ...] = ()  # task: the submission must be refused, naming these fields (the task stays open)

    @property
    def label(self) -> str:
        return f"{STEP_KINDS[self.kind]}“{self.element}”"


@dataclass(frozen=True)
class Expectation:
    end: str | None = None  # the end event's element id the case reaches
    result: str | None = None  # or its result by name: 办结, 不予受理 …
    waiting: tuple[str, ...] = ()  # element ids the case waits at, when it has not ended
    variables: dict = field(default_factory=dict)  # values of the case data at the end


@dataclass(frozen=True)
class ProcessTest:
    name: str
    applicant: dict
    data: dict
    steps: tuple[Step, ...]
    expect: Expectation
    people: dict = field(default_factory=dict)  # ID number -> what the national platform answers about the person
    agency: str | None = None  # the agency whose rules (禁办情形, payment policy) apply; None: the caller's

    @property
    def stubs(self) -> dict[str, Step]:
        """Service task element id -> the step answering for it."""
        return {step.element: step for step in self.steps if step.kind == SERVICE}

    @property
    def script(self) -> list[tuple[int, Step]]:
        """The steps taken in order (user tasks, timers, messages) with their numbers (from 1, as written)."""
        return [(number, step) for number, step in enumerate(self.steps, 1) if step.kind != SERVICE]


def parse_suite(raw) -> list[ProcessTest]:
    """The tests of a file or request: a list of tests, or {"tests": [...]}; InvalidInput naming every field in
    error (tests[0].steps[2].task …)."""
    if isinstance(raw, dict) and "tests" in raw:
        raw = raw["tests"]
    if not isinstance(raw, list):
        raise InvalidInput("测试用例有误", {"tests": "应为测试用例的列表"})
    if len(raw) > MAX_TESTS:
        raise InvalidInput("测试用例有误", {"tests": f"一个流程最多保存 {MAX_TESTS} 个测试用例"})
    errors: dict[str, str] = {}
    tests = [_test(item, f"tests[{index}]", errors) for index, item in enumerate(raw)]
    names = [test.name for test in tests if test is not None]
    for index, name in enumerate(names):
        if name in names[:index]:
            errors.setdefault(f"tests[{index}].name", f"测试名称“{name}”重复")
    if errors:
        raise InvalidInput("测试用例有误", errors)
    return tests


def _test(raw, where: str, errors: dict) -> ProcessTest | None:
    if not isinstance(raw, dict):
        errors[where] = "应为一个测试用例（名称、申请数据、步骤、期望）"
        return None
    name = raw.get("name")
    problem = "请填写测试名称" if not isinstance(name, str) or not name.strip() else text_problem(name, NAME_LENGTH)
    if problem:
        errors[f"{where}.name"] = problem
    applicant, data, people = (_mapping(raw, key, where, errors) for key in ("applicant", "data", "people"))
    steps = raw.get("steps") or []
    if not isinstance(steps, list) or len(steps) > MAX_STEPS:
        errors[f"{where}.steps"] = f"应为最多 {MAX_STEPS} 个步骤的列表"
        steps = []
    parsed = [_step(step, f"{where}.steps[{index}]", errors) for index, step in enumerate(steps)]
    agency = raw.get("agency")
    if agency is not None and not isinstance(agency, str):
        errors[f"{where}.agency"] = "经办机构代码应为文字"
    expect = _expectation(raw.get("expect"), f"{where}.expect", errors)
    if errors:
        return None
    return ProcessTest(name.strip(), applicant, data, tuple(parsed), expect, people, agency)


def _mapping(raw: dict, key: str, where: str, errors: dict) -> dict:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        errors[f"{where}.{key}"] = "应为键值对"
        return {}
    return value


def _step(raw, where: str, errors: dict) -> Step | None:
    kinds = [kind for kind in STEP_KINDS if isinstance(raw, dict) and kind in raw]
    if len(kinds) != 1:
        errors[where] = "每个步骤应写明且只写明 task、service、timer、message 之一"
        return None
    kind = kinds[0]
    element = raw[kind]
    if not isinstance(element, str) or not element.strip():
        errors[f"{where}.{kind}"] = "应为元素编号" if kind != MESSAGE else "应为消息名称"
        return None
    key = {TASK: "submit", SERVICE: "answer", MESSAGE: "payload"}.get(kind)
    values = raw.get(key) if key else None
    if values is not None and not isinstance(values, dict):
        errors[f"{where}.{key}"] = "应为键值对"
        return None
    error = raw.get("error")
    if error is not None and (kind != SERVICE or not isinstance(error, str) or not error.strip()):
        errors[f"{where}.error"] = "只有服务任务可以模拟出错，且应写明出错信息"
        return None
    if kind == SERVICE and error is None and values is None:
        errors[f"{where}.answer"] = "服务任务应给出模拟的返回（answer）或出错信息（error）"
        return None
    refused = raw.get("refused") or []
    if not isinstance(refused, list) or not all(isinstance(name, str) for name in refused) or (
            refused and kind != TASK):
        errors[f"{where}.refused"] = "只有用户任务可以期望被拒绝，应列出被拒绝的字段"
        return None
    return Step(kind, element.strip(), dict(values or {}), error.strip() if error else None, tuple(refused))


def _expectation(raw, where: str, errors: dict) -> Expectation:
    if not isinstance(raw, dict) or not ({"end", "result", "waiting"} & set(raw)):
        errors[where] = "请写明期望：到达的结束事件（end 或 result）或等待的任务（waiting）"
        return Expectation()
    waiting = raw.get("waiting") or []
    waiting = [waiting] if isinstance(waiting, str) else waiting
    if not isinstance(waiting, list) or not all(isinstance(item, str) for item in waiting):
        errors[f"{where}.waiting"] = "应为元素编号的列表"
        waiting = []
    for key in ("end", "result"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            errors[f"{where}.{key}"] = "应为文字"
    variables = _mapping(raw, "variables", where, errors)
    return Expectation(raw.get("end"), raw.get("result"), tuple(waiting), variables)


def suite_document(tests: list[ProcessTest]) -> dict:
    """The tests as a file holds them (bpmn/<item>.tests.yaml), the inverse of parse_suite."""
    return {"tests": [_test_document(test) for test in tests]}


def _test_document(test: ProcessTest) -> dict:
    document = {"name": test.name}
    if test.agency:
        document["agency"] = test.agency
    document.update({key: value for key, value in (("applicant", test.applicant), ("people", test.people),
                                                   ("data", test.data)) if value})
    document["steps"] = [_step_document(step) for step in test.steps]
    expect = test.expect
    document["expect"] = {key: value for key, value in (("end", expect.end), ("result", expect.result),
                                                        ("waiting", list(expect.waiting)),
                                                        ("variables", expect.variables)) if value}
    return document


def _step_document(step: Step) -> dict:
    document = {step.kind: step.element}
    key = {TASK: "submit", SERVICE: "answer", MESSAGE: "payload"}.get(step.kind)
    if key and (step.values or step.kind == TASK):
        document[key] = step.values
    if step.error:
        document["error"] = step.error
    if step.refused:
        document["refused"] = list(step.refused)
    return document


# --- expectations -----------------------------------------------------------------------------------------------

def expectation_problems(expect: Expectation, end: str | None, result: str | None, waiting: list[str],
                         data: dict) -> list[str]:
    """What differs between the expectation and where the run came to (`end`: the end event reached, None while
    it waits at `waiting`), in the designer's words."""
    stopped = f"结束于“{end}”（{result}）" if end else f"停在 {'、'.join(waiting) or '（无）'}"
    problems = []
    if expect.end and expect.end != end:
        problems.append(f"期望到达结束事件“{expect.end}”，实际{stopped}")
    if expect.result and expect.result != result:
        problems.append(f"期望办理结果“{expect.result}”，实际{stopped}")
    missing = [element for element in expect.waiting if element not in waiting]
    if missing:
        problems.append(f"期望等待 {'、'.join(missing)}，实际{stopped}")
    for name, expected in expect.variables.items():
        if not same_value(data.get(name), expected):
            problems.append(f"变量 {name} 期望为 {expected!r}，实际为 {data.get(name)!r}")
    return problems


def same_value(actual, expected) -> bool:
    """A value of the case data as a test file writes it: money and dates as text match their typed value, an
    object matches where each key it names does."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(same_value(actual.get(k), v) for k, v in expected.items())
    if expected is None or isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected or actual == expected
    if isinstance(expected, list):
        return isinstance(actual, (list, tuple)) and len(actual) == len(expected) and all(
            same_value(a, e) for a, e in zip(actual, expected))
    return actual == expected or str(actual) == str(expected)


# --- runs and coverage ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Flow:
    """A sequence flow of the diagram; `branch`: it leaves a gateway."""
    id: str
    source: str
    target: str
    branch: bool = False


@dataclass(frozen=True)
class StepTrace:
    """Where the run stood after a step (number 0: after the application)."""
    number: int
    label: str
    waiting: tuple[str, ...]
    passed: tuple[str, ...]


@dataclass(frozen=True)
class RunOutcome:
    name: str
    problem: str | None  # None: passed
    failed_step: int | None = None  # the step number at fault (0: the application); None with a problem: the
    # expectations at the end
    element_id: str | None = None  # where on the canvas to show it
    trace: tuple[StepTrace, ...] = ()
    pairs: frozenset = frozenset()  # (source, target) element ids the run went along
    calls: tuple[str, ...] = ()  # what the handlers asked of outside systems (answered by stand-ins)

    @property
    def passed(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        where = ("期望不符" if self.failed_step is None else "申请" if self.failed_step == START_STEP
                 else f"第{self.failed_step}步")
        return f"测试“{self.name}”未通过（{where}）：{self.problem}"


@dataclass(frozen=True)
class Coverage:
    taken: tuple[str, ...]  # flow ids some run took
    missed: tuple[str, ...]  # flow ids no run took
    missed_branches: tuple[str, ...]  # of those, the gateway branches
    elements: tuple[str, ...]  # element ids some run passed or stopped at

    @property
    def ratio(self) -> float:
        total = len(self.taken) + len(self.missed)
        return len(self.taken) / total if total else 1.0


def coverage(flows: list[Flow], outcomes: list[RunOutcome]) -> Coverage:
    pairs = set().union(*(outcome.pairs for outcome in outcomes)) if outcomes else set()
    taken = tuple(flow.id for flow in flows if (flow.source, flow.target) in pairs)
    missed = [flow for flow in flows if (flow.source, flow.target) not in pairs]
    elements = {element for outcome in outcomes for trace in outcome.trace for element in (*trace.passed,
                                                                                            *trace.waiting)}
    return Coverage(taken, tuple(flow.id for flow in missed), tuple(flow.id for flow in missed if flow.branch),
                    tuple(sorted(elements)))


def first_failure(outcomes: list[RunOutcome]) -> RunOutcome | None:
    return next((outcome for outcome in outcomes if not outcome.passed), None)


class SavedTestsFailed(InvalidProcess):
    """A publish refused: a test saved with the process fails on the new diagram."""

    def __init__(self, outcome: RunOutcome, file_name: str):
        super().__init__(f"已保存的{outcome.summary()}，不能发布", outcome.element_id, file_name)
        self.outcome = outcome
