"""The outbox: a 文书 is numbered and kept by its command and its PDF rendered after the commit, exactly once,
retried with backoff when rendering fails and shown to administrators and supervisors until it works; a calendar
change is answered at once and the open cases recomputed by the worker in batches. On SQLite and PostgreSQL."""
from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from dataclasses import replace
from datetime import date, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import make_engine
from workflows.adapters.engine import Engine
from workflows.adapters.orm import start_mappers
from workflows.bootstrap import bootstrap

from workflows.domain.errors import Conflict, Forbidden, NotFound
from workflows.domain.events import MAX_ATTEMPTS, DocumentIssued
from workflows.entrypoints.app import create_app
from workflows.entrypoints.web import outbox as web_outbox
from workflows.services import calendar, cases, demo, documents, outbox, tasks, time_limits

from support.cases import APPLICANT, DATA, OUTPATIENT, at, label
from support.documented import DocumentedClient
from support.web import html, sign_in

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

RENDER = "render_document"


@pytest.fixture
def quiet(database_url, clock):
    """The installation with no kick after the command: only the scheduler's round (or a download) renders."""
    start_mappers()
    context = bootstrap(sessionmaker(make_engine(database_url), expire_on_commit=False), engine=Engine(),
                        clock=clock, kick="off")
    yield context
    context.session_factory.kw["bind"].dispose()


def accept(ctx, staff, clock, when: str) -> str:
    """Open a 门诊 case at `when` for an applicant who gave no phone (so the only entry is the 受理通知书's PDF:
    the texts are tests/services/test_applicant_notices.py's) and accept it; its number."""
    clock.now = at(when)
    unphoned = {key: value for key, value in APPLICANT.items() if key != "phone"}
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, unphoned, DATA)
    tasks.complete_task(ctx, staff["shouli"], progress.open_tasks[0].id, {"decision": "accept"})
    return progress.case.number


def stored(ctx, document_id: int):
    with ctx.uow(write=False) as uow:
        return uow.documents.with_content(document_id)


def pending(ctx) -> int:
    with ctx.uow(write=False) as uow:
        return uow.outbox.pending_count()


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    return "".join(page.extract_text() for page in PdfReader(BytesIO(content)).pages).replace("\n", "")


def broken(ctx, entry):
    raise OSError("磁盘已满")


def test_a_document_is_numbered_by_its_command_and_downloadable_before_the_worker_renders_it(quiet, staff, clock):
    number = accept(quiet, staff, clock, "2026-11-23 09:30")

    [notice] = documents.list_documents(quiet, staff["shenhe"], number)
    assert (notice.number, stored(quiet, notice.id).content) == (f"SL{number}", None)  # kept, not yet laid out
    assert pending(quiet) == 1
    _, pdf = documents.document_pdf(quiet, staff["shenhe"], notice.id)  # a download right away: laid out now
    assert f"文书编号：SL{number}" in pdf_text(pdf) and "张伟" in pdf_text(pdf)

    assert outbox.work_due(quiet) == 1
    assert stored(quiet, notice.id).content == pdf  # the PDF first handed out is the one kept: never changed
    assert documents.document_pdf(quiet, staff["shenhe"], notice.id)[1] == pdf
    assert pending(quiet) == 0 and outbox.work_due(quiet) == 0


def test_the_worker_renders_a_document_nobody_downloaded_yet(quiet, staff, clock):
    number = accept(quiet, staff, clock, "2026-11-23 09:30")
    [notice] = documents.list_documents(quiet, staff["shenhe"], number)

    assert outbox.work_due(quiet) == 1

    content = stored(quiet, notice.id).content
    assert f"SL{number}" in pdf_text(content)
    assert documents.document_pdf(quiet, staff["shenhe"], notice.id)[1] == content


