"""The items' processes: the application forms, the shapes of the main paths, which shape and form each catalog
item uses (PROFILES), and a catalog item made into the spec of its process and of its partner's."""
from __future__ import annotations

from dataclasses import replace

from .prohibited import with_rule_checks
from .spec import (ACCEPT, IDENTITY, INSURED, NOTIFY, REVIEW, WAIVE, WAIVER, Field, ProcessDraftSpec, Step,
                   certificate, choice, decide, message_event, money, registration, service, text)


# ----------------------------------------------------------------------------------------------------------
# Shapes

REQUIRED = True
UNIT = (text("unit_name", "单位名称", REQUIRED), text("credit_code", "统一社会信用代码", REQUIRED))
BANK = (text("bank_name", "开户银行"), text("bank_account", "银行账号", REQUIRED))
CHANGE = text("change_fields", "变更事项", REQUIRED)
QUERY = text("query_purpose", "查询用途")
RESIDENCE_PERMIT = text("has_residence_permit", "持有本地居住证", type_="boolean")
REIMBURSEMENT = (money("expense_total", "医疗费用总额（元）", REQUIRED), money("self_pay_total", "自费金额（元）", minimum="0"),
                 text("hospital_name", "就诊医院"), *BANK)

# Application data of the start event, per kind of item
FORMS: dict[str, tuple[Field, ...]] = {
    "none": (),
    "unit": UNIT,
    "employee": (
        choice("insured_kind", "参保身份",
               {"employee": "单位职工", "self_employed": "个体参保人员", "flexible": "灵活就业人员"}, REQUIRED),
        text("employer_name", "用人单位名称"),
        choice("household_kind", "户籍类别", {"local": "本地户籍", "nonlocal": "非本地户籍"}), RESIDENCE_PERMIT),
    "resident": (
        choice("household_kind", "户籍类别", {"local": "本地户籍", "newborn": "新生儿", "nonlocal": "非本地户籍"}),
        RESIDENCE_PERMIT),
    "change": (CHANGE,),
    "unit_change": UNIT + (CHANGE,),
    "query": (QUERY,),
    "unit_query": UNIT + (QUERY,),
    "unit_base": UNIT + (money("declared_base", "申报缴费基数（元）", REQUIRED),),
    "withdrawal": (
        choice("withdrawal_reason", "支取原因", {"death": "死亡", "emigration": "出国定居",
                                             "terminated": "解除劳动关系", "abandoned": "主动放弃"}, REQUIRED),
        *BANK),
    "transfer": (
        text("from_region", "转出地", REQUIRED),
        Field("from_agency", "string", "转出地经办机构代码（6位行政区划代码）", REQUIRED, pattern="[0-9]{6}"),
        text("certificate_no", "参保凭证编号（省外转入必填）"),
        choice("from_suspension", "转出地参保状态", {"suspended": "已办理暂停参保", "active": "未办理暂停参保"})),
    "filing": (
        text("destination_region", "就医地/安置地", REQUIRED), text("start_date", "备案开始日期", REQUIRED, "date"),
        text("designated_hospital", "就医定点医院")),
    "chronic": (text("disease_name", "病种名称", REQUIRED), text("hospital_name", "鉴定医院", REQUIRED)),
    "reimbursement": REIMBURSEMENT,
    "outpatient": REIMBURSEMENT + (
        choice("visit_kind", "就医类型", {"ordinary": "普通门诊", "emergency": "急诊"}),
        text("remote_care", "异地就医", type_="boolean"), text("remote_filed", "已办理异地安置备案", type_="boolean"),
        text("critical_care", "抢救或危重症", type_="boolean")),
    "inpatient": REIMBURSEMENT + (text("in_waiting_period", "处于待遇封锁期（等待期）", type_="boolean"),),
    "allowance": (
        text("leave_days", "产假天数", REQUIRED, "long"),
        money("average_wage", "单位上年度职工月平均工资（元）", REQUIRED), text("hospital_name", "就诊医院"), *BANK,
        text("contribution_months", "生育保险连续缴费月数", type_="long"),
        text("employer_in_arrears", "用人单位医保欠费", type_="boolean")),
    "subsidy": (
        choice("assistance_kind", "救助对象类别",
               {"extreme_poor": "特困人员", "low_income": "低保对象", "returned_poor": "返贫致贫人口"}, REQUIRED),
        text("bank_account", "银行账号", REQUIRED)),
    "institution": (
        text("institution_name", "机构名称", REQUIRED), text("institution_kind", "机构类别"),
        text("institution_address", "机构地址", REQUIRED), text("credit_code", "统一社会信用代码", REQUIRED)),
    "contribution": BANK,
    "settlement": (
        text("settlement_period", "结算期间", REQUIRED), money("claimed_amount", "申报金额（元）", REQUIRED),
        text("bank_account", "银行账号", REQUIRED)),
}

