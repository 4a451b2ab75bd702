"""The item catalog: national service items (事项) and each agency's implementation list (实施清单).

`parse_catalog` turns plain documents (dicts and lists, as YAML or JSON give them) into frozen objects and
rejects anything malformed with a `CatalogError` naming the file and the field path. No file access here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from math import ceil
from typing import Any, Callable, TypeVar

from .amounts import PaymentPolicy, amount_of
from .documents import KINDS as DOCUMENT_KINDS
from .documents import DocumentTemplate, template_problem

UNIT_LABELS = {"immediate": "即时办结", "working_days": "个工作日", "natural_days": "个自然日", "months": "个月"}
IMMEDIATE = "immediate"
MATERIAL_FORMS = ("原件", "复印件", "原件和复印件", "原件或复印件", "电子")
DEFAULT_MATERIAL_FORM = "原件"
APPLICANT_KINDS = ("自然人", "企业法人", "事业法人", "社会组织法人", "非法人企业", "行政机关", "其他组织")
FIRST_STAGE, LAST_STAGE = "申请", "办结"

_CODE = re.compile(r"^[0-9A-Z]+$")
_LOCAL_CODE = re.compile(r"^L\d{5}$")
_AGENCY_CODE = re.compile(r"^\d{6}$")
_HALL_CODE = re.compile(r"^\d{6}-\d{2}$")
_PROCESS_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")  # a BPMN id (XML NCName)
_PHONE = re.compile(r"^(0\d{2,3}-)?\d{5,8}$")
_HH_MM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

# Keys of each mapping: (required, optional). Anything else is an error naming the key.
_KEYS = {
    "items_file": ({"groups", "items"}, set()),
    "group": ({"code", "name"}, {"code_is_local"}),
    "item": ({"code", "name", "group", "stages", "applicant_kinds"},
             {"process", "legal_basis", "code_is_local", "partner_process"}),
    "agency_file": ({"agency", "items"}, {"documents"}),
    "documents_file": ({"documents"}, set()),
    "template": ({"title", "paragraphs"}, set()),
    "agency": ({"code", "name", "short_name", "region"},
               {"office_hours", "consult_phone", "complaint_phone", "petition_phone", "halls", "waiver_period",
                "bad_rating_followup"}),
    "hall": ({"code", "name"}, {"address", "phone"}),
    "agency_item": ({"code", "promised_limit"},
                    {"name", "statutory_limit", "exceptional_limit", "stage_limits", "materials", "halls",
                     "phones", "prohibited", "notes", "commitment_allowed", "warning", "payment_policy"}),
    "warning": (set(), {"used_ratio", "days_left"}),
    "payment_policy": (set(), {"deductible", "ratio", "cap"}),
    "limit": ({"unit"}, {"value"}),
    "stage_limit": ({"stage", "unit", "value", "from"}, set()),
    "material": ({"name"}, {"source", "required", "condition", "form", "waivable"}),
}
_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a mapping"}
_MISSING = object()
T = TypeVar("T")


class CatalogError(ValueError):
    """A catalog document is malformed; `file` and `field` (a path such as `items[3].promised_limit.unit`) say where."""

    def __init__(self, file: str, field: str, message: str):
        super().__init__(f"{file}: {field}: {message}")
        self.file = file
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TimeLimit:
    value: int
    unit: str

    @property
    def label(self) -> str:
        """Chinese text: 即时办结, 5个工作日, 30个自然日, 3个月."""
        return UNIT_LABELS[IMMEDIATE] if self.unit == IMMEDIATE else f"{self.value}{UNIT_LABELS[self.unit]}"


DEFAULT_FOLLOWUP_LIMIT = TimeLimit(5, "working_days")


@dataclass(frozen=True)
class StageLimit:
    """A deadline inside an item: `stage` must be reached within `limit` counted from `starts_at`."""
    stage: str
    limit: TimeLimit
    starts_at: str


@dataclass(frozen=True)
class Material:
    name: str
    required: bool
    form: str
    waivable: bool  # 容缺: may be missing at acceptance and supplied within the agency's waiver period
    source: str | None = None
    condition: str | None = None


@dataclass(frozen=True)
class Hall:
    code: str
    name: str
    address: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ItemGroup:
    code: str
    name: str
    code_is_local: bool = False


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    group: ItemGroup
    stages: tuple[str, ...]
    process_key: str
    applicant_kinds: tuple[str, ...]
    legal_basis: tuple[str, ...] = ()
    code_is_local: bool = False
    partner_process_key: str | None = None


@dataclass(frozen=True)
class WarningPolicy:
    """Yellow when `used_ratio` of the limit is used or `days_left` days are left, whichever comes first."""
    used_ratio: float = 0.8
    days_left: int = 1

    def days_before_due(self, total_days: int) -> int:
        # round() first: 20 × (1 − 0.7) is 6.000000000000001 in floating point, and must not become 7.
        return max(self.days_left, ceil(round(total_days * (1 - self.used_ratio), 9)))


@dataclass(frozen=True)
class AgencyItem:
    item: Item
    name: str
    promised_limit: TimeLimit
    statutory_limit: TimeLimit | None = None
    exceptional_limit: TimeLimit | None = None
    stage_limits: tuple[StageLimit, ...] = ()
    materials: tuple[Material, ...] = ()
    hall_codes: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    prohibited: tuple[str, ...] = ()
    notes: str | None = None
    commitment_allowed: bool = False
    warning: WarningPolicy = WarningPolicy()  # when a limit turns yellow (黄牌)
    payment_policy: PaymentPolicy | None = None  # 起付线, 报销比例, 封顶线 of an item that pays

    @property
    def code(self) -> str:
        return self.item.code

    @property
    def process_key(self) -> str:
        return self.item.process_key

    @property
    def waivable_materials(self) -> tuple[Material, ...]:
        return tuple(m for m in self.materials if m.waivable)


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    short_name: str
    region: str
    office_hours: tuple[tuple[time, time], ...] = ()
    consult_phone: str | None = None
    complaint_phone: str | None = None
    petition_phone: str | None = None
    halls: tuple[Hall, ...] = ()
    waiver_period: TimeLimit | None = None
    bad_rating_followup: TimeLimit = DEFAULT_FOLLOWUP_LIMIT  # 差评回访: supervisors call back within this
    items: dict[str, AgencyItem] = field(default_factory=dict, hash=False)
    documents: dict[str, DocumentTemplate] = field(default_factory=dict, hash=False)  # the agency's own templates

    def hall(self, code: str) -> Hall | None:
        return next((hall for hall in self.halls if hall.code == code), None)

    def item(self, code: str) -> AgencyItem | None:
        return self.items.get(code)


@dataclass(frozen=True)
class Catalog:
    items: dict[str, Item] = field(hash=False)
    agencies: dict[str, Agency] = field(hash=False)
    documents: dict[str, DocumentTemplate] = field(default_factory=dict, hash=False)  # default templates

    def agency(self, code: str) -> Agency | None:
        return self.agencies.get(code)

    def item(self, code: str) -> Item | None:
        return self.items.get(code)

    def document_template(self, agency_code: str, kind: str) -> DocumentTemplate | None:
        """The agency's own template of a kind of document, else the default one."""
        agency = self.agency(agency_code)
        return (agency.documents.get(kind) if agency else None) or self.documents.get(kind)


