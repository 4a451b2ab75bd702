"""The limits diagram code runs under (adapters/limits.py): time, memory, result and data size, sane timers; the
constants a deploy can see; set by the installation only."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest

from workflows.adapters.limits import NEVER, DiagramLimits, LimitExceeded, check_timer
from workflows.adapters.scripting import RestrictedEnvironment, ScriptError, check_script, command_budget

from adapters.test_decision_tables import TABLE, accepted

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)
LIMITS = DiagramLimits()


def run(script: str, data: dict | None = None, limits: DiagramLimits | None = None) -> dict:
    data = dict(data or {})
    RestrictedEnvironment(limits=limits).execute(script, data)
    return data


@pytest.mark.parametrize("script, reason", [
    ("n = 0\nfor a in range(10000):\n    for b in range(10000):\n        n += 1", "运行时间上限 1 秒"),
    ("ok = any(a == -1 for a in range(10000) for b in range(10000))", "运行时间上限 1 秒"),
    ("parts = []\nfor i in range(10000):\n    parts.append('x' * 1000000)", "内存上限"),
    ("s = 'x' * 900000\nd = {}\nfor i in range(100):\n    d[i] = s.upper()", "内存上限"),
    ("s = 'x' * 900000\nd = {}\nfor i in range(100):\n    d[i] = s[1:]", "内存上限"),
    ("s = 'x' * 500000\nt = [s]\nfor i in range(100):\n    t = t + t", "计算结果过大"),
    ("s = 'ab'\nfor i in range(40):\n    s = f'{s}{s}'", "计算结果过大"),
    ("a = [0] * 100000\nb = [a] * 1000", "计算结果过大"),
    ("a = [[0] * 1000] * 1000\nb = str([a, a])", "计算结果过大"),
    ("n = 3 * 10 ** 8\nx = 'a'.zfill(n)", "计算结果过大"),
    ("s = 'a' * 2000\nx = s.replace('a', s)", "计算结果过大"),
    ("x = int(Decimal('1e999999'))", "数值过大"),
    ("x = Decimal('1e999999')", "数值过大"),
    ("x = sum([[1], [2]], [])", "只能对数求和"),
    ("x = 'x' * 600000\ny = 'y' * 600000", "案件数据超过 1000 KB"),
])
def test_code_over_a_limit_stops_quickly_with_the_reason(script, reason):
    started = time.monotonic()
    with pytest.raises((LimitExceeded, ScriptError), match=reason):
        run(script)
    assert time.monotonic() - started < 4  # 1 s of CPU, 3 s of wall clock at most, and a little to stop


def test_a_failed_script_leaves_the_data_as_it_was():
    data = {"total": 1}
    with pytest.raises(LimitExceeded):
        RestrictedEnvironment().execute("total = 2\nx = 'x' * 600000\ny = 'y' * 600000", data)
    assert data == {"total": 1}


def test_ordinary_code_is_not_bothered():
    data = run("rows = [{'n': i, 'label': f'{i:>4}'} for i in range(1000)]\n"
               "total = sum(row['n'] for row in rows)\nnames = ', '.join(str(i) for i in range(100))\n"
               "text = ('甲' * 1000).replace('甲', '乙')\nbig = 2 ** 1000")
    assert data["total"] == 499500 and data["rows"][7]["label"] == "   7" and data["text"] == "乙" * 1000


@pytest.mark.parametrize("script, reason", [
    ("x = 10**10**10", "计算结果过大"), ("x = range(10**12)", r"range\(\) 最多 10000 个数"),
    ("x = 'x' * 10**10", "计算结果过大"), ("x = 1 << 10**6", "计算结果过大"),
    ("x = f'{1:>999999999}'", "宽度和精度最多 1000"), ("x = f'{1:>{n}}'", "格式须为常量"),
    ("x = '%s' % 1", "请用 f-string"),
])
def test_deploy_refuses_the_bombs_it_can_see(script, reason):
    with pytest.raises(ScriptError, match=reason):
        check_script(script)


def test_the_command_has_a_budget_of_its_own_across_evaluations():
    limits = DiagramLimits(evaluation_seconds=1, command_seconds=0.2)
    environment = RestrictedEnvironment(limits=limits)
    with command_budget(limits):
        with pytest.raises(LimitExceeded, match="一次办理中流程代码的运行时间上限 0.2 秒"):
            for _ in range(100):  # each well within its own second
                environment.evaluate("sum(1 for a in range(10000) for b in range(30))", {})


def test_a_decision_table_output_cannot_build_a_huge_value():
    table = TABLE.replace('<text>"急诊发生的费用，不是抢救、危重症"</text>', "<text>visit_kind.zfill(3*10**8)</text>")
    run = accepted({"visit_kind": "emergency"}, table=table)
    assert run.failure is not None and "计算结果过大" in run.failure.message
    assert len(str(run.data)) < 10_000  # nothing of it reached the case data


@pytest.mark.parametrize("kind, value, reason", [
    ("duration", "P99999999999Y", "超过 3660 天"), ("duration", "P11Y", "超过 3660 天"),
    ("duration", "PT", "不是 ISO 8601"), ("date", "3026-01-05T09:00:00+08:00", "超过 3660 天之后"),
    ("date", "next monday", "不是 ISO 8601"), ("cycle", "R/PT0S", "不允许无限循环"),
    ("cycle", "R1000000/PT0S", "最多循环 1000 次"), ("cycle", "R5/PT59S", "周期至少 60 秒"),
    ("cycle", "R5/P1D/P1D", "恰有一个周期"), ("cycle", "R2/3026-01-05T09:00:00+08:00/P1D", "之后"),
    ("duration", 10, "须为 ISO 8601 文本"),
])
def test_absurd_timers_are_refused(kind, value, reason):
    with pytest.raises(LimitExceeded, match=reason):
        check_timer(kind, value, NOW, LIMITS)


@pytest.mark.parametrize("kind, value", [
    ("duration", "P10D"), ("duration", "PT2H30M"), ("date", "2026-12-01T09:00:00+08:00"), ("date", NEVER),
    ("date", "2000-01-03T17:00:00+08:00"), ("cycle", "R3/PT1H"), ("cycle", "R12/2026-12-01T09:00:00+08:00/P1M"),
])
def test_sensible_timers_pass(kind, value):
    check_timer(kind, value, NOW, LIMITS)


def test_the_installation_sets_the_limits_and_a_bad_setting_is_refused():
    limits = DiagramLimits.from_environment({"WORKFLOWS_LIMIT_EVALUATION_SECONDS": "2.5",
                                             "WORKFLOWS_LIMIT_DATA_BYTES": "2000000"})
    assert (limits.evaluation_seconds, limits.data_bytes, limits.command_seconds) == (2.5, 2_000_000, 5.0)
    assert run("x = 'x' * 600000\ny = 'y' * 600000", limits=limits)["x"] == "x" * 600000
    with pytest.raises(ValueError, match="WORKFLOWS_LIMIT_DATA_BYTES must be positive"):
        DiagramLimits.from_environment({"WORKFLOWS_LIMIT_DATA_BYTES": "0"})
    with pytest.raises(ValueError, match="must be a number"):
        DiagramLimits.from_environment({"WORKFLOWS_LIMIT_COMMAND_SECONDS": "lots"})
