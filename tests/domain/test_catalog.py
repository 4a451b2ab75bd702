"""The catalog parser: what a valid document gives, and how each kind of mistake is reported."""
import copy
from datetime import time

import pytest

from workflows.domain.catalog import CatalogError, TimeLimit, parse_agency, parse_catalog, parse_items

ITEMS_FILE = "catalog/items.yaml"
AGENCY_FILE = "catalog/agencies/210400.yaml"

ITEMS = {
    "groups": [
        {"code": "0020360100Y", "name": "基本医疗保险参保和变更登记"},
        {"code": "00203600300Y", "name": "基本医疗保险关系转移接续"},
    ],
    "items": [
        {"code": "00203601002", "name": "职工参保登记", "group": "0020360100Y",
         "stages": ["申请", "受理", "审核", "办结"], "process": "item_00203601002",
         "applicant_kinds": ["自然人", "企业法人"], "legal_basis": ["《中华人民共和国社会保险法》(主席令第35号)第五十七条"]},
        {"code": "002036003002", "name": "转移接续手续办理", "group": "00203600300Y",
         "stages": ["申请", "受理", "审核", "办结"], "applicant_kinds": ["自然人"],
         "partner_process": "item_002036003002_out"},
        {"code": "L00029", "code_is_local": True, "name": "缴费基数核定", "group": "0020360100Y",
         "stages": ["申请", "受理", "审核", "办结"], "applicant_kinds": ["企业法人"]},
    ],
}

AGENCY = {
    "agency": {
        "code": "210400", "name": "抚顺市医疗保障事务服务中心", "short_name": "抚顺市医保中心", "region": "辽宁省抚顺市",
        "office_hours": [["08:30", "11:30"], ["13:00", "17:00"]],
        "consult_phone": "024-55883333", "complaint_phone": "024-55883333", "petition_phone": "53997899",
        "waiver_period": {"value": 20, "unit": "working_days"},
        "halls": [
            {"code": "210400-01", "name": "抚顺市医疗保障事务服务中心", "address": "顺城区临江东路19-12号楼 1层",
             "phone": "024-12345"},
            {"code": "210400-02", "name": "顺城分中心", "phone": "024-53997796"},
        ],
    },
    "items": [
        {"code": "00203601002", "promised_limit": {"value": 5, "unit": "working_days"},
         "materials": [
             {"name": "《职工基本医疗保险参保登记表》（加盖单位公章）", "source": "抚顺市医保局官网下载中心",
              "required": False, "condition": "用人单位职工参保登记"},
             {"name": "结婚证", "waivable": True},
         ],
         "prohibited": ["个体参保人员是外地户口，并且没有抚顺居住证"]},
        {"code": "002036003002", "name": "转移接续", "promised_limit": {"value": 20, "unit": "working_days"},
         "exceptional_limit": {"value": 3, "unit": "months"},
         "stage_limits": [{"stage": "联系函", "value": 5, "unit": "working_days", "from": "受理"},
                          {"stage": "信息表", "value": 10, "unit": "working_days", "from": "联系函"}],
         "halls": ["210400-02"], "phones": ["0453-3527166"], "commitment_allowed": True},
        {"code": "L00029", "promised_limit": {"unit": "immediate"}, "halls": []},
    ],
}


def parse(items=ITEMS, agency=AGENCY):
    return parse_catalog(items, {AGENCY_FILE: agency}, items_file=ITEMS_FILE)


# --- what a valid catalog gives -----------------------------------------------------------------------------------

def test_items_carry_group_stages_process_and_partner():
    items = parse_items(ITEMS, ITEMS_FILE)
    transfer = items["002036003002"]
    assert transfer.group.name == "基本医疗保险关系转移接续"
    assert transfer.stages == ("申请", "受理", "审核", "办结")
    assert transfer.process_key == "item_002036003002"  # defaults to item_ + code
    assert transfer.partner_process_key == "item_002036003002_out"
    assert items["L00029"].code_is_local and not transfer.code_is_local


def test_agency_header_halls_and_office_hours():
    agency = parse().agency("210400")
    assert agency.short_name == "抚顺市医保中心"
    assert agency.office_hours == ((time(8, 30), time(11, 30)), (time(13, 0), time(17, 0)))
    assert [hall.code for hall in agency.halls] == ["210400-01", "210400-02"]
    assert agency.hall("210400-02").phone == "024-53997796"
    assert agency.hall("210400-99") is None
    assert agency.waiver_period == TimeLimit(20, "working_days")
    assert agency.petition_phone == "53997899"