# --- reading documents -------------------------------------------------------------------------------------------

def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    kind = next((name for t, name in _TYPE_NAMES.items() if type(value) is t), type(value).__name__)
    return f"{kind} {value!r}" if isinstance(value, (str, int, float)) else kind


@dataclass(frozen=True)
class _Node:
    """A value inside a document with the file and path it sits at, so every check can say where it failed."""
    value: Any
    file: str
    path: str = ""

    def fail(self, message: str) -> CatalogError:
        return CatalogError(self.file, self.path or "(document)", message)

    def at(self, key: str | int) -> _Node:
        if isinstance(key, int):
            return _Node(self.value[key], self.file, f"{self.path}[{key}]")
        value = self.value.get(key) if isinstance(self.value, dict) else None
        return _Node(value, self.file, f"{self.path}.{key}" if self.path else key)

    def mapping(self, schema: str) -> _Node:
        """Check that this is a mapping with no unknown keys and all required ones (by the name of its schema)."""
        required, optional = _KEYS[schema]
        self.typed(dict)
        for key in self.value:
            if key not in required | optional:
                raise self.at(str(key)).fail(f"unknown key; expected one of {', '.join(sorted(required | optional))}")
        for key in sorted(required):
            if self.value.get(key) is None:
                raise self.at(key).fail("missing required field")
        return self

    def typed(self, kind: type) -> Any:
        if type(self.value) is not kind:  # `type is`, so that true is not an integer
            hint = " (put it in quotes)" if kind is str and type(self.value) in (int, float) else ""
            raise self.fail(f"expected {_TYPE_NAMES[kind]}, got {_describe(self.value)}{hint}")
        return self.value

    def get(self, key: str, kind: type, default: Any = _MISSING) -> Any:
        node = self.at(key)
        if node.value is None:
            if default is _MISSING:
                raise node.fail("missing required field")
            return default
        return node.typed(kind)

    def text(self, key: str, default: Any = _MISSING, pattern: re.Pattern | None = None, hint: str = "",
             choices: tuple[str, ...] = ()) -> str | None:
        value = self.get(key, str, default)
        if value is default and default is not _MISSING:
            return value
        return self.at(key).check_text(pattern, hint, choices)

    def check_text(self, pattern: re.Pattern | None = None, hint: str = "", choices: tuple[str, ...] = ()) -> str:
        value = self.typed(str).strip()
        if not value:
            raise self.fail("must not be empty")
        if choices and value not in choices:
            raise self.fail(f"{value!r} is not one of {', '.join(choices)}")
        if pattern and not pattern.match(value):
            raise self.fail(f"{value!r} is not {hint or 'valid'}")
        return value

    def children(self, key: str, optional: bool = True) -> list[_Node]:
        node = self.at(key)
        if node.value is None and optional:
            return []
        node.typed(list)
        return [node.at(index) for index in range(len(node.value))]

    def texts(self, key: str, pattern: re.Pattern | None = None, hint: str = "",
              choices: tuple[str, ...] = ()) -> tuple[str, ...]:
        return tuple(child.check_text(pattern, hint, choices) for child in self.children(key))


