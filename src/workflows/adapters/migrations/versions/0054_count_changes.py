"""count_changes: what a command adds to the statistics' running counts, in one statement whatever it changed.

A command's commit added its figures with one upsert per counts table it touched (open_case_counts, case_counts,
closed_case_counts, task_counts): up to four statements, each ≈100 µs of the driver's and SQLAlchemy's work, all
of them under SQLite's database-wide write lock (they are the commit's last writes). count_changes is a view with no
rows: a row inserted into it is a change of one kind ('open': an open case per agency, hall and stage; 'case': a
case opened or closed per agency, hall, item and week, summed into closed_case_counts as well; 'task': a task
completed per person), which its INSTEAD OF trigger adds to its table, as statistics_counts._adding's upserts did.
So a commit sends its changes as the rows of one executemany (statistics_counts.add_changes), and the database
applies them where it runs the statement, with the same upserts on SQLite and on PostgreSQL.

A later migration that rebuilds one of these tables on SQLite (batch_alter_table) must drop the triggers first and
create them again after (SQLite checks a renamed table's triggers).

Revision ID: 0054
Revises: 0053
"""
from alembic import op

revision = '0054'
down_revision = '0053'
branch_labels = None
depends_on = None

COLUMNS = [("kind", "varchar(8)"), ("agency_code", "varchar(20)"), ("hall_code", "varchar(40)"),
           ("item_code", "varchar(20)"), ("item_name", "varchar(200)"), ("week", "date"), ("stage", "varchar(40)"),
           ("username", "varchar(64)"), ("opened", "integer"), ("closed", "integer"), ("counted", "integer"),
           ("on_time", "integer"), ("open", "integer"), ("completed", "integer")]

# What a change of each kind adds, as the statements of a trigger (SQLite) or of a trigger function (PostgreSQL).
ADDING = {
    "open": ["INSERT INTO open_case_counts (agency_code, hall_code, stage, open) "
             "VALUES (NEW.agency_code, NEW.hall_code, NEW.stage, NEW.open) "
             "ON CONFLICT (agency_code, hall_code, stage) DO UPDATE SET open = open_case_counts.open + excluded.open"],
    "case": ["INSERT INTO case_counts (agency_code, hall_code, item_code, item_name, week, opened, closed, counted, "
             "on_time) VALUES (NEW.agency_code, NEW.hall_code, NEW.item_code, NEW.item_name, NEW.week, NEW.opened, "
             "NEW.closed, NEW.counted, NEW.on_time) "
             "ON CONFLICT (agency_code, hall_code, item_code, item_name, week) DO UPDATE SET "
             "opened = case_counts.opened + excluded.opened, closed = case_counts.closed + excluded.closed, "
             "counted = case_counts.counted + excluded.counted, on_time = case_counts.on_time + excluded.on_time",
             # the closed cases summed over the weeks (statistics_counts.totals): only where some were counted
             "INSERT INTO closed_case_counts (agency_code, hall_code, item_code, item_name, counted, on_time) "
             "SELECT NEW.agency_code, NEW.hall_code, NEW.item_code, NEW.item_name, NEW.counted, NEW.on_time "
             "WHERE NEW.counted <> 0 "
             "ON CONFLICT (agency_code, hall_code, item_code, item_name) DO UPDATE SET "
             "counted = closed_case_counts.counted + excluded.counted, "
             "on_time = closed_case_counts.on_time + excluded.on_time"],
    "task": ["INSERT INTO task_counts (agency_code, hall_code, username, completed, on_time) "
             "VALUES (NEW.agency_code, NEW.hall_code, NEW.username, NEW.completed, NEW.on_time) "
             "ON CONFLICT (agency_code, hall_code, username) DO UPDATE SET "
             "completed = task_counts.completed + excluded.completed, "
             "on_time = task_counts.on_time + excluded.on_time"],
}


def upgrade() -> None:
    nothing = "false" if op.get_bind().dialect.name == "postgresql" else "0"
    op.execute("CREATE VIEW count_changes AS SELECT "
               + ", ".join(f"CAST(NULL AS {sql_type}) AS {name}" for name, sql_type in COLUMNS) + f" WHERE {nothing}")
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_trigger()
    else:
        for kind, statements in ADDING.items():
            op.execute(f"CREATE TRIGGER count_changes_{kind} INSTEAD OF INSERT ON count_changes "
                       f"WHEN NEW.kind = '{kind}' BEGIN " + "".join(f"{s};" for s in statements) + " END")


def _postgresql_trigger() -> None:
    branches = " ELSIF ".join(f"NEW.kind = '{kind}' THEN " + "".join(f"{s};" for s in statements)
                              for kind, statements in ADDING.items())
    op.execute("CREATE FUNCTION count_changes_add() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
               f"IF {branches} END IF; RETURN NEW; END $$")
    op.execute("CREATE TRIGGER count_changes_add INSTEAD OF INSERT ON count_changes "
               "FOR EACH ROW EXECUTE FUNCTION count_changes_add()")


def downgrade() -> None:
    op.execute("DROP VIEW count_changes")  # its triggers with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION count_changes_add()")
