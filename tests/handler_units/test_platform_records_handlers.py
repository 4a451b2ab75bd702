"""registration, filing, network_open, fund_transfer: what each writes to the national platform."""
from datetime import date
from decimal import Decimal

import pytest

from handlers import HandlerError
from handlers.platform_records import filing, fund_transfer, network_open, registration

CASE = "210400-20261123-00001"
ZHANG_WEI = "11010519491231002X"
BASE = {"case_number": CASE, "agency_code": "210400", "item_code": "002036006001", "id_number": ZHANG_WEI,
        "name": "张伟"}
PEOPLE = {ZHANG_WEI: {"name": "张伟", "status": "参保缴费", "arrears": "0.00", "account_balance": "3260.45"}}


# handler, params, case data, operation recorded, extra request fields (as text), result
WRITES = [
    (registration, {"operation": "参保登记"}, {"insured_kind": "flexible", "opinion": "同意"},
     "register", {"operation": "参保登记", "insured_kind": "flexible"}, {"registration_reference": f"DJ{CASE}"}),
    (registration, {"operation": "缴费基数核定"},
     {"unit_name": "抚顺某公司", "credit_code": "91350100M000100Y43", "declared_base": Decimal("5000.00"),
      "change_fields": None},
     "register", {"operation": "缴费基数核定", "unit_name": "抚顺某公司", "credit_code": "91350100M000100Y43",
                  "declared_base": "5000.00"}, {"registration_reference": f"DJ{CASE}"}),
    (filing, {}, {"destination_region": "上海市", "start_date": date(2026, 12, 1), "designated_hospital": "瑞金医院"},
     "file_remote_care", {"destination_region": "上海市", "start_date": "2026-12-01", "designated_hospital": "瑞金医院"},
     {"filing_number": f"BA{CASE}"}),
    (filing, {}, {"destination_region": "上海市"},
     "file_remote_care", {"destination_region": "上海市"}, {"filing_number": f"BA{CASE}"}),
    (network_open, {}, {"institution_name": "抚顺市第一医院", "institution_kind": "定点医疗机构",
                        "institution_address": "新抚区", "credit_code": "12210400MB00000004",
                        "bank_account": "6222020400012345678"},
     "open_network", {"institution_name": "抚顺市第一医院", "institution_kind": "定点医疗机构",
                      "institution_address": "新抚区", "credit_code": "12210400MB00000004"},
     {"network_code": f"DD{CASE}"}),
]


@pytest.mark.parametrize("function, params, data, operation, fields, result", WRITES)
def test_platform_write_records_the_case_and_the_fields_it_forwards(context, calls, function, params, data,
                                                                     operation, fields, result):
    assert function(context(params=params, data=data)) == result

    reference = next(iter(result.values()))
    assert calls == [("national_platform", operation, {**BASE, **fields}, {"reference": reference})]


def test_fund_transfer_moves_the_platform_balance(context, calls):
    result = fund_transfer(context(data={"to_agency_code": "310000", "certificate_no": "PZ1"}, people=PEOPLE))

    assert result == {"fund_transfer_reference": f"ZY{CASE}", "transferred_amount": "3260.45"}
    assert [call[:2] for call in calls] == [("national_platform", "query_insured"),
                                            ("national_platform", "transfer_funds")]
    assert calls[1][2:] == ({**BASE, "to_agency_code": "310000", "account_balance": "3260.45"},
                            {"reference": f"ZY{CASE}"})


@pytest.mark.parametrize("function, params, data, message", [
    (registration, {}, {"insured_kind": "flexible"}, "服务任务缺少参数 operation"),
    (filing, {}, {"start_date": date(2026, 12, 1)}, "案件数据缺少 destination_region"),
    (filing, {}, {"destination_region": ""}, "案件数据缺少 destination_region"),
    (network_open, {}, {"institution_address": "新抚区"}, "案件数据缺少 institution_name"),
])
def test_platform_write_without_a_required_field_fails_and_writes_nothing(context, calls, function, params, data,
                                                                          message):
    with pytest.raises(HandlerError) as failure:
        function(context(params=params, data=data))
    assert str(failure.value) == message
    assert calls == []
