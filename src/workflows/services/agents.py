"""委托办理: an agent (委托代理人) applies for the applicant; the 授权委托书 is either uploaded (PDF or an image,
checked like any attachment and kept as one) or its original checked by the clerk. The agent is stored with the
case's applicant (`applicant["agent"]`): it is who applied, read with the applicant everywhere (task and case
pages, the API's case view, documents), so no table of its own.
"""
from __future__ import annotations

import base64
import binascii
import posixpath
from dataclasses import dataclass

from workflows.domain.applicants import AGENT, POWER_OF_ATTORNEY, UPLOAD, agent_of
from workflows.domain.errors import InvalidInput
from workflows.domain.model import Case, User

from .case_files import check_file, store_attachment
from .history import add_history

FIELD = "applicant.agent.power_of_attorney"
ALLOWED_EXTENSIONS = (".pdf", ".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class Upload:
    file_name: str
    media_type: str
    content: bytes


def take_upload(applicant: dict) -> tuple[Upload | None, dict[str, str]]:
    """Take the uploaded 授权委托书 out of a validated applicant (its bytes do not belong in the case's JSON) and
    check it; returns it and the field error, if any."""
    agent = agent_of(applicant)
    given = ((agent or {}).get(POWER_OF_ATTORNEY) or {}).pop(UPLOAD, None)
    if not given:
        return None, {}
    try:
        content = _content(given)
        name, media_type = check_file(given.get("file_name"), given.get("media_type"), content)
        if posixpath.splitext(name)[1] not in ALLOWED_EXTENSIONS:
            raise InvalidInput(f"授权委托书“{name}”应为 PDF 或 JPEG、PNG 图片", {"file": "应为 PDF 或图片"})
    except InvalidInput as error:
        return None, {FIELD: str(error)}
    return Upload(name, media_type, content), {}


def _content(given) -> bytes:
    """The file's bytes: as a form uploaded them (`content`), or base64 in a JSON request (`content_base64`)."""
    if isinstance(given, dict) and isinstance(given.get("content"), bytes):
        return given["content"]
    try:
        return base64.b64decode(given["content_base64"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise InvalidInput("授权委托书文件有误（content_base64 应为 Base64 编码的文件内容）",
                           {"file": "文件内容有误"}) from None


def record_agent(uow, case: Case, actor: User, upload: Upload | None, at) -> None:
    """Keep the uploaded 授权委托书 as the case's attachment, note it in the agent, and say who applied."""
    agent = agent_of(case.applicant)
    if agent is None:
        return
    if upload is not None:
        attachment = store_attachment(uow, case, actor, upload.file_name, upload.media_type, upload.content, at,
                                      what="授权委托书")
        proof = {"attachment_id": attachment.id, "file_name": attachment.file_name}
        case.applicant = {**case.applicant, AGENT: {**agent, POWER_OF_ATTORNEY: proof}}  # a new dict: JSON change
    add_history(uow, case, at, actor.username, "agent_recorded",
                f"委托办理：代理人{agent['name']}（{agent['relation']}），{power_of_attorney_label(case.applicant)}",
                stage=case.stage)


def power_of_attorney_label(applicant: dict) -> str:
    """How the 授权委托书 was provided, as pages and history say it."""
    proof = (agent_of(applicant) or {}).get(POWER_OF_ATTORNEY) or {}
    if proof.get("attachment_id"):
        return f"授权委托书已上传（{proof.get('file_name')}）"
    return f"授权委托书原件已核验（{proof.get('checked_on')}）"
