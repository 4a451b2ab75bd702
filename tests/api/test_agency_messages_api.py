"""转移接续 between two installations over the REST API: 林口 (231025) and 抚顺 (210400) each run their own, with
their own database and catalog. A relay (here, the test) carries the outbound messages of one to the other's
POST /api/agency-messages as a system administrator and marks them sent; a replay opens nothing twice. Also the
refusals of that route, and the case page of two agencies of one installation showing their exchange."""
from __future__ import annotations

import shutil
from contextlib import contextmanager
from uuid import uuid4

import lxml.html
import pytest
from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import make_engine
from workflows.entrypoints.app import create_app
from workflows.services import catalog, demo
from workflows.bootstrap import bootstrap

from conftest import _pg_database
from support.cases import APPLICANT
from support.http import error_of, json_of
from support.paths import CATALOG_DIR
from support.web import html, sign_in

TRANSFER = "002036003002"
LINKOU, FUSHUN = "231025", "210400"
TRANSFER_DATA = {"from_region": "辽宁省抚顺市", "certificate_no": "PZ-2104-0001"}


def only(agency_code: str, tmp_path):
    """The catalog directory with one agency's list."""
    directory = tmp_path / f"catalog_{agency_code}"
    shutil.copytree(CATALOG_DIR, directory)
    for path in (directory / "agencies").glob("*.yaml"):
        if path.stem != agency_code:
            path.unlink()
    return directory


@pytest.fixture
def linkou(client, ctx, tmp_path):
    """This installation, reduced to 林口: 抚顺 is another installation's agency."""
    ctx.clock.advance(seconds=1)  # the catalog loaded now is newer than the installed one
    catalog.load_catalog(ctx, only(LINKOU, tmp_path))
    return client


@pytest.fixture
def fushun(request, database_url, clock, tmp_path):
    """Another installation, of 抚顺 only, on the same kind of database: its own database, staff and app."""
    with _other_database(request, database_url, tmp_path) as url:
        other = bootstrap(sessionmaker(make_engine(url), expire_on_commit=False), clock=clock)
        clock.advance(seconds=1)  # the catalog loaded now is newer than the installed one
        catalog.load_catalog(other, only(FUSHUN, tmp_path))
        yield create_app(other, secret_key="fushun-secret").test_client()
        other.session_factory.kw["bind"].dispose()


@contextmanager
def _other_database(request, database_url: str, tmp_path):
    """A second copy of the installed database (catalog, diagrams, demo staff)."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "other.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    with _pg_database("wf_other", request.getfixturevalue("postgres_template")) as url:
        yield url


def token(client, username: str, password: str = demo.DEMO_PASSWORD) -> dict:
    answer = json_of(client.post("/api/login", json={"username": username, "password": password}))
    return {"Authorization": f"Bearer {answer['token']}"}


def step(client, headers, number: str, decision: str) -> dict:
    [task] = [t for t in json_of(client.get("/api/tasks", headers=headers)) if t["case_number"] == number]
    return json_of(client.post(f"/api/tasks/{task['id']}/complete", headers=headers,
                               json={"data": {"decision": decision}}))


def apply(client, clerk: dict) -> str:
    """A 林口 application to move 张伟's insurance from 抚顺, accepted and approved: its 联系函 is out."""
    application = {"item_code": TRANSFER, "applicant": APPLICANT, "data": {**TRANSFER_DATA, "from_agency": FUSHUN}}
    number = json_of(client.post("/api/cases", headers=clerk, json=application), 201)["number"]
    step(client, clerk, number, "accept")
    assert step(client, clerk, number, "approve")["stage"] == "信息表"
    return number


def relay(source, source_admin: dict, target, target_admin: dict, replays: int = 0) -> list[dict]:
    """Carry every outbound message of `source` to `target` (posting each 1 + `replays` times) and mark it sent;
    returns what the target answered."""
    answers = []
    for message in json_of(source.get("/api/agency-messages?status=outbound", headers=source_admin)):
        posted = {key: message[key] for key in ("id", "name", "from_agency", "to_agency", "correlation", "payload")}
        answers.append(json_of(target.post("/api/agency-messages", headers=target_admin, json=posted), 201))
        for _ in range(replays):
            assert json_of(target.post("/api/agency-messages", headers=target_admin, json=posted)) == answers[-1]
        sent = json_of(source.post(f"/api/agency-messages/{message['id']}/sent", headers=source_admin))
        assert sent["status"] == "sent"
    return answers


