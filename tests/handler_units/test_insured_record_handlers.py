"""insurance_query and arrears_check: questions put to the (local) national platform."""
from decimal import Decimal

import pytest

from handlers.insured_record import arrears_check, insurance_query

ZHANG_WEI = "11010519491231002X"
LIU_YANG = "210411197504044569"
PEOPLE = {
    ZHANG_WEI: {"id_number": ZHANG_WEI, "name": "张伟", "status": "参保缴费", "arrears": "0.00",
                "account_balance": "3260.45"},
    LIU_YANG: {"id_number": LIU_YANG, "name": "刘洋", "status": "暂停参保", "arrears": "1280.00",
               "account_balance": "0.00"},
}
UNKNOWN = "110101199003070011"
NOT_FOUND = {"found": False, "status": "未参保", "arrears": "0.00", "account_balance": "0.00"}


@pytest.mark.parametrize("id_number, expected", [
    (LIU_YANG, {"in_arrears": True, "arrears_amount": Decimal("1280.00"), "insurance_status": "暂停参保"}),
    (ZHANG_WEI, {"in_arrears": False, "arrears_amount": Decimal("0.00"), "insurance_status": "参保缴费"}),
    (UNKNOWN, {"in_arrears": False, "arrears_amount": Decimal("0"), "insurance_status": "未参保"}),
])
def test_arrears_check(context, calls, id_number, expected):
    result = arrears_check(context(applicant={"name": "某人", "id_number": id_number}, people=PEOPLE))

    assert result == expected
    assert isinstance(result["arrears_amount"], Decimal)
    [(system, operation, request, response)] = calls
    assert (system, operation, request) == ("national_platform", "query_insured", {"id_number": id_number})
    assert response["found"] is (id_number in PEOPLE)


@pytest.mark.parametrize("id_number, expected", [
    (ZHANG_WEI, {"found": True, **PEOPLE[ZHANG_WEI]}),
    (LIU_YANG, {"found": True, **PEOPLE[LIU_YANG]}),
    (UNKNOWN, NOT_FOUND),
])
def test_insurance_query(context, calls, id_number, expected):
    result = insurance_query(context(applicant={"name": "某人", "id_number": id_number}, people=PEOPLE))

    assert result == {"insurance_record": expected}
    assert calls == [("national_platform", "query_insured", {"id_number": id_number}, expected)]


def test_applicant_without_id_number_is_asked_as_empty_and_not_found(context, calls):
    assert insurance_query(context(applicant={"name": "某人"}, people=PEOPLE)) == {"insurance_record": NOT_FOUND}
    assert calls == [("national_platform", "query_insured", {"id_number": ""}, NOT_FOUND)]
