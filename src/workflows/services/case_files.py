"""备注 and 附件: staff notes and files kept with a case, on the task and case pages.

Each use case checks that the case is visible to the actor (same agency and hall) and that the actor works its
tasks (a designer or an administrator reading a case sees neither: services.privacy), and writes its line of the
case's history in the same transaction as the note or file itself.
"""
from __future__ import annotations

import posixpath
import re
import unicodedata
from dataclasses import dataclass

from workflows.domain import privacy as personal_data
from workflows.domain.errors import InvalidInput, NotFound
from workflows.domain.model import CaseAttachment, CaseComment, User

from .access import require_case_visible
from . import privacy
from .privacy import require_case_worker
from .context import Context
from .history import add_history
from .retries import retried

MAX_COMMENT_LENGTH = 2000
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024  # 10 MB
MAX_FILE_NAME_LENGTH = 120

# extension -> (canonical media type, name shown to people, how the content starts)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary Office formats
_ZIP = b"PK\x03\x04"  # Office Open XML
ALLOWED_TYPES = {
    ".pdf": ("application/pdf", "PDF", (b"%PDF-",)),
    ".jpg": ("image/jpeg", "JPEG 图片", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", "JPEG 图片", (b"\xff\xd8\xff",)),
    ".png": ("image/png", "PNG 图片", (b"\x89PNG\r\n\x1a\n",)),
    ".doc": ("application/msword", "Word 文档", (_OLE,)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档", (_ZIP,)),
    ".xls": ("application/vnd.ms-excel", "Excel 表格", (_OLE,)),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel 表格", (_ZIP,)),
    ".ppt": ("application/vnd.ms-powerpoint", "PowerPoint 演示文稿", (_OLE,)),
    ".pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "PowerPoint 演示文稿",
              (_ZIP,)),
}
# What browsers send when they do not know a file's type: the extension and the content decide then.
_GENERIC_TYPES = {"", "application/octet-stream", "binary/octet-stream", "application/x-download"}
ALLOWED_NAMES = "PDF、JPEG、PNG 图片及 Word、Excel、PowerPoint 文档"


@dataclass(frozen=True)
class CaseFiles:
    """What the 备注 and 附件 panels of a page show."""

    number: str
    comments: list[CaseComment]
    attachments: list[CaseAttachment]


@retried
def add_comment(ctx: Context, actor: User, number: str, text: str) -> CaseComment:
    text = (text or "").strip()
    if not text:
        raise InvalidInput("备注不能为空", {"text": "请填写备注"})
    if len(text) > MAX_COMMENT_LENGTH:
        raise InvalidInput(f"备注不能超过 {MAX_COMMENT_LENGTH} 字（现 {len(text)} 字）",
                           {"text": f"不能超过 {MAX_COMMENT_LENGTH} 字"})
    with ctx.uow() as uow:
        case = _worked_case(uow, actor, number)
        at = ctx.now()
        comment = CaseComment(case_id=case.id, author=actor.username, text=text, created_at=at)
        uow.comments.add(comment)
        uow.flush()
        add_history(uow, case, at, actor.username, "comment_added", "添加备注", stage=case.stage,
                    detail={"comment_id": comment.id})
        uow.commit()
        return comment


def list_comments(ctx: Context, actor: User, number: str) -> list[CaseComment]:
    with ctx.uow(write=False) as uow:
        case = _worked_case(uow, actor, number)
        return uow.comments.for_case(case.id)


@retried
def add_attachment(ctx: Context, actor: User, number: str, file_name: str, media_type: str | None,
                   content: bytes) -> CaseAttachment:
    name, media_type = check_file(file_name, media_type, content)
    with ctx.uow() as uow:
        case = _worked_case(uow, actor, number)
        attachment = store_attachment(uow, case, actor, name, media_type, content, ctx.now())
        uow.commit()
        return attachment


def check_file(file_name: str | None, media_type: str | None, content: bytes) -> tuple[str, str]:
    """The name to keep and the canonical media type of an allowed, non-empty file of at most 10 MB."""
    name = sanitize_file_name(file_name)
    media_type = check_type(name, media_type, content)
    if len(content) > MAX_ATTACHMENT_SIZE:
        raise InvalidInput(f"附件“{name}”有 {len(content) / 1024 / 1024:.1f} MB，超过 10 MB 的上限",
                           {"file": "附件不能超过 10 MB"})
    if not content:
        raise InvalidInput(f"附件“{name}”是空文件", {"file": "附件是空文件"})
    return name, media_type


def store_attachment(uow, case, actor: User, name: str, media_type: str, content: bytes, at,
                     what: str = "附件") -> CaseAttachment:
    """Keep a checked file with the case, and say so in its history, inside the caller's transaction."""
    attachment = CaseAttachment(case_id=case.id, file_name=name, media_type=media_type, size=len(content),
                                content=content, uploaded_by=actor.username, uploaded_at=at)
    uow.attachments.add(attachment)
    uow.flush()
    add_history(uow, case, at, actor.username, "attachment_added", f"上传{what} {name}", stage=case.stage,
                detail={"attachment_id": attachment.id, "file_name": name, "media_type": media_type,
                        "size": len(content)})
    return attachment


def list_attachments(ctx: Context, actor: User, number: str) -> list[CaseAttachment]:
    """The case's attachments, without their content."""
    with ctx.uow(write=False) as uow:
        case = _worked_case(uow, actor, number)
        return uow.attachments.for_case(case.id)


def attachment(ctx: Context, actor: User, attachment_id: int) -> tuple[CaseAttachment, bytes]:
    """An attachment and its bytes, to download; one of a case the actor cannot see does not exist."""
    with ctx.uow(write=False) as uow:
        found = uow.attachments.with_content(attachment_id)
        if found is None:
            raise NotFound("附件不存在")
        try:
            case = require_case_visible(actor, uow.cases.get_by_id(found.case_id))
        except NotFound:
            raise NotFound("附件不存在") from None
        require_case_worker(uow, actor, case)
    privacy.audit_read(ctx, actor, case, {personal_data.ID}, "attachment")  # scans of ID cards, bank cards
    return found, found.content


def case_files(ctx: Context, actor: User, number: str) -> CaseFiles:
    """Both panels' contents in one read."""
    with ctx.uow(write=False) as uow:
        case = _worked_case(uow, actor, number)
        return CaseFiles(case.number, uow.comments.for_case(case.id), uow.attachments.for_case(case.id))


def _worked_case(uow, actor: User, number: str):
    case = require_case_visible(actor, uow.cases.get(number))
    require_case_worker(uow, actor, case)
    return case


def sanitize_file_name(file_name: str | None) -> str:
    """The name as kept and offered back on download: no folders, no control or reserved characters, no
    leading dots, at most MAX_FILE_NAME_LENGTH characters (the extension kept)."""
    name = unicodedata.normalize("NFC", file_name or "")
    name = posixpath.basename(name.replace("\\", "/"))
    name = "".join(" " if unicodedata.category(char)[0] == "C" else char for char in name)
    name = re.sub(r'[<>:"/\\|?*]', "_", name)
    name = re.sub(r"\s+", " ", name).strip().rstrip(".")
    dot = name.rfind(".")
    stem, extension = (name[:dot], name[dot:].replace(" ", "")) if dot >= 0 else (name, "")
    if len(extension) > 10:
        stem, extension = name, ""
    stem = stem.strip(" .")[:MAX_FILE_NAME_LENGTH - len(extension)].rstrip(" .")
    return f"{stem or '附件'}{extension.lower()}"


def check_type(name: str, media_type: str | None, content: bytes) -> str:
    """The canonical media type of an allowed file, or InvalidInput naming the type refused."""
    extension = posixpath.splitext(name)[1].lower()
    declared = (media_type or "").split(";")[0].strip().lower()
    allowed = ALLOWED_TYPES.get(extension)
    if allowed is None:
        shown = f"{extension or '无扩展名'}" + (f"（{declared}）" if declared and declared not in _GENERIC_TYPES else "")
        raise InvalidInput(f"不支持的附件类型：{shown}。仅可上传 {ALLOWED_NAMES}", {"file": "不支持的附件类型"})
    canonical, label, signatures = allowed
    if declared not in _GENERIC_TYPES and declared != canonical and not _compatible(declared, canonical):
        raise InvalidInput(f"不支持的附件类型：{declared}（文件名为 {extension}）。仅可上传 {ALLOWED_NAMES}",
                           {"file": "不支持的附件类型"})
    if content and not content.startswith(signatures):
        raise InvalidInput(f"附件“{name}”的内容不是{label}，请检查文件", {"file": "文件内容与类型不符"})
    return canonical


def _compatible(declared: str, canonical: str) -> bool:
    """Older names some browsers still send for the same type."""
    return (declared, canonical) in {("image/jpg", "image/jpeg"), ("image/pjpeg", "image/jpeg"),
                                     ("application/x-pdf", "application/pdf")}

