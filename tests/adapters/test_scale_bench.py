"""A small run of bench/scale.py (PostgreSQL only): its bulk fill gives data the pages serve (督办 and 差评回访 among
them), and the statistics read from the running counts equal the same figures counted straight from the filled
cases."""
from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from workflows.services import statistics, users

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scale.py"


@pytest.fixture
def scale():
    spec = importlib.util.spec_from_file_location("scale_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_small_fill_serves_every_page_and_its_statistics_match_a_straight_count(database_url, scale, capsys):
    if not database_url.startswith("postgresql"):
        pytest.skip("the bench fills PostgreSQL")
    ctx = scale.prepare(database_url, 1_500)
    seen = scale.measure(ctx, 2)
    scale.explain(ctx, {"统计 page": seen["统计 page"]})
    printed = capsys.readouterr().out
    assert "cases 1,500" in printed and "统计 page" in printed and "Execution Time" in printed

    supervisor = users.get_user(ctx, "kezhang")
    figures = statistics.hall_statistics(ctx, supervisor)
    with ctx.session_factory() as session:
        closed, on_time, open_cases, overdue = session.execute(text("""
            SELECT count(*) FILTER (WHERE status = 'closed' AND result NOT IN ('撤件', '终止')),
                   count(*) FILTER (WHERE status = 'closed' AND result NOT IN ('撤件', '终止') AND NOT EXISTS (
                       SELECT 1 FROM case_deadlines d WHERE d.case_id = c.id AND d.met_at > d.due_at)),
                   count(*) FILTER (WHERE status <> 'closed'),
                   count(*) FILTER (WHERE status <> 'closed' AND EXISTS (
                       SELECT 1 FROM case_deadlines d WHERE d.case_id = c.id AND d.met_at IS NULL
                       AND NOT d.paused AND d.due_at < now()))
            FROM cases c WHERE agency_code = '210400' AND hall_code = '210400-01'""")).one()
        supervised, waiting, followed, open_followups = session.execute(text("""
            SELECT (SELECT count(*) FROM task_supervisions), (SELECT count(*) FROM task_supervisions s
                    JOIN case_tasks t ON t.id = s.task_id WHERE s.replied_at IS NULL AND t.state = 'ready'),
                   (SELECT count(*) FROM rating_followups),
                   (SELECT count(*) FROM rating_followups WHERE status = 'open')""")).one()
    assert 0 < waiting < supervised  # the desk's 督办: some waiting for a reply, most replied
    assert 0 < followed and open_followups < followed  # its 差评回访: most recorded (a few open at 20,000 cases)
    assert 0 < on_time < closed and 0 < overdue < open_cases  # the mix has late, overdue and calm cases
    assert (figures.hall_total.total, figures.hall_total.on_time) == (closed + overdue, on_time)
    assert sum(row.hall for row in figures.backlog) == open_cases
    assert statistics.desk_board(ctx, supervisor).cases
    ctx.session_factory.kw["bind"].dispose()


def test_the_camunda_task_api_reads_one_cases_tasks_by_its_number(database_url, scale, capsys):
    """GET /engine-rest/task?processInstanceId=<办件编号>: the case's own rows from ix_case_tasks_case_number, not the
    hall's open tasks filtered (665 rows walked for one at 200,000 cases, 6.7 ms; by the index 4 buffers)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("the bench fills PostgreSQL")
    ctx = scale.prepare(database_url, 1_500)
    seen = scale.measure(ctx, 2, only="Camunda task API")
    scale.explain(ctx, seen)
    tasks_query = capsys.readouterr().out.split("=== Camunda task API", 1)[1].split("\n-- ")[1]
    assert tasks_query.startswith("SELECT case_tasks.id")
    # an index scan on it, or (a small table) a bitmap scan of it ANDed with a hall index's
    assert re.search(r"Index Scan (using|on) ix_case_tasks_case_number\b", tasks_query), tasks_query
    ctx.session_factory.kw["bind"].dispose()
