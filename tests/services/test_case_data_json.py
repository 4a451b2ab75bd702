"""Case data is kept as JSON can hold it, at every depth: an amount keeps its scale as text (1860.00 stays
"1860.00", never the float 1860.0), a date or moment becomes ISO text, a tuple a list, a key text."""
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from workflows.services.context import jsonable


def test_amounts_dates_and_nesting_become_what_json_holds_without_loss():
    moment = datetime(2026, 12, 4, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    data = {"expense_total": Decimal("1860.00"), "decided_on": date(2026, 12, 4), 3: "三",
            "items": [{"amount": Decimal("0.10"), "at": moment}, (Decimal("5"), None)],
            "plain": ["张伟", 2, 1.5, True, None]}
    converted = jsonable(data)
    assert converted == {"expense_total": "1860.00", "decided_on": "2026-12-04", "3": "三",
                         "items": [{"amount": "0.10", "at": "2026-12-04T09:30:00+08:00"}, ["5", None]],
                         "plain": ["张伟", 2, 1.5, True, None]}
    assert json.loads(json.dumps(converted)) == converted  # it comes back from JSON as it is


def test_a_plain_value_comes_back_itself_and_a_bool_stays_a_bool():
    assert jsonable("受理") == "受理" and jsonable(None) is None
    assert jsonable({"flag": True, "count": 1})["flag"] is True
