"""The counting rule of guesses: failures within a window, a lock at the limit, a fresh window afterwards."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from workflows.domain.throttling import Attempts, Policy, TooManyAttempts

POLICY = Policy(limit=3, window=timedelta(minutes=15), lock=timedelta(minutes=10))
NOW = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)


def test_the_limit_th_failure_in_the_window_locks_for_the_lock_time():
    attempts = Attempts("account:shouli")
    assert [attempts.fail(NOW + timedelta(minutes=m), POLICY) for m in (0, 5, 10)] == [False, False, True]
    assert attempts.locked(NOW + timedelta(minutes=19)) and attempts.retry_after(NOW + timedelta(minutes=19)) == 60
    assert not attempts.locked(NOW + timedelta(minutes=20)) and attempts.retry_after(NOW + timedelta(minutes=20)) == 0


def test_a_failure_after_the_window_or_the_lock_starts_counting_again():
    attempts = Attempts("address:10.0.0.1")
    attempts.fail(NOW, POLICY)
    attempts.fail(NOW + timedelta(minutes=1), POLICY)
    assert attempts.fail(NOW + timedelta(minutes=15), POLICY) is False and attempts.failures == 1
    for minute in (16, 17):
        attempts.fail(NOW + timedelta(minutes=minute), POLICY)
    assert attempts.locked(NOW + timedelta(minutes=17))
    assert attempts.fail(NOW + timedelta(minutes=28), POLICY) is False and attempts.failures == 1


def test_the_refusal_says_in_whole_minutes_how_long_to_wait():
    assert str(TooManyAttempts("登录", 900)) == "登录失败次数过多，请 15 分钟后再试"
    assert str(TooManyAttempts("查询", 61)) == "查询失败次数过多，请 2 分钟后再试"
    assert TooManyAttempts("登录", 5).retry_after == 5 and "请 1 分钟后再试" in str(TooManyAttempts("登录", 5))