# What a 申请—受理—审核—办结 item does around its review: (steps before 审核, steps after it)
REVIEW_EFFECTS = {
    "register": ((), (registration("参保登记"),)),
    "change": ((), (registration("信息变更"),)),
    "certify": ((service("arrears_check", "审核"),), (certificate("参保凭证"),)),
    "file": ((), (service("filing", "办结"),)),
    "assess_base": ((), (registration("缴费基数核定"),)),
    "assess_fee": ((), (registration("医疗保险费核定"),)),
    "contribute": ((), (registration("灵活就业人员缴费"),)),
    "lump_sum": ((), (registration("趸缴"),)),
}

# The main path of each shape, given the item's parameter (start event and final end event 办结 are implicit).
# A stage limit of the catalog (stage_limits) is watched on the clerk's task that finishes that stage's work: the
# task of that stage (验收, 办结), or, where the stage's own work is automatic (the 联系函 and the 信息表 are issued by
# service tasks), the review before it. Not watched: 收到信息表 (a catch event, no task to hang a timer on; the
# sending side's review watches 信息表), and 定点's 建立机构信息 and 开通医保服务网络 (no stage of the diagram).
SHAPES = {
    "query": lambda _: (ACCEPT, service("insurance_query", "办结")),
    "review": lambda effect: (ACCEPT, IDENTITY, *REVIEW_EFFECTS[effect][0], REVIEW, *REVIEW_EFFECTS[effect][1],
                              NOTIFY),
    "payment": lambda policy: (
        ACCEPT, IDENTITY, INSURED, service("reimbursement_calc", "审核", policy=policy),
        replace(REVIEW, fields=(money("payable_amount", "核定金额（元）"), text("reduction_reason", "核减理由"))),
        decide("pay", "拨付", "finance", "拨付", "pay"), service("payment", "拨付", "拨付资金"), NOTIFY),
    "designation": lambda _: (
        ACCEPT, replace(decide("inspect", "现场验收", "reviewer", "验收", "pass"), limits=("验收",)),
        decide("sign", "签订协议", "supervisor", "签订协议", "sign"), service("network_open", "签订协议"),
        certificate("定点医药机构服务协议"), NOTIFY),
    "chronic": lambda _: (
        ACCEPT, decide("assess", "医院鉴定", "hospital", "审核", "approve", fail_end="认定不通过"), REVIEW,
        certificate("门诊慢特病待遇认定通知书"), NOTIFY),
    "transfer_in": lambda _: (
        ACCEPT, replace(REVIEW, limits=("联系函",)), certificate("联系函", "联系函"),
        message_event("throw", "send_letter", "发出联系函", "联系函"),
        message_event("catch", "receive_sheet", "收到信息表", "信息表"),
        replace(decide("confirm", "接续确认", "acceptor", "办结", "confirm"), limits=("办结",)),
        registration("转移接续"), NOTIFY),
    "transfer_out": lambda _: (
        replace(REVIEW, limits=("信息表",)), service("fund_transfer", "信息表"), certificate("信息表", "信息表"),
        message_event("throw", "send_sheet", "发出信息表", "信息表")),
}

# The sending side of a two-agency item: shape, start message and its event's name, name suffix, participant
PARTNERS = {"transfer_in": ("transfer_out", "联系函", "收到联系函", "（转出地）", "转出地医保经办机构")}
PARTICIPANTS = {"transfer_in": "转入地医保经办机构"}

