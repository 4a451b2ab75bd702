"""Processes belong to an agency: 抚顺's designer deploys for 抚顺's cases only; a 林口 case runs what 林口 deployed,
or else the national version; only an administrator deploys a national version. Decision tables follow."""
from __future__ import annotations

import io

import pytest

from workflows.domain.errors import Forbidden
from workflows.services import cases, decisions, processes, users

from support.cases import APPLICANT
from support.hostile import DIAGRAM, QUERY
from support.http import error_of, json_of
from support.paths import BPMN_DIR
from support.web import csrf_token, html, sign_in

LINKOU_CLERK = "clerk_231025_02"  # 林口's hall of the query item
FUSHUN_ONLY_IN_LINKOU = "002036007001"  # an item 林口 handles and 抚顺 does not
RENAMED = ('name="受理"', 'name="抚顺受理"')


def fushun_version(ctx, staff):
    xml = DIAGRAM.read_text().replace(*RENAMED)
    return processes.deploy_process(ctx, staff["sheji"], xml.encode("utf-8"), DIAGRAM.name)


def first_task(ctx, staff, clerk: str) -> tuple[str, int]:
    progress = cases.open_case(ctx, staff[clerk], QUERY, APPLICANT, {})
    return progress.open_tasks[0].name, progress.case.process_version_id


def test_a_linkou_case_never_runs_the_version_fushun_deployed(ctx, staff):
    national = processes.process_version(ctx, f"item_{QUERY}", 1)
    assert national.agency_code is None  # the shipped diagrams are national

    deployed = fushun_version(ctx, staff)
    assert (deployed.version, deployed.agency_code) == (2, "210400")

    assert first_task(ctx, staff, "shouli") == ("抚顺受理", deployed.id)
    assert first_task(ctx, staff, LINKOU_CLERK) == ("受理", national.id)


def test_a_national_version_reaches_the_agencies_without_their_own(ctx, staff):
    fushun = fushun_version(ctx, staff)
    xml = DIAGRAM.read_text().replace('name="受理"', 'name="全国受理"').encode("utf-8")
    with pytest.raises(Forbidden, match="系统管理员"):
        processes.deploy_process(ctx, staff["sheji"], xml, DIAGRAM.name, national=True)

    national = processes.deploy_process(ctx, staff["admin"], xml, DIAGRAM.name, national=True)

    assert (national.version, national.agency_code) == (3, None)
    assert first_task(ctx, staff, LINKOU_CLERK) == ("全国受理", national.id)
    assert first_task(ctx, staff, "shouli") == ("抚顺受理", fushun.id)  # 抚顺 keeps its own


def test_a_designer_cannot_deploy_another_agencys_process(ctx, staff):
    diagram = BPMN_DIR / f"item_{FUSHUN_ONLY_IN_LINKOU}.bpmn"
    with pytest.raises(Forbidden, match=f"item_{FUSHUN_ONLY_IN_LINKOU} 不是本机构（210400）事项的流程"):
        processes.deploy_process(ctx, staff["sheji"], diagram.read_bytes(), diagram.name)
    assert [v.version for v in processes.process_versions(ctx, f"item_{FUSHUN_ONLY_IN_LINKOU}")] == [1]


def test_publishing_a_decision_table_changes_the_designers_agency_only(ctx, staff):
    decision_id = "prohibited_002036006001"
    table = decisions.decision_xml(ctx, staff["sheji"], decision_id).replace("急诊", "急救")

    published = decisions.publish_decision(ctx, staff["sheji"], table, expected_id=decision_id)

    assert [(v.process_key, v.agency_code) for v in published] == [("item_002036006001", "210400")]
    linkou_designer = users.save_user(ctx, "sheji_linkou", "林口设计", "password123", "231025", "231025-01",
                                      ["designer"])
    assert "急救" not in decisions.decision_xml(ctx, linkou_designer, decision_id)
    assert "急救" in decisions.decision_xml(ctx, staff["sheji"], decision_id)


# --- every way in ------------------------------------------------------------------------------------------------

def test_the_api_refuses_a_cross_agency_deployment_and_names_the_owner(client, auth):
    diagram = BPMN_DIR / f"item_{FUSHUN_ONLY_IN_LINKOU}.bpmn"
    designer = auth("sheji")
    response = client.post("/api/processes", headers=designer, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(diagram.read_bytes()), diagram.name)})
    assert "不是本机构（210400）事项的流程" in error_of(response, 403, "forbidden")["message"]

    mine = client.post("/api/processes", headers=designer, content_type="multipart/form-data",
                       data={"file": (io.BytesIO(DIAGRAM.read_bytes()), DIAGRAM.name)})
    assert json_of(mine, 201)["agency_code"] == "210400"
    national = client.post("/api/processes", headers=auth("admin"), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(DIAGRAM.read_bytes()), DIAGRAM.name), "national": "true"})
    assert json_of(national, 201)["agency_code"] is None
    refused = client.post("/api/processes?national=true", headers=designer, data=DIAGRAM.read_bytes(),
                          content_type="application/xml")
    assert error_of(refused, 403, "forbidden")["message"] == "需要岗位：系统管理员"


def test_the_upload_page_refuses_a_cross_agency_deployment_in_chinese(client):
    diagram = BPMN_DIR / f"item_{FUSHUN_ONLY_IN_LINKOU}.bpmn"
    sign_in(client, "sheji")
    page = html(client.get("/processes"))
    assert 'name="national"' not in page  # designers deploy for their agency only
    response = client.post("/processes", content_type="multipart/form-data",
                           data={"csrf_token": csrf_token(page), "file": (io.BytesIO(diagram.read_bytes()),
                                                                          diagram.name)})
    assert response.status_code == 403
    assert f"流程 item_{FUSHUN_ONLY_IN_LINKOU} 不是本机构（210400）事项的流程" in html(response)


def test_each_designer_lists_and_opens_the_versions_their_agency_runs(ctx, staff, client, auth):
    fushun_version(ctx, staff)
    users.save_user(ctx, "sheji_linkou", "林口设计", "password123", "231025", "231025-01", ["designer"])
    listed = {who: next(p for p in json_of(client.get("/api/processes", headers=auth(who, password)))
                        if p["process_key"] == f"item_{QUERY}")
              for who, password in (("sheji", None), ("sheji_linkou", "password123"))}
    assert (listed["sheji"]["version"], listed["sheji"]["agency_code"]) == (2, "210400")
    assert (listed["sheji_linkou"]["version"], listed["sheji_linkou"]["agency_code"]) == (1, None)

    sign_in(client, "sheji_linkou", "password123")  # the modeler starts from 林口's version, never 抚顺's
    assert f"/api/processes/item_{QUERY}/versions/1/bpmn" in html(client.get(f"/processes/item_{QUERY}/modeler"))
