"""Signing in and out, and the sessions and tokens that follow: guesses throttled and locked out, sessions that
end when their user signs out or when an account's password, roles or hall change.

A sign-in is checked the same way whether or not the user exists (a dummy hash is checked for an unknown name, and
an unknown name is counted and locked like a known one), so neither the answer nor its time tells which names are
real. The secret a browser session or an API client holds is random; the database keeps only its SHA-256, with the
user it belongs to, so a request costs no password hash, and no query (no database session) while the worker saw
the session live within the last SESSION_SEEN_FOR: a sign-out, a password change or a change of roles or hall
forgets the worker's record at its commit, so the worker refuses the very next request; another worker within that
second at most."""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from workflows.domain import pages
from workflows.domain.errors import Forbidden, InvalidInput, NotFound, WorkflowsError
from workflows.domain.model import User
from workflows.domain.throttling import Attempts, Policy

from .context import Context, system_clock
from .throttles import count_failure, refuse_if_locked
from .retries import retried

SESSION_SEEN_FOR = 1.0  # seconds a worker trusts a session it found live (monotonic clock)
_SEEN = "sessions_seen"  # Context.cache key: token hash -> (trusted until, user)

ACCOUNT_POLICY = Policy(limit=5, window=timedelta(minutes=15), lock=timedelta(minutes=15))
ADDRESS_POLICY = Policy(limit=20, window=timedelta(minutes=15), lock=timedelta(minutes=15))
# An API token lives a working day and then some; a browser's session until the browser is closed (its cookie has
# no expiry), a month at most, or until signed out or revoked. Lifetimes run on the wall clock, not on the context's
# clock of working days (which tests move by weeks): a session's age is a matter of security, not of time limits.
LIFETIMES = {"api": timedelta(hours=12), "web": timedelta(days=30)}
WHAT = "登录"
PASSWORD_METHOD = "scrypt"  # werkzeug's scrypt, N=2**15: slow on purpose (the test suite lowers N, tests/conftest.py)
KINDS = {"account": "账号", "address": "地址"}


class BadCredentials(WorkflowsError):
    def __init__(self):
        super().__init__("用户名或密码错误")


@dataclass(frozen=True)
class SignedIn:
    user: User
    token: str  # the secret for the cookie or the Bearer header; stored only as its hash
    expires_in: int  # seconds


@dataclass(frozen=True)
class Lockout:
    kind: str  # account | address
    subject: str  # the username or the client address
    failures: int
    locked_until: object  # datetime


def account_key(username: str) -> str:
    return f"account:{username[:64]}"


def address_key(address: str | None) -> str:
    return f"address:{(address or '-')[:64]}"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_METHOD)


@cache
def _dummy_hash(method: str) -> str:
    """A hash made as the users' are, to check an unknown name's password against: the same cost, the same time."""
    return generate_password_hash(secrets.token_hex(16), method=method)


@retried
def sign_in(ctx: Context, username: str, password: str, address: str | None, kind: str = "web") -> SignedIn:
    """A new session (`kind` web) or API token for the right password; BadCredentials for a wrong one or an unknown
    name, TooManyAttempts while the account or the address is locked (then the password is not even looked at)."""
    user = _checked_user(ctx, username, password, address)
    with ctx.uow() as uow:
        uow.accounts.clear(account_key(user.username))  # the address's count stays: a valid login must not reset it
        signed = _open_session(uow, ctx, user, kind, address)
        uow.commit()
    return signed


def basic_user(ctx: Context, username: str, password: str, address: str | None) -> User:
    """HTTP Basic authentication (external-task workers configured as Camunda's clients allow): the password is
    checked, throttled and locked out exactly as at sign-in, on every request; no session is opened."""
    user = _checked_user(ctx, username, password, address)
    with ctx.uow() as uow:
        uow.accounts.clear(account_key(user.username))
        uow.commit()
    return user


def _checked_user(ctx: Context, username: str, password: str, address: str | None) -> User:
    username = (username or "").strip()
    keys = {account_key(username): ACCOUNT_POLICY, address_key(address): ADDRESS_POLICY}
    with ctx.uow(write=False) as uow:
        refuse_if_locked(uow, ctx, keys, WHAT)
        user = uow.users.get(username) if 0 < len(username) <= 64 else None  # no name is longer
    # Outside any transaction: the hash takes tens of milliseconds and must not hold SQLite's write lock.
    if not check_password_hash(user.password_hash if user else _dummy_hash(PASSWORD_METHOD), password or "") or user is None:
        count_failure(ctx, keys, WHAT, address)
        raise BadCredentials()
    return user


def session_user(ctx: Context, token: str | None) -> User | None:
    """The user a live session or token belongs to; None once it is signed out, revoked or expired."""
    if not token or len(token) > 200:
        return None
    key, seen = token_hash(token), ctx.cache.setdefault(_SEEN, {})
    trusted_until, user = seen.get(key, (0.0, None))
    if time.monotonic() < trusted_until:
        return user
    with ctx.uow(write=False) as uow:
        user = uow.accounts.session_user(key, system_clock())
    if user is None:
        seen.pop(key, None)
    else:
        seen[key] = (time.monotonic() + SESSION_SEEN_FOR, user)
    return user


