"""The SMS gateway the applicant's texts go through (services/applicant_notices.py sends them after the commit).

`HttpSmsGateway` talks to an agency's SMS platform over HTTP (WORKFLOWS_SMS_URL, bootstrap.py): one JSON POST per
text with the outbox entry's id as its `Idempotency-Key`, so a text sent again after a crash between the send and
its "done" is not delivered twice. `RecordingSmsGateway` is the stand-in of an installation without one (and of
the tests): it logs each text (the phone masked) and keeps it, deduplicating by the key as a real gateway does.
Python's own urllib is enough for one POST: no HTTP library is added for it.
"""
from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol

from workflows.domain.privacy import PHONE, mask

log = logging.getLogger(__name__)


class SmsFailed(Exception):
    """The gateway did not take the text: kept on the outbox entry, which is tried again later."""


class SmsGateway(Protocol):
    def send(self, phone: str, text: str, key: str) -> str:
        """Send `text` to `phone` once per `key`; the gateway's id of the message. Raises SmsFailed."""


@dataclass(frozen=True)
class SentSms:
    key: str
    phone: str
    text: str


KEPT_TEXTS = 1000  # texts the stand-in keeps: the latest only, for the scheduler that sends them runs for months


@dataclass
class RecordingSmsGateway:
    """Logs and keeps each text instead of sending it, the latest `kept` of them; a key sent before answers with its
    first message's id. (It kept every text, in a list it searched whole for the key at each send.)"""

    kept: int = KEPT_TEXTS
    _by_key: OrderedDict[str, SentSms] = field(default_factory=OrderedDict)

    @property
    def sent(self) -> list[SentSms]:
        return list(self._by_key.values())

    def send(self, phone: str, text: str, key: str) -> str:
        if key not in self._by_key:
            self._by_key[key] = SentSms(key, phone, text)
            if len(self._by_key) > self.kept:
                self._by_key.popitem(last=False)
            log.info("SMS %s to %s: %s", key, mask(PHONE, phone), text)
        return f"SMS{key}"


@dataclass(frozen=True)
class HttpSmsGateway:
    """POST {"phone", "text"} as JSON to `url`; a 2xx answer's `message_id` (or the key) is the message's id."""

    url: str
    timeout: float = 5.0
    token: str | None = None  # sent as a Bearer token when the platform wants one

    def send(self, phone: str, text: str, key: str) -> str:
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = response.read()
        except urllib.error.HTTPError as error:
            raise SmsFailed(f"短信网关拒绝发送（HTTP {error.code}）") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsFailed(f"短信网关无法连接（{getattr(error, 'reason', error)}）") from None
        try:
            return str(json.loads(answer or b"{}").get("message_id") or key)
        except (ValueError, AttributeError):
            return key