def test_agency_item_defaults_and_overrides():
    agency = parse().agency("210400")
    employee = agency.item("00203601002")
    assert employee.name == "职工参保登记"  # the national name when none is given
    assert employee.code == "00203601002" and employee.process_key == "item_00203601002"
    assert employee.hall_codes == ("210400-01", "210400-02")  # no halls: every hall of the agency
    assert employee.statutory_limit is None and employee.stage_limits == ()
    form, marriage = employee.materials
    assert (form.required, form.condition, form.form, form.source) == (
        False, "用人单位职工参保登记", "原件", "抚顺市医保局官网下载中心")
    assert marriage.required and marriage.waivable
    assert employee.waivable_materials == (marriage,)
    assert employee.prohibited == ("个体参保人员是外地户口，并且没有抚顺居住证",)

    transfer = agency.item("002036003002")
    assert transfer.name == "转移接续"
    assert transfer.hall_codes == ("210400-02",)
    assert transfer.exceptional_limit == TimeLimit(3, "months")
    assert [(s.stage, s.limit.value, s.starts_at) for s in transfer.stage_limits] == [
        ("联系函", 5, "受理"), ("信息表", 10, "联系函")]
    assert transfer.commitment_allowed

    local = agency.item("L00029")
    assert local.promised_limit == TimeLimit(0, "immediate")
    assert local.hall_codes == ()  # an explicit empty list: handled at no hall
    assert agency.item("00203601001") is None


@pytest.mark.parametrize("limit, label", [
    (TimeLimit(0, "immediate"), "即时办结"),
    (TimeLimit(5, "working_days"), "5个工作日"),
    (TimeLimit(30, "natural_days"), "30个自然日"),
    (TimeLimit(3, "months"), "3个月"),
])
def test_time_limit_label(limit, label):
    assert limit.label == label


def test_catalog_lookups():
    catalog = parse()
    assert catalog.agency("999999") is None
    assert catalog.item("L00029").name == "缴费基数核定"
    assert set(catalog.items) == {"00203601002", "002036003002", "L00029"}


def test_same_agency_code_in_two_files_is_an_error():
    with pytest.raises(CatalogError) as raised:
        parse_catalog(ITEMS, {"agencies/a.yaml": AGENCY, "agencies/b.yaml": AGENCY})
    assert str(raised.value) == "agencies/b.yaml: agency.code: duplicate agency code '210400' (also in agencies/a.yaml)"


def test_parse_agency_alone_names_its_file():
    items = parse_items(ITEMS, ITEMS_FILE)
    broken = copy.deepcopy(AGENCY)
    broken["items"][0]["promised_limit"]["unit"] = "days"
    with pytest.raises(CatalogError, match=r"^x\.yaml: items\[0\]\.promised_limit\.unit: "):
        parse_agency(broken, "x.yaml", items)


# --- mistakes: each names the file and the field ------------------------------------------------------------------

def _set(path, value):
    """A change to a document: set the value at `path` (keys and indexes); value _DELETE removes the key."""
    def change(document):
        target = document
        for key in path[:-1]:
            target = target[key]
        if value is _DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return change


_DELETE = object()

