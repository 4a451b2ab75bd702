"""Telling people of the agency about a case (their 通知 list): the bus's handler of StaffNotified, in the
transaction of the command that decided it (services talk to each other through that event, not through calls)."""
from __future__ import annotations

from workflows.adapters.unit_of_work import UnitOfWork
from workflows.domain.events import StaffNotified


def notify_staff(uow: UnitOfWork, event: StaffNotified) -> None:
    """Each named person once, with the case's item and number after the message."""
    case = uow.cases.get_by_id(event.case_id)
    for username in dict.fromkeys(name for name in event.usernames if name):
        uow.notifications.add(username, event.kind, f"{event.message}（{case.item_name} {case.number}）",
                              event.at, case)
