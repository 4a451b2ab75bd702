"""The last check before a flush: whatever way text reaches a row (a use case without a limit of its own, the
CLI, a message), it is refused with the column named when longer than the column or holding a character the
database refuses, the same on SQLite (which would store it) and PostgreSQL (which would answer DataError)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from support.cases import APPLICANT, DATA, OUTPATIENT
from support.process_driver import PERSON_ID
from workflows.adapters import orm, stored_text
from workflows.domain.errors import InvalidInput
from workflows.entrypoints.cli import main
from workflows.services import cases, users

pytestmark = pytest.mark.both_databases  # the database matters here: SQLite and PostgreSQL


def test_a_value_longer_than_its_column_is_refused_naming_it(ctx):
    with pytest.raises(InvalidInput) as refused:
        users.save_user(ctx, "newclerk", "王" * 101, "password123", "210400", "210400-01", ["acceptor"])
    assert "不能超过 100 个字符" in refused.value.field_errors["full_name"]
    assert all(user.username != "newclerk" for user in users.list_users(ctx))


def test_a_nul_or_a_lone_surrogate_is_refused_in_any_column(ctx):
    for name in ("王\x00五", "王\ud800五"):
        with pytest.raises(InvalidInput) as refused:
            users.save_user(ctx, "newclerk", name, "password123", "210400", "210400-01", ["acceptor"])
        assert "控制字符或无效字符" in refused.value.field_errors["full_name"]


def test_the_command_line_refuses_a_name_with_a_control_character_naming_the_field(database_url):
    result = CliRunner().invoke(main, ["--database-url", database_url, "open-case", "--user", "shouli",
                                       "--item", "002036006001", "--name", "张\x00伟", "--id-number", PERSON_ID,
                                       "expense_total=1200.50", "bank_account=6222020712001234567"])
    assert result.exit_code != 0
    assert "applicant.name" in result.output and "控制字符" in result.output


# One of each kind of character text_problem refuses (domain/text.py), and text that looks like them but is allowed
REFUSED = ["\x00", "\x08", "\x0b", "\x1f", "\x7f", "\x85", "\x9f", "\ud800", "\udfff", "\ufffe", "\uffff"]
ALLOWED = '第一行\n第二行\t"引号" \\ 反斜杠 \\u0000 \\b 字面 \r'


def _history_row(**values) -> dict:
    return {"case_id": 1, "actor": "shouli", "action": "comment", "stage": "受理", "task_name": None,
            "message": "备注", "detail": {}, **values}


@pytest.mark.parametrize("bad", REFUSED)
def test_every_refused_character_is_found_in_a_column_a_json_key_or_a_json_string(bad):
    """The check of many rows at once (text in one go, a JSON value as its JSON text) finds what the check of each
    value finds, in whichever row and place it is, and names the column."""
    for place in (dict(message=f"意见{bad}"), dict(detail={f"键{bad}": "值"}),
                  dict(detail={"a": [1, {"b": ALLOWED, "c": f"深处{bad}"}]}), dict(detail=[f"{bad}"])):
        rows = [_history_row(detail={"opinion": ALLOWED}, message=ALLOWED), _history_row(**place)]
        with pytest.raises(InvalidInput) as refused:
            stored_text.check_rows(orm.case_history, rows)
        [column] = place
        assert refused.value.field_errors == {column: "含有不允许的控制字符或无效字符"}, (bad, place)


def test_allowed_text_passes_and_lengths_are_those_of_the_columns():
    stored_text.check_rows(orm.case_history, [_history_row(message=ALLOWED, detail={ALLOWED: [ALLOWED, 1.5, None]})])
    stored_text.check_rows(orm.task_requests,
                           [{"reason": "理" * 2000}])  # a free-text column holds TEXT_LENGTH
    with pytest.raises(InvalidInput) as refused:
        stored_text.check_rows(orm.task_requests, [{"reason": "理" * 2001}, {"opinion": "见\x00"}])
    assert refused.value.field_errors == {"reason": "不能超过 2000 个字符（现有 2001 个）",
                                          "opinion": "含有不允许的控制字符或无效字符"}


def test_a_changed_json_attribute_with_a_refused_character_deep_inside_is_refused_at_commit(ctx, staff):
    number = cases.open_case(ctx, staff["shouli"], OUTPATIENT, APPLICANT, DATA).case.number
    with pytest.raises(InvalidInput) as refused:
        with ctx.uow() as uow:
            case = uow.cases.get(number)
            case.data = {**case.data, "附言": {"第一行\n": ["说明\x00"]}}
            uow.commit()
    assert "控制字符" in refused.value.field_errors["data"]
    with ctx.uow(write=False) as uow:
        assert "附言" not in uow.cases.get(number).data
