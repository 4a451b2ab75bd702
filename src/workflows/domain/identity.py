"""Who a case is about, checked before anything is decided or paid: the 居民身份证号码 (GB 11643), the
统一社会信用代码 (GB 32100) and the bank account a payment goes to; and what the checks of a paying process found.

Each check answers with the problem in words a clerk can act on, or None when the value is well-formed.
"""
from __future__ import annotations

import re
from datetime import date

# GB 11643-1999: 6 digits of the address code, 8 of the birth date (YYYYMMDD), 3 of the sequence, a check character
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# The oldest person whose age was ever verified lived 122 years: a birth date further back is a typing error.
MAX_AGE = 130
# GB 32100-2015: 18 characters of 31 (digits and capitals without I, O, S, V, Z), the last a check character
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# A bank card number (借记卡, what a person is paid to) has 16 to 19 digits (ISO/IEC 7812, JR/T 0008); the
# 对公结算账户 of an institution, by bank, 12 (中国银行's older accounts) to 22 or so. 12–25 refuses no real account
# and does refuse the slips a clerk makes: "1", a mobile number (11 digits), a card number cut short.
BANK_ACCOUNT_DIGITS = (12, 25)
_BANK_ACCOUNT = re.compile(r"^[0-9]+$")


def resident_id_check_character(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits of a 居民身份证号码."""
    return _ID_CHECK[sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS)) % 11]


def resident_id_problem(number: str, today: date) -> str | None:
    """Why `number` is no 居民身份证号码 (GB 11643): format, check character, birth date; None if it is one."""
    number = number.strip().upper()
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        return "身份证号码应为18位：17位数字加1位校验码（数字或X）"
    if resident_id_check_character(number[:17]) != number[17]:
        return "身份证号码校验码不正确，请核对证件"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return f"身份证号码中的出生日期 {number[6:14]} 不是有效日期"
    if born > today:
        return "身份证号码中的出生日期晚于今天"
    if today.year - born.year > MAX_AGE:
        return f"身份证号码中的出生日期 {born.isoformat()} 不合常理（年龄超过{MAX_AGE}岁）"
    return None


def credit_code_problem(code: str) -> str | None:
    """Why `code` is no 统一社会信用代码 (GB 32100): length, alphabet, check character; None if it is one."""
    code = code.strip().upper()
    if len(code) != 18 or any(char not in _CREDIT_CHARS for char in code):
        return "统一社会信用代码应为18位数字或大写字母（不含 I、O、S、V、Z）"
    total = sum(_CREDIT_CHARS.index(char) * weight for char, weight in zip(code, _CREDIT_WEIGHTS))
    if _CREDIT_CHARS[(31 - total % 31) % 31] != code[17]:
        return "统一社会信用代码校验码不正确，请核对营业执照或登记证书"
    return None


def bank_account_problem(account: str) -> str | None:
    """Why `account` cannot be a Chinese bank account number; None if it can."""
    account = account.strip()
    low, high = BANK_ACCOUNT_DIGITS
    if not _BANK_ACCOUNT.match(account):
        return "银行账号只能由数字组成（不含空格和字母）"
    if not low <= len(account) <= high:
        return f"银行账号应为{low}至{high}位数字，请核对银行卡或开户许可证"
    return None


# Start-form fields whose value is checked wherever a form carries them (field id -> check)
FIELD_CHECKS = {"bank_account": bank_account_problem, "credit_code": credit_code_problem}


def field_problem(field_id: str, value: str) -> str | None:
    check = FIELD_CHECKS.get(field_id)
    return check(value) if check else None


# --- what the automatic checks of a paying process found (handlers identity_check and insured_check) -----------

def eligibility_finding(data: dict) -> str | None:
    """The finding that stops a payment: an identity that failed 身份核验, or an applicant the 医保信息平台
    reports not insured; None while both checks passed or did not run."""
    if data.get("identity_verified") is False:
        return data.get("identity_problem") or "申请人身份核验未通过"
    if data.get("insured") is False:
        return data.get("insured_problem") or "经医保信息平台核查，申请人未参保"
    return None