AGENCY_MISTAKES = [
    ("warning ratio out of range", _set(["items", 0, "warning"], {"used_ratio": 1.5}),
     "items[0].warning.used_ratio", "must lie between 0 and 1"),
    ("warning days negative", _set(["items", 0, "warning"], {"days_left": -1}),
     "items[0].warning.days_left", "must not be negative"),
    ("warning key typo", _set(["items", 0, "warning"], {"ratio": 0.5}), "items[0].warning.ratio", "unknown key"),
    ("payment ratio above 1", _set(["items", 0, "payment_policy"], {"ratio": 1.5}),
     "items[0].payment_policy.ratio", "must be a number above 0 and at most 1"),
    ("payment ratio as text", _set(["items", 0, "payment_policy"], {"ratio": "50%"}),
     "items[0].payment_policy.ratio", "must be a number above 0 and at most 1"),
    ("payment cap negative", _set(["items", 0, "payment_policy"], {"cap": -3000}),
     "items[0].payment_policy.cap", "must be an amount in yuan"),
    ("payment deductible in tenths of a cent", _set(["items", 0, "payment_policy"], {"deductible": 0.001}),
     "items[0].payment_policy.deductible", "must be an amount in yuan"),
    ("payment key typo", _set(["items", 0, "payment_policy"], {"ceiling": 3000}),
     "items[0].payment_policy.ceiling", "unknown key"),
    ("missing field", _set(["items", 0, "promised_limit"], _DELETE),
     "items[0].promised_limit", "missing required field"),
    ("missing agency name", _set(["agency", "name"], _DELETE), "agency.name", "missing required field"),
    ("typo in a key", lambda d: d["items"][1].update(promissed_limit={"value": 5, "unit": "working_days"}),
     "items[1].promissed_limit", "unknown key"),
    ("typo in a material key", _set(["items", 0, "materials", 0, "requried"], True),
     "items[0].materials[0].requried", "unknown key"),
    ("unknown unit", _set(["items", 0, "promised_limit", "unit"], "days"),
     "items[0].promised_limit.unit", "'days' is not one of immediate, working_days, natural_days, months"),
    ("negative value", _set(["items", 0, "promised_limit", "value"], -5),
     "items[0].promised_limit.value", "-5 is negative"),
    ("zero days", _set(["items", 0, "promised_limit", "value"], 0),
     "items[0].promised_limit.value", "does not go with unit working_days"),
    ("immediate with days", _set(["items", 2, "promised_limit", "value"], 3),
     "items[2].promised_limit.value", "does not go with unit immediate"),
    ("value as text", _set(["items", 0, "promised_limit", "value"], "5"),
     "items[0].promised_limit.value", "expected an integer, got a string '5'"),
    ("value as boolean", _set(["items", 0, "promised_limit", "value"], True),
     "items[0].promised_limit.value", "expected an integer, got true"),
    ("limit not a mapping", _set(["items", 0, "promised_limit"], "5个工作日"),
     "items[0].promised_limit", "expected a mapping"),
    ("waiver period unit", _set(["agency", "waiver_period", "unit"], "weeks"),
     "agency.waiver_period.unit", "'weeks' is not one of"),
    ("unknown item code", _set(["items", 0, "code"], "00203601099"),
     "items[0].code", "unknown item code '00203601099'"),
    ("item code as number", _set(["items", 0, "code"], 203601002),
     "items[0].code", "expected a string, got an integer 203601002"),
    ("duplicate item", _set(["items", 1, "code"], "00203601002"),
     "items[1].code", "duplicate item code '00203601002' (first at items[0])"),
    ("unknown hall of an item", _set(["items", 1, "halls"], ["210400-02", "210400-11"]),
     "items[1].halls[1]", "unknown hall '210400-11'"),
    ("duplicate hall", _set(["agency", "halls", 1, "code"], "210400-01"),
     "agency.halls[1].code", "duplicate hall code '210400-01'"),
    ("hall of another agency", _set(["agency", "halls", 1, "code"], "231025-01"),
     "agency.halls[1].code", "does not start with the agency code"),
    ("bad agency code", _set(["agency", "code"], "2104"),
     "agency.code", "'2104' is not a six-digit administrative-division code"),
    ("bad phone", _set(["agency", "consult_phone"], "024 5588 3333"),
     "agency.consult_phone", "is not a phone number"),
    ("phone as number", _set(["agency", "petition_phone"], 53997899),
     "agency.petition_phone", "expected a string"),
    ("bad item phone", _set(["items", 1, "phones"], ["0453-3527166", "电话"]),
     "items[1].phones[1]", "is not a phone number"),
    ("bad hall phone", _set(["agency", "halls", 0, "phone"], "12345-024"),
     "agency.halls[0].phone", "is not a phone number"),
    ("time without leading zero", _set(["agency", "office_hours", 0, 0], "8:30"),
     "agency.office_hours[0][0]", "'8:30' is not a time as HH:MM"),
    ("time out of range", _set(["agency", "office_hours", 1, 1], "25:00"),
     "agency.office_hours[1][1]", "is not a time as HH:MM"),
    ("period backwards", _set(["agency", "office_hours", 1], ["17:00", "13:00"]),
     "agency.office_hours[1]", "not before its end"),
    ("period of three", _set(["agency", "office_hours", 0], ["08:30", "11:30", "12:00"]),
     "agency.office_hours[0]", "pair"),
    ("unknown material form", _set(["items", 0, "materials", 0, "form"], "扫描件"),
     "items[0].materials[0].form", "'扫描件' is not one of 原件"),
    ("required as text", _set(["items", 0, "materials", 1, "waivable"], "是"),
     "items[0].materials[1].waivable", "expected true or false"),
    ("empty material name", _set(["items", 0, "materials", 1, "name"], "  "),
     "items[0].materials[1].name", "must not be empty"),
    ("stage limit from nowhere", _set(["items", 1, "stage_limits", 1, "from"], "转出"),
     "items[1].stage_limits[1].from", "'转出' is not one of 申请, 受理, 审核, 办结, 联系函"),
    ("stage limit without value", _set(["items", 1, "stage_limits", 0, "value"], _DELETE),
     "items[1].stage_limits[0].value", "missing required field"),
    ("items not a list", _set(["items"], {"code": "00203601002"}), "items", "expected a list"),
    ("prohibited not a list", _set(["items", 0, "prohibited"], "医保欠费"),
     "items[0].prohibited", "expected a list"),
]


