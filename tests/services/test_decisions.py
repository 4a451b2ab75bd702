"""Decision tables (DMN) for designers: deployed with the process versions that use them, listed, read and published.

Publishing a table makes a new version of every process applying it: new cases use the new rule, cases already
running keep the version (and the wording) they started with.
"""
from __future__ import annotations

import pytest

from workflows.domain.errors import Forbidden, InvalidInput, InvalidProcess, NotFound
from workflows.services import cases, decisions, processes, tasks
from workflows.services.setup import install

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.diagrams import OUTPATIENT_BPMN, OUTPATIENT_PROCESS
from support.paths import BPMN_DIR, CATALOG_DIR

RULES = f"prohibited_{OUTPATIENT}"
TABLE = (BPMN_DIR / "decisions" / f"{RULES}.dmn").read_text(encoding="utf-8")
OLD_WORDS, NEW_WORDS = "急诊发生的费用，不是抢救、危重症", "急诊费用不属于抢救、危重症的，不予报销"
EMERGENCY = {**DATA, "visit_kind": "emergency"}
ITEMS_WITH_RULES = ("00203601002", "00203601003", "002036003001", "002036003002", "002036006001", "002036006002",
                    "002036007004")


def reworded(table: str = TABLE) -> str:
    return table.replace(f'"{OLD_WORDS}"', f'"{NEW_WORDS}"')


def accept(ctx, staff, opened):
    """受理 of a case just opened (its one open task)."""
    return tasks.complete_task(ctx, staff["shouli"], opened.open_tasks[0].id, {"decision": "accept"})


def test_every_item_with_prohibited_cases_has_its_table_deployed_with_its_process(ctx, staff):
    found = decisions.list_decisions(ctx, staff["sheji"])
    assert [d.id for d in found] == sorted(f"prohibited_{code}" for code in ITEMS_WITH_RULES)
    outpatient = next(d for d in found if d.id == RULES)
    assert (outpatient.name, outpatient.processes) == ("门诊费用报销禁办情形核查", (OUTPATIENT_PROCESS,))
    assert [(r.number, r.published_by, r.process_versions) for r in outpatient.revisions] == [
        (1, "system", ((OUTPATIENT_PROCESS, 1),))]
    assert decisions.decision_xml(ctx, staff["admin"], RULES) == TABLE
    version = processes.process_version(ctx, OUTPATIENT_PROCESS)
    with ctx.uow(write=False) as uow:
        assert uow.processes.get(version.id).decisions == {f"{RULES}.dmn": TABLE}


def test_only_designers_see_and_publish_tables(ctx, staff):
    for user in ("shouli", "shenhe", "kezhang"):
        with pytest.raises(Forbidden):
            decisions.list_decisions(ctx, staff[user])
        with pytest.raises(Forbidden):
            decisions.decision_xml(ctx, staff[user], RULES)
        with pytest.raises(Forbidden):
            decisions.publish_decision(ctx, staff[user], reworded())
    with pytest.raises(NotFound):
        decisions.decision_xml(ctx, staff["sheji"], "prohibited_nothing")


def test_publishing_a_table_gives_new_cases_the_new_rule_and_running_ones_keep_theirs(ctx, staff, clock):
    running = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, EMERGENCY)
    clock.advance(hours=1)
    [published] = decisions.publish_decision(ctx, staff["sheji"], reworded(), expected_id=RULES)
    assert (published.process_key, published.version, published.deployed_by) == (OUTPATIENT_PROCESS, 2, "sheji")
    assert decisions.decision_xml(ctx, staff["sheji"], RULES) == reworded()

    fresh = accept(ctx, staff, cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, EMERGENCY))
    old = accept(ctx, staff, running)
    assert (fresh.case.result, fresh.case.data["prohibited_rule"]) == ("禁止办理", NEW_WORDS)
    assert (old.case.result, old.case.data["prohibited_rule"]) == ("禁止办理", OLD_WORDS)
    assert old.notices == (f"禁办情形核查：属于禁办情形“{OLD_WORDS}”，禁止办理",)

    [outpatient] = [d for d in decisions.list_decisions(ctx, staff["sheji"]) if d.id == RULES]
    assert [(r.number, r.published_by, r.published_at, r.process_versions) for r in outpatient.revisions] == [
        (1, "system", outpatient.revisions[0].published_at, ((OUTPATIENT_PROCESS, 1),)),
        (2, "sheji", clock.now, ((OUTPATIENT_PROCESS, 2),))]
    assert decisions.publish_decision(ctx, staff["sheji"], reworded()) == []  # the table in force: nothing to do


