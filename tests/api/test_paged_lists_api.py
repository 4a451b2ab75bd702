"""The API's lists that used to stop at their first 100 or 200 rows without saying so (the hall's 督办, one's
notifications, the calendar's changes, the migration plans, the failed background tasks, the account events beside
the locks) page with `limit` and `offset` like the other lists: the
next page holds the rest, a bad or too large `limit` is refused naming the field, and the OpenAPI document lists
both parameters. On SQLite and PostgreSQL: the pages are SQL of their own on each."""
from __future__ import annotations

import pytest

from support.cases import at
from support.diagrams import migration_target
from support.http import error_of, json_of

from workflows.domain import pages
from workflows.services import users

from api.test_api import OUTPATIENT_PROCESS, deploy, open_case, ready_task, versions_of

pytestmark = pytest.mark.both_databases

PAGED = ("/api/supervisions", "/api/notifications", "/api/calendar/changes", "/api/migration-plans",
         "/api/outbox/failures", "/api/lockouts")  # the outbox's pages: tests/services/test_outbox.py
VIEWER = {"/api/supervisions": "kezhang", "/api/notifications": "shouli", "/api/calendar/changes": "admin",
          "/api/migration-plans": "sheji", "/api/outbox/failures": "admin", "/api/lockouts": "admin"}


def pages_of(client, headers, path: str, size: int) -> list[list[dict]]:
    """The list read `size` rows at a time, up to the first page shorter than that."""
    found = [json_of(client.get(f"{path}?limit={size}", headers=headers))]
    while len(found[-1]) == size:
        found.append(json_of(client.get(f"{path}?limit={size}&offset={size * len(found)}", headers=headers)))
    return found


def test_the_halls_supervisions_come_page_by_page_waiting_first_then_the_newest(client, auth, clock):
    shouli, kezhang = auth("shouli"), auth("kezhang")
    task = ready_task(client, shouli, open_case(client, shouli)["number"])
    json_of(client.post(f"/api/tasks/{task['id']}/claim", headers=shouli))
    given = []
    for hour in (10, 11, 12):
        clock.now = at(f"2026-11-23 {hour}:00")
        given.append(json_of(client.post(f"/api/tasks/{task['id']}/supervisions", headers=kezhang,
                                         json={"instruction": f"请说明进度 {hour}"}), 201)["id"])
    json_of(client.post(f"/api/supervisions/{given[2]}/reply", headers=shouli, json={"reply": "今日办结"}))

    found = pages_of(client, kezhang, "/api/supervisions", 2)

    assert [[s["instruction"] for s in page] for page in found] == [["请说明进度 11", "请说明进度 10"],
                                                                    ["请说明进度 12"]]
    assert found[1][0]["reply"] == "今日办结" and found[0][0]["task"]["id"] == task["id"]
    assert json_of(client.get("/api/supervisions?offset=3", headers=kezhang)) == []