def test_kicked_right_after_the_command_the_pdf_is_there_before_any_download(ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")  # the test context kicks inline, as the CLI does
    [notice] = documents.list_documents(ctx, staff["shenhe"], number)
    assert stored(ctx, notice.id).content.startswith(b"%PDF-") and pending(ctx) == 0


def test_the_web_apps_kicker_renders_the_pdfs_of_commands_that_came_while_it_was_busy_in_one_batch(
        database_url, staff, clock):
    """The web app's kick (a thread of the process): the commands that committed while it rendered the last batch
    are rendered together, in one transaction, and every PDF is there, none left to the scheduler."""
    start_mappers()
    context = bootstrap(sessionmaker(make_engine(database_url), expire_on_commit=False), engine=Engine(),
                        clock=clock, kick="thread")
    busy, calls = threading.Event(), []

    def rendering(ctx, entries):
        calls.append([entry_id for entry_id, _ in entries])
        busy.wait(10)  # the first batch takes its time: the next commands' kicks queue behind it
        documents.render_kicked(ctx, entries)

    context.bus.prompt[RENDER] = rendering
    try:
        numbers = [accept(context, staff, clock, "2026-11-23 09:10")]
        _waited_for(lambda: len(calls) == 1)  # the kicker is rendering the first
        numbers += [accept(context, staff, clock, f"2026-11-23 09:{minute}") for minute in (20, 30)]
        busy.set()
        _waited_for(lambda: pending(context) == 0 and len(calls) == 2)
        assert [len(batch) for batch in calls] == [1, 2]  # the first alone, the two that queued behind it together
        for number in numbers:
            [notice] = documents.list_documents(context, staff["shenhe"], number)
            assert f"SL{number}" in pdf_text(stored(context, notice.id).content)
        assert pending(context) == 0
    finally:
        busy.set()
        context.session_factory.kw["bind"].dispose()


def _waited_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.02)


def test_a_kicker_gathers_what_queued_by_kind_up_to_a_batch():
    entries = queue.SimpleQueue()
    for kind, entry_id in [(RENDER, 1), ("broadcast_signal", 2), (RENDER, 3), (RENDER, 4), (RENDER, 5)]:
        entries.put((kind, [(entry_id, None)]))
    assert outbox.gathered(entries, most=4) == {RENDER: [(1, None), (3, None), (4, None)],
                                                "broadcast_signal": [(2, None)]}
    assert outbox.gathered(entries, most=4) == {RENDER: [(5, None)]}  # the rest, next time


def test_a_failing_render_is_retried_with_backoff_and_shown_until_it_works(quiet, staff, clock):
    quiet.bus.workers[RENDER] = broken
    number = accept(quiet, staff, clock, "2026-11-23 09:30")

    assert outbox.work_due(quiet) == 0
    [failure] = outbox.failures(quiet, staff["admin"])
    assert (failure.case_number, failure.label, failure.entry.attempts) == (number, "生成文书PDF", 1)
    assert failure.entry.last_error == "OSError: 磁盘已满"
    assert failure.entry.next_attempt_at == clock.now + timedelta(minutes=1)
    assert outbox.work_due(quiet) == 0 and outbox.failures(quiet, staff["admin"])[0].entry.attempts == 1  # waits

    clock.advance(minutes=1)
    outbox.work_due(quiet)
    [failure] = outbox.failures(quiet, staff["kezhang"])  # the hall's supervisor sees it too
    assert failure.entry.attempts == 2 and failure.entry.next_attempt_at == clock.now + timedelta(minutes=2)
    with pytest.raises(Forbidden):
        outbox.failures(quiet, staff["shouli"])

    quiet.bus.workers[RENDER] = documents.render_issued  # the cause is gone
    clock.advance(minutes=2)
    assert outbox.work_due(quiet) == 1
    assert outbox.failures(quiet, staff["admin"]) == []
    [notice] = documents.list_documents(quiet, staff["shenhe"], number)
    assert stored(quiet, notice.id).content.startswith(b"%PDF-")


def test_after_the_last_attempt_an_entry_waits_for_a_person_to_retry_it(quiet, staff, clock):
    quiet.bus.workers[RENDER] = broken
    accept(quiet, staff, clock, "2026-11-23 09:30")
    for _ in range(MAX_ATTEMPTS):
        outbox.work_due(quiet)
        clock.advance(hours=3)
    [failure] = outbox.failures(quiet, staff["admin"])
    assert (failure.entry.attempts, failure.entry.next_attempt_at) == (MAX_ATTEMPTS, None)
    assert outbox.work_due(quiet) == 0  # given up: no more tries by itself

    quiet.bus.workers[RENDER] = documents.render_issued
    entry, _ = outbox.retry(quiet, staff["admin"], failure.entry.id)
    assert entry.done_at is not None and outbox.failures(quiet, staff["admin"]) == []
    with pytest.raises(Conflict):
        outbox.retry(quiet, staff["admin"], failure.entry.id)  # done: nothing to retry
    with pytest.raises(NotFound):
        outbox.retry(quiet, staff["admin"], failure.entry.id + 1000)


