"""The desk and the statistics at a million cases, on PostgreSQL.

1. Fills a database with `--cases` cases (default 1,000,000) over the real catalog's agencies, halls and items, with
   their tasks, limits, pauses, escalations, 督办, 差评回访 and history, in bulk SQL (INSERT … SELECT generate_series; not the
   service layer): most closed (a few late, a few withdrawn or terminated), some open: on time, warned (黄牌),
   overdue (红牌), paused (补正, 中止). The statistics' running counts are then recounted from them.
2. Through the Flask app (test client, signed in as the demo roles: 李审核 for the inbox, 孙科长 for the desk), times
   `--requests` requests (default 50) of the inbox API and page, the Camunda task API asked for one case's tasks,
   the escalations API, the 督办台 page and the 统计 page, and prints p50/p95 of each.
3. Prints EXPLAIN (ANALYZE, BUFFERS) of each page's queries on the big tables.

Usage: python bench/scale.py [URL] [--cases N] [--requests K] [--keep]
Without URL a database of its own on 127.0.0.1:5432 is created and dropped at the end (kept with --keep). Given a
URL whose database already holds at least N bench cases, the fill is skipped: fill once, measure many times.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from workflows.adapters.database import make_engine
from workflows.adapters.migrate import upgrade
from workflows.adapters.orm import start_mappers
from workflows.adapters.statistics_counts import rebuild
from workflows.entrypoints.app import create_app
from workflows.services import catalog, demo
from workflows.bootstrap import bootstrap
from workflows.services.context import Context
from workflows.services.setup import install

ROOT = Path(__file__).resolve().parent.parent
SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEMO_AGENCY, DEMO_HALL = demo.AGENCY, demo.HALL
DEMO_SHARE = 4  # the demo agency's halls weigh this much more than any other hall: the supervisor's desk is busy
BIG_TABLES = ("cases", "case_tasks", "case_deadlines", "escalations", "case_counts", "closed_case_counts", "task_counts",
              "case_pauses", "overdue_counts", "task_supervisions", "rating_followups")
PAGES = [  # label, username, path, API (a Bearer token) or page (a signed-in session)
    ("inbox API", "shenhe", "/api/tasks", True),
    ("inbox page", "shenhe", "/inbox", False),
    ("Camunda task API", "shenhe", "/engine-rest/task?processInstanceId={case}", True),  # one case's tasks
    ("escalations API", "kezhang", "/api/escalations", True),
    ("督办 API", "kezhang", "/api/supervisions", True),
    ("差评回访 API", "kezhang", "/api/followups", True),
    ("督办台 page", "kezhang", "/desk", False),
    ("统计 page", "kezhang", "/statistics", False),
]
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- the database ------------------------------------------------------------------------------------------------

@contextmanager
def bench_database(url: str | None, keep: bool):
    """The URL to use: the one given, or a new database on the local server, dropped afterwards unless kept."""
    if url:
        yield url
        return
    name = f"bench_scale_{os.getpid()}"
    server = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    finally:
        if keep:
            print(f"kept database {name}")
        else:
            with server.connect() as connection:
                connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def prepare(url: str, cases: int) -> Context:
    database = make_engine(url)
    if database.dialect.name != "postgresql":
        raise SystemExit("bench/scale.py measures PostgreSQL: give a postgresql+psycopg:// URL")
    before = revision(database)
    upgrade(database)
    start_mappers()
    ctx = bootstrap(sessionmaker(database, expire_on_commit=False))
    with database.connect() as connection:
        filled = connection.scalar(text("SELECT count(*) FROM cases WHERE number LIKE 'BX%'"))
        others = connection.scalar(text("SELECT count(*) FROM cases"))
        staff = connection.scalar(text("SELECT count(*) FROM users WHERE username = 'kezhang'"))
    if filled >= cases:
        print(f"reusing {filled:,} bench cases already in the database")
        if revision(database) != before:  # a migration rewrote rows: what autovacuum would do soon after
            vacuum(database)
        return ctx
    if others or not staff:  # start from an empty installation: the catalog, the diagrams, the demo staff
        with database.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(database)
        install(ctx, ROOT / "catalog", ROOT / "bpmn")
        demo.seed_staff(ctx)
    fill(database, ctx, cases)
    return ctx


def revision(database) -> str | None:
    with database.connect() as connection:
        return connection.scalar(text("SELECT max(version_num) FROM alembic_version")) if inspect(
            connection).has_table("alembic_version") else None


def vacuum(database) -> None:
    with database.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        step = time.perf_counter()  # what autovacuum does on a live database: index-only scans see the pages
        connection.execute(text("VACUUM ANALYZE"))
        print(f"  {time.perf_counter() - step:7.1f} s  VACUUM ANALYZE")


def slots(ctx: Context) -> list[tuple]:
    """(agency, hall, item code, item name, process key, acceptor, reviewer, finance) for every item a hall
    handles, the demo agency's weighted: case i goes to slot i mod len(slots)."""
    found = []
    for agency in catalog.list_agencies(ctx):
        for item in catalog.get_agency(ctx, agency.code).items.values():
            for hall in agency.halls:
                if item.hall_codes and hall.code not in item.hall_codes:
                    continue
                people = (("shouli", "shenhe", "caiwu") if hall.code == DEMO_HALL
                          else tuple(f"{role}_{hall.code}" for role in ("acceptor", "reviewer", "finance")))
                row = (agency.code, hall.code, item.code, item.name, item.process_key, *people)
                found.extend([row] * (DEMO_SHARE if agency.code == DEMO_AGENCY else 1))
    return found


