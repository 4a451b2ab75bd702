"""Use cases of the item catalog: load the catalog files into the database, read agencies and items."""
from __future__ import annotations

from pathlib import Path

from workflows.adapters.catalog_files import load_documents
from workflows.domain.catalog import Agency, AgencyItem
from workflows.domain.errors import NotFound

from .context import ITEMS_DOCUMENT, TEMPLATES_DOCUMENT, Context
from .retries import retried


@retried
def load_catalog(ctx: Context, directory: Path) -> dict[str, int]:
    """Validate the catalog files and make them the catalog in use; returns the number of items per agency.

    Nothing is stored unless every file is valid: a CatalogError names the file and the field at fault.
    """
    items, agencies, templates, catalog = load_documents(directory)
    with ctx.uow() as uow:
        uow.catalog.replace({ITEMS_DOCUMENT: items, TEMPLATES_DOCUMENT: templates, **agencies}, ctx.now())
        uow.commit()
    return {code: len(agency.items) for code, agency in catalog.agencies.items()}


def list_agencies(ctx: Context) -> list[Agency]:
    with ctx.uow(write=False) as uow:
        return sorted(ctx.catalog(uow).agencies.values(), key=lambda agency: agency.code)


def get_agency(ctx: Context, agency_code: str) -> Agency:
    with ctx.uow(write=False) as uow:
        agency = ctx.catalog(uow).agency(agency_code)
    if agency is None:
        raise NotFound(f"经办机构 {agency_code} 不存在")
    return agency


def get_agency_item(ctx: Context, agency_code: str, item_code: str) -> AgencyItem:
    item = get_agency(ctx, agency_code).item(item_code)
    if item is None:
        raise NotFound(f"经办机构 {agency_code} 没有事项 {item_code}")
    return item
