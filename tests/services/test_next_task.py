"""下一件: the task after the one on the page in the clerk's 待办, in the inbox's order (priority, time left, age),
wrapping around to the first; read with a few one-row queries, not the whole inbox."""
from __future__ import annotations

import pytest

from workflows.services import tasks

from support.cases import accept
from services.test_command_sql import statements_of

pytestmark = pytest.mark.both_databases


def test_next_task_walks_the_inbox_in_its_order_and_wraps_around(ctx, staff, clock):
    numbers = [accept(ctx, staff, clock, f"2026-12-0{day} 09:30") for day in (1, 2, 3, 4)]
    reviewer = staff["shenhe"]
    inbox = [task for task in tasks.list_tasks(ctx, reviewer) if task.case_number in numbers]
    assert [task.case_number for task in inbox] == numbers  # the oldest limit first

    walked = [tasks.next_task(ctx, reviewer, task.id).case_number for task in inbox]

    assert walked == numbers[1:] + numbers[:1]


def test_the_next_of_a_task_not_in_the_inbox_is_its_first_and_none_when_nothing_else_waits(ctx, staff, clock):
    [only] = [accept(ctx, staff, clock, "2026-12-01 09:30")]
    reviewer = staff["shenhe"]
    [task] = [task for task in tasks.list_tasks(ctx, reviewer) if task.case_number == only]
    assert tasks.next_task(ctx, reviewer, task.id) is None  # nothing else waits
    second = accept(ctx, staff, clock, "2026-12-02 09:30")
    accepted = tasks.list_tasks(ctx, staff["shouli"], state="completed")[0]  # not a task of the reviewer's inbox

    assert tasks.next_task(ctx, reviewer, accepted.id).case_number == only
    assert tasks.next_task(ctx, reviewer, task.id).case_number == second


def test_next_task_reads_single_rows_not_the_inbox(ctx, staff, clock):
    numbers = [accept(ctx, staff, clock, f"2026-12-0{day} 09:30") for day in (1, 2, 3)]
    reviewer = staff["shenhe"]
    last = [task for task in tasks.list_tasks(ctx, reviewer) if task.case_number == numbers[-1]][0]

    selects = [s for s in statements_of(ctx, lambda: tasks.next_task(ctx, reviewer, last.id))
               if s.lstrip().upper().startswith("SELECT")]

    assert len(selects) <= 3 and all("LIMIT" in s.upper() or "case_tasks.id =" in s for s in selects), selects
