"""Use cases of staff accounts: look users up, add or change one (signing in: services/accounts.py)."""
from __future__ import annotations

from werkzeug.security import check_password_hash

from workflows.domain import pages
from workflows.domain.errors import InvalidInput, NotFound
from workflows.domain.model import User
from workflows.domain.roles import ROLE_NAMES

from .accounts import hash_password, revoke_sessions
from .context import Context
from .retries import retried



def get_user(ctx: Context, username: str) -> User:
    with ctx.uow(write=False) as uow:
        user = uow.users.get(username)
    if user is None:
        raise NotFound(f"用户 {username} 不存在")
    return user


def list_users(ctx: Context) -> list[User]:
    with ctx.uow(write=False) as uow:
        return uow.users.all()


@retried
def save_user(ctx: Context, username: str, full_name: str, password: str, agency_code: str, hall_code: str,
              roles: list[str]) -> User:
    """Add a user, or update the one of that name; the agency, hall and roles must exist."""
    with ctx.uow() as uow:
        agency = ctx.catalog(uow).agency(agency_code)
        errors = {}
        if not username or not username.isascii() or not username.replace("_", "").isalnum():
            errors["username"] = "用户名只能由字母、数字和下划线组成"
        if agency is None:
            errors["agency_code"] = f"经办机构 {agency_code} 不存在"
        elif agency.hall(hall_code) is None:
            errors["hall_code"] = f"服务大厅 {hall_code} 不属于 {agency.name}"
        unknown = [role for role in roles if role not in ROLE_NAMES]
        if unknown or not roles:
            errors["roles"] = f"岗位应为：{', '.join(ROLE_NAMES)}"
        if len(password or "") < 8:
            errors["password"] = "密码至少 8 位"
        if errors:
            raise InvalidInput("用户信息有误", errors)
        user = uow.users.get(username)
        if user is None:
            user = User(username=username)
            uow.users.add(user)
        else:
            _revoke_if_changed(uow, ctx, user, password, agency_code, hall_code, roles)
        user.full_name, user.agency_code, user.hall_code, user.roles = full_name, agency_code, hall_code, roles
        user.password_hash = hash_password(password)
        uow.commit()
        return user


def _revoke_if_changed(uow, ctx: Context, user: User, password: str, agency_code: str, hall_code: str,
                       roles: list[str]) -> None:
    """A new password, other roles or another hall end every session and token the user holds: what was granted
    before the change must not outlive it."""
    changes = []
    if not check_password_hash(user.password_hash, password):
        changes.append(("password_changed", "密码已更改"))
    if sorted(user.roles) != sorted(roles):
        changes.append(("roles_changed", f"岗位由 {'、'.join(user.roles)} 改为 {'、'.join(roles)}"))
    if (user.agency_code, user.hall_code) != (agency_code, hall_code):
        changes.append(("hall_changed", f"所在大厅由 {user.hall_code} 改为 {hall_code}"))
    if changes:
        revoke_sessions(uow, ctx, user.username, "系统管理员", changes[0][0], "；".join(text for _, text in changes))


def notifications(ctx: Context, actor: User, unread_only: bool = False, limit: int = 100,
                  offset: int = 0) -> list[dict]:
    """A page of the user's notifications, the newest first."""
    with ctx.uow(write=False) as uow:
        return uow.notifications.for_user(actor.username, unread_only, min(limit, pages.MAX_PAGE), offset)
