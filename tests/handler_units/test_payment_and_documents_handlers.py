"""payment (待遇拨付) and certificate (出具文书)."""
from decimal import Decimal

import pytest

from handlers import HandlerError
from handlers.documents import certificate
from handlers.payment import payment

CASE = "210400-20261123-00001"
ACCOUNT = "6222020400012345678"
VERIFIED = {"identity_verified": True, "insured": True}  # what 身份及参保核验 found before 拨付


@pytest.mark.parametrize("amount, text", [(Decimal("1234.50"), "1234.50"), ("88.8", "88.8")])
def test_payment_pays_the_payable_amount_to_the_bank_account(context, calls, amount, text):
    result = payment(context(data={"payable_amount": amount, "bank_account": ACCOUNT, **VERIFIED}))

    assert result == {"paid_amount": Decimal(text), "payment_reference": f"ZF{CASE}"}
    assert calls == [("payment", "pay", {"account": ACCOUNT, "amount": text, "reference": CASE},
                      {"transaction": f"ZF{CASE}", "status": "已受理"})]


@pytest.mark.parametrize("data, message", [
    ({"payable_amount": Decimal("100")}, "案件数据缺少 bank_account"),
    ({"payable_amount": Decimal("100"), "bank_account": ""}, "案件数据缺少 bank_account"),
    ({"payable_amount": Decimal("-0.01"), "bank_account": ACCOUNT}, "拨付金额应大于0（核定金额 -0.01）"),
    ({"payable_amount": Decimal("0.00"), "bank_account": ACCOUNT}, "拨付金额应大于0（核定金额 0.00）"),
    ({"bank_account": ACCOUNT}, "案件数据缺少 payable_amount"),
    ({"payable_amount": Decimal("100"), "bank_account": "1"},
     "不予拨付：银行账号应为12至25位数字，请核对银行卡或开户许可证"),
    ({"payable_amount": Decimal("100"), "bank_account": "6222-0204-0001"}, "不予拨付：银行账号只能由数字组成（不含空格和字母）"),
    # defence in depth: reached although 身份及参保核验 did not pass (or never ran)
    ({"payable_amount": Decimal("100"), "bank_account": ACCOUNT, "identity_verified": False,
      "identity_problem": "申请人身份证号码校验码不正确，请核对证件"}, "不予拨付：申请人身份证号码校验码不正确，请核对证件"),
    ({"payable_amount": Decimal("100"), "bank_account": ACCOUNT, "identity_verified": None},
     "不予拨付：申请人身份未经核验"),
    ({"payable_amount": Decimal("100"), "bank_account": ACCOUNT, "insured": False, "insured_problem": "申请人未参保"},
     "不予拨付：申请人未参保"),
])
def test_payment_refuses_without_paying(context, calls, data, message):
    with pytest.raises(HandlerError) as failure:
        payment(context(data={**VERIFIED, **data}))
    assert str(failure.value) == message
    assert calls == []


@pytest.mark.parametrize("kind, number", [
    ("参保凭证", f"PZ{CASE}"), ("联系函", f"LXH{CASE}"), ("信息表", f"XXB{CASE}"),
    ("定点医药机构服务协议", f"XY{CASE}"), ("门诊慢特病待遇认定通知书", f"MTB{CASE}"),
    ("证明", f"WS{CASE}"),  # a kind without its own prefix: 文书
])
def test_certificate_numbers_by_document_kind(context, calls, kind, number):
    result = certificate(context(params={"document": kind}))

    assert result == {"documents": [{"kind": kind, "number": number}], "last_document_number": number}
    assert calls == []


def test_certificate_appends_to_the_documents_without_changing_the_case_data(context):
    earlier = [{"kind": "联系函", "number": f"LXH{CASE}"}]
    ctx = context(params={"document": "信息表"}, data={"documents": earlier})

    result = certificate(ctx)

    assert result["documents"] == [{"kind": "联系函", "number": f"LXH{CASE}"},
                                   {"kind": "信息表", "number": f"XXB{CASE}"}]
    assert result["last_document_number"] == f"XXB{CASE}"
    assert ctx.data["documents"] == [{"kind": "联系函", "number": f"LXH{CASE}"}]
    assert result["documents"] is not ctx.data["documents"]


def test_certificate_without_document_param_fails(context):
    with pytest.raises(HandlerError, match="^服务任务缺少参数 document$"):
        certificate(context())
