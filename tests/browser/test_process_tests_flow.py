"""The designer tests a diagram before publishing it (issue 13), in a real browser: the 测试 panel runs the
draft against the tests saved with 门诊费用报销 (in memory: no case is opened), colours the flows they took and those
none did, steps through a test's path; after an edit that breaks the main path the panel shows the failing step on
the canvas, and the publish is refused, naming the test and the step, with the element outlined."""
from __future__ import annotations

import yaml

from workflows.adapters import orm
from workflows.services import process_tests, processes
from sqlalchemy import func, select

from support.paths import BPMN_DIR

from .conftest import shot, sign_in

PROCESS = "item_002036006001"  # 门诊费用报销
MAIN_PATH = "主路径：受理—审核—拨付，办结"
# The designer's slip, made as the properties panel makes it (one command on the modeler's stack): the review
# gateway's condition inverted, so that 审核通过 ends the case as 审核不通过.
INVERT_REVIEW = """() => {
  const modeler = window.workflowsModeler.modeler;
  const flow = modeler.get('elementRegistry').get('Flow_21');
  const condition = modeler.get('moddle').create('bpmn:FormalExpression', { body: 'decision != "reject"' });
  modeler.get('modeling').updateProperties(flow, { conditionExpression: condition });
}"""


def cases_count(ctx) -> int:
    with ctx.uow(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(orm.cases))


def test_a_draft_failing_its_saved_tests_is_refused_at_publish(page, server, ctx, staff):
    tests = yaml.safe_load((BPMN_DIR / f"{PROCESS}.tests.yaml").read_text(encoding="utf-8"))
    process_tests.save_tests(ctx, staff["sheji"], PROCESS, tests)
    cases_before = cases_count(ctx)
    sign_in(page, server, "sheji")
    page.goto(f"{server}/processes/{PROCESS}/modeler")
    page.locator('#modeler[data-state="ready"]').wait_for()

    page.get_by_role("button", name="测试", exact=True).click()
    panel = page.get_by_role("region", name="流程测试")
    panel.get_by_label("测试用例").wait_for()
    page.wait_for_function("() => document.querySelector('.modeler-tests textarea').value.includes('主路径')")
    panel.get_by_role("button", name="运行", exact=True).click()
    results = panel.get_by_role("status")
    results.get_by_text(f"{len(tests['tests'])} 个测试全部通过。").wait_for()
    assert page.locator('.djs-connection.test-taken[data-element-id="Flow_1"]').count() == 1
    assert page.locator('.djs-connection.test-missed-branch[data-element-id="Flow_31"]').count() == 1
    assert "未走过的网关分支：" in results.inner_text()
    shot(page, "modeler-tests-coverage")

    main = results.locator(f'li[data-test-name="{MAIN_PATH}"]')
    main.get_by_role("button", name="查看路径").click()
    main.get_by_text("停在 结束").wait_for()  # the last step: the case has ended
    main.get_by_role("button", name="上一步").click()
    main.get_by_text("停在 Task_pay").wait_for()
    assert page.locator('.djs-shape.test-waiting[data-element-id="Task_pay"]').count() == 1
    assert page.locator('.djs-shape.test-passed[data-element-id="Task_review"]').count() == 1
    shot(page, "modeler-tests-step")

    page.evaluate(INVERT_REVIEW)
    panel.get_by_role("button", name="运行", exact=True).click()
    results.get_by_text("个未通过").wait_for()
    failing = results.locator(f'li[data-test-name="{MAIN_PATH}"]')
    assert "第3步" in failing.inner_text() and "EndEvent_review_reject" in failing.inner_text()
    page.locator('.djs-shape.test-failed[data-element-id="Task_pay"]').wait_for()
    shot(page, "modeler-tests-failed")

    page.get_by_role("button", name="发布", exact=True).click()
    dialog = page.get_by_role("dialog", name="发布新版本")
    dialog.get_by_label("变更说明").fill("审核结果的条件改写")
    dialog.get_by_role("button", name="确认发布").click()
    messages = page.locator(".modeler-messages")
    messages.get_by_text(f"已保存的测试“{MAIN_PATH}”未通过（第3步）").wait_for()
    page.locator('.djs-shape.publish-error[data-element-id="Task_pay"]').wait_for()
    shot(page, "modeler-publish-refused-by-tests")

    assert [version.version for version in processes.process_versions(ctx, PROCESS)] == [1]
    assert cases_count(ctx) == cases_before  # the runs opened no case
