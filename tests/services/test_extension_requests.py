"""延期申请 on an accepted case: the clock's rules on a request, on a fake unit of work (support/fake_uow.py), where
no SQL is under test; the request decided and the limit moved are the case clock's tests (test_time_limits.py)."""
from __future__ import annotations

import pytest

from workflows.domain.errors import Conflict, InvalidInput, NotFound
from workflows.services import time_limits


@pytest.mark.parametrize("days, reason", [(0, "x"), (61, "x"), ("5", "x"), (5, " ")])
def test_an_extension_request_needs_a_sensible_number_of_days_and_a_reason(fake_ctx, fake_staff, fake_accepted,
                                                                          days, reason):
    with pytest.raises(InvalidInput):
        time_limits.request_extension(fake_ctx, fake_staff["shenhe"], fake_accepted, days, reason)
    assert fake_ctx.store.extensions == []


def test_a_request_is_kept_with_its_history_line_and_a_second_waits_for_the_first(fake_ctx, fake_staff,
                                                                                   fake_accepted):
    reviewer = fake_staff["shenhe"]
    request = time_limits.request_extension(fake_ctx, reviewer, fake_accepted, 5, " 需外省协查 ")
    assert (request.days, request.reason, request.status, request.requested_by) == (5, "需外省协查", "requested",
                                                                                     "shenhe")
    assert [(e.action, e.message) for e in fake_ctx.store.history] == [
        ("extension_requested", f"{reviewer.full_name}申请延期 5 个工作日：需外省协查")]
    with pytest.raises(Conflict, match="已有待审批的延期申请"):
        time_limits.request_extension(fake_ctx, reviewer, fake_accepted, 3, "再延")
    assert fake_ctx.store.extensions == [request] and len(fake_ctx.store.history) == 1


def test_another_halls_reviewer_finds_no_such_case(fake_ctx, fake_staff, fake_accepted):
    with pytest.raises(NotFound):
        time_limits.request_extension(fake_ctx, fake_staff["shenhe2"], fake_accepted, 5, "需外省协查")
    assert fake_ctx.store.extensions == []
