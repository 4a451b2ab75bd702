"""What the applicant is texted when a case moves (一次性告知 and the notices of 《行政许可法》第三十二条、第三十八条
are given in writing; the SMS tells the applicant that one was given, by its 文书编号, so nothing waits on the
window). Pure: the text of each moment, from the 文书 that marks it."""
from __future__ import annotations

# document kind -> what the applicant is told; {item}, {case}, {title}, {number} filled in
TEXTS = {
    "acceptance_notice": "您申请的{item}（办件编号{case}）已受理，《{title}》文书编号{number}。",
    "waiver_notice": "您申请的{item}（办件编号{case}）已容缺受理，请在补正期限内补齐材料，详见《{title}》（文书编号{number}）。",
    "missing_materials_notice": "您申请的{item}（办件编号{case}）材料需补正，请按《{title}》（文书编号{number}）一次性补齐。",
    "completion_notice": "您申请的{item}（办件编号{case}）已办结，《{title}》文书编号{number}。",
    "refusal_decision": "您申请的{item}（办件编号{case}）不予受理，理由及救济途径见《{title}》（文书编号{number}）。",
    "rejection_decision": "您申请的{item}（办件编号{case}）未获批准，理由及救济途径见《{title}》（文书编号{number}）。",
    "termination_decision": "您申请的{item}（办件编号{case}）已终止办理，详见《{title}》（文书编号{number}）。",
    "correction_timeout_notice": "您申请的{item}（办件编号{case}）因逾期未补正已办结，详见《{title}》（文书编号{number}）。",
}
SIGNATURE = "【医保经办】"


def notice_text(kind: str, item_name: str, case_number: str, title: str, number: str) -> str | None:
    """The SMS that goes with a 文书 of `kind`, or None for a document the applicant is not texted about (a
    个人承诺书 they signed at the window, a result document that comes with its 办结通知书)."""
    text = TEXTS.get(kind)
    if text is None:
        return None
    return SIGNATURE + text.format(item=item_name, case=case_number, title=title, number=number)


def applicant_phone(applicant: dict) -> str | None:
    """Where the texts go: the phone the applicant gave (an agent's 委托办理 keeps the applicant's own)."""
    phone = applicant.get("phone")
    return str(phone).strip() or None if phone else None