def test_notifications_calendar_changes_and_migration_plans_come_page_by_page(client, auth, clock):
    shouli, admin, designer = auth("shouli"), auth("admin"), auth("sheji")
    task = ready_task(client, shouli, open_case(client, shouli)["number"])
    for hour in (10, 11, 12):
        clock.now = at(f"2026-11-23 {hour}:00")
        json_of(client.post(f"/api/tasks/{task['id']}/urge", headers=auth("kezhang"), json={"message": f"催 {hour}"}))
        json_of(client.put(f"/api/calendar/days/2026-12-0{hour - 6}", headers=admin,
                           json={"working": True, "source": f"更正 {hour}"}))
    json_of(deploy(client, designer, migration_target(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    target, source = versions_of(client, designer)[:2]
    for reason in ("第一次迁移", "第二次迁移", "第三次迁移"):
        json_of(client.post("/api/migration-plans", headers=designer, json={
            "process_key": OUTPATIENT_PROCESS, "source_version": source, "target_version": target,
            "reason": reason}), 201)

    for path, headers in (("/api/notifications", shouli), ("/api/calendar/changes", admin),
                          ("/api/migration-plans", designer)):
        whole = json_of(client.get(f"{path}?limit=500", headers=headers))
        found = pages_of(client, headers, path, 2)
        assert len(whole) >= 3 and [row for page in found for row in page] == whole, path
        assert [len(page) for page in found[:-1]] == [2] * (len(found) - 1), path
    newest = json_of(client.get("/api/migration-plans?limit=2", headers=designer))
    assert [plan["reason"] for plan in newest] == ["第三次迁移", "第二次迁移"]  # the newest first


def test_a_migration_plans_cases_come_page_by_page(client, auth):
    shouli, designer = auth("shouli"), auth("sheji")
    opened = [open_case(client, shouli)["number"] for _ in range(3)]
    json_of(deploy(client, designer, migration_target(), f"{OUTPATIENT_PROCESS}.bpmn"), 201)
    target, source = versions_of(client, designer)[:2]
    plan = json_of(client.post("/api/migration-plans", headers=designer, json={
        "process_key": OUTPATIENT_PROCESS, "source_version": source, "target_version": target,
        "reason": "拨付改由科室负责人审批"}), 201)
    path = f"/api/migration-plans/{plan['id']}"

    found = [json_of(client.get(f"{path}?limit=2&offset={offset}", headers=designer))["cases"] for offset in (0, 2)]

    assert [[case["number"] for case in page] for page in found] == [opened[:2], opened[2:]]  # the oldest first
    assert error_of(client.get(f"{path}?limit=501", headers=designer), 422, "invalid_input")["fields"] == {
        "limit": "应为 0–500 的整数，其后的用 offset 翻页"}


def test_the_account_events_beside_the_locks_come_page_by_page(client, auth):
    admin = auth("admin")
    for username in ("shouli", "shenhe"):  # locked after five failures, then unlocked: two events each
        for attempt in range(5):
            client.post("/api/login", json={"username": username, "password": f"wrong{attempt}"})
        assert client.post("/api/lockouts/unlock", headers=admin,
                           json={"kind": "account", "subject": username}).status_code == 204

    found = [json_of(client.get(f"/api/lockouts?limit=3&offset={offset}", headers=admin)) for offset in (0, 3)]

    assert [[e["action"] for e in page["events"]] for page in found] == [["unlocked", "locked", "unlocked"],
                                                                         ["locked"]]
    assert [e["subject"] for e in found[1]["events"]] == ["shouli"] and found[1]["lockouts"] == []


@pytest.mark.parametrize("query, fields, message", [
    ("limit=501", {"limit"}, "limit 最多为 500"),
    ("limit=ten", {"limit"}, "limit 和 offset 应为非负整数"),
    ("offset=-1", {"offset"}, "limit 和 offset 应为非负整数"),
    ("limit=-1&offset=1.5", {"limit", "offset"}, "limit 和 offset 应为非负整数"),
    (f"offset={2 ** 63}", {"offset"}, "limit 和 offset 应为非负整数"),  # no number the database takes
])
def test_a_bad_or_too_large_page_is_refused_naming_its_field(client, auth, query, fields, message):
    for path in PAGED:
        error = error_of(client.get(f"{path}?{query}", headers=auth(VIEWER[path])), 422, "invalid_input")
        assert (error["message"], set(error["fields"])) == (message, fields), path


def test_the_largest_page_is_served_whole(client, auth):
    kezhang = auth("kezhang")
    assert json_of(client.get("/api/supervisions?limit=500", headers=kezhang)) == []
    assert json_of(client.get("/api/cases?limit=500", headers=auth("shouli"))) == []


def test_one_bound_holds_the_page_for_the_api_and_for_the_services_behind_every_way_in(client, auth, ctx,
                                                                                     monkeypatch):
    """A page's bound is one number (domain/pages.py): the API refuses a longer limit, and a caller past the API
    (the web pages, the CLI) gets no longer a page from the service whatever it asks."""
    shouli = auth("shouli")
    task = ready_task(client, shouli, open_case(client, shouli)["number"])
    for hour in (10, 11, 12):
        json_of(client.post(f"/api/tasks/{task['id']}/urge", headers=auth("kezhang"), json={"message": f"催 {hour}"}))
    monkeypatch.setattr(pages, "MAX_PAGE", 2)  # a page of two stands for one of 500

    error = error_of(client.get("/api/notifications?limit=3", headers=shouli), 422, "invalid_input")
    assert (error["message"], error["fields"]) == ("limit 最多为 2", {"limit": "应为 0–2 的整数，其后的用 offset 翻页"})
    assert len(json_of(client.get("/api/notifications?limit=2", headers=shouli))) == 2
    assert len(users.notifications(ctx, users.get_user(ctx, "shouli"), limit=3)) == 2
    assert len(users.notifications(ctx, users.get_user(ctx, "shouli"), limit=3, offset=2)) == 1


def test_the_openapi_document_lists_the_paging_of_every_paged_list(client):
    document = json_of(client.get("/api/openapi.json"))
    for path in (*PAGED, "/api/migration-plans/{plan_id}"):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["limit"]["schema"]["maximum"] == pages.MAX_PAGE == 500 and parameters["offset"]["in"] == "query", path
        assert "422" in document["paths"][path]["get"]["responses"], path
