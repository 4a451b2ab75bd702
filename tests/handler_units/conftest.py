"""Handler unit tests: a HandlerContext built by hand, wired to the real Local… stand-ins.

Every call the stand-ins record lands in the `calls` list as (system, operation, request, response), and the
local national platform answers from a plain dict of people, so each handler is tested alone: no database,
no engine, no diagram.
"""
from __future__ import annotations

from types import MappingProxyType

import pytest

from handlers import HandlerContext
from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier

CASE_NUMBER = "210400-20261123-00001"
AGENCY_CODE = "210400"
ITEM_CODE = "002036006001"
ITEM_NAME = "门诊费用报销"
ZHANG_WEI = "11010519491231002X"  # a well-formed 居民身份证 number (check character X)
APPLICANT = {"name": "张伟", "id_number": ZHANG_WEI, "kind": "自然人", "phone": "13804130001"}


@pytest.fixture
def calls() -> list[tuple]:
    return []


@pytest.fixture
def context(calls):
    """context(data=…, params=…, applicant=…, people={id_number: {...}}, policy=PaymentPolicy(…)) -> a
    HandlerContext recording into `calls`."""

    def make(data=None, params=None, applicant=None, people=None, case_number=CASE_NUMBER,
             item_name=ITEM_NAME, policy=None) -> HandlerContext:
        people = people or {}

        def record(system, operation, request, response):
            calls.append((system, operation, request, response))

        # read-only mappings, as the engine passes them: a handler that writes into them fails here too
        return HandlerContext(case_number, AGENCY_CODE, ITEM_CODE, item_name,
                              MappingProxyType(dict(APPLICANT if applicant is None else applicant)),
                              MappingProxyType(dict(data or {})), MappingProxyType(dict(params or {})),
                              LocalNationalPlatform(people.get, record), LocalPaymentGateway(record),
                              LocalSmsNotifier(record), policy=policy)

    return make
