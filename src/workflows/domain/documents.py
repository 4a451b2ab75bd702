"""文书: the notices and decisions an agency hands the applicant, filled in from templates.

A template is a title and paragraphs with {placeholders} taken from a fixed set (PLACEHOLDERS). The catalog holds a
default template for every kind (catalog/documents.yaml) and each agency may override any kind; both are checked
when the catalog is loaded (`template_problem`). `render` fills a template in: a paragraph that uses a placeholder
without a value (an agent when there is none, an acceptance date before acceptance) is left out, and the paragraph
{materials_table} marks where the materials table goes. No file access,
no PDF here: adapters/pdf.py lays the rendered document out.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import cached_property
from datetime import date
from string import Formatter

# kind -> the name people know it by (also the default title)
KINDS = {
    "acceptance_notice": "受理通知书",
    "missing_materials_notice": "一次性告知书",
    "waiver_notice": "容缺受理通知书",
    "refusal_decision": "不予受理决定书",
    "rejection_decision": "不予批准决定书",
    "termination_decision": "终止办理决定书",
    "completion_notice": "办结通知书",
    "correction_timeout_notice": "补正超时通知书",
    "commitment": "个人承诺书",
    "result_document": "结果文书",
}
# Kinds that list materials in a table: the missing ones, the waived ones, those a commitment stands in for.
MATERIAL_TABLE_KINDS = ("missing_materials_notice", "waiver_notice", "commitment")
MATERIAL_COLUMNS = ("序号", "材料名称", "形式", "取得途径", "适用情形")
SIGNED_BY_APPLICANT = ("commitment",)  # the applicant signs it; every other kind bears the agency's seal

PLACEHOLDERS = {
    "case_number": "办件编号",
    "document_number": "文书编号",
    "item_name": "事项名称",
    "applicant_name": "申请人姓名或单位名称",
    "applicant_id_number": "申请人证件号码",
    "applicant_id_masked": "申请人证件号码，中间隐去（210402********1239）",
    "agent_name": "委托代理人姓名",
    "agent_id_masked": "委托代理人证件号码，中间隐去",
    "agency_name": "经办机构名称",
    "agency_short_name": "经办机构简称",
    "hall_name": "服务大厅名称",
    "hall_address": "服务大厅地址",
    "hall_phone": "服务大厅电话",
    "consult_phone": "咨询电话（经办机构未公布时为服务大厅电话；页脚印的也是它）",
    "complaint_phone": "监督投诉电话",
    "received_date": "收到申请之日（登记申请的日期）",
    "accepted_date": "受理日期",
    "due_date": "承诺办结日期",
    "correction_due_date": "补正期限（容缺受理）",
    "materials": "材料名称，以顿号分隔（材料表另附于文书）",
    "received_materials": "申请材料核对中标为已提交的材料，以顿号分隔（受理时未标注的由受理人确认已提交）",
    "committed_materials": "以告知承诺（个人承诺书）代替的证明材料",
    "waived_materials": "容缺的材料（暂缺，限期补正）",
    "missing_materials": "标为缺少的材料",
    "reasons": "理由（不予受理、不予批准、终止办理的理由，退回补正的说明）",
    "remedies": "救济途径：行政复议、行政诉讼的期限及监督投诉电话",
    "document_name": "结果文书的名称，如 参保凭证",
    "issue_date": "出具日期",
    "paid_amount": "拨付金额（元，两位小数）：拨付后才有",
    "paid_account_masked": "收款银行账号，只留末四位（****4567）：拨付后才有",
    "materials_table": "材料表的位置：独占一段；不写时，有材料表的文书把它附在正文之后",
}
TABLE_MARK = "{materials_table}"
REMEDIES = "如不服本决定，可在收到本决定书之日起六十日内依法申请行政复议，或者在六个月内依法提起行政诉讼。"


@dataclass(frozen=True)
class DocumentTemplate:
    kind: str
    title: str
    paragraphs: tuple[str, ...]

    @cached_property
    def placeholders(self) -> frozenset[str]:
        """The placeholders the template uses: a value it does not use need not be looked up."""
        return frozenset(name for text in (self.title, *self.paragraphs) for name in placeholders_in(text))


@dataclass(frozen=True)
class DocumentMaterial:
    """A material as a document lists it."""

    name: str
    form: str
    source: str | None = None
    condition: str | None = None


@dataclass(frozen=True)
class RenderedDocument:
    """A document filled in, ready to be laid out on a page."""

    agency_name: str
    title: str
    number: str
    paragraphs: tuple[str, ...]
    table: tuple[tuple[str, ...], tuple[tuple[str, ...], ...]] | None  # (column headings, rows)
    table_position: int  # how many paragraphs come before the table
    signature: tuple[str, ...]  # the lines at the foot: the seal's (agency, date) or the applicant's signature
    footer: str  # where the hall is and how to reach it


def placeholders_in(text: str) -> list[str]:
    """The placeholder names in `text`; ValueError for a brace that opens or closes nothing, or a placeholder
    with more than a name ({0}, {}, {name.attr}, {name[0]}, {name:format}, {name!r})."""
    names = []
    for _, name, spec, conversion in Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                             f"{':' + spec if spec else ''}}} is not a plain name such as {{case_number}}")
        names.append(name)
    return names


def template_problem(text: str) -> str | None:
    """Why `text` is no valid template text (unbalanced braces, an unknown placeholder), or None."""
    try:
        names = placeholders_in(text)
    except ValueError as error:
        return str(error)
    unknown = [name for name in names if name not in PLACEHOLDERS]
    if unknown:
        return f"unknown placeholder {{{unknown[0]}}}; expected one of {', '.join(PLACEHOLDERS)}"
    if TABLE_MARK in text and text != TABLE_MARK:
        return f"{TABLE_MARK} must be a paragraph of its own"
    return None


def fill(text: str, values: dict[str, str]) -> str | None:
    """`text` with its placeholders replaced, or None when one of them has no value."""
    parts = []
    for literal, name, _, _ in Formatter().parse(text):
        parts.append(literal)
        if name is not None:
            value = values.get(name)
            if value in (None, ""):
                return None
            parts.append(value)
    return "".join(parts)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def mask_id(id_number: str | None) -> str | None:
    """An ID number with its middle hidden: the first six and last four characters stay."""
    if not id_number:
        return None
    return id_number[:6] + "*" * max(len(id_number) - 10, 0) + id_number[-4:] if len(id_number) > 10 else id_number


def mask_account(account: str | None) -> str | None:
    """A bank account with all but its last four digits hidden."""
    return f"****{account[-4:]}" if account else None


def contact_phone(consult_phone: str | None, hall_phone: str | None) -> str | None:
    """The one number a document gives the applicant to call, at the foot of the page and as the body's 咨询电话:
    the agency's 咨询电话 from the catalog; the hall's own only where the agency publishes none."""
    return consult_phone or hall_phone


def material_text(materials: list[DocumentMaterial]) -> str:
    return "、".join(f"{m.name}（{m.form}）" for m in materials)


def render(template: DocumentTemplate, values: dict[str, str], materials: list[DocumentMaterial]) -> RenderedDocument:
    """Fill the template in; `values` holds the placeholders' values (missing or empty: no value), but for
    {materials}, the names of `materials`."""
    values = {**values, "materials": material_text(materials)}
    paragraphs, position = [], None
    for text in template.paragraphs:
        if text == TABLE_MARK:
            position = len(paragraphs)
        elif filled := fill(text, values):
            paragraphs.append(filled)
    table = None
    if template.kind in MATERIAL_TABLE_KINDS:
        table = (MATERIAL_COLUMNS, tuple((str(index), m.name, m.form, m.source or "—", m.condition or "—")
                                         for index, m in enumerate(materials, 1)))
    if template.kind in SIGNED_BY_APPLICANT:
        signature = ("承诺人（签字）：________________", "日期：________年____月____日")
    else:
        signature = (f"{values['agency_name']}（印章）", values["issue_date"])
    footer = "　".join(text for text in (fill("{hall_name}", values), fill("地址：{hall_address}", values),
                                          fill("电话：{consult_phone}", values)) if text)
    return RenderedDocument(values["agency_name"], fill(template.title, values) or KINDS[template.kind],
                            values["document_number"], tuple(paragraphs), table,
                            len(paragraphs) if position is None else position, signature, footer)


def layout_of(document: RenderedDocument) -> dict:
    """A rendered document as JSON keeps it: what its PDF is laid out from, after the command that issued it."""
    return asdict(document)


def from_layout(layout: dict) -> RenderedDocument:
    table = layout["table"]
    return RenderedDocument(layout["agency_name"], layout["title"], layout["number"], tuple(layout["paragraphs"]),
                            None if table is None else (tuple(table[0]), tuple(tuple(row) for row in table[1])),
                            layout["table_position"], tuple(layout["signature"]), layout["footer"])