def test_two_workers_claiming_at_once_render_each_document_exactly_once(quiet, staff, clock):
    for _ in range(4):
        accept(quiet, staff, clock, "2026-11-23 09:30")
    assert pending(quiet) == 4
    calls, lock, start, done = Counter(), threading.Lock(), threading.Barrier(2), []

    def counting(ctx, entry):
        with lock:
            calls[entry.id] += 1
        documents.render_issued(ctx, entry)

    def worker():
        start.wait()
        done.append(outbox.work_due(quiet, batch=1))

    quiet.bus.workers[RENDER] = counting
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(done) == 4 and len(calls) == 4 and set(calls.values()) == {1}
    assert pending(quiet) == 0


def test_a_kick_leaves_alone_an_entry_a_worker_holds(quiet, staff, clock):
    number = accept(quiet, staff, clock, "2026-11-23 09:30")
    [notice] = documents.list_documents(quiet, staff["shenhe"], number)
    with quiet.uow() as uow:  # the scheduler claimed it a moment before the kick came
        [entry_id] = uow.outbox.due_ids(clock.now, 10)
        [held] = uow.outbox.claim([entry_id], clock.now, outbox.LEASE)
        uow.commit()

    kicked = replace(DocumentIssued.from_payload(held.payload), layout=notice.layout)  # as its command hands it on
    documents.render_kicked(quiet, [(entry_id, kicked)])

    assert stored(quiet, notice.id).content is None and pending(quiet) == 1  # the holder's to do
    documents.render_issued(quiet, held)
    assert stored(quiet, notice.id).content.startswith(b"%PDF-") and pending(quiet) == 0


def test_nothing_is_issued_or_rendered_when_the_command_rolls_back(ctx, staff, clock):
    clock.now = at("2026-11-23 09:30")
    progress = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA)
    with ctx.uow() as uow:  # a command that issues a notice and then fails before committing
        case = uow.cases.get(progress.case.number)
        documents.issue(uow, ctx, case, documents.MISSING_MATERIALS, staff["shouli"], materials=["身份证"])

    assert documents.list_documents(ctx, staff["shouli"], progress.case.number) == []
    assert pending(ctx) == 0 and outbox.work_due(ctx) == 0


def test_a_calendar_change_is_answered_at_once_and_the_worker_recomputes_the_cases_in_batches(
        quiet, staff, clock, monkeypatch):
    monkeypatch.setattr(time_limits, "RECOMPUTE_BATCH", 1)
    first, second = (accept(quiet, staff, clock, "2026-11-23 09:30") for _ in range(2))

    calendar.correct_day(quiet, staff["admin"], date(2026, 12, 19), True, "调休上班", "测试通知〔2026〕1号")
    assert [label(quiet, staff, n) for n in (first, second)] == ["2026-12-21 17:00"] * 2  # not in the request

    outbox.work_due(quiet)  # one batch: one case, and the entry of the next batch
    assert sorted(label(quiet, staff, n) for n in (first, second)) == ["2026-12-19 17:00", "2026-12-21 17:00"]
    outbox.work_due(quiet)
    outbox.work_due(quiet)  # the last batch finds no case left
    assert [label(quiet, staff, n) for n in (first, second)] == ["2026-12-19 17:00"] * 2
    assert pending(quiet) == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_failures_are_listed_on_the_api_the_outbox_page_and_the_case_page(quiet, staff, clock):
    quiet.bus.workers[RENDER] = broken
    number = accept(quiet, staff, clock, "2026-11-23 09:30")
    outbox.work_due(quiet)
    app = create_app(quiet, secret_key="test-secret")
    app.test_client_class = DocumentedClient
    client = app.test_client()
    token = client.post("/api/login", json={"username": "admin", "password": demo.DEMO_PASSWORD}).get_json()["token"]
    admin = {"Authorization": f"Bearer {token}"}

    [listed] = client.get("/api/outbox/failures", headers=admin).get_json()
    assert (listed["kind"], listed["case_number"], listed["attempts"]) == (RENDER, number, 1)
    assert listed["last_error"] == "OSError: 磁盘已满"
    assert client.post("/api/outbox/999999/retry", headers=admin).status_code == 404
    again = client.post(f"/api/outbox/{listed['id']}/retry", headers=admin).get_json()
    assert (again["attempts"], again["done_at"]) == (2, None)  # still broken: tried, and says so

    sign_in(client, "kezhang")
    assert "磁盘已满" in html(client.get("/admin/outbox"))
    page = html(client.get(f"/cases/{number}"))
    assert "后台任务失败" in page and "生成文书PDF：OSError: 磁盘已满" in page
    quiet.bus.workers[RENDER] = documents.render_issued
    client.post(f"/api/outbox/{listed['id']}/retry", headers=admin)
    assert "后台任务失败" not in html(client.get(f"/cases/{number}"))