def test_a_transfer_runs_through_two_installations_to_completion(linkou, fushun, clock):
    clerk, linkou_admin = token(linkou, "clerk_231025_02", "password123"), token(linkou, "admin")
    fushun_admin, shenhe = token(fushun, "admin"), token(fushun, "shenhe")
    number = apply(linkou, clerk)

    [letter] = json_of(linkou.get("/api/agency-messages?status=outbound", headers=linkou_admin))
    assert (letter["name"], letter["from_agency"], letter["to_agency"], letter["correlation"],
            letter["source_case"], letter["status_name"]) == ("联系函", LINKOU, FUSHUN, number, number, "待转发")
    assert letter["payload"]["applicant"]["id_number"] == APPLICANT["id_number"]

    [opened] = relay(linkou, linkou_admin, fushun, fushun_admin, replays=2)
    assert (opened["status"], opened["source_case"]) == ("delivered", None)
    partner = opened["target_case"]
    assert [c["number"] for c in json_of(fushun.get(f"/api/cases?item_code={TRANSFER}", headers=shenhe))] == [partner]
    clock.advance(hours=2)
    assert step(fushun, shenhe, partner, "approve")["result"] == "办结"  # funds transferred, 信息表 outbound

    [answered] = relay(fushun, fushun_admin, linkou, linkou_admin)
    assert (answered["name"], answered["target_case"]) == ("信息表", number)
    confirm = step(linkou, clerk, number, "accept")
    assert (confirm["status"], confirm["result"]) == ("closed", "办结")
    assert json_of(fushun.get(f"/api/cases/{partner}", headers=shenhe))["status"] == "closed"
    assert json_of(linkou.get("/api/agency-messages?status=outbound", headers=linkou_admin)) == []
    assert [m["status"] for m in json_of(linkou.get("/api/agency-messages", headers=linkou_admin))] == [
        "sent", "delivered"]


def test_posting_a_message_is_for_a_system_administrator_and_refused_whole_when_it_cannot_be_delivered(
        client, auth):
    admin = auth("admin")
    letter = {"id": str(uuid4()), "name": "信息表", "from_agency": "440300", "to_agency": LINKOU,
              "correlation": "231025-20261101-00099", "payload": {}}

    assert client.post("/api/agency-messages", json=letter).status_code == 401
    assert error_of(client.post("/api/agency-messages", headers=auth("kezhang"), json=letter), 403,
                    "forbidden")["message"] == "需要岗位：系统管理员"
    assert "没有等待“信息表”的办件（关联办件 231025-20261101-00099）" in error_of(
        client.post("/api/agency-messages", headers=admin, json=letter), 404, "not_found")["message"]
    assert error_of(client.post("/api/agency-messages", headers=admin, json={**letter, "to_agency": "110000"}),
                    404, "not_found")["message"] == "本系统没有经办机构 110000"
    invalid = error_of(client.post("/api/agency-messages", headers=admin, json={**letter, "id": "x"}), 422,
                       "invalid_input")
    assert invalid["fields"] == {"id": "应为 UUID，同一消息重发时不变"}
    assert json_of(client.get("/api/agency-messages", headers=admin)) == []
    assert error_of(client.get("/api/agency-messages?status=lost", headers=admin), 422, "invalid_input")
    assert error_of(client.get("/api/agency-messages", headers=auth("shouli")), 403, "forbidden")
    assert error_of(client.post(f"/api/agency-messages/{letter['id']}/sent", headers=admin), 404, "not_found")


def test_the_case_pages_of_both_agencies_show_the_exchange(client, auth):
    clerk = auth("clerk_231025_02", "password123")
    number = apply(client, clerk)
    partner = json_of(client.get(f"/api/cases/{number}", headers=clerk))

    sign_in(client, "clerk_231025_02", "password123")
    page = lxml.html.fromstring(html(client.get(f"/cases/{number}")))
    [linked] = cells(page, "linked-cases")
    assert linked[1:] == ["抚顺市医保中心（210400）", "办理中", "审核"] and linked[0].startswith("210400-")
    assert [row[1:4] for row in cells(page, "exchanged")] == [["联系函", "发往 抚顺市医保中心", "已送达"]]

    browser = client.application.test_client()
    sign_in(browser, "shenhe")
    page = lxml.html.fromstring(html(browser.get(f"/cases/{linked[0]}")))
    assert cells(page, "linked-cases") == [[number, "林口县医保局（231025）", "办理中", "信息表"]]
    assert [row[1:4] for row in cells(page, "exchanged")] == [["联系函", "来自 林口县医保局", "已送达"]]
    assert partner["stage"] == "信息表"


def cells(page, table: str) -> list[list[str]]:
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./td")]
            for row in page.xpath(f'//table[contains(@class, "{table}")]/tbody/tr')]