def _unique(nodes: list[_Node], parse: Callable[[_Node], T], what: str) -> dict[str, T]:
    """Parse each node into an object with a `code`; a code seen twice is an error at the second one."""
    result: dict[str, T] = {}
    seen: dict[str, str] = {}
    for node in nodes:
        parsed = parse(node)
        code = parsed.code  # type: ignore[attr-defined]
        if code in result:
            raise node.at("code").fail(f"duplicate {what} code {code!r} (first at {seen[code]})")
        result[code], seen[code] = parsed, node.path
    return result


_PHONE_HINT = "a phone number such as 024-55883333 or 53997899"


# --- national items ----------------------------------------------------------------------------------------------

def parse_items(document: dict, file: str) -> dict[str, Item]:
    """The national item list (items.yaml): groups (主项) and items (子项), keyed by item code."""
    root = _Node(document, file).mapping("items_file")
    groups = _unique(root.children("groups", optional=False), _group, "group")
    return _unique(root.children("items", optional=False), lambda node: _item(node, groups), "item")


def _group(node: _Node) -> ItemGroup:
    node.mapping("group")
    return ItemGroup(code=node.text("code", pattern=_CODE, hint="digits and capital letters"),
                     name=node.text("name"), code_is_local=node.get("code_is_local", bool, False))


