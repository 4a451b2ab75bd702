"""identity_check (身份核验) and insured_check (参保状态核查): the facts the paying diagrams' gateway 身份及参保核验
reads. The number rules themselves are tested in tests/domain/test_identity.py."""
import pytest

from handlers.identity import identity_check
from handlers.insured_record import insured_check

from workflows.services.demo import resident_id

from support.process_driver import credit_code


def wrong_last(number: str) -> str:
    return number[:-1] + ("1" if number[-1] != "1" else "2")


VALID_ID, X_ID, VALID_CODE = resident_id("21040219800101123"), resident_id("11010519491231002"), credit_code()
PERSON, COMPANY = "自然人", "企业法人"
CHECK_DIGIT = "身份证号码校验码不正确，请核对证件"
PEOPLE = {VALID_ID: {"id_number": VALID_ID, "name": "张伟", "status": "参保缴费", "arrears": "0.00",
                     "account_balance": "0.00"},
          X_ID: {"id_number": X_ID, "name": "王芳", "status": "未参保", "arrears": "0.00", "account_balance": "0.00"}}


@pytest.mark.parametrize("applicant, problem", [
    ({"name": "张伟", "id_number": VALID_ID, "kind": PERSON}, None),
    ({"name": "张伟", "id_number": VALID_ID}, None),                     # no kind: a person
    ({"name": "赵六", "id_number": resident_id("21040219900101123")}, None),  # unknown to the platform: number right
    ({"name": "张伟", "id_number": wrong_last(VALID_ID)}, f"申请人{CHECK_DIGIT}"),
    ({"name": "张伟", "id_number": resident_id("21040219800230123")},
     "申请人身份证号码中的出生日期 19800230 不是有效日期"),
    ({"name": "张伟", "id_number": VALID_CODE}, "申请人身份证号码应为18位：17位数字加1位校验码（数字或X）"),
    ({"name": "张伟", "id_number": ""}, "申请人未提供证件号码"),
    ({"name": "李四", "id_number": VALID_ID}, "申请人姓名“李四”与医保信息平台登记的该证件号码持有人姓名不符"),
    ({"name": "康宁诊所", "id_number": VALID_CODE, "kind": COMPANY}, None),
    ({"name": "康宁诊所", "id_number": wrong_last(VALID_CODE), "kind": COMPANY},
     "申请人统一社会信用代码校验码不正确，请核对营业执照或登记证书"),
    ({"name": "张伟", "id_number": VALID_ID, "agent": {"name": "李娜", "id_number": wrong_last(X_ID)}},
     f"委托代理人{CHECK_DIGIT}"),
    ({"name": "张伟", "id_number": VALID_ID, "agent": {"name": "李娜", "id_number": X_ID}}, None),
])
def test_identity_check(context, applicant, problem):
    result = identity_check(context(applicant=applicant, people=PEOPLE))
    assert result == {"identity_verified": problem is None, "identity_problem": problem}


def test_a_unit_is_not_looked_up_among_insured_people(context, calls):
    identity_check(context(applicant={"name": "康宁诊所", "id_number": credit_code("12210400MB0000000"),
                                      "kind": "事业法人"}, people=PEOPLE))
    assert calls == []


@pytest.mark.parametrize("id_number, insured, status, problem", [
    (VALID_ID, True, "参保缴费", None),
    (X_ID, False, "未参保", f"经全国医疗保障信息平台核查，申请人（证件号码 {X_ID[:6]}********{X_ID[-4:]}）未参保，"
                         "不能享受医疗保障待遇"),
    (resident_id("21040219900101123"), False, "未参保",
     "经全国医疗保障信息平台核查，申请人（证件号码 210402********1233）无参保记录，不能享受医疗保障待遇"),
])
def test_insured_check_asks_the_platform(context, calls, id_number, insured, status, problem):
    result = insured_check(context(applicant={"name": "某人", "id_number": id_number}, people=PEOPLE))
    assert result == {"insured": insured, "insurance_status": status, "insured_problem": problem}
    assert [call[:3] for call in calls] == [("national_platform", "query_insured", {"id_number": id_number})]


def test_insured_check_does_not_ask_about_a_unit(context, calls):
    result = insured_check(context(applicant={"name": "康宁诊所", "id_number": VALID_CODE, "kind": COMPANY}))
    assert result == {"insured": None, "insurance_status": None, "insured_problem": None} and calls == []