def test_a_table_is_checked_before_it_is_published(ctx, staff):
    sheji = staff["sheji"]
    with pytest.raises(InvalidInput, match="不是“prohibited_002036006002”"):
        decisions.publish_decision(ctx, sheji, reworded(), expected_id="prohibited_002036006002")
    with pytest.raises(InvalidProcess, match="不是合法的 XML"):
        decisions.publish_decision(ctx, sheji, TABLE[:-40])
    with pytest.raises(InvalidProcess, match="不是 DMN 文件"):
        decisions.publish_decision(ctx, sheji, OUTPATIENT_BPMN)
    with pytest.raises(InvalidProcess, match="以下划线开头") as unsafe:  # a cell is Python run in the sandbox
        decisions.publish_decision(ctx, sheji, TABLE.replace("<text>\"emergency\"</text>",
                                                             "<text>().__class__</text>"))
    assert unsafe.value.element_id == "InputEntry_2_visit_kind"
    with pytest.raises(InvalidProcess, match="不允许调用 open"):
        decisions.publish_decision(ctx, sheji, TABLE.replace("<text>visit_kind</text>", "<text>open('x')</text>"))
    with pytest.raises(InvalidProcess, match="命中策略 RULE ORDER"):
        decisions.publish_decision(ctx, sheji, TABLE.replace('hitPolicy="FIRST"', 'hitPolicy="RULE ORDER"'))
    with pytest.raises(NotFound, match="没有流程使用决策表“prohibited_x”"):
        decisions.publish_decision(ctx, sheji, TABLE.replace(f'"{RULES}"', '"prohibited_x"'))
    assert decisions.decision_xml(ctx, sheji, RULES) == TABLE
    assert processes.process_version(ctx, OUTPATIENT_PROCESS).version == 1


def test_a_diagram_is_deployed_with_the_tables_it_references(ctx, staff):
    sheji, bpmn = staff["sheji"], OUTPATIENT_BPMN.encode("utf-8")
    version = processes.deploy_process(ctx, sheji, bpmn, "门诊.bpmn", {"门诊禁办.dmn": reworded()})
    assert version.version == 2
    progress = accept(ctx, staff, cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, EMERGENCY))
    assert progress.case.data["prohibited_rule"] == NEW_WORDS
    # without the table: the one published last
    assert processes.deploy_process(ctx, sheji, bpmn, "门诊.bpmn").version == 3
    progress = accept(ctx, staff, cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, EMERGENCY))
    assert progress.case.data["prohibited_rule"] == NEW_WORDS


def test_a_diagram_whose_table_is_missing_or_broken_is_refused(ctx, staff):
    sheji = staff["sheji"]
    missing = OUTPATIENT_BPMN.replace(f'camunda:decisionRef="{RULES}"', 'camunda:decisionRef="prohibited_none"')
    with pytest.raises(InvalidProcess, match="决策表“prohibited_none”不存在") as refused:
        processes.deploy_process(ctx, sheji, missing.encode("utf-8"), "门诊.bpmn")
    assert (refused.value.element_id, refused.value.file_name) == ("Task_prohibited_accept", "门诊.bpmn")
    with pytest.raises(InvalidProcess, match="不是合法的 XML") as broken:
        processes.deploy_process(ctx, sheji, OUTPATIENT_BPMN.encode("utf-8"), "门诊.bpmn", {"坏.dmn": TABLE[:100]})
    assert broken.value.file_name == "坏.dmn"
    with pytest.raises(InvalidProcess, match="import") as unsafe:
        processes.deploy_process(ctx, sheji, OUTPATIENT_BPMN.encode("utf-8"), "门诊.bpmn", {"门诊.dmn": TABLE.replace(
            "<text>visit_kind</text>", "<text>__import__('os').getcwd()</text>")})
    assert (unsafe.value.element_id, unsafe.value.file_name) == ("Input_visit_kind", "门诊.dmn")
    with pytest.raises(InvalidProcess, match="重复"):
        processes.deploy_process(ctx, sheji, OUTPATIENT_BPMN.encode("utf-8"), "门诊.bpmn",
                                 {"a.dmn": TABLE, "b.dmn": reworded()})
    assert processes.process_version(ctx, OUTPATIENT_PROCESS).version == 1


def test_installing_again_deploys_a_process_whose_table_changed_and_nothing_else(ctx, tmp_path):
    bpmn = tmp_path / "bpmn"
    (bpmn / "decisions").mkdir(parents=True)
    for path in BPMN_DIR.glob("*.bpmn"):
        (bpmn / path.name).write_bytes(path.read_bytes())
    for path in (BPMN_DIR / "decisions").glob("*.dmn"):
        (bpmn / "decisions" / path.name).write_bytes(path.read_bytes())
    assert install(ctx, CATALOG_DIR, bpmn).deployed == []
    (bpmn / "decisions" / f"{RULES}.dmn").write_text(reworded(), encoding="utf-8")
    assert [(v.process_key, v.version) for v in install(ctx, CATALOG_DIR, bpmn).deployed] == [(OUTPATIENT_PROCESS, 2)]

