"""Personal data by need (《个人信息保护法》第六条 最小必要, 第五十一条 访问权限与安全措施).

A case carries an applicant's ID number, phone and bank account (and an agent's) in several places: the applicant,
the application data, the history's details, the calls to outside systems. Each role sees in full only the kinds
its tasks need: the 受理员 checks the ID card against the application, the 审核员 decides eligibility, 财务 pays to
the account and calls back when a payment bounces, the 科室负责人 calls the applicant back (差评回访), the hospital's
assessor identifies the patient it assesses. Everyone else who may open the case (a designer, an administrator) sees
every kind masked, names included. Reads in full are audited by the services.
"""
from __future__ import annotations

from typing import Iterable

ID, PHONE, ACCOUNT, NAME = "id_number", "phone", "bank_account", "name"
KIND_NAMES = {ID: "证件号码", PHONE: "联系电话", ACCOUNT: "银行账号", NAME: "姓名"}

# Keys under which personal data is stored anywhere in a case's JSON, and the kind each holds. A name is masked only
# in the applicant and its agent (other JSON uses "name" for messages, materials and the like).
PERSONAL_KEYS = {"id_number": ID, "phone": PHONE, "bank_account": ACCOUNT, "account": ACCOUNT}
AUDITED = frozenset({ID, ACCOUNT})  # a read in full of these is recorded

NEEDS: dict[str, frozenset[str]] = {
    "acceptor": frozenset({ID, PHONE, ACCOUNT, NAME}),
    "reviewer": frozenset({ID, PHONE, ACCOUNT, NAME}),
    "finance": frozenset({PHONE, ACCOUNT, NAME}),
    "supervisor": frozenset({PHONE, NAME}),
    "hospital": frozenset({ID, PHONE, NAME}),  # only on the cases assigned to the hospital (see services.access)
}


def needs_of(roles: Iterable[str]) -> frozenset[str]:
    """The kinds of personal data shown in full to someone with these roles."""
    return frozenset().union(*(NEEDS.get(role, frozenset()) for role in roles))


def mask(kind: str, value):
    """The value with what identifies the person hidden: 210402********1234, 138****5678, ****5678, 张*."""
    if not isinstance(value, str) or not value:
        return value
    if kind == NAME:
        return value[0] + "*" * max(len(value) - 1, 1)
    keep_start = {ID: 6, PHONE: 3}.get(kind, 0)
    if len(value) <= keep_start + 4:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - 4) + value[-4:]


def masked(value, shown: frozenset[str]):
    """A copy of JSON-like data with every personal value whose kind is not `shown` masked, at any depth."""
    if isinstance(value, dict):
        return {key: (mask(PERSONAL_KEYS[key], item) if key in PERSONAL_KEYS and PERSONAL_KEYS[key] not in shown
                      else masked(item, shown)) for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item, shown) for item in value]
    return value


def masked_applicant(applicant: dict, shown: frozenset[str]) -> dict:
    """The applicant (and its agent) with the kinds not `shown` masked, the names too."""
    result = masked(applicant, shown)
    if NAME not in shown:
        result[NAME] = mask(NAME, result.get(NAME))
        if isinstance(result.get("agent"), dict):
            result["agent"] = {**result["agent"], NAME: mask(NAME, result["agent"].get(NAME))}
    return result


def revealed(value, shown: frozenset[str]) -> set[str]:
    """The audited kinds that `value` shows in full to someone shown `shown`: what a read must record."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            kind = PERSONAL_KEYS.get(key)
            if kind in AUDITED and kind in shown and isinstance(item, str) and item:
                found.add(kind)
            else:
                found |= revealed(item, shown)
    elif isinstance(value, list):
        for item in value:
            found |= revealed(item, shown)
    return found
