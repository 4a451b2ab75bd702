"""The designer's decision-table pages (决策表): the list of tables with the processes using them and who published
them when, the editor page (dmn-js, publishing through PUT /api/decisions/<id> with the page's CSRF token), and who
may see them."""
from __future__ import annotations

import re

from workflows.entrypoints.web.assets import manifest

from support.paths import BPMN_DIR
from support.web import csrf_token, html, sign_in

RULES = "prohibited_00203601002"  # 职工参保登记's 禁办情形
PROCESS = "item_00203601002"
TABLES = sorted(path.stem for path in (BPMN_DIR / "decisions").glob("*.dmn"))
WORDING = "个体参保人员是外地户口，并且没有抚顺居住证"
NEW_WORDING = "您以个体身份参保，户口在外地且未办理抚顺居住证，请先办理居住证"


def row(page: str, decision_id: str) -> str:
    start = page.index(f'<tr id="{decision_id}">')
    return page[start:page.index("</tr>", start)]


def publish(client, page: str, xml: str):
    """What the editor page's 发布 does: PUT the table with the page's CSRF token."""
    [token] = re.findall(r'data-csrf-token="([^"]+)"', page)
    return client.put(f"/api/decisions/{RULES}", data=xml.encode("utf-8"), content_type="application/xml",
                      headers={"X-CSRFToken": token, "Accept": "application/json"})


def test_a_designer_sees_every_decision_table_with_the_processes_using_it_and_who_published_it(client):
    sign_in(client, "sheji")
    page = html(client.get("/decisions"))
    assert re.findall(r'<tr id="(prohibited_[^"]+)">', page) == TABLES
    line = row(page, RULES)
    assert "职工参保登记禁办情形核查" in line and "职工参保登记" in line and "第 1 版" in line and "system" in line
    assert f'href="/decisions/{RULES}/editor"' in line
    assert 'href="/decisions" aria-current="page">决策表</a>' in page  # the side navigation
    assert 'href="/decisions"' in html(client.get("/processes"))  # and a link on 流程设计


def test_the_editor_page_carries_what_the_dmn_editor_needs_and_how_to_write_entries(client):
    sign_in(client, "sheji")
    page = html(client.get(f"/decisions/{RULES}/editor"))
    [element] = re.findall(r'<div id="dmn-editor"[^>]*>', page)
    assert f'data-dmn-url="/api/decisions/{RULES}"' in element
    assert f'data-publish-url="/api/decisions/{RULES}"' in element
    assert f'data-csrf-token="{csrf_token(page)}"' in element  # the same token as the page's forms
    assert '<div class="dmn-editor-table"></div>' in page
    assert '<button class="btn btn-primary" type="button" data-action="publish">发布</button>' in page
    assert '<div class="dmn-editor-messages" role="status"></div>' in page
    assert f"/assets/{manifest()['dmn-editor.js']}" in page and f"/assets/{manifest()['dmn-editor.css']}" in page
    assert f"职工参保登记（<code>{PROCESS}</code>）" in page and "第 1 版，system 发布" in page
    for example in ('<code>"外地"</code>', "<code>&gt;= 10</code>", '<code>? in ("A", "B")</code>', "不予受理决定书"):
        assert example in page
    assert client.get("/decisions/prohibited_999/editor").status_code == 404


def test_after_a_publish_the_pages_show_the_new_version_and_who_published_it(client):
    sign_in(client, "sheji")
    page = html(client.get(f"/decisions/{RULES}/editor"))
    xml = client.get(f"/api/decisions/{RULES}").get_data(as_text=True)
    assert WORDING in xml

    response = publish(client, page, xml.replace(WORDING, NEW_WORDING))

    assert response.status_code == 200, response.get_data(as_text=True)
    [version] = response.get_json()["published"]
    assert (version["process_key"], version["name"], version["version"]) == (PROCESS, "职工参保登记", 2)
    line = row(html(client.get("/decisions")), RULES)
    assert "第 2 版" in line and "sheji" in line
    assert "第 2 版，sheji 发布" in html(client.get(f"/decisions/{RULES}/editor"))
    assert NEW_WORDING in client.get(f"/api/decisions/{RULES}").get_data(as_text=True)  # what the editor loads next


def test_a_refused_table_answers_the_reason_in_chinese_and_publishes_nothing(client):
    sign_in(client, "sheji")
    page = html(client.get(f"/decisions/{RULES}/editor"))
    xml = client.get(f"/api/decisions/{RULES}").get_data(as_text=True)

    # neither FEEL (an interval needs two ends) nor Python
    response = publish(client, page, xml.replace('<text>"nonlocal"</text>', "<text>[1..]</text>"))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert re.search(r"[\u4e00-\u9fff]", error["message"]), error  # said in Chinese
    assert error["element_id"] == "InputEntry_1_household_kind"  # the cell the page outlines
    assert "第 1 版" in row(html(client.get("/decisions")), RULES)


def test_a_publish_without_the_pages_csrf_token_is_refused(client):
    sign_in(client, "sheji")
    xml = client.get(f"/api/decisions/{RULES}").get_data(as_text=True)
    response = client.put(f"/api/decisions/{RULES}", data=xml.replace(WORDING, NEW_WORDING).encode("utf-8"),
                          content_type="application/xml")
    assert response.status_code == 403 and "CSRF" in response.get_json()["error"]["message"]


def test_clerks_neither_see_the_link_nor_open_the_pages(client):
    assert client.get("/decisions").status_code == 302  # not signed in: to the login page
    sign_in(client, "shouli")
    assert 'href="/decisions"' not in html(client.get("/inbox"))
    assert client.get("/decisions").status_code == 403
    assert client.get(f"/decisions/{RULES}/editor").status_code == 403