FILL = [
    # one row per case: its slot, its fate (r: 0–1) and its moments, everything else derives from them
    """CREATE TEMP TABLE bench_plan AS
       SELECT i, (i::bigint * 7919) % :slots AS slot, random() AS r, random() AS r2,
              CASE WHEN random() < 0.92 THEN now() - interval '1 day' * (35 + random() * 700)
                   ELSE now() - interval '1 day' * (random() * 40) END AS opened_at
       FROM generate_series(1, :cases) AS i""",
    """INSERT INTO cases (id, number, agency_code, hall_code, item_code, item_name, process_version_id, stage, status,
                          result, applicant, data, workflow_state, opened_by, opened_at, accepted_at, closed_at,
                          row_version)
       SELECT p.i, 'BX' || s.agency_code || lpad(p.i::text, 9, '0'), s.agency_code, s.hall_code, s.item_code,
              s.item_name, v.id,
              CASE WHEN p.opened_at < now() - interval '35 days' THEN '办结'
                   WHEN p.r < 0.3 THEN '受理' WHEN p.r < 0.8 THEN '审核' ELSE '拨付' END,
              CASE WHEN p.opened_at < now() - interval '35 days' THEN 'closed' ELSE 'open' END,
              CASE WHEN p.opened_at >= now() - interval '35 days' THEN NULL
                   WHEN p.r < 0.02 THEN '撤件' WHEN p.r < 0.03 THEN '终止' ELSE '办结' END,
              jsonb_build_object('name', '参保人' || p.i, 'kind', 'person'), '{}'::jsonb, '', s.acceptor,
              p.opened_at, p.opened_at + interval '1 hour',
              CASE WHEN p.opened_at < now() - interval '35 days'
                   THEN p.opened_at + interval '1 hour' + interval '1 day' * p.r2 * 32 END, 1
       FROM bench_plan p JOIN bench_slots s ON s.slot = p.slot
       JOIN (SELECT process_key, max(id) AS id FROM process_versions GROUP BY process_key) v
         ON v.process_key = s.process_key""",
    "SELECT setval(pg_get_serial_sequence('cases', 'id'), (SELECT max(id) FROM cases))",
    # 承诺 and 法定 limits: due 28 and 42 days after acceptance, yellow 4 days before; met when the case closed;
    # one open case in twenty paused (补正 or 中止): no due moment while stopped
    """INSERT INTO case_deadlines (case_id, agency_code, hall_code, item_code, kind, limit_value, limit_unit,
                                   starts_at, due_at, warning_at, provisional, paused, extension_days, paused_days,
                                   met_at)
       SELECT c.id, c.agency_code, c.hall_code, c.item_code, k.kind, k.days, 'working_days', c.accepted_at,
              CASE WHEN c.status = 'open' AND c.id % 20 = 0 THEN NULL ELSE c.accepted_at + interval '1 day' * k.span END,
              CASE WHEN c.status = 'open' AND c.id % 20 = 0 THEN NULL
                   ELSE c.accepted_at + interval '1 day' * (k.span - 4) END,
              false, c.status = 'open' AND c.id % 20 = 0, 0, 0, c.closed_at
       FROM cases c CROSS JOIN (VALUES ('promised', 20, 28), ('statutory', 30, 42)) AS k(kind, days, span)""",
    """INSERT INTO case_pauses (case_id, kind, reason, started_at, started_by)
       SELECT id, CASE WHEN id % 40 = 0 THEN 'suspension' ELSE 'correction' END, '材料不全，请补正', now() - interval '2 days',
              opened_by
       FROM cases WHERE status = 'open' AND id % 20 = 0""",
    # the path's tasks: 受理 done at acceptance; 审核 and 拨付 done before the close (or waiting at the case's stage)
    """INSERT INTO case_tasks (id, case_id, case_number, agency_code, hall_code, item_code, item_name, spec_id, name,
                               stage, role, state, assignee, created_at, claimed_at, completed_at, completed_by,
                               decision, due_at, warning_at, applicant_name, completed_level)
       SELECT md5(c.id || t.stage), c.id, c.number, c.agency_code, c.hall_code, c.item_code, c.item_name,
              'task_' || t.role, t.stage, t.stage, t.role,
              CASE WHEN c.status = 'closed' OR t.step < x.step THEN 'completed' ELSE 'ready' END,
              CASE WHEN c.status = 'open' AND t.step = x.step AND c.id % 2 = 0 THEN NULL ELSE t.person END,
              c.opened_at + interval '1 hour' * t.step, NULL,
              CASE WHEN c.status = 'closed' OR t.step < x.step
                   THEN least(coalesce(c.closed_at, now()), c.accepted_at + interval '1 day' * t.step * 5) END,
              CASE WHEN c.status = 'closed' OR t.step < x.step THEN t.person END,
              CASE WHEN c.status = 'closed' OR t.step < x.step THEN 'accept' END,
              CASE WHEN t.step > 0 THEN d.due_at END, CASE WHEN t.step > 0 THEN d.warning_at END,
              c.applicant ->> 'name', CASE WHEN c.status = 'closed' OR t.step < x.step THEN 'normal' END
       FROM cases c JOIN bench_slots s ON s.slot = (c.id * 7919) % :slots
       JOIN case_deadlines d ON d.case_id = c.id AND d.kind = 'promised'
       JOIN (VALUES ('受理', 0), ('审核', 1), ('拨付', 2), ('办结', 3)) AS x(stage, step) ON x.stage = c.stage
       CROSS JOIN LATERAL (VALUES ('受理', 'acceptor', 0, s.acceptor), ('审核', 'reviewer', 1, s.reviewer),
                                  ('拨付', 'finance', 2, s.finance)) AS t(stage, role, step, person)
       WHERE t.step <= x.step""",
    """INSERT INTO case_history (case_id, at, actor, action, stage, message, detail)
       SELECT c.id, e.at, c.opened_by, e.action, e.stage, e.message, '{}'::jsonb
       FROM cases c CROSS JOIN LATERAL (VALUES (c.opened_at, 'opened', '申请', '收件登记'),
                                               (c.closed_at, 'closed', '办结', '办结')) AS e(at, action, stage, message)
       WHERE e.at IS NOT NULL""",
    # the desk: a 红牌 on every overdue open limit, a 黄牌 on every warned one; handled cards of late closed cases
    """INSERT INTO escalations (case_id, case_number, agency_code, hall_code, item_name, limit_kind, level, stage,
                                raised_at, status, handled_by, handled_at, action, note)
       SELECT c.id, c.number, c.agency_code, c.hall_code, c.item_name, d.kind,
              CASE WHEN coalesce(d.met_at, now()) > d.due_at THEN 'red' ELSE 'yellow' END, c.stage,
              least(d.due_at, now()), CASE WHEN c.status = 'open' THEN 'open' ELSE 'handled' END,
              CASE WHEN c.status = 'closed' THEN 'kezhang' END, c.closed_at,
              CASE WHEN c.status = 'closed' THEN 'urge' END, CASE WHEN c.status = 'closed' THEN '请尽快办理' END
       FROM cases c JOIN case_deadlines d ON d.case_id = c.id
       WHERE d.warning_at < coalesce(d.met_at, now())""",
    # 督办: on one open task in a hundred, answered on the claimed ones (an unclaimed task's waits for its handler),
    # and the replied history of one completed task in a thousand; the reply halfway to the task's end. The oldest
    # unclaimed and the oldest completed task always get one, and the oldest 办结 case a rating below, so that a
    # small fill (the suite's 1,500 cases) holds each kind whatever random() drew
    """INSERT INTO task_supervisions (task_id, case_id, case_number, agency_code, hall_code, supervisor, instruction,
                                      created_at, reply, replied_by, replied_at)
       SELECT t.id, t.case_id, t.case_number, t.agency_code, t.hall_code,
              CASE WHEN t.hall_code = :demo_hall THEN 'kezhang' ELSE 'supervisor_' || t.hall_code END,
              '请加快办理，并书面回复办理情况', s.at, CASE WHEN s.replied THEN '已加快办理，预计两个工作日内办结' END,
              CASE WHEN s.replied THEN coalesce(t.completed_by, t.assignee) END,
              CASE WHEN s.replied THEN s.at + (s.ends - s.at) / 2 END
       FROM case_tasks t
       CROSS JOIN LATERAL (SELECT coalesce(t.completed_at, now()) AS ends) e
       CROSS JOIN LATERAL (SELECT t.created_at + (e.ends - t.created_at) * random() / 2 AS at, e.ends,
                                  t.state = 'completed' OR t.assignee IS NOT NULL AS replied) s
       WHERE CASE t.state WHEN 'ready' THEN random() < 0.01 OR t.id = (SELECT min(id) FROM case_tasks
                                                                  WHERE state = 'ready' AND assignee IS NULL)
                          WHEN 'completed' THEN random() < 0.001 OR t.id = (SELECT min(id) FROM case_tasks
                                                                           WHERE state = 'completed') END""",
    # 差评回访: one case in two hundred of the completed ones rated 不满意 or 非常不满意 the day after it closed; its
    # follow-up due 5 working days (7 days) later, recorded within them but for one in ten, left open (overdue)
    """INSERT INTO ratings (case_id, score, label, comment, rated_at)
       SELECT id, 1 + (id % 2), CASE WHEN id % 2 = 0 THEN '非常不满意' ELSE '不满意' END, '等候时间太长',
              closed_at + interval '1 day'
       FROM cases WHERE status = 'closed' AND result = '办结'
                    AND (random() < 0.005 OR id = (SELECT min(id) FROM cases
                                                   WHERE status = 'closed' AND result = '办结'))""",
    """INSERT INTO rating_followups (case_id, case_number, agency_code, hall_code, item_name, score, rating_label,
                                     comment, opened_at, due_at, warning_at, status, visit_note, remedy, recorded_by,
                                     recorded_at)
       SELECT c.id, c.number, c.agency_code, c.hall_code, c.item_name, r.score, r.label, r.comment, r.rated_at,
              r.rated_at + interval '7 days', r.rated_at + interval '5 days',
              CASE WHEN f.done THEN 'done' ELSE 'open' END, CASE WHEN f.done THEN '已电话回访，申请人表示理解' END,
              CASE WHEN f.done THEN '窗口增派人手，缩短等候时间' END,
              CASE WHEN f.done THEN CASE WHEN c.hall_code = :demo_hall THEN 'kezhang'
                                         ELSE 'supervisor_' || c.hall_code END END,
              CASE WHEN f.done THEN r.rated_at + interval '3 days' END
       FROM ratings r JOIN cases c ON c.id = r.case_id
       CROSS JOIN LATERAL (SELECT random() < 0.9 AND r.rated_at < now() - interval '3 days' AS done) f""",
    # what the scheduler's round would have counted overdue by now (overdue_counts is recounted from these marks)
    "UPDATE case_deadlines SET overdue = true WHERE met_at IS NULL AND NOT paused AND due_at < now()",
]