def _item(node: _Node, groups: dict[str, ItemGroup]) -> Item:
    node.mapping("item")
    code = node.text("code", pattern=_CODE, hint="digits and capital letters")
    local = node.get("code_is_local", bool, False)
    if local != bool(_LOCAL_CODE.match(code)):
        raise node.at("code").fail(f"{code!r}: a local code is L and five digits, with code_is_local: true"
                                   if local else f"{code!r} looks local (L and five digits): set code_is_local: true")
    group_code = node.text("group")
    if group_code not in groups:
        raise node.at("group").fail(f"unknown group {group_code!r}")
    return Item(code=code, name=node.text("name"), group=groups[group_code], stages=_stages(node),
                process_key=node.text("process", f"item_{code}", pattern=_PROCESS_KEY, hint="a BPMN process id"),
                applicant_kinds=_applicant_kinds(node), legal_basis=node.texts("legal_basis"), code_is_local=local,
                partner_process_key=node.text("partner_process", None, pattern=_PROCESS_KEY,
                                              hint="a BPMN process id"))


def _stages(node: _Node) -> tuple[str, ...]:
    stages = node.texts("stages")
    if len(stages) < 2 or stages[0] != FIRST_STAGE or stages[-1] != LAST_STAGE:
        raise node.at("stages").fail(f"must start with {FIRST_STAGE} and end with {LAST_STAGE}, got {list(stages)}")
    if len(set(stages)) != len(stages):
        raise node.at("stages").fail(f"a stage is listed twice: {list(stages)}")
    return stages


def _applicant_kinds(node: _Node) -> tuple[str, ...]:
    kinds = node.texts("applicant_kinds", choices=APPLICANT_KINDS)
    if not kinds:
        raise node.at("applicant_kinds").fail("must list at least one applicant kind")
    return kinds


# --- one agency's implementation list ----------------------------------------------------------------------------

def parse_agency(document: dict, file: str, items: dict[str, Item]) -> Agency:
    """One agency's file: its halls and phones, and its local version of each national item it handles."""
    root = _Node(document, file).mapping("agency_file")
    head = root.at("agency").mapping("agency")
    code = head.text("code", pattern=_AGENCY_CODE, hint="a six-digit administrative-division code")
    halls = _unique(head.children("halls"), lambda node: _hall(node, code), "hall")
    agency_items = _unique(root.children("items", optional=False),
                           lambda node: _agency_item(node, items, tuple(halls)), "item")
    return Agency(code=code, name=head.text("name"), short_name=head.text("short_name"),
                  region=head.text("region"), office_hours=_office_hours(head),
                  consult_phone=head.text("consult_phone", None, _PHONE, _PHONE_HINT),
                  complaint_phone=head.text("complaint_phone", None, _PHONE, _PHONE_HINT),
                  petition_phone=head.text("petition_phone", None, _PHONE, _PHONE_HINT),
                  halls=tuple(halls.values()), waiver_period=_optional_limit(head, "waiver_period"),
                  bad_rating_followup=_followup_limit(head),
                  items=agency_items, documents=_templates(root.at("documents"), complete=False))


def _followup_limit(node: _Node) -> TimeLimit:
    """`bad_rating_followup: {value: 5, unit: working_days}` (the default): a call back takes at least a day."""
    limit = _optional_limit(node, "bad_rating_followup")
    if limit is not None and limit.unit == IMMEDIATE:
        raise node.at("bad_rating_followup").fail("a follow-up needs at least one day, not immediate")
    return limit or DEFAULT_FOLLOWUP_LIMIT


def _hall(node: _Node, agency_code: str) -> Hall:
    node.mapping("hall")
    code = node.text("code", pattern=_HALL_CODE, hint="the agency code, a dash and two digits")
    if not code.startswith(f"{agency_code}-"):
        raise node.at("code").fail(f"{code!r} does not start with the agency code {agency_code}-")
    return Hall(code=code, name=node.text("name"), address=node.text("address", None),
                phone=node.text("phone", None, _PHONE, _PHONE_HINT))


