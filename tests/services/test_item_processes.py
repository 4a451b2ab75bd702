"""Every item of every agency, run end to end through the service layer: its main path and each refusal."""
from __future__ import annotations

import pytest

from workflows.adapters.catalog_files import load_catalog
from workflows.domain.model import CLOSED
from workflows.services.cases import case_details

from support.paths import CATALOG_DIR
from support.process_driver import drive

CATALOG = load_catalog(CATALOG_DIR)
AGENCY_ITEMS = [pytest.param(agency.code, item.code, id=f"{agency.code}-{item.code}-{item.name}")
                for agency in CATALOG.agencies.values() for item in agency.items.values() if item.hall_codes]
TRANSFER_MESSAGES = {"信息表": {"info_table_number": "XXB-0001", "transferred_amount": "2360.00"}}


def clerk_for(staff, agency_code: str, item_code: str):
    hall = CATALOG.agency(agency_code).item(item_code).hall_codes[0]
    return staff[f"clerk_{hall.replace('-', '_')}"]


def assert_in_stage_order(stages: list[str], item_stages: tuple[str, ...]) -> None:
    known = [item_stages.index(stage) for stage in stages if stage in item_stages]
    assert known == sorted(known), f"stages {stages} out of the order {item_stages}"


@pytest.mark.parametrize("agency_code,item_code", AGENCY_ITEMS)
def test_item_runs_its_main_path_and_every_refusal(ctx, staff, agency_code, item_code):
    clerk = clerk_for(staff, agency_code, item_code)
    item = CATALOG.agency(agency_code).item(item_code).item

    main = drive(ctx, clerk, item_code, messages=TRANSFER_MESSAGES)
    assert (main.case.status, main.case.result, main.case.stage) == (CLOSED, "办结", "办结")
    assert main.steps[0].stage == "受理"
    assert_in_stage_order(main.stages, item.stages)
    details = case_details(ctx, clerk, main.case.number)
    actions = [entry.action for entry in details.history]
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
        history = case_details(ctx, clerk, refused.case.number).history
        assert history[-1].message == f"办理结束：{refused.expected_result()}"