def fill(database, ctx: Context, cases: int) -> None:
    rows = slots(ctx)
    started = time.perf_counter()
    with database.begin() as connection:
        connection.execute(text("CREATE TEMP TABLE bench_slots (slot int, agency_code text, hall_code text, "
                                "item_code text, item_name text, process_key text, acceptor text, reviewer text, "
                                "finance text) ON COMMIT DROP"))
        connection.execute(text("INSERT INTO bench_slots VALUES (:slot, :a, :h, :i, :n, :p, :x, :y, :z)"),
                           [dict(zip(("slot", "a", "h", "i", "n", "p", "x", "y", "z"), (index, *row)))
                            for index, row in enumerate(rows)])
        connection.execute(text("SELECT setseed(0.42)"))
        for statement in FILL:
            step = time.perf_counter()
            connection.execute(text(statement), {"slots": len(rows), "cases": cases, "demo_hall": DEMO_HALL})
            print(f"  {time.perf_counter() - step:7.1f} s  {' '.join(statement.split())[:90]}")
        step = time.perf_counter()
        rebuild(connection)
        print(f"  {time.perf_counter() - step:7.1f} s  the statistics' counts recounted")
    vacuum(database)
    with database.connect() as connection:
        sizes = {table: connection.scalar(text(f"SELECT count(*) FROM {table}")) for table in BIG_TABLES}
    print(f"filled in {time.perf_counter() - started:.0f} s over {len(set(rows))} hall items: "
          + ", ".join(f"{table} {count:,}" for table, count in sizes.items()))


