"""Errors a use case can end with; the entry points turn each into its HTTP status or CLI message."""


class WorkflowsError(Exception):
    """Base of every error we report to a user."""


class NotFound(WorkflowsError):
    """The case, task, item or process asked for does not exist (or is not visible to the user)."""


class Forbidden(WorkflowsError):
    """The user may not do this: wrong role, another hall, not the assignee."""


class Conflict(WorkflowsError):
    """Someone else changed the case first, or the task is no longer open."""


class Busy(Conflict):
    """Another command wrote what this one read before this one could write (the same case, or SQLite's one writer
    came first): nothing was written, and running the command again may well succeed (services/retries.py)."""


class InvalidInput(WorkflowsError):
    """Request data failed validation; `field_errors` maps each field to what is wrong with it."""

    def __init__(self, message: str, field_errors: dict[str, str] | None = None):
        super().__init__(message)
        self.field_errors = field_errors or {}


class InvalidProcess(WorkflowsError):
    """A BPMN file that cannot be deployed; names the element at fault."""

    def __init__(self, message: str, element_id: str | None = None, file_name: str | None = None):
        where = ", ".join(part for part in (file_name, element_id and f"element {element_id}") if part)
        super().__init__(f"{where}: {message}" if where else message)
        self.reason = message
        self.element_id = element_id
        self.file_name = file_name


class HandlerFailed(WorkflowsError):
    """A service task's handler raised; the case waits for a retry."""
