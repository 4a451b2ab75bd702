"""Limits of what a person may type, in the domain: the same for every way in and every database."""
from __future__ import annotations

from workflows.domain.applicants import validate_applicant
from workflows.domain.forms import Form, FormField, validate_form
from workflows.domain.text import all_storable, text_problem

ID = "210402198001011239"
FORM = Form((FormField("opinion", "办理意见", "string"), FormField("count", "人数", "long"),
             FormField("kind", "类别", "enum", options=(("a", "甲"),))))


def test_control_characters_and_lone_surrogates_are_refused_line_breaks_only_where_allowed():
    for bad in ("a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\ud800b", "a\uffffb"):
        assert "控制字符" in text_problem(bad), repr(bad)
    assert text_problem("第一行\n第二行\t说明") is None
    assert text_problem("第一行\n第二行", multiline=False)
    assert text_problem("张" * 2001) == "不能超过 2000 个字符（现有 2001 个）"


# Every character up to U+3000 (ASCII, Latin-1's C1 controls and signs such as · and ×, the lead bytes C2 and C3),
# the surrogates, and the last block (fullwidth forms, EF BF xx, and the noncharacters U+FFFE and U+FFFF)
CHARACTERS = [chr(code) for code in [*range(0x3000), *range(0xD7F0, 0xE010), *range(0xFF00, 0x10000), 0x10FFFF]]


def test_the_check_of_many_texts_at_once_finds_what_the_check_of_each_finds():
    for character in CHARACTERS:
        storable = text_problem(character, 10) is None
        for texts in ([character], ["ascii", f"a{character}b"], ["张伟", f"第{character}行", "plain"]):
            assert all_storable(texts, [10] * len(texts)) is storable, (hex(ord(character)), texts)
    assert all_storable(["张" * 10, "ab"], [10, 2]) and not all_storable(["张" * 11], [10])


def test_a_form_names_the_field_whose_text_is_too_long_or_not_storable():
    _, errors = validate_form(FORM, {"opinion": "同意" * 1001, "count": "1"})
    assert errors == {"opinion": "办理意见不能超过 2000 个字符（现有 2002 个）"}
    _, errors = validate_form(FORM, {"opinion": "同\x00意"})
    assert "办理意见含有不允许的控制字符" in errors["opinion"]


def test_a_long_outside_64_bits_or_too_many_digits_is_refused():
    assert validate_form(FORM, {"count": str(2 ** 63)})[1] == {"count": "人数超出整数范围"}
    assert validate_form(FORM, {"count": "9" * 5000})[1] == {"count": "人数应为整数"}
    assert validate_form(FORM, {"count": str(2 ** 63 - 1)})[0] == {"count": 2 ** 63 - 1}


def test_an_applicant_and_an_agent_are_bounded_field_by_field():
    _, errors = validate_applicant({"name": "张" * 201, "id_number": ID}, ())
    assert errors == {"applicant.name": "不能超过 200 个字符（现有 201 个）"}
    _, errors = validate_applicant({"name": "张伟", "id_number": ID, "kind": "自然人\x00"}, ("自然人",))
    assert "控制字符" in errors["applicant.kind"]
    _, errors = validate_applicant({"name": "张伟", "id_number": ID, "agent": {
        "name": "李\n四", "id_number": "210402198001011247", "relation": "子" * 51,
        "power_of_attorney": {"original_checked": True, "checked_on": "2026-01-01"}}}, ())
    assert "控制字符" in errors["applicant.agent.name"]
    assert "不能超过 50 个字符" in errors["applicant.agent.relation"]