def _office_hours(node: _Node) -> tuple[tuple[time, time], ...]:
    periods = []
    for period in node.children("office_hours"):
        if len(period.typed(list)) != 2:
            raise period.fail('expected a ["HH:MM", "HH:MM"] pair')
        start, end = (time.fromisoformat(period.at(i).check_text(_HH_MM, "a time as HH:MM")) for i in (0, 1))
        if start >= end:
            raise period.fail(f"starts at {start:%H:%M}, not before its end {end:%H:%M}")
        periods.append((start, end))
    return tuple(periods)


def _agency_item(node: _Node, items: dict[str, Item], hall_codes: tuple[str, ...]) -> AgencyItem:
    node.mapping("agency_item")
    code = node.text("code")
    if code not in items:
        raise node.at("code").fail(f"unknown item code {code!r} (not in the national item list)")
    item = items[code]
    return AgencyItem(
        item=item, name=node.text("name", item.name),
        promised_limit=_time_limit(node.at("promised_limit").mapping("limit")),
        statutory_limit=_optional_limit(node, "statutory_limit"),
        exceptional_limit=_optional_limit(node, "exceptional_limit"),
        stage_limits=_stage_limits(node, item), materials=tuple(map(_material, node.children("materials"))),
        hall_codes=_item_halls(node, hall_codes), phones=node.texts("phones", _PHONE, _PHONE_HINT),
        prohibited=node.texts("prohibited"), notes=node.text("notes", None),
        commitment_allowed=node.get("commitment_allowed", bool, False), warning=_warning(node.at("warning")),
        payment_policy=_payment_policy(node.at("payment_policy")))


def _payment_policy(node: _Node) -> PaymentPolicy | None:
    """Optional per item: `payment_policy: {deductible: 800, ratio: 0.85, cap: 300000}` (yuan; ratio 0–1; no cap:
    none). Defaults: no deductible, 100 %."""
    if node.value is None:
        return None
    node.mapping("payment_policy")
    deductible, cap = _amount(node.at("deductible"), Decimal(0)), _amount(node.at("cap"), None)
    ratio = node.at("ratio")
    if ratio.value is None:
        return PaymentPolicy(deductible, Decimal(1), cap)
    if type(ratio.value) not in (int, float) or not 0 < ratio.value <= 1:
        raise ratio.fail(f"must be a number above 0 and at most 1, got {_describe(ratio.value)}")
    return PaymentPolicy(deductible, Decimal(str(ratio.value)), cap)


def _amount(node: _Node, default: Decimal | None) -> Decimal | None:
    """An amount in yuan: a number not below 0 with at most two places."""
    if node.value is None:
        return default
    amount = amount_of(str(node.value)) if type(node.value) in (int, float, str) else None
    if amount is None:
        raise node.fail(f"must be an amount in yuan (not negative, at most two places), got {_describe(node.value)}")
    return amount


def _warning(node: _Node) -> WarningPolicy:
    """Optional per item: `warning: {used_ratio: 0.8, days_left: 1}` (the defaults)."""
    if node.value is None:
        return WarningPolicy()
    node.mapping("warning")
    ratio = node.get("used_ratio", float, WarningPolicy.used_ratio)
    if not 0 < ratio < 1:
        raise node.at("used_ratio").fail(f"must lie between 0 and 1, got {ratio}")
    days_left = node.get("days_left", int, WarningPolicy.days_left)
    if days_left < 0:
        raise node.at("days_left").fail(f"must not be negative, got {days_left}")
    return WarningPolicy(ratio, days_left)


def _item_halls(node: _Node, hall_codes: tuple[str, ...]) -> tuple[str, ...]:
    """The halls listed for the item; all the agency's halls when the key is absent ([] means none)."""
    if node.at("halls").value is None:
        return hall_codes
    for child in node.children("halls"):
        if child.check_text() not in hall_codes:
            raise child.fail(f"unknown hall {child.value!r}; the agency's halls are {', '.join(hall_codes)}")
    return node.texts("halls")


