"""Document templates (文书): checked when the catalog is loaded, filled in for a case."""
import copy

import pytest

from workflows.adapters.catalog_files import read_document
from workflows.domain.catalog import CatalogError, parse_catalog, parse_templates
from workflows.domain.documents import (KINDS, DocumentMaterial, DocumentTemplate, contact_phone, mask_id,
                                        placeholders_in, render, template_problem)

from support.paths import CATALOG_DIR

ITEMS_FILE, AGENCY_FILE, TEMPLATES_FILE = "catalog/items.yaml", "catalog/agencies/210400.yaml", "catalog/documents.yaml"
ITEMS = {"groups": [{"code": "0020360100Y", "name": "基本医疗保险参保和变更登记"}],
         "items": [{"code": "00203601002", "name": "职工参保登记", "group": "0020360100Y",
                    "stages": ["申请", "受理", "审核", "办结"], "applicant_kinds": ["自然人"]}]}
AGENCY = {"agency": {"code": "210400", "name": "抚顺市医疗保障事务服务中心", "short_name": "抚顺市医保中心",
                     "region": "辽宁省抚顺市"},
          "items": [{"code": "00203601002", "promised_limit": {"value": 5, "unit": "working_days"}}]}
DEFAULTS = read_document(CATALOG_DIR / "documents.yaml")
VALUES = {"case_number": "210400-20261123-00001", "document_number": "SL210400-20261123-00001",
          "item_name": "门诊费用报销", "applicant_name": "张伟", "agency_name": "抚顺市医疗保障事务服务中心",
          "agency_short_name": "抚顺市医保中心", "received_date": "2026年11月23日", "issue_date": "2026年11月24日",
          "hall_name": "抚顺市医疗保障事务服务中心", "hall_phone": "024-12345"}


def parse(agency=AGENCY, templates=DEFAULTS):
    return parse_catalog(ITEMS, {AGENCY_FILE: agency}, ITEMS_FILE, templates, TEMPLATES_FILE)


def with_override(kind, template) -> dict:
    agency = copy.deepcopy(AGENCY)
    agency["documents"] = {kind: template}
    return agency


def test_the_shipped_defaults_cover_every_kind_and_an_agency_overrides_one():
    override = {"title": "受理回执", "paragraphs": ["{applicant_name}：", "你的申请已于{accepted_date}受理。"]}
    catalog = parse(with_override("acceptance_notice", override))
    assert sorted(catalog.documents) == sorted(KINDS)
    own = catalog.document_template("210400", "acceptance_notice")
    assert (own.title, own.paragraphs) == ("受理回执", ("{applicant_name}：", "你的申请已于{accepted_date}受理。"))
    assert catalog.document_template("210400", "completion_notice") == catalog.documents["completion_notice"]
    assert catalog.document_template("999999", "acceptance_notice").title == "受理通知书"  # unknown agency: default


def test_a_template_with_an_unknown_placeholder_is_refused_naming_file_and_field():
    bad = {"title": "受理通知书", "paragraphs": ["{applicant_name}：", "办件编号：{case_nmuber}"]}
    with pytest.raises(CatalogError) as raised:
        parse(with_override("acceptance_notice", bad))
    assert raised.value.file == AGENCY_FILE
    assert raised.value.field == "documents.acceptance_notice.paragraphs[1]"
    assert "unknown placeholder {case_nmuber}" in raised.value.message

    defaults = copy.deepcopy(DEFAULTS)
    defaults["documents"]["refusal_decision"]["title"] = "{agency}不予受理决定书"
    with pytest.raises(CatalogError) as raised:
        parse(templates=defaults)
    assert (raised.value.file, raised.value.field) == (TEMPLATES_FILE, "documents.refusal_decision.title")


@pytest.mark.parametrize("template, field, message", [
    ({"title": "通知", "paragraphs": ["{applicant_name"]}, "paragraphs[0]", "expected '}'"),
    ({"title": "通知", "paragraphs": ["多余的 } 括号"]}, "paragraphs[0]", "Single '}'"),
    ({"title": "通知", "paragraphs": ["{applicant_name.upper}"]}, "paragraphs[0]", "not a plain name"),
    ({"title": "通知", "paragraphs": ["{}"]}, "paragraphs[0]", "not a plain name"),
    ({"title": "通知", "paragraphs": ["材料：{materials_table}"]}, "paragraphs[0]", "a paragraph of its own"),
    ({"title": "通知", "paragraphs": []}, "paragraphs", "at least one paragraph"),
    ({"title": "通知"}, "paragraphs", "missing required field"),
    ({"title": "通知", "paragraphs": ["x"], "footer": "y"}, "footer", "unknown key"),
])
def test_malformed_templates_are_refused(template, field, message):
    with pytest.raises(CatalogError) as raised:
        parse(with_override("completion_notice", template))
    assert raised.value.field == f"documents.completion_notice.{field}"
    assert message in raised.value.message