# Item code (or, for local items without a national code, item name) -> (shape, parameter, start form)
PROFILES: dict[str, tuple[str, str | None, str]] = {
    "00203601001": ("review", "register", "unit"),             # 单位参保登记
    "00203601002": ("review", "register", "employee"),         # 职工参保登记
    "00203601003": ("review", "register", "resident"),         # 城乡居民参保登记
    "00203601004": ("review", "change", "unit_change"),        # 单位参保信息变更登记
    "00203601005": ("review", "change", "change"),             # 职工参保信息变更登记
    "00203601006": ("review", "change", "change"),             # 城乡居民参保信息变更登记
    "002036002001": ("query", None, "unit_query"),             # 参保单位参保信息查询
    "002036002002": ("query", None, "query"),                  # 参保人员参保信息查询
    "002036002003": ("payment", "account_withdrawal", "withdrawal"),  # 参保人员个人账户一次性支取
    "002036003001": ("review", "certify", "none"),             # 出具《参保凭证》
    "002036003002": ("transfer_in", None, "transfer"),         # 转移接续手续办理
    "002036004001": ("review", "file", "filing"),              # 异地安置退休人员备案
    "002036004002": ("review", "file", "filing"),              # 异地长期居住人员备案
    "002036004003": ("review", "file", "filing"),              # 常驻异地工作人员备案
    "002036004004": ("review", "file", "filing"),              # 异地转诊人员备案
    "002036005000": ("chronic", None, "chronic"),              # 门诊慢特病病种待遇认定
    "002036006001": ("payment", "outpatient", "outpatient"),              # 门诊费用报销
    "002036006002": ("payment", "inpatient", "inpatient"),                # 住院费用报销
    "002036007001": ("payment", "prenatal", "reimbursement"),             # 产前检查费支付
    "002036007002": ("payment", "maternity_medical", "reimbursement"),    # 生育医疗费支付
    "002036007003": ("payment", "family_planning", "reimbursement"),      # 计划生育医疗费支付
    "002036007004": ("payment", "maternity_allowance", "allowance"),      # 生育津贴支付
    "002036008001": ("payment", "assistance_subsidy", "subsidy"),         # 救助对象参保个人缴费补贴
    "002036008002": ("payment", "assistance_reimbursement", "reimbursement"),  # 医疗救助对象手工（零星）报销
    "002036009001": ("designation", None, "institution"),      # 医疗机构申请定点协议管理
    "002036009002": ("designation", None, "institution"),      # 零售药店申请定点协议管理
    "002036010001": ("payment", "institution_settlement", "settlement"),  # 定点医疗机构费用结算
    "002036010002": ("payment", "pharmacy_settlement", "settlement"),     # 定点零售药店费用结算
    # local items (the catalog gives them local L-codes; they are keyed by name here)
    "城镇职工医疗保险、生育保险缴费基数核定": ("review", "assess_base", "unit_base"),  # 林口 29
    "医疗保险费核定": ("review", "assess_fee", "unit_base"),                        # 抚顺 7
    "异地临时就医人员备案": ("review", "file", "filing"),                            # 抚顺 16
    "参保人员电话号码新增和更改": ("review", "change", "change"),                     # 四川
    "灵活就业人员缴纳职工医疗保险费": ("review", "contribute", "contribution"),        # 四川
    "参保单位缴费基数申报": ("review", "assess_base", "unit_base"),                   # 四川
    "职工基本医疗保险费趸缴": ("review", "lump_sum", "none"),                        # 四川
    "城乡居民医保参保人员高血压、糖尿病病种待遇认定": ("chronic", None, "chronic"),     # 四川
}


# ----------------------------------------------------------------------------------------------------------
# Catalog items -> specs

def _profile(item: dict) -> tuple[str, str | None, str]:
    code, name = str(item.get("code") or "").replace(" ", ""), str(item.get("name") or "")
    profile = PROFILES.get(code) or PROFILES.get(name)
    if profile is None:
        raise KeyError(f"no drafting profile for item {code or '-'} {name}: add it to PROFILES")
    return profile


def spec_for_item(item: dict) -> ProcessDraftSpec:
    """The draft of a catalog item's own process."""
    shape, parameter, form = _profile(item)
    steps = SHAPES[shape](parameter)
    if item.get("waivable"):
        steps = _with_waiver(steps)
    if item.get("prohibited"):
        steps = with_rule_checks(steps, item)
    return ProcessDraftSpec(process_id=item["process"], name=item["name"], steps=steps,
                            start_fields=FORMS[form], participant=PARTICIPANTS.get(shape, "医保经办机构"))


def _with_waiver(steps: tuple[Step, ...]) -> tuple[Step, ...]:
    """受理 with its third decision 容缺受理, and the question 是否容缺受理 right after it."""
    accept, *rest = steps
    assert accept.id == ACCEPT.id, "容缺受理 is a decision of 受理"
    accept_decision, refuse_decision = accept.decisions
    return (replace(accept, decisions=(accept_decision, WAIVE, refuse_decision)), WAIVER, *rest)


def partner_spec_for_item(item: dict) -> ProcessDraftSpec | None:
    """The draft of the partner process (another agency's side) of a catalog item, if it has one."""
    shape, parameter, _ = _profile(item)
    if not item.get("partner_process") or shape not in PARTNERS:
        return None
    partner_shape, message, start_name, suffix, participant = PARTNERS[shape]
    return ProcessDraftSpec(process_id=item["partner_process"], name=item["name"] + suffix,
                            steps=SHAPES[partner_shape](parameter), start_message=message,
                            start_name=start_name, participant=participant)