def test_every_kind_the_bus_leaves_in_the_outbox_is_documented_and_named(quiet):
    """A failed entry of any kind is listed (后台任务, GET /api/outbox/failures) under its name and in the shape
    the OpenAPI document gives an entry: the kinds the bus writes are the document's and the labels'."""
    document = create_app(quiet, secret_key="test-secret").test_client().get("/api/openapi.json").get_json()
    documented = document["components"]["schemas"]["OutboxEntry"]["properties"]["kind"]["enum"]
    written = set(quiet.bus.deferred.values())
    assert written == set(documented) and written == set(outbox.KIND_LABELS)
    assert {"send_sms", "broadcast_signal", "render_document"} <= written


def test_the_outbox_page_shows_the_failures_past_its_first_page_on_the_next(quiet, staff, clock, monkeypatch):
    monkeypatch.setattr(web_outbox, "OUTBOX_ROWS", 2)
    quiet.bus.workers[RENDER] = broken
    newest_first = [accept(quiet, staff, clock, f"2026-11-23 {hour}:30") for hour in (9, 10, 11)][::-1]
    outbox.work_due(quiet)
    client = create_app(quiet, secret_key="test-secret").test_client()
    sign_in(client, "admin")

    first, second = html(client.get("/admin/outbox")), html(client.get("/admin/outbox?page=2"))

    assert all(number in first for number in newest_first[:2]) and newest_first[2] not in first
    assert 'href="/admin/outbox?page=2">下一页' in first
    assert newest_first[2] in second and all(number not in second for number in newest_first[:2])
    assert 'href="/admin/outbox?page=1">上一页' in second and "下一页" not in second
    assert 'name="next" value="/admin/outbox?page=2"' in second  # a retry comes back to this page
    assert "第 5 页没有失败的后台任务" in html(client.get("/admin/outbox?page=5"))
    assert "页码应为正整数" in html(client.get("/admin/outbox?page=x"))


def test_failures_page_and_a_supervisors_page_holds_only_the_halls_entries(quiet, staff, clock):
    """Three failed renders of the hall and one of the other hall between them: a supervisor's page of two is two of
    the hall's (the other hall's entry filtered in the query, not after the cut), the next page the third."""
    quiet.bus.workers[RENDER] = broken
    ours = [accept(quiet, staff, clock, "2026-11-23 09:30")]
    progress = cases.open_case(quiet, staff["shouli2"], OUTPATIENT, {**APPLICANT, "phone": ""}, DATA)
    tasks.complete_task(quiet, staff["shouli2"], progress.open_tasks[0].id, {"decision": "accept"})
    ours += [accept(quiet, staff, clock, "2026-11-23 09:30") for _ in range(2)]
    outbox.work_due(quiet)

    def numbers(actor, limit, offset=0):
        return [f.case_number for f in outbox.failures(quiet, actor, limit, offset)]

    newest_first = ours[::-1]
    assert numbers(staff["kezhang"], 2) == newest_first[:2] and numbers(staff["kezhang"], 2, 2) == newest_first[2:]
    assert numbers(staff["kezhang2"], 2) == [progress.case.number]
    assert numbers(staff["admin"], 2, 1) == [newest_first[1], progress.case.number]  # every hall's