# --- the requests ------------------------------------------------------------------------------------------------

def signed_in(app, username: str, api: bool):
    client = app.test_client()
    if api:
        token = client.post("/api/login", json={"username": username, "password": demo.DEMO_PASSWORD}).get_json()
        return client, {"Authorization": f"Bearer {token['token']}"}
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"username": username, "password": demo.DEMO_PASSWORD,
                                           "csrf_token": _TOKEN.search(page).group(1)})
    assert response.status_code == 302, response.status_code
    return client, {}


def measure(ctx: Context, requests: int, profile: str | None = None, only: str | None = None) -> dict[str, list[tuple[str, dict]]]:
    """Times each page; returns the SQL each one ran (its last request), for EXPLAIN. `profile`: the label of a
    page whose requests are also profiled (cProfile on this process's CPU time, so the machine's load does not
    count), the functions costing most printed after its figures."""
    app = create_app(ctx, secret_key="bench-secret")
    engine = ctx.session_factory.kw["bind"]
    queries: list[tuple[str, dict]] = []
    in_sql = [0.0]  # seconds spent in the database's statements (sent, run, fetched) during the request

    def before(_conn, _cursor, statement, parameters, context, _many):
        queries.append((statement, parameters))
        context.bench_started = time.perf_counter()

    def after(_conn, _cursor, _statement, _parameters, context, _many):
        in_sql[0] += time.perf_counter() - context.bench_started

    checkouts = [0]  # connections taken from the pool: each costs a ping, a BEGIN and a ROLLBACK (round trips)

    def checkout(*_):
        checkouts[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    event.listen(engine, "checkout", checkout)
    print(f"\n{'':18}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'SQL p50':>9}{'SQL p95':>9}{'CPU p50':>9}"
          f"  (over {requests} requests, after 3 to warm up; CPU: this process's, whatever the machine's load)")
    seen = {}
    case = reviewed_case(ctx)
    for label, username, path, api in PAGES:
        if only and label != only:
            continue
        path = path.format(case=case)
        client, headers = signed_in(app, username, api)
        times, sql_times, cpu_times = [], [], []
        profiler = cProfile.Profile(time.process_time) if label == profile else None  # CPU, not the load
        for index in range(requests + 3):
            queries.clear()
            in_sql[0], checkouts[0] = 0.0, 0
            started, cpu = time.perf_counter(), time.process_time()
            if profiler and index >= 3:
                profiler.enable()
            response = client.get(path, headers=headers)
            if profiler:
                profiler.disable()
            elapsed = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu) * 1000
            assert response.status_code == 200, (path, response.status_code)
            if index >= 3:
                times.append(elapsed)
                sql_times.append(in_sql[0] * 1000)
                cpu_times.append(cpu)
        print(f"{label:18}{statistics.median(times):9.1f}{p95(times):9.1f}{max(times):9.1f}"
              f"{statistics.median(sql_times):9.1f}{p95(sql_times):9.1f}{statistics.median(cpu_times):9.1f}"
              f"  {len(response.get_data())} bytes, {len(queries)} statements, {checkouts[0]} connections")
        seen[label] = list(queries)
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return seen


