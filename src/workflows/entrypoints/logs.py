"""Log lines without personal data, each with the id of the request it belongs to.

A log is read by more people than a case (operators, vendors, whoever gets the file), so an ID number, a phone
number or a bank account never appears in one in full, whichever logger wrote it, tracebacks included. The
request id is also the response's X-Request-Id header: a user's complaint leads to the lines of that request.
"""
from __future__ import annotations

import logging
import re
import secrets
import sys

from flask import Flask, g, has_request_context, request

try:  # the web server's own log (start-up, worker errors, the access log); absent where gunicorn is not used
    from gunicorn.glogging import Logger as _GunicornLogger
except ImportError:  # pragma: no cover
    _GunicornLogger = object

FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
ACCESS_FORMAT = '[%({x-request-id}o)s] %(h)s "%(r)s" %(s)s %(b)s %(M)sms'
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9A-Za-z])(1[3-9]\d)\d{4}(\d{4})(?![0-9A-Za-z])")
_LONG_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{8,}(\d{4})(?![0-9A-Za-z])")  # bank accounts and the like
_GIVEN_ID = re.compile(r"^[0-9A-Za-z-]{8,64}$")


def mask(text: str) -> str:
    """ID numbers keep their region and the last digits, phones the first three and last four, others the last
    four: enough to tell two apart in a log, not enough to identify a person."""
    text = _ID_NUMBER.sub(lambda m: f"{m[1]}********{m[2][-2:].rjust(4, '*')}", text)
    text = _PHONE.sub(r"\1****\2", text)
    return _LONG_NUMBER.sub(lambda m: "*" * (len(m[0]) - 4) + m[1], text)


class MaskingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def configure(level: int = logging.INFO) -> None:
    """The process's root logger: one masked line per record on stderr (gunicorn workers, the scheduler, the CLI)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingFormatter(FORMAT))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # SpiffWorkflow traces every task's change of state at INFO (a dozen lines a command): an engine's trace, not
    # an operator's log, and formatting and masking it cost a request more than its JSON and its checks together
    logging.getLogger("spiff").setLevel(max(level, logging.WARNING))


def install(app: Flask) -> None:
    """A request id for every request: the caller's X-Request-Id if it is a plain token, else a new one."""

    @app.before_request
    def assign_request_id():
        given = request.headers.get("X-Request-Id", "")
        g.request_id = given if _GIVEN_ID.match(given) else secrets.token_hex(8)

    @app.after_request
    def return_request_id(response):
        response.headers["X-Request-Id"] = g.get("request_id", "-")
        return response


class GunicornLogger(_GunicornLogger):
    """gunicorn's error and access logs, masked like ours (the access log's request line carries query strings)."""

    def setup(self, cfg):
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(MaskingFormatter(handler.formatter._fmt if handler.formatter else None,
                                                      handler.formatter.datefmt if handler.formatter else None))