@pytest.mark.parametrize("change, field, message", [case[1:] for case in AGENCY_MISTAKES],
                         ids=[case[0] for case in AGENCY_MISTAKES])
def test_agency_mistake_names_file_and_field(change, field, message):
    broken = copy.deepcopy(AGENCY)
    change(broken)
    with pytest.raises(CatalogError) as raised:
        parse(agency=broken)
    error = raised.value
    assert (error.file, error.field) == (AGENCY_FILE, field)
    assert message in error.message
    assert str(error).startswith(f"{AGENCY_FILE}: {field}: ")


ITEMS_MISTAKES = [
    ("unknown group", _set(["items", 0, "group"], "00203600900Y"), "items[0].group", "unknown group '00203600900Y'"),
    ("stages without 申请", _set(["items", 0, "stages"], ["受理", "审核", "办结"]),
     "items[0].stages", "must start with 申请 and end with 办结"),
    ("stages without 办结", _set(["items", 1, "stages"], ["申请", "受理", "审核"]),
     "items[1].stages", "must start with 申请 and end with 办结"),
    ("stage twice", _set(["items", 1, "stages"], ["申请", "审核", "审核", "办结"]), "items[1].stages", "twice"),
    ("duplicate item", _set(["items", 1, "code"], "00203601002"),
     "items[1].code", "duplicate item code '00203601002'"),
    ("duplicate group", _set(["groups", 1, "code"], "0020360100Y"),
     "groups[1].code", "duplicate group code '0020360100Y'"),
    ("code with blank", _set(["items", 0, "code"], "002036 01002"),
     "items[0].code", "is not digits and capital letters"),
    ("local code not flagged", _set(["items", 2, "code_is_local"], _DELETE), "items[2].code", "code_is_local: true"),
    ("flag on a national code", _set(["items", 0, "code_is_local"], True), "items[0].code", "a local code is L"),
    ("unknown applicant kind", _set(["items", 0, "applicant_kinds"], ["自然人", "个人"]),
     "items[0].applicant_kinds[1]", "'个人' is not one of 自然人"),
    ("no applicant kind", _set(["items", 0, "applicant_kinds"], []),
     "items[0].applicant_kinds", "at least one"),
    ("typo in an item key", _set(["items", 0, "stage"], ["申请", "办结"]), "items[0].stage", "unknown key"),
    ("bad process key", _set(["items", 0, "process"], "item 00203601002"),
     "items[0].process", "is not a BPMN process id"),
    ("missing groups", _set(["groups"], _DELETE), "groups", "missing required field"),
    ("legal basis as text", _set(["items", 0, "legal_basis"], "社会保险法"), "items[0].legal_basis", "expected a list"),
]


@pytest.mark.parametrize("change, field, message", [case[1:] for case in ITEMS_MISTAKES],
                         ids=[case[0] for case in ITEMS_MISTAKES])
def test_items_mistake_names_file_and_field(change, field, message):
    broken = copy.deepcopy(ITEMS)
    change(broken)
    with pytest.raises(CatalogError) as raised:
        parse(items=broken)
    assert (raised.value.file, raised.value.field) == (ITEMS_FILE, field)
    assert message in raised.value.message


@pytest.mark.parametrize("document", [None, [], "items"])
def test_a_document_that_is_not_a_mapping(document):
    with pytest.raises(CatalogError, match=r"^catalog/items\.yaml: \(document\): expected a mapping"):
        parse(items=document)


def test_an_item_may_warn_earlier_than_the_default():
    from workflows.domain.catalog import WarningPolicy

    document = copy.deepcopy(AGENCY)
    document["items"][0]["warning"] = {"used_ratio": 0.5, "days_left": 3}
    catalog = parse(agency=document)
    first, second = list(catalog.agency("210400").items.values())[:2]
    assert first.warning == WarningPolicy(0.5, 3) and second.warning == WarningPolicy()


def test_an_item_that_pays_has_its_agencys_policy_figures():
    from decimal import Decimal

    from workflows.domain.amounts import PaymentPolicy

    document = copy.deepcopy(AGENCY)
    document["items"][0]["payment_policy"] = {"deductible": 800, "ratio": 0.85, "cap": "300000.00"}
    document["items"][1]["payment_policy"] = {}
    first, second, *others = list(parse(agency=document).agency("210400").items.values())
    assert first.payment_policy == PaymentPolicy(Decimal("800"), Decimal("0.85"), Decimal("300000.00"))
    assert second.payment_policy == PaymentPolicy(Decimal("0"), Decimal("1"), None)  # 100 %, no cap
    assert all(item.payment_policy is None for item in others)
