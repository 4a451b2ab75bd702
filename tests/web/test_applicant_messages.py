"""The case page lists the texts sent to the applicant: what, to whom (the phone masked for a role that does not
need it), sent or failing."""
from __future__ import annotations

import lxml.html

from workflows.services import outbox

from support.cases import accept
from support.web import html, sign_in


def rows(page: str) -> list[str]:
    return [row.text_content() for row in lxml.html.fromstring(page).xpath("//section[@id='applicant-messages']//tbody/tr")]


def test_the_case_page_shows_the_texts_the_applicant_was_sent(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    sign_in(client, "shouli")
    [waiting] = rows(html(client.get(f"/cases/{number}")))
    assert "待发送" in waiting and "已受理" in waiting

    outbox.work_due(ctx)
    [sent] = rows(html(client.get(f"/cases/{number}")))
    assert "13804130001" in sent and "已发送" in sent and f"《受理通知书》文书编号SL{number}" in sent


def test_an_administrator_sees_the_phone_masked(client, ctx, staff, clock):
    number = accept(ctx, staff, clock, "2026-11-23 09:30")
    outbox.work_due(ctx)
    sign_in(client, "admin")
    [sent] = rows(html(client.get(f"/cases/{number}")))
    assert "138****0001" in sent and "13804130001" not in sent