def _forget_sessions(ctx: Context, hashed: str | None = None, username: str | None = None) -> None:
    """The worker no longer trusts the session (or every session of the user) it saw live: it asks again."""
    seen = ctx.cache.get(_SEEN, {})
    for key, (_, user) in list(seen.items()):
        if key == hashed or user.username == username:
            seen.pop(key, None)


@retried
def sign_out(ctx: Context, token: str | None) -> None:
    """The session or token ends here: replaying it afterwards is refused."""
    if token:
        with ctx.uow() as uow:
            uow.accounts.revoke(token_hash(token), system_clock())
            uow.after_commit(lambda: _forget_sessions(ctx, hashed=token_hash(token)))
            uow.commit()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def revoke_sessions(uow, ctx: Context, username: str, actor: str, action: str, message: str) -> None:
    """Every session and token of the user ends (its password, roles or hall changed), recorded as an event."""
    count = uow.accounts.revoke_all(username, system_clock())
    uow.after_commit(lambda: _forget_sessions(ctx, username=username))
    uow.accounts.record({"at": ctx.now(), "subject": account_key(username), "action": action, "actor": actor,
                         "address": None, "message": f"{message}，{count} 个会话或令牌已失效"})


@retried
def change_password(ctx: Context, actor: User, current: str, new: str, address: str | None,
                    kind: str = "web") -> SignedIn:
    """The user's own password change: the current password proves it is them (counted like a sign-in), every
    session and token of theirs ends, and the browser or client they changed it from gets a new one (`kind`)."""
    errors = {}
    if len(new or "") < 8:
        errors["new_password"] = "新密码至少 8 位"
    elif new == current:
        errors["new_password"] = "新密码不能与当前密码相同"
    if errors:
        raise InvalidInput("密码修改有误", errors)
    keys = {account_key(actor.username): ACCOUNT_POLICY, address_key(address): ADDRESS_POLICY}
    with ctx.uow(write=False) as uow:
        refuse_if_locked(uow, ctx, keys, WHAT)
    if not check_password_hash(actor.password_hash, current or ""):
        count_failure(ctx, keys, WHAT, address)
        raise InvalidInput("当前密码不正确", {"current_password": "当前密码不正确"})
    new_hash = hash_password(new)
    with ctx.uow() as uow:
        user = uow.users.get(actor.username)
        user.password_hash = new_hash
        revoke_sessions(uow, ctx, user.username, user.username, "password_changed", f"{user.full_name}修改了密码")
        signed = _open_session(uow, ctx, user, kind, address)
        uow.commit()
    return signed


def _open_session(uow, ctx: Context, user: User, kind: str, address: str | None) -> SignedIn:
    token, now, lifetime = secrets.token_urlsafe(32), system_clock(), LIFETIMES[kind]
    uow.accounts.open_session(token_hash(token), user.username, kind, now, now + lifetime, address)
    return SignedIn(user, token, int(lifetime.total_seconds()))


# --- the administrator ----------------------------------------------------------------------------------------

def lockouts(ctx: Context, actor: User) -> list[Lockout]:
    """What is locked now: the accounts of the administrator's agency, and client addresses."""
    _require_admin(actor)
    with ctx.uow(write=False) as uow:
        own = {user.username for user in uow.users.all() if user.agency_code == actor.agency_code}
        found = [_lockout(attempts) for attempts in uow.accounts.locked(ctx.now())]
    return [lock for lock in found if lock and (lock.kind == "address" or lock.subject in own)]


@retried
def unlock(ctx: Context, actor: User, kind: str, subject: str, address: str | None) -> None:
    """An administrator lifts a lock (and forgets its failures) before its time, recorded as an event."""
    _require_admin(actor)
    kind, subject = (kind or "").strip(), (subject or "").strip()
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "应为 account（账号）或 address（地址）"
    if not subject:
        errors["subject"] = "请填写要解锁的用户名或地址"
    elif len(subject) > 64:
        errors["subject"] = "用户名或地址不超过 64 个字符"
    if errors:
        raise InvalidInput("解锁信息有误", errors)
    with ctx.uow() as uow:
        if kind == "account":
            user = uow.users.get(subject)
            if user is None or user.agency_code != actor.agency_code:
                raise NotFound(f"本机构没有用户 {subject}")
        key = account_key(subject) if kind == "account" else address_key(subject)
        if not uow.accounts.clear(key):
            raise NotFound(f"{KINDS[kind]} {subject} 没有被锁定")
        uow.accounts.record({"at": ctx.now(), "subject": key, "action": "unlocked", "actor": actor.username,
                             "address": address, "message": f"{actor.full_name}解除了{KINDS[kind]} {subject} 的锁定"})
        uow.commit()


def account_events(ctx: Context, actor: User, limit: int = 100, offset: int = 0) -> list[dict]:
    """A page of the events about the agency's accounts and about addresses, the newest first, for the
    administrator."""
    _require_admin(actor)
    with ctx.uow(write=False) as uow:
        own = [account_key(user.username) for user in uow.users.all() if user.agency_code == actor.agency_code]
        return uow.accounts.events(own, "address:", min(limit, pages.MAX_PAGE), offset)


def _lockout(attempts: Attempts) -> Lockout | None:
    kind, _, subject = attempts.key.partition(":")
    return Lockout(kind, subject, attempts.failures, attempts.locked_until) if kind in KINDS else None


def _require_admin(actor: User) -> None:
    if not actor.has_role("admin"):
        raise Forbidden("只有系统管理员可以管理账号锁定")
