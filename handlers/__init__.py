"""Service-task handlers. Importing the package registers every handler in HANDLERS."""
from . import (documents, escalation, identity, insured_record, notification, payment, platform_records,
               reimbursement)
from .registry import HANDLERS, HandlerContext, HandlerError, RegisteredHandler, handler

__all__ = ["HANDLERS", "HandlerContext", "HandlerError", "RegisteredHandler", "handler",
           "documents", "escalation", "identity", "insured_record", "notification", "payment", "platform_records",
           "reimbursement"]
