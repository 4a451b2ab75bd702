"""The last check before a flush: whatever way text reaches a row (a use case without a limit of its own, the
CLI, a message), it is refused with the column named when longer than the column or holding a character the
database refuses, the same on SQLite (which would store it) and PostgreSQL (which would answer DataError)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from support.process_driver import PERSON_ID
from workflows.domain.errors import InvalidInput
from workflows.entrypoints.cli import main
from workflows.services import users

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