def test_an_unknown_kind_or_a_default_missing_is_refused():
    with pytest.raises(CatalogError) as raised:
        parse(with_override("receipt", {"title": "回执", "paragraphs": ["x"]}))
    assert raised.value.field == "documents.receipt" and "unknown document kind" in raised.value.message
    defaults = copy.deepcopy(DEFAULTS)
    del defaults["documents"]["commitment"]
    with pytest.raises(CatalogError, match="no template for commitment"):
        parse_templates(defaults, TEMPLATES_FILE)


def test_placeholders_are_read_and_checked():
    assert placeholders_in("{applicant_name}于{received_date}申请") == ["applicant_name", "received_date"]
    assert template_problem("办件编号：{case_number}") is None
    assert "unknown placeholder {number}" in template_problem("{number}")


def test_rendering_fills_in_and_leaves_out_paragraphs_without_a_value():
    template = DocumentTemplate("missing_materials_notice", "一次性告知书", (
        "{applicant_name}：", "你于{received_date}提交的{item_name}申请，材料不齐：{materials}。",
        "委托代理人：{agent_name}。", "请到{hall_name}补正。电话：{hall_phone}"))
    materials = [DocumentMaterial("医院收费票据", "原件", "就诊医院", None), DocumentMaterial("门急诊费用清单", "复印件")]
    rendered = render(template, VALUES, materials)
    assert rendered.paragraphs == ("张伟：", "你于2026年11月23日提交的门诊费用报销申请，材料不齐：医院收费票据（原件）、门急诊费用清单（复印件）。",
                                   "请到抚顺市医疗保障事务服务中心补正。电话：024-12345")  # no agent: left out
    assert rendered.table[0] == ("序号", "材料名称", "形式", "取得途径", "适用情形")
    assert rendered.table[1] == (("1", "医院收费票据", "原件", "就诊医院", "—"), ("2", "门急诊费用清单", "复印件", "—", "—"))
    assert rendered.table_position == 3  # no {materials_table}: after the text
    assert rendered.signature == ("抚顺市医疗保障事务服务中心（印章）", "2026年11月24日")
    assert rendered.footer == "抚顺市医疗保障事务服务中心"  # no address known, no 咨询电话 given
    with_phone = render(template, {**VALUES, "consult_phone": "024-55883333"}, materials)
    assert with_phone.footer == "抚顺市医疗保障事务服务中心　电话：024-55883333"  # the body's 咨询电话, not the hall's


def test_a_document_gives_one_number_to_call_the_agencys_or_else_the_halls():
    assert contact_phone("024-55883333", "024-12345") == "024-55883333"
    assert contact_phone(None, "0453-3536066") == "0453-3536066"  # the agency publishes no 咨询电话
    assert contact_phone(None, None) is None


def test_the_materials_table_goes_where_the_template_puts_it():
    template = DocumentTemplate("waiver_notice", "容缺受理通知书", (
        "{applicant_name}：", "暂缺的材料如下：", "{materials_table}", "请于{correction_due_date}前补交。", "特此通知。"))
    rendered = render(template, VALUES, [DocumentMaterial("结婚证", "原件")])
    assert rendered.paragraphs == ("张伟：", "暂缺的材料如下：", "特此通知。") and rendered.table_position == 2


def test_a_commitment_is_signed_by_the_applicant_and_a_result_document_is_titled_after_it():
    commitment = render(DocumentTemplate("commitment", "个人承诺书", ("本人{applicant_name}承诺。",)), VALUES, [])
    assert commitment.signature[0].startswith("承诺人（签字）：") and commitment.table[1] == ()
    result = render(DocumentTemplate("result_document", "{document_name}", ("x",)),
                    {**VALUES, "document_name": "参保凭证"}, [])
    assert result.title == "参保凭证" and result.table is None


def test_id_numbers_are_masked_in_the_middle():
    assert mask_id("210402198001011239") == "210402********1239"
    assert mask_id(None) is None
