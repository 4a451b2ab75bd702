"""The SQL statements a piece of code sends, as the cursor receives them."""
from __future__ import annotations

from sqlalchemy import event

from workflows.services.context import Context


def statements_of(ctx: Context, command) -> list[str]:
    seen = []
    database = ctx.session_factory.kw["bind"]

    def record(_connection, _cursor, statement, *_rest):
        seen.append(statement)

    event.listen(database, "before_cursor_execute", record)
    try:
        command()
    finally:
        event.remove(database, "before_cursor_execute", record)
    return seen
