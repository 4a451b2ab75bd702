"""domain/identity.py: GB 11643 居民身份证号码, GB 32100 统一社会信用代码 and bank accounts, with the checksums
computed here independently (weights as powers, not the module's tables)."""
from datetime import date

import pytest

from workflows.domain.identity import (MAX_AGE, bank_account_problem, credit_code_problem, eligibility_finding,
                                       field_problem, resident_id_check_character, resident_id_problem)

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # no I, O, S, V, Z
TODAY = date(2026, 12, 1)


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


VALID_ID, X_ID = resident_id("21040219800101123"), resident_id("11010519491231002")
VALID_CODE = credit_code("91210400MA0XQ1234")
assert X_ID.endswith("X") and not VALID_ID.endswith("X")
CHECK_DIGIT, ID_FORMAT = "身份证号码校验码不正确，请核对证件", "身份证号码应为18位：17位数字加1位校验码（数字或X）"


@pytest.mark.parametrize("number, problem", [
    (VALID_ID, None),
    (X_ID, None),
    (X_ID.lower(), None),                                    # a lower-case x is the same check character
    (f" {VALID_ID} ", None),
    ("210402198001011230", CHECK_DIGIT),                     # the number of issue 9, paid 930.00 on main
    (wrong_last(VALID_ID), CHECK_DIGIT),
    (VALID_ID[:17], ID_FORMAT),
    (VALID_ID + "1", ID_FORMAT),
    ("2104021980010112X3", ID_FORMAT),                       # a letter among the 17 digits
    ("21040219800101123Y", ID_FORMAT),
    (VALID_CODE, ID_FORMAT),                                 # a credit code is no ID number
    ("", ID_FORMAT),
    (resident_id("21040219800230123"), "身份证号码中的出生日期 19800230 不是有效日期"),
    (resident_id("21040219801301123"), "身份证号码中的出生日期 19801301 不是有效日期"),
    (resident_id("21040220261202123"), "身份证号码中的出生日期晚于今天"),
    (resident_id("21040218951231123"), f"身份证号码中的出生日期 1895-12-31 不合常理（年龄超过{MAX_AGE}岁）"),
    (resident_id("21040218960101123"), None),                # 130 this year: old, not impossible
    (resident_id("21040220261201123"), None),                # born today
])
def test_resident_id(number, problem):
    assert resident_id_problem(number, TODAY) == problem


def test_check_character_is_the_one_the_standard_gives():
    assert all(resident_id_check_character(n[:17]) == n[17] for n in (VALID_ID, X_ID))


@pytest.mark.parametrize("code, problem", [
    (VALID_CODE, None),
    ("91350100M000100Y43", None),                            # published codes
    ("91110000600037341L", None),
    (VALID_CODE.lower(), None),
    (wrong_last(VALID_CODE), "统一社会信用代码校验码不正确，请核对营业执照或登记证书"),
    ("91350100M000100Y4", "统一社会信用代码应为18位数字或大写字母（不含 I、O、S、V、Z）"),
    ("91350100M000100Y433", "统一社会信用代码应为18位数字或大写字母（不含 I、O、S、V、Z）"),
    ("91350100M000I00Y43", "统一社会信用代码应为18位数字或大写字母（不含 I、O、S、V、Z）"),
    (VALID_ID, "统一社会信用代码校验码不正确，请核对营业执照或登记证书"),  # an ID number is no credit code
])
def test_credit_code(code, problem):
    assert credit_code_problem(code) == problem


DIGITS_ONLY, LENGTH = "银行账号只能由数字组成（不含空格和字母）", "银行账号应为12至25位数字，请核对银行卡或开户许可证"


@pytest.mark.parametrize("account, problem", [
    ("6222020712001234567", None),                           # a 19-digit debit card
    ("6217000010001234", None),                              # 16 digits
    ("123456789012", None),                                  # 12: a short 对公 account
    ("1" * 25, None),
    ("1", LENGTH),                                           # issue 9's account
    ("13804130001", LENGTH),                                 # a mobile number
    ("1" * 26, LENGTH),
    ("6222 0207 1200 1234 567", DIGITS_ONLY),
    ("6222O20712001234567", DIGITS_ONLY),                    # a letter O for a zero
    ("-6222020712001234", DIGITS_ONLY),
])
def test_bank_account(account, problem):
    assert bank_account_problem(account) == problem


def test_form_fields_checked_by_their_id():
    assert field_problem("bank_account", "1") == LENGTH
    assert field_problem("credit_code", VALID_ID) is not None
    assert field_problem("hospital_name", "1") is None


@pytest.mark.parametrize("data, finding", [
    ({}, None),                                                            # the checks have not run
    ({"identity_verified": True, "insured": True}, None),
    ({"identity_verified": True, "insured": None}, None),                  # a unit: not asked
    ({"identity_verified": False, "identity_problem": "申请人身份证号码校验码不正确，请核对证件", "insured": False,
      "insured_problem": "未参保"}, "申请人身份证号码校验码不正确，请核对证件"),  # the identity first
    ({"identity_verified": True, "insured": False, "insured_problem": "经核查未参保"}, "经核查未参保"),
    ({"identity_verified": False}, "申请人身份核验未通过"),
])
def test_eligibility_finding(data, finding):
    assert eligibility_finding(data) == finding
