"""Saved inbox filters (我的筛选): a clerk names the inbox's current filter, keeps it, shares it with the hall."""
from __future__ import annotations

from workflows.domain.errors import Forbidden, InvalidInput, NotFound
from workflows.domain.model import SavedFilter, User

from .context import Context
from .retries import retried

# The inbox's query arguments a filter keeps; anything else in a request is not part of a filter.
FILTER_KEYS = ("item_code", "stage", "search", "level", "view", "mine", "all")
MAX_NAME = 100
MAX_VALUE = 200


def clean_query(values: dict) -> dict:
    """The filter's arguments from a form or query string: only known keys, only non-empty text values."""
    query = {}
    for key in FILTER_KEYS:
        value = values.get(key)
        if isinstance(value, str) and value.strip():
            query[key] = value.strip()[:MAX_VALUE]
    return query


@retried
def save_filter(ctx: Context, actor: User, name: str, query: dict, shared: bool = False) -> SavedFilter:
    """Keep the filter under `name`; the actor saving a name again replaces that filter of theirs."""
    name = (name or "").strip() if isinstance(name, str) else ""
    if not name:
        raise InvalidInput("筛选内容有误", {"name": "请填写筛选名称"})
    if len(name) > MAX_NAME:
        raise InvalidInput("筛选内容有误", {"name": f"名称不超过 {MAX_NAME} 个字"})
    query = clean_query(query or {})
    with ctx.uow() as uow:
        saved = uow.saved_filters.find(actor.username, name)
        if saved is None:
            saved = SavedFilter(agency_code=actor.agency_code, hall_code=actor.hall_code, owner=actor.username,
                                name=name, query=query, shared=bool(shared), created_at=ctx.now())
            uow.saved_filters.add(saved)
        else:
            saved.query, saved.shared = query, bool(shared)
            saved.agency_code, saved.hall_code = actor.agency_code, actor.hall_code
        uow.commit()
        return saved


def list_filters(ctx: Context, actor: User) -> tuple[list[SavedFilter], list[SavedFilter]]:
    """(the actor's own filters, those others of the actor's hall share)."""
    with ctx.uow(write=False) as uow:
        found = uow.saved_filters.visible(actor.agency_code, actor.hall_code, actor.username)
    return ([f for f in found if f.owner == actor.username], [f for f in found if f.owner != actor.username])


@retried
def delete_filter(ctx: Context, actor: User, filter_id: int) -> SavedFilter:
    """Only its owner deletes a filter: another's of the hall is refused; another hall's is reported missing."""
    with ctx.uow() as uow:
        saved = uow.saved_filters.get(filter_id)
        if saved is None or (saved.owner != actor.username and (saved.agency_code, saved.hall_code)
                             != (actor.agency_code, actor.hall_code)):
            raise NotFound("筛选不存在")
        if saved.owner != actor.username:
            raise Forbidden("只能删除本人保存的筛选")
        uow.saved_filters.delete(saved)
        uow.commit()
        return saved
