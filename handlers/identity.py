"""身份核验: checks the applicant's ID number (居民身份证) or unified social credit code (统一社会信用代码)."""
from .registry import HandlerContext, handler

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def resident_id_is_valid(number: str) -> bool:
    """GB 11643: 17 digits and a check character."""
    number = number.upper()
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number, _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17]


def credit_code_is_valid(code: str) -> bool:
    """GB 32100: 18 characters of the code alphabet, the last a check character."""
    code = code.upper()
    if len(code) != 18 or any(char not in _CREDIT_CHARS for char in code):
        return False
    total = sum(_CREDIT_CHARS.index(char) * weight for char, weight in zip(code, _CREDIT_WEIGHTS))
    return _CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


@handler("identity_check", "身份核验")
def identity_check(context: HandlerContext) -> dict:
    number = str(context.applicant.get("id_number", ""))
    is_person = context.applicant.get("kind", "自然人") == "自然人"
    valid = resident_id_is_valid(number) if is_person else credit_code_is_valid(number)
    problem = None if valid else ("身份证号码校验不通过" if is_person else "统一社会信用代码校验不通过")
    return {"identity_verified": valid, "identity_problem": problem}