def _time_limit(node: _Node) -> TimeLimit:
    unit = node.text("unit", choices=tuple(UNIT_LABELS))
    value = node.get("value", int, 0 if unit == IMMEDIATE else _MISSING)
    if value < 0:
        raise node.at("value").fail(f"{value} is negative")
    if (unit == IMMEDIATE) != (value == 0):
        raise node.at("value").fail(f"{value} does not go with unit {unit}: "
                                    "即时办结 is value 0 with unit immediate, every other limit is at least 1")
    return TimeLimit(value=value, unit=unit)


def _optional_limit(node: _Node, key: str) -> TimeLimit | None:
    child = node.at(key)
    return None if child.value is None else _time_limit(child.mapping("limit"))


def _stage_limits(node: _Node, item: Item) -> tuple[StageLimit, ...]:
    """Deadlines inside the item; each counts from one of the item's stages or an earlier stage limit."""
    limits: list[StageLimit] = []
    for child in node.children("stage_limits"):
        child.mapping("stage_limit")
        starts_at = child.text("from")
        known = item.stages + tuple(limit.stage for limit in limits)
        if starts_at not in known:
            raise child.at("from").fail(f"{starts_at!r} is not one of {', '.join(known)}")
        limits.append(StageLimit(stage=child.text("stage"), limit=_time_limit(child), starts_at=starts_at))
    return tuple(limits)


def _material(node: _Node) -> Material:
    node.mapping("material")
    return Material(name=node.text("name"), required=node.get("required", bool, True),
                    form=node.text("form", DEFAULT_MATERIAL_FORM, choices=MATERIAL_FORMS),
                    waivable=node.get("waivable", bool, False), source=node.text("source", None),
                    condition=node.text("condition", None))


# --- document templates (文书) ------------------------------------------------------------------------------------

def parse_templates(document: dict, file: str) -> dict[str, DocumentTemplate]:
    """The default templates (documents.yaml): one for every kind of document."""
    return _templates(_Node(document, file).mapping("documents_file").at("documents"), complete=True)


def _templates(node: _Node, complete: bool) -> dict[str, DocumentTemplate]:
    """`documents:` kind -> {title, paragraphs}; the defaults give every kind, an agency overrides any of them."""
    if node.value is None:
        if complete:
            raise node.fail("missing required field")
        return {}
    node.typed(dict)
    templates = {}
    for kind in node.value:
        child = node.at(str(kind))
        if kind not in DOCUMENT_KINDS:
            raise child.fail(f"unknown document kind; expected one of {', '.join(DOCUMENT_KINDS)}")
        child.mapping("template")
        paragraphs = child.children("paragraphs", optional=False)
        if not paragraphs:
            raise child.at("paragraphs").fail("must list at least one paragraph")
        nodes = (child.at("title"), *paragraphs)
        texts = [text_node.check_text() for text_node in nodes]
        for text_node, text in zip(nodes, texts):
            if problem := template_problem(text):
                raise text_node.fail(problem)
        templates[kind] = DocumentTemplate(kind, texts[0], tuple(texts[1:]))
    missing = [kind for kind in DOCUMENT_KINDS if kind not in templates]
    if complete and missing:
        raise node.fail(f"no template for {', '.join(missing)}: every kind of document needs a default")
    return templates


# --- the whole catalog -------------------------------------------------------------------------------------------

def parse_catalog(items_document: dict, agency_documents: dict[str, dict], items_file: str = "items.yaml",
                  templates_document: dict | None = None, templates_file: str = "documents.yaml") -> Catalog:
    """The national items, every agency's list and the default document templates (none without that document);
    `agency_documents` is keyed by the file name errors should name."""
    items = parse_items(items_document, items_file)
    templates = parse_templates(templates_document, templates_file) if templates_document is not None else {}
    agencies: dict[str, Agency] = {}
    files: dict[str, str] = {}
    for file, document in sorted(agency_documents.items()):
        agency = parse_agency(document, file, items)
        if agency.code in agencies:
            raise CatalogError(file, "agency.code",
                               f"duplicate agency code {agency.code!r} (also in {files[agency.code]})")
        agencies[agency.code], files[agency.code] = agency, file
    return Catalog(items=items, agencies=agencies, documents=templates)
