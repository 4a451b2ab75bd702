"""External task workers: Camunda's own worker clients, from PyPI (camunda-external-task-client-python3) and npm
(camunda-external-task-client-js), drive a real server (the app on a loopback port) through a real diagram as the
Camunda Modeler writes it (tests/fixtures/conformance/external_task.bpmn: 受理 → the external task 参保核验, topic
insurance-check, with an error boundary event 未参保 → 审核 → 办结). Every answer the server gives the clients is
checked against the OpenAPI document, as the test client's are."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from camunda.client.external_task_client import ExternalTaskClient
from camunda.external_task.external_task_worker import ExternalTaskWorker
from sqlalchemy.orm import sessionmaker
from werkzeug.serving import make_server

from handlers import HANDLERS
from support.documented import violations
from support.http import error_of, json_of
from support.paths import ROOT
from support.process_driver import PERSON_ID
from support.server import running_server
from support.web import html, sign_in
from workflows.adapters.database import make_engine
from workflows.adapters.engine import Engine
from workflows.services import users
from workflows.services.context import Context

from api.test_api import case_of, complete, deploy, inbox

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

FIXTURE = ROOT / "tests" / "fixtures" / "conformance" / "external_task.bpmn"
ITEM = "002036002002"
PROCESS = f"item_{ITEM}"
CLERK = "clerk_210400_01"  # every task role in hall 210400-01
APPLICANT = {"name": "张伟", "id_number": PERSON_ID, "phone": "13804130001"}
TOPIC = "insurance-check"
PASSWORD = "password123"
MINUTE = 60_000  # ms
OPINION = "材料齐全"  # the 受理 clerk's, in the case data for the worker to read


@pytest.fixture
def integrators(ctx):
    """外部系统 accounts: one of 抚顺 (210400, where the cases are), one of 林口 (231025)."""
    users.save_user(ctx, "jiekou", "医保信息平台接口", PASSWORD, "210400", "210400-01", ["integrator"])
    users.save_user(ctx, "jiekou_lk", "林口接口", PASSWORD, "231025", "231025-01", ["integrator"])


@pytest.fixture
def server(app):
    """The app on a free loopback port, in a thread of this process (it shares the test's clock); every answer
    is held to the OpenAPI document."""
    problems = []

    def checked(environ, start_response):
        answer = {}

        def remember(status, headers, *args):
            answer.update(status=int(status.split()[0]), type=dict(headers).get("Content-Type", ""))
            return start_response(status, headers, *args)

        body = b"".join(app(environ, remember))
        problems.extend(violations(app, environ["REQUEST_METHOD"], environ["PATH_INFO"], answer["status"],
                                   answer["type"], body))
        return [body]

    http = make_server("127.0.0.1", 0, checked, threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()
    assert problems == []


def worker_client(server: str, worker_id: str, username: str = "jiekou", **config) -> ExternalTaskClient:
    settings = {"auth_basic": {"username": username, "password": PASSWORD}, "asyncResponseTimeout": 0,
                "lockDuration": MINUTE, **config}
    return ExternalTaskClient(worker_id, f"{server}/engine-rest", settings)


@pytest.fixture
def waiting_case(client, auth, integrators, built_once) -> str:
    """A case of the diagram accepted by the clerk: it now waits for a worker on 参保核验. Built once per worker and
    database (built_once): a copy of it for every test."""
    return built_once("test_external_tasks_api.waiting_case", lambda: accepted_case(client, auth))


def accepted_case(client, auth) -> str:
    bpmn = FIXTURE.read_bytes().replace(b'"Process_conformance"', f'"{PROCESS}"'.encode())
    json_of(deploy(client, auth("sheji"), bpmn, "external_task.bpmn"), 201)
    clerk = auth(CLERK)
    number = json_of(client.post("/api/cases", headers=clerk, json={
        "item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]
    [task] = [task for task in inbox(client, clerk) if task["case_number"] == number]
    json_of(complete(client, clerk, task["id"], opinion_Task_accept=OPINION))
    return number


def messages(case: dict) -> list[str]:
    return [entry["message"] for entry in case["history"]]


def test_a_case_waits_at_its_stage_for_an_external_worker(client, auth, waiting_case):
    case = case_of(client, auth(CLERK), waiting_case)

    assert (case["status"], case["stage"]) == ("open", "审核")
    [waiting] = case["external_tasks"]
    assert waiting["label"] == "等待外部任务“参保核验”（主题 insurance-check）：待外部系统获取"
    assert [task for task in inbox(client, auth(CLERK)) if task["case_number"] == waiting_case] == []


def test_the_python_worker_fetches_and_completes_with_variables_and_the_case_moves_on(
        client, auth, server, waiting_case):
    done = []

    def check(task):
        done.append((task.get_business_key(), task.get_variable("opinion_Task_accept"),
                     task.get_extension_property("system")))
        return task.complete({"insured": True, "insured_since": "2019-07-01", "checks": {"platform": "ok"}})

    worker = ExternalTaskWorker("w1", f"{server}/engine-rest",
                                {"auth_basic": {"username": "jiekou", "password": PASSWORD},
                                 "asyncResponseTimeout": 0})
    worker.fetch_and_execute(TOPIC, check)

    assert done == [(waiting_case, OPINION, "医保信息平台")]
    case = case_of(client, auth(CLERK), waiting_case)
    assert case["external_tasks"] == []
    assert [task["name"] for task in case["tasks"] if task["state"] == "ready"] == ["审核"]
    assert {"insured": True, "insured_since": "2019-07-01", "checks": {"platform": "ok"}}.items() <= case["data"].items()
    assert "外部任务“参保核验”由工作者“w1”完成（主题 insurance-check）" in messages(case)


def test_a_bearer_token_works_too_and_variables_come_typed(client, auth, server, waiting_case):
    token = auth("jiekou", PASSWORD)["Authorization"].removeprefix("Bearer ")
    worker = worker_client(server, "w1", auth_bearer={"access_token": token}, auth_basic=None)

    [task] = worker.fetch_and_lock(TOPIC, variables=["opinion_Task_accept", "missing"])

    assert task["variables"] == {"opinion_Task_accept": {"type": "String", "value": OPINION, "valueInfo": {}}}
    assert (task["workerId"], task["topicName"], task["priority"], task["activityId"]) == \
        ("w1", TOPIC, 5, "Activity_check")
    key, version, _ = task["processDefinitionId"].split(":")  # Camunda's key:version:id
    assert (key, version.isdigit()) == (task["processDefinitionKey"], True)
    assert worker.complete(task["id"], {"score": {"value": 7, "type": "Integer"}})
    assert case_of(client, auth(CLERK), waiting_case)["data"]["score"] == 7


def test_a_failure_with_retries_left_unlocks_and_at_zero_the_case_gets_an_incident_a_supervisor_retries(
        client, auth, server, clock, waiting_case):
    worker = worker_client(server, "w1")
    [task] = worker.fetch_and_lock(TOPIC)

    assert worker.failure(task["id"], "医保信息平台超时", "timeout after 30s", 1, 10_000)
    assert worker.fetch_and_lock(TOPIC) == []  # the retry timeout holds it back
    clock.advance(seconds=11)
    [again] = worker.fetch_and_lock(TOPIC)
    assert (again["id"], again["retries"], again["errorMessage"]) == (task["id"], 1, "医保信息平台超时")
    assert worker.failure(again["id"], "医保信息平台仍然超时", None, 0, 0)

    supervisor = auth(CLERK)
    case = case_of(client, supervisor, waiting_case)
    assert (case["status"], case["status_name"], case["external_tasks"]) == ("failed", "故障待处理", [])
    assert "“参保核验”出错：外部任务失败：医保信息平台仍然超时" in messages(case)
    assert worker.fetch_and_lock(TOPIC) == []

    json_of(client.post(f"/api/cases/{waiting_case}/retry", headers=supervisor, json={"reason": "平台已恢复"}))
    assert case_of(client, supervisor, waiting_case)["status"] == "open"
    [fresh] = worker.fetch_and_lock(TOPIC)
    assert fresh["retries"] is None and worker.complete(fresh["id"], {})


def test_a_bpmn_error_takes_the_error_boundary_event(client, auth, server, waiting_case):
    worker = worker_client(server, "w1")
    [task] = worker.fetch_and_lock(TOPIC)

    assert worker.bpmn_failure(task["id"], "NOT_INSURED", "未查到参保记录", {"finding": "未参保"})

    case = case_of(client, auth(CLERK), waiting_case)
    assert (case["status"], case["result"]) == ("closed", "不予受理")
    assert case["data"]["finding"] == "未参保"
    assert any("报告 BPMN 错误“NOT_INSURED”（未查到参保记录）" in line for line in messages(case))


def test_a_bpmn_error_no_boundary_event_catches_is_an_incident(client, auth, server, waiting_case):
    worker = worker_client(server, "w1")
    [task] = worker.fetch_and_lock(TOPIC)

    assert worker.bpmn_failure(task["id"], "OTHER", "别的错误")

    case = case_of(client, auth(CLERK), waiting_case)
    assert case["status"] == "failed"
    assert any("BPMN 错误“OTHER”" in line and "没有捕获它的错误边界事件" in line for line in messages(case))


def test_a_lock_expires_and_the_task_is_fetchable_again_unless_extended(client, auth, server, clock, waiting_case):
    first, second = worker_client(server, "w1"), worker_client(server, "w2")
    [task] = first.fetch_and_lock(TOPIC)
    assert second.fetch_and_lock(TOPIC) == []

    extend = requests.post(f"{server}/engine-rest/external-task/{task['id']}/extendLock",
                           json={"workerId": "w1", "newDuration": 5 * MINUTE}, headers=first._get_headers())
    assert extend.status_code == 204
    clock.advance(minutes=2)
    assert second.fetch_and_lock(TOPIC) == []  # extended: still w1's
    clock.advance(minutes=4)
    [taken] = second.fetch_and_lock(TOPIC)
    assert (taken["id"], taken["workerId"]) == (task["id"], "w2")

    with pytest.raises(Exception, match="409.*已由工作者“w2”锁定"):
        first.complete(task["id"], {})
    unlock = requests.post(f"{server}/engine-rest/external-task/{task['id']}/unlock", headers=first._get_headers())
    assert unlock.status_code == 204
    assert [t["workerId"] for t in first.fetch_and_lock(TOPIC)] == ["w1"]


def test_process_variables_select_only_the_tasks_whose_case_holds_those_values(client, auth, waiting_case):
    def fetched(variables: dict) -> list[str]:
        body = {"workerId": "w1", "maxTasks": 5, "topics": [
            {"topicName": TOPIC, "lockDuration": MINUTE, "processVariables": variables}]}
        answer = client.post("/engine-rest/external-task/fetchAndLock", json=body, headers=auth("jiekou", PASSWORD))
        return [task["businessKey"] for task in json_of(answer)]

    assert fetched({"opinion_Task_accept": "材料不全"}) == []
    assert fetched({"opinion_Task_accept": OPINION, "nowhere": 1}) == []
    assert fetched({"opinion_Task_accept": OPINION}) == [waiting_case]


def test_another_agencys_system_sees_nothing_and_can_do_nothing(client, auth, server, waiting_case):
    [task] = worker_client(server, "w1").fetch_and_lock(TOPIC)
    stranger = worker_client(server, "lk", username="jiekou_lk")
    requests.post(f"{server}/engine-rest/external-task/{task['id']}/unlock",
                  headers=worker_client(server, "w1")._get_headers())

    assert stranger.fetch_and_lock(TOPIC) == []
    with pytest.raises(Exception, match="404"):
        stranger.complete(task["id"], {})


def test_only_an_integrator_with_valid_credentials_gets_in(client, auth, server, waiting_case):
    url = f"{server}/engine-rest/external-task/fetchAndLock"
    fetch = {"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": MINUTE}]}

    assert requests.post(url, json=fetch).status_code == 401
    wrong = requests.post(url, json=fetch, auth=("jiekou", "wrong-password"))
    assert (wrong.status_code, wrong.json()["type"]) == (401, "AuthenticationException")
    clerk = requests.post(url, json=fetch, headers=auth(CLERK))
    assert (clerk.status_code, clerk.json()["message"]) == (403, "需要岗位：外部系统")


BAD_REQUESTS = [  # the body, the field named
    ({"maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": MINUTE}]}, "workerId"),
    ({"workerId": "w1", "maxTasks": -1, "topics": [{"topicName": TOPIC, "lockDuration": MINUTE}]}, "maxTasks"),
    ({"workerId": "w1", "maxTasks": 1, "topics": []}, "topics"),
    ({"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": 0}]}, "topics[0].lockDuration"),
    ({"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": MINUTE,
                                                   "processVariables": {"a": [1]}}]}, "topics[0].processVariables.a"),
    ({"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": MINUTE,
                                                   "processVariables": {"_a": 1}}]}, "topics[0].processVariables._a"),
    ({"workerId": "w1", "maxTasks": 1, "asyncResponseTimeout": "soon",
      "topics": [{"topicName": TOPIC, "lockDuration": MINUTE}]}, "asyncResponseTimeout"),
]


@pytest.mark.parametrize("body, field", BAD_REQUESTS)
def test_a_bad_fetch_is_refused_naming_the_field(client, auth, integrators, body, field):
    answer = client.post("/engine-rest/external-task/fetchAndLock", json=body, headers=auth("jiekou", PASSWORD))

    assert field in error_of(answer, 422, "invalid_input")["fields"]


BAD_VARIABLES = [  # variables, the field named
    ({"1x": {"value": 1}}, "variables.1x"),
    ({"x": 1}, "variables.x"),
    ({"x": {"value": "a", "type": "Integer"}}, "variables.x"),
    ({"x": {"value": "AAAA", "type": "Bytes"}}, "variables.x"),
    ({"x": {"value": "{not json", "type": "Json"}}, "variables.x"),
    ({"payable_amount": {"value": "99999.00"}}, "variables.payable_amount"),  # the 核定金额: its rules, its way in
    ({"opinion_Task_accept": {"value": "改写"}}, "variables.opinion_Task_accept"),  # a form's field
]


@pytest.mark.parametrize("variables, field", BAD_VARIABLES)
def test_a_completion_with_bad_variables_is_refused_and_the_case_still_waits(client, auth, waiting_case, variables,
                                                                            field):
    headers = auth("jiekou", PASSWORD)
    fetch = {"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": MINUTE}]}
    [task] = json_of(client.post("/engine-rest/external-task/fetchAndLock", json=fetch, headers=headers))

    answer = client.post(f"/engine-rest/external-task/{task['id']}/complete", headers=headers,
                         json={"workerId": "w1", "variables": variables})

    assert field in error_of(answer, 422, "invalid_input")["fields"]
    assert len(case_of(client, auth(CLERK), waiting_case)["external_tasks"]) == 1


def test_a_failure_without_retries_is_refused(client, auth, waiting_case):
    headers = auth("jiekou", PASSWORD)
    fetch = {"workerId": "w1", "maxTasks": 1, "topics": [{"topicName": TOPIC, "lockDuration": MINUTE}]}
    [task] = json_of(client.post("/engine-rest/external-task/fetchAndLock", json=fetch, headers=headers))

    answer = client.post(f"/engine-rest/external-task/{task['id']}/failure", headers=headers,
                         json={"workerId": "w1", "errorMessage": "x"})

    assert "retries" in error_of(answer, 422, "invalid_input")["fields"]


def test_a_long_poll_answers_as_soon_as_a_task_is_there(client, auth, server, integrators, waiting_case):
    holder = worker_client(server, "w1")
    [task] = holder.fetch_and_lock(TOPIC)  # the only task, held by w1
    poller = worker_client(server, "w2", asyncResponseTimeout=15_000)

    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        waiting = pool.submit(poller.fetch_and_lock, TOPIC)
        time.sleep(0.5)
        assert not waiting.done()  # nothing free: the fetch waits
        requests.post(f"{server}/engine-rest/external-task/{task['id']}/unlock", headers=holder._get_headers())
        [fetched] = waiting.result(timeout=20)

    assert (fetched["id"], fetched["workerId"]) == (task["id"], "w2")
    assert time.monotonic() - started < 12  # well before the 15 s asked for
    empty = worker_client(server, "w3", asyncResponseTimeout=1000)
    started = time.monotonic()
    assert empty.fetch_and_lock("other-topic") == [] and time.monotonic() - started >= 1


def test_two_workers_fetching_at_once_never_get_the_same_task(client, auth, server, waiting_case):
    clerk = auth(CLERK)
    for _ in range(5):  # more cases waiting on the topic
        number = json_of(client.post("/api/cases", headers=clerk, json={
            "item_code": ITEM, "applicant": APPLICANT, "data": {}}), 201)["number"]
        [task] = [task for task in inbox(client, clerk) if task["case_number"] == number]
        json_of(complete(client, clerk, task["id"]))
    workers = [worker_client(server, f"w{n}", maxTasks=2) for n in range(4)]

    with ThreadPoolExecutor(len(workers)) as pool:
        fetched = [task["id"] for batch in pool.map(lambda w: w.fetch_and_lock(TOPIC), workers) for task in batch]

    assert len(fetched) == len(set(fetched)) == 6


NODE = shutil.which("node")
NODE_WORKER = r"""
import { Client, BasicAuthInterceptor, Variables, logger } from "camunda-external-task-client-js";
const [baseUrl, topic] = process.argv.slice(2);
const client = new Client({ baseUrl, workerId: "node-worker", asyncResponseTimeout: 1000, autoPoll: false,
  interceptors: new BasicAuthInterceptor({ username: "jiekou", password: "password123" }) });
client.subscribe(topic, async ({ task, taskService }) => {
  const variables = new Variables().setAll({ checked_by: "node", opinion_seen: task.variables.get("opinion_Task_accept") });
  await taskService.extendLock(task, 120000);
  await taskService.complete(task, variables);
  console.log(JSON.stringify({ completed: task.id, businessKey: task.businessKey }));
  client.stop();
  process.exit(0);
});
client.on("complete:error", (task, error) => { console.error(String(error)); process.exit(1); });
client.on("poll:error", (error) => { console.error(String(error)); process.exit(1); });
client.start();
setTimeout(() => { console.error("no task"); process.exit(2); }, 15000);
"""


@pytest.mark.skipif(NODE is None, reason="no node on this machine")
def test_the_npm_worker_fetches_extends_and_completes(client, auth, server, waiting_case, tmp_path):
    script = ROOT / "web" / "node_modules" / ".external-task-worker-test.mjs"  # beside the package it imports
    script.write_text(NODE_WORKER, encoding="utf-8")
    try:
        run = subprocess.run([NODE, str(script), f"{server}/engine-rest", TOPIC], capture_output=True, text=True,
                             timeout=30, cwd=ROOT / "web")
    finally:
        script.unlink()

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1])["businessKey"] == waiting_case
    case = case_of(client, auth(CLERK), waiting_case)
    assert (case["data"]["checked_by"], case["data"]["opinion_seen"]) == ("node", OPINION)
    assert "外部任务“参保核验”由工作者“node-worker”完成（主题 insurance-check）" in messages(case)


def test_every_shipped_diagram_runs_its_service_tasks_in_process():
    """A misspelt handler name would make a shipped process wait for a worker nobody runs."""
    topics = {topic for path in (ROOT / "bpmn").glob("*.bpmn")
              for topic in re.findall(r'camunda:topic="([^"]+)"', path.read_text(encoding="utf-8"))}
    assert topics and topics <= set(HANDLERS)
    assert Engine().definition(FIXTURE.read_text(encoding="utf-8")).has_external_tasks


def test_the_case_page_says_what_the_case_waits_for(app, integrators, client, auth, waiting_case):
    browser = app.test_client()
    sign_in(browser, CLERK, PASSWORD)
    page = html(browser.get(f"/cases/{waiting_case}"))

    assert "等待外部任务“参保核验”（主题 insurance-check）：" in page and "待外部系统获取" in page


def test_every_engine_rest_route_is_in_the_openapi_document(app):
    document = json_of(app.test_client().get("/api/openapi.json"))
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/engine-rest/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}

    assert len(routes) == 13  # 7 of external tasks, 6 of user tasks, process definitions and instances
    assert routes <= {(path, method) for path, operations in document["paths"].items() for method in operations}


@pytest.mark.long  # seconds of wall: started first (tests/conftest.py)
def test_under_gunicorn_a_long_poll_leaves_the_pages_answering(sqlite_template, tmp_path):
    """`workflows serve` as deployed (one process here): a worker waiting in fetchAndLock holds one thread only."""
    shutil.copy(sqlite_template, tmp_path / "workflows.db")
    url = f"sqlite:///{tmp_path / 'workflows.db'}"
    context = Context(sessionmaker(make_engine(url)))
    users.save_user(context, "jiekou", "医保信息平台接口", PASSWORD, "210400", "210400-01", ["integrator"])
    context.session_factory.kw["bind"].dispose()
    with running_server(url, tmp_path) as (base, _):
        with ThreadPoolExecutor(1) as pool:
            started = time.monotonic()
            waiting = pool.submit(worker_client(base, "w1", asyncResponseTimeout=5000).fetch_and_lock, TOPIC)
            time.sleep(0.5)
            assert requests.get(f"{base}/api/agencies", timeout=10).status_code == 200
            assert not waiting.done()  # answered while the fetch still waits
            assert waiting.result(timeout=30) == []
        assert time.monotonic() - started >= 5
