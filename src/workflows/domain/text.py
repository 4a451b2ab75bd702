"""What text a person may type into any field: bounded in length, and only characters every database stores.

PostgreSQL refuses NUL in text and JSON; neither database nor a UTF-8 page can hold a lone surrogate; other control
characters are invisible and break documents and logs. So they are refused at the edge of the domain, naming the
field, the same whether the database is SQLite or PostgreSQL and whichever way the text came in.
"""
from __future__ import annotations

import re
from itertools import filterfalse
from operator import gt

from .errors import InvalidInput

NAME_LENGTH = 200  # a person's or a unit's name, a title (the database columns of names are 200 wide)
TEXT_LENGTH = 2000  # an opinion, a reason, a comment, any free-text form field
REQUEST_TEXT_LENGTH = 20_000  # any single text value of a request, before a use case applies its own limit
# C0 controls except tab and line breaks, DEL, C1 controls, surrogates (only lone ones survive decoding), noncharacters
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAK = re.compile("[\r\n\t]")


def text_problem(value: str, max_length: int = TEXT_LENGTH, multiline: bool = True) -> str | None:
    """Why `value` cannot be stored as typed (in Chinese, without the field's name), or None."""
    if len(value) > max_length:
        return f"不能超过 {max_length} 个字符（现有 {len(value)} 个）"
    if _FORBIDDEN.search(value) or (not multiline and _LINE_BREAK.search(value)):
        return "含有不允许的控制字符或无效字符"
    return None


def all_storable(texts: list[str], max_lengths) -> bool:
    """Whether text_problem finds nothing in any of `texts` (multiline), each within its max length (an iterable
    as long): the same rule run over many texts at once, in C, with no Python call per text. For the check of
    every string a flush writes, where nearly all pass; text_problem then says which one and why."""
    return not any(map(gt, map(len, texts), max_lengths)) and _storable(texts)


# The ASCII characters text_problem allows: tab, line breaks, the printable ones
_ALLOWED_ASCII = bytes(code for code in range(128) if not _FORBIDDEN.match(chr(code)))


def _storable(texts: list[str]) -> bool:
    """_FORBIDDEN found in none of `texts`: the ASCII ones (most of what a flush writes: a workflow's state, tens of
    KB a command, is ASCII JSON) as one run of bytes, from which the allowed are deleted (a C loop over bytes, a
    fifth of the expression's time over the same characters), the others by the expression, joined."""
    if "".join(filter(str.isascii, texts)).encode().translate(None, _ALLOWED_ASCII):
        return False
    return not _FORBIDDEN.search("".join(filterfalse(str.isascii, texts)))


def checked_text(value: str, label: str, max_length: int = TEXT_LENGTH, multiline: bool = True) -> str:
    """`value` if it may be stored; else ValueError naming the field by its label."""
    problem = text_problem(value, max_length, multiline)
    if problem:
        raise ValueError(f"{label}{problem}")
    return value


REASON_LENGTH = 500  # a written reason for an operation (退回, 终止, 迁移, 跳转 …)


def reason_text(reason, what: str) -> str:
    """The reason typed for operation `what`, trimmed; InvalidInput on `reason` when missing or too long."""
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise InvalidInput(f"请填写{what}原因", {"reason": f"请填写{what}原因"})
    if len(text) > REASON_LENGTH:
        raise InvalidInput(f"{what}原因过长", {"reason": f"不超过 {REASON_LENGTH} 字（现有 {len(text)} 字）"})
    return text


EVENT_NAME_LENGTH = 100  # a message's or a signal's name, as the diagram's bpmn:message / bpmn:signal gives it


def event_name(name, word: str, element: str) -> str:
    """A message or signal name sent in (`word`: 消息/信号, `element`: its BPMN element), trimmed; InvalidInput on
    `name` when it is not a text of 1 to EVENT_NAME_LENGTH characters."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > EVENT_NAME_LENGTH:
        raise InvalidInput(f"{word}格式有误", {"name": f"请填写{word}名称（不超过 {EVENT_NAME_LENGTH} 字），"
                                                 f"即流程中{word}（bpmn:{element}）的 name"})
    return name.strip()
