"""identity_check: GB 11643 居民身份证 and GB 32100 统一社会信用代码 checksums, computed here independently."""
import pytest

from handlers.identity import identity_check

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z


def resident_id(digits17: str) -> str:
    """The 17 digits and their check character: weights 2^(17-i) mod 11, check table 1 0 X 9 … 2."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(digits17))
    return digits17 + "10X98765432"[total % 11]


def credit_code(chars17: str) -> str:
    """The 17 characters and their check character: weights 3^i mod 31, check = 31 - sum mod 31."""
    total = sum(CREDIT_CHARS.index(c) * (3 ** i % 31) for i, c in enumerate(chars17))
    return chars17 + CREDIT_CHARS[(31 - total % 31) % 31]


def wrong_last(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


VALID_ID = resident_id("21040219800101123")
X_ID = resident_id("11010519491231002")
VALID_CODE = credit_code("91210400MA0XQ1234")
assert X_ID.endswith("X") and not VALID_ID.endswith("X")

PERSON, COMPANY = "自然人", "企业法人"
ID_PROBLEM, CODE_PROBLEM = "身份证号码校验不通过", "统一社会信用代码校验不通过"


@pytest.mark.parametrize("kind, number, valid", [
    (PERSON, VALID_ID, True),
    (PERSON, X_ID, True),
    (PERSON, X_ID.lower(), True),                     # a lower-case x is the same check character
    (PERSON, "110105194912310021", False),
    (PERSON, wrong_last(VALID_ID), False),            # wrong check digit
    (PERSON, VALID_ID[:17], False),                   # 17 characters
    (PERSON, VALID_ID + "1", False),                  # 19 characters
    (PERSON, "2104021980010112X" + "3", False),       # a letter among the 17 digits
    (PERSON, "", False),
    (PERSON, VALID_CODE, False),                      # a credit code is no ID number
    (COMPANY, VALID_CODE, True),
    (COMPANY, "91350100M000100Y43", True),            # published codes
    (COMPANY, "91110000600037341L", True),
    (COMPANY, VALID_CODE.lower(), True),
    (COMPANY, wrong_last(VALID_CODE), False),
    (COMPANY, "91350100M000100Y4", False),            # 17 characters
    (COMPANY, "91350100M000100Y433", False),          # 19 characters
    (COMPANY, "91350100M000I00Y43", False),           # I is not in the code alphabet
    (COMPANY, VALID_ID, False),                       # an ID number is no credit code
    ("其他组织", VALID_CODE, True),                     # every kind but 自然人 is checked as a credit code
])
def test_identity_check(context, calls, kind, number, valid):
    result = identity_check(context(applicant={"name": "申请人", "id_number": number, "kind": kind}))

    problem = None if valid else (ID_PROBLEM if kind == PERSON else CODE_PROBLEM)
    assert result == {"identity_verified": valid, "identity_problem": problem}
    assert calls == []  # checked locally, no outside system asked


def test_applicant_without_kind_is_checked_as_a_person(context):
    assert identity_check(context(applicant={"name": "张伟", "id_number": VALID_ID}))["identity_verified"] is True
    result = identity_check(context(applicant={"name": "张伟", "id_number": VALID_CODE}))
    assert result == {"identity_verified": False, "identity_problem": ID_PROBLEM}
