"""notify_applicant, and the registry every diagram's service tasks are looked up in."""
import pytest
from lxml import etree

import handlers
from handlers import HANDLERS, handler
from handlers.documents import DOCUMENT_PREFIXES
from handlers.notification import notify_applicant
from handlers.reimbursement import ASSISTANCE_SHARES, ENTITLEMENT_FORMULAS, EXPENSE_FORMULAS

from support.paths import BPMN_DIR

CASE = "210400-20261123-00001"
NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
DIAGRAMS = {path.name: etree.parse(str(path)) for path in sorted(BPMN_DIR.glob("*.bpmn"))}


def test_notify_applicant_texts_the_phone_with_the_item_and_case_number(context, calls):
    ctx = context(item_name="生育津贴支付", applicant={"name": "王芳", "id_number": "X", "phone": "13804130002"})

    assert notify_applicant(ctx) == {"applicant_notified": True}
    text = f"您申请的生育津贴支付（办件编号{CASE}）已办理完成。"
    assert calls == [("sms", "send", {"phone": "13804130002", "text": text}, {"status": "recorded"})]


@pytest.mark.parametrize("applicant", [{"name": "王芳"}, {"name": "王芳", "phone": ""},
                                       {"name": "王芳", "phone": None}])
def test_notify_applicant_without_phone_sends_nothing(context, calls, applicant):
    assert notify_applicant(context(applicant=applicant)) == {"applicant_notified": False}
    assert calls == []


def service_tasks():
    for name, tree in DIAGRAMS.items():
        for task in tree.xpath("//bpmn:serviceTask", namespaces=NS):
            params = {p.get("name"): p.get("value") for p in task.xpath(".//camunda:property", namespaces=NS)}
            yield name, task.get(f"{{{NS['camunda']}}}topic"), params


def test_every_topic_of_every_diagram_is_registered():
    topics = {topic for _, topic, _ in service_tasks()}
    assert len(DIAGRAMS) > 30 and "reimbursement_calc" in topics
    assert topics - set(HANDLERS) == set()
    assert all(HANDLERS[topic].name == topic and HANDLERS[topic].title for topic in topics)


def test_the_parameters_diagrams_pass_are_ones_the_handlers_know():
    policies = {params.get("policy") for _, topic, params in service_tasks() if topic == "reimbursement_calc"}
    documents = {params.get("document") for _, topic, params in service_tasks() if topic == "certificate"}
    operations = {params.get("operation") for _, topic, params in service_tasks() if topic == "registration"}
    assert policies == set(EXPENSE_FORMULAS) | set(ENTITLEMENT_FORMULAS)  # each policy is used, none is unknown
    assert documents <= set(DOCUMENT_PREFIXES)                       # no diagram's document falls back to WS…
    assert None not in operations


def test_assistance_kinds_offered_by_the_form_are_the_kinds_the_subsidy_knows():
    [(name, _, _)] = [task for task in service_tasks() if task[2].get("policy") == "assistance_subsidy"]
    offered = DIAGRAMS[name].xpath("//bpmn:startEvent//camunda:formField[@id='assistance_kind']/camunda:value/@id",
                                   namespaces=NS)
    assert set(offered) == set(ASSISTANCE_SHARES)


def test_registering_a_name_twice_is_refused():
    name = "_test_duplicate_topic"
    try:
        handler(name, "测试")(lambda context: None)
        assert HANDLERS[name].title == "测试"
        with pytest.raises(ValueError, match=name):
            handler(name, "又一个")(lambda context: {})
        assert HANDLERS[name].title == "测试"  # the first registration stands
    finally:
        HANDLERS.pop(name, None)
    assert name not in handlers.HANDLERS
