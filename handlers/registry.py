"""Service-task handlers, registered by the name a BPMN service task gives as its `camunda:topic`.

A handler takes one HandlerContext and returns the data it adds to the case (or None). It must not touch the
database or the network itself: outside systems are reached through the gateways in the context.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

from workflows.domain.amounts import PaymentPolicy

from .gateways import EscalationDesk, NationalPlatform, Notifier, PaymentGateway


@dataclass(frozen=True)
class HandlerContext:
    case_number: str
    agency_code: str
    item_code: str
    item_name: str
    applicant: Mapping[str, str]  # name, id_number, kind, phone
    data: Mapping[str, object]    # the case data so far (read only)
    params: Mapping[str, str]     # the service task's Camunda properties (stage, policy, document …)
    platform: NationalPlatform
    payments: PaymentGateway
    notifier: Notifier
    desk: EscalationDesk | None = None
    policy: PaymentPolicy | None = None  # the agency's 起付线, 报销比例, 封顶线 for the item (catalog payment_policy)

    def param(self, name: str) -> str:
        try:
            return self.params[name]
        except KeyError:
            raise HandlerError(f"服务任务缺少参数 {name}") from None

    def require(self, name: str):
        value = self.data.get(name)
        if value is None or value == "":
            raise HandlerError(f"案件数据缺少 {name}", MISSING_DATA)
        return value


class HandlerError(Exception):
    """A handler cannot do its work with the data it has; the message says why, in Chinese. With a `code` it is a
    business error the diagram may handle: an error boundary event on the service task for that code (or for any
    code) takes its path, as for an external worker's bpmnError; without one the step fails as any other."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


MISSING_DATA = "MISSING_DATA"  # the code of a handler's error when the case data lacks what it needs


Handler = Callable[[HandlerContext], "dict | None"]


@dataclass(frozen=True)
class RegisteredHandler:
    name: str
    title: str
    function: Handler
    # It changes an outside system (a payment made, a record written, a document issued): a case cannot be sent
    # back (退回, 撤回) past a step that ran it, for going back would not undo it. Queries and notices do not.
    changes_outside: bool = False


HANDLERS: dict[str, RegisteredHandler] = {}


def handler(name: str, title: str, changes_outside: bool = False) -> Callable[[Handler], Handler]:
    """Register a function as the handler of service tasks whose topic is `name`."""

    def register(function: Handler) -> Handler:
        if name in HANDLERS:
            raise ValueError(f"handler {name!r} is registered twice")
        HANDLERS[name] = RegisteredHandler(name, title, function, changes_outside)
        return function

    return register