def reviewed_case(ctx: Context) -> str:
    """The number of a case of the demo hall waiting at 审核 (李审核's): the one a task API's page asks for."""
    with ctx.session_factory() as session:
        return session.scalar(text(
            "SELECT min(case_number) FROM case_tasks WHERE agency_code = :agency AND hall_code = :hall "
            "AND role = 'reviewer' AND state = 'ready'"), {"agency": DEMO_AGENCY, "hall": DEMO_HALL})


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def explain(ctx: Context, seen: dict[str, list[tuple[str, dict]]]) -> None:
    engine = ctx.session_factory.kw["bind"]
    with engine.connect() as connection:
        for label, queries in seen.items():
            print(f"\n=== {label}: EXPLAIN (ANALYZE, BUFFERS) of its queries on the big tables")
            for statement, parameters in queries:
                if not statement.lstrip().upper().startswith("SELECT") or not any(
                        re.search(rf"\b{table}\b", statement) for table in BIG_TABLES):
                    continue
                plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
                print(f"\n-- {' '.join(statement.split())[:160]}")
                print("\n".join(f"   {line}" for (line,) in plan))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", help="a PostgreSQL database (default: one of its own, dropped after)")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the database it created")
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument("--only", help="measure only the page of this label (e.g. '督办台 page')")
    parser.add_argument("--profile", help="profile the page of this label (cProfile) and print where its CPU goes")
    options = parser.parse_args()
    print(f"load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f} on {os.cpu_count()} cores")
    with bench_database(options.url, options.keep) as url:
        ctx = prepare(url, options.cases)
        seen = measure(ctx, options.requests, options.profile, options.only)
        if not options.no_explain:
            explain(ctx, seen)
        ctx.session_factory.kw["bind"].dispose()
    print(f"\nload: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")


if __name__ == "__main__":
    main()
