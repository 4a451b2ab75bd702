"""Every item of every agency, run end to end through the service layer: its main path and each refusal; and
容缺受理 where an agency's catalog has waivable materials: the wait ends with the materials or with 补正超时.

Every agency's item runs on SQLite; on PostgreSQL every process runs once, for the first agency that offers it:
the agencies offering one process differ in their catalog (halls, materials, limits), not in the SQL their cases
run, and the item processes were a sixth of the suite's time, two thirds of it on PostgreSQL."""
from __future__ import annotations

import pytest

from workflows.adapters.catalog_files import load_catalog
from workflows.domain.model import CLOSED, OPEN
from workflows.services import tasks
from workflows.services.cases import case_details
from workflows.services.scheduler import fire_due_timers

from support.paths import CATALOG_DIR
from support.process_driver import WAIVER_SUPPLIED, drive

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL

CATALOG = load_catalog(CATALOG_DIR)
OFFERED = [(agency, item) for agency in CATALOG.agencies.values() for item in agency.items.values() if item.hall_codes]
FIRST_OFFER = {item.process_key: (agency, item) for agency, item in reversed(OFFERED)}  # process -> its first offer
AGENCY_ITEMS = [pytest.param(backend, agency.code, item.code, id=f"{backend}-{agency.code}-{item.code}-{item.name}")
                for backend, offers in (("sqlite", OFFERED), ("postgresql", OFFERED))
                for agency, item in offers if backend == "sqlite" or FIRST_OFFER[item.process_key] == (agency, item)]
WAIVABLE_ITEMS = [pytest.param(agency.code, item.code, id=f"{agency.code}-{item.code}-{item.name}")
                  for agency in CATALOG.agencies.values() for item in agency.items.values()
                  if item.hall_codes and any(material.waivable for material in item.materials)]
TRANSFER_MESSAGES = {"信息表": {"info_table_number": "XXB-0001", "transferred_amount": "2360.00"}}


def clerk_for(staff, agency_code: str, item_code: str):
    hall = CATALOG.agency(agency_code).item(item_code).hall_codes[0]
    return staff[f"clerk_{hall.replace('-', '_')}"]


def assert_in_stage_order(stages: list[str], item_stages: tuple[str, ...]) -> None:
    known = [item_stages.index(stage) for stage in stages if stage in item_stages]
    assert known == sorted(known), f"stages {stages} out of the order {item_stages}"


@pytest.mark.parametrize("database_url,agency_code,item_code", AGENCY_ITEMS, indirect=["database_url"])
def test_item_runs_its_main_path_and_every_refusal(ctx, staff, agency_code, item_code):
    clerk = clerk_for(staff, agency_code, item_code)
    item = CATALOG.agency(agency_code).item(item_code).item

    main = drive(ctx, clerk, item_code, messages=TRANSFER_MESSAGES)
    assert (main.case.status, main.case.result, main.case.stage) == (CLOSED, "办结", "办结")
    assert main.steps[0].stage == "受理"
    assert_in_stage_order(main.stages, item.stages)
    details = case_details(ctx, clerk, main.case.number)
    actions = [entry.action for entry in details.history if entry.action != "document_issued"]  # 办结通知书 …
    assert actions[0] == "opened" and actions[-1] == "end"
    assert actions.count("completed") == len(main.steps)
    assert [t.state for t in details.tasks] == ["completed"] * len(main.steps)

    refusals = main.refusal_points()
    assert refusals, "every item can at least be refused at acceptance"
    for index in refusals:
        refused = drive(ctx, clerk, item_code, refuse_at=index, messages=TRANSFER_MESSAGES)
        assert len(refused.steps) == index + 1, "a refusal ends the case at once"
        assert refused.case.status == CLOSED
        assert refused.case.result == refused.expected_result()
        ends = [entry.message for entry in case_details(ctx, clerk, refused.case.number).history
                if entry.action == "end"]
        assert ends == [f"办理结束：{refused.expected_result()}"]


def test_waivable_items_offer_waiver_at_acceptance_only_where_a_catalog_allows_it():
    assert len(WAIVABLE_ITEMS) == 6  # 抚顺: the three 生育 items, 零售药店定点, 门诊 and 住院 (异地就医结算)


@pytest.mark.parametrize("agency_code,item_code", WAIVABLE_ITEMS)
def test_a_waived_case_waits_for_its_materials_then_goes_on_like_an_accepted_one(ctx, staff, agency_code, item_code):
    clerk = clerk_for(staff, agency_code, item_code)
    waiting = drive(ctx, clerk, item_code, waive=True, until_waiting=True)
    assert [step.decision for step in waiting.steps] == ["waive"]
    assert waiting.steps[0].options == ("accept", "waive", "refuse")
    assert (waiting.case.status, waiting.case.stage) == (OPEN, "容缺补正")
    assert [t for t in tasks.list_tasks(ctx, clerk) if t.case_number == waiting.case.number] == []

    accepted = drive(ctx, clerk, item_code)
    waived = drive(ctx, clerk, item_code, waive=True, messages={WAIVER_SUPPLIED: {"materials": ["结婚证"]}})
    assert (waived.case.status, waived.case.result) == (CLOSED, "办结")
    assert [step.task_name for step in waived.steps] == [step.task_name for step in accepted.steps]
    history = case_details(ctx, clerk, waived.case.number).history
    assert f"收到“{WAIVER_SUPPLIED}”" in [entry.message for entry in history]


@pytest.mark.parametrize("agency_code,item_code", WAIVABLE_ITEMS[:1])
def test_a_waived_case_whose_materials_do_not_come_ends_when_the_time_is_up(ctx, staff, clock, agency_code,
                                                                            item_code):
    clerk = clerk_for(staff, agency_code, item_code)
    number = drive(ctx, clerk, item_code, waive=True, until_waiting=True).case.number
    clock.advance(days=14)  # 20 working days are four weeks
    fire_due_timers(ctx)
    assert case_details(ctx, clerk, number).case.stage == "容缺补正"
    clock.advance(days=20)
    assert fire_due_timers(ctx) == 1
    details = case_details(ctx, clerk, number)
    assert (details.case.status, details.case.result) == (CLOSED, "补正超时")
    assert "办理结束：补正超时" in [entry.message for entry in details.history]
