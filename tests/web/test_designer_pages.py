"""The designer's and administrator's pages: processes and their versions, publishing a diagram, the modeler page,
the handler list the modeler reads, and the working-day calendar."""
from __future__ import annotations

import io
import re
from datetime import date

from handlers import HANDLERS
from workflows.entrypoints.web import designer
from workflows.entrypoints.web.assets import manifest
from workflows.services import calendar

from support.diagrams import OUTPATIENT_PROCESS, RENAMED_REVIEW, outpatient_diagram
from support.paths import ROOT
from support.web import csrf_token, html, sign_in


def upload(client, page: str, bpmn: bytes, file_name: str):
    return client.post("/processes", data={"csrf_token": csrf_token(page), "file": (io.BytesIO(bpmn), file_name)},
                       content_type="multipart/form-data")


def outpatient_row(page: str) -> str:
    """The list's row of the 门诊费用报销 process and its versions."""
    start = page.index(f'<tr id="{OUTPATIENT_PROCESS}">')
    return page[start:page.index("</details>", start)]


# --- processes ------------------------------------------------------------------------------------------------------

def test_a_designer_sees_every_process_with_its_versions_and_a_link_to_the_modeler(client):
    sign_in(client, "sheji")
    page = html(client.get("/processes"))
    assert page.count('<tr id="item_') == 37  # every deployed process, latest version
    row = outpatient_row(page)
    assert "门诊费用报销" in row and "第 1 版" in row and "system" in row and f"{OUTPATIENT_PROCESS}.bpmn" in row
    assert f'href="/processes/{OUTPATIENT_PROCESS}/modeler"' in row
    assert 'href="/processes"' in page and "流程设计" in page  # the side navigation link
    assert 'href="/calendar"' not in page  # the calendar is the administrator's


def test_the_modeler_page_carries_what_the_editor_needs(client):
    sign_in(client, "sheji")
    page = html(client.get(f"/processes/{OUTPATIENT_PROCESS}/modeler"))
    [element] = re.findall(r'<div id="modeler"[^>]*>', page)
    assert f'data-bpmn-url="/api/processes/{OUTPATIENT_PROCESS}/versions/1/bpmn"' in element
    assert 'data-publish-url="/api/processes"' in element and 'data-handlers-url="/api/handlers"' in element
    assert f'data-process-key="{OUTPATIENT_PROCESS}"' in element
    assert f'data-csrf-token="{csrf_token(page)}"' in element  # the same token as the page's forms
    assert '<div class="modeler-canvas"></div><div class="modeler-properties"></div></div>' in page
    for action, label in (("lint", "检查"), ("publish", "发布"), ("download", "下载")):
        assert re.search(rf'<button class="btn[^"]*" data-action="{action}">{label}</button>', page)
    assert '<div class="modeler-messages" role="status"></div>' in page
    assert f"/assets/{manifest()['modeler.js']}" in page and f"/assets/{manifest()['modeler.css']}" in page
    assert client.get("/processes/item_999/modeler").status_code == 404


def test_a_designer_publishes_a_changed_diagram_and_sees_the_new_version(client):
    sign_in(client, "sheji")
    page = html(client.get("/processes"))

    response = upload(client, page, outpatient_diagram(RENAMED_REVIEW), "门诊费用报销_v2.bpmn")

    assert response.status_code == 302
    page = html(client.get(response.headers["Location"]))
    assert f"已发布 门诊费用报销（{OUTPATIENT_PROCESS}）第 2 版" in page
    row = outpatient_row(page)
    assert "第 2 版" in row and "sheji" in row and "门诊费用报销_v2.bpmn" in row and "版本记录（2）" in row
    assert 'data-bpmn-url="/api/processes/item_002036006001/versions/2/bpmn"' in html(
        client.get(f"/processes/{OUTPATIENT_PROCESS}/modeler"))  # the modeler opens the latest version


def test_an_invalid_diagram_shows_the_reason_and_the_element_and_adds_no_version(client):
    sign_in(client, "admin")
    page = html(client.get("/processes"))
    bad = outpatient_diagram(('camunda:topic="payment"', 'camunda:topic="wire money"'))

    response = upload(client, page, bad, "bad.bpmn")

    assert response.status_code == 422
    assert "外部任务主题“wire money”无效" in html(response) and "Task_payment" in html(response)
    assert "bad.bpmn" in html(response)
    assert "版本记录（1）" in outpatient_row(html(client.get("/processes")))
    empty = upload(client, page, b"", "empty.bpmn")
    assert empty.status_code == 422 and "请选择要发布的 BPMN 文件" in html(empty)


def test_a_designer_publishes_several_files_together_a_call_crossing_them(client):
    sign_in(client, "sheji")
    page = html(client.get("/processes"))
    folder = ROOT / "tests" / "fixtures" / "conformance" / "deployments"
    main = (folder / "main_calls_recheck.bpmn").read_bytes().replace(b'"Process_conformance"', b'"item_002036002002"')
    alone = client.post("/processes", data={"csrf_token": csrf_token(page), "file": [(io.BytesIO(main), "main.bpmn")]},
                        content_type="multipart/form-data")
    assert alone.status_code == 422 and "Process_recheck" in html(alone) and "Call_recheck" in html(alone)
    files = [(io.BytesIO(main), "main.bpmn"), (io.BytesIO((folder / "recheck.bpmn").read_bytes()), "recheck.bpmn")]
    response = client.post("/processes", data={"csrf_token": csrf_token(page), "file": files},
                           content_type="multipart/form-data")

    assert response.status_code == 302
    assert "已发布 受理后调用复核（item_002036002002）第 2 版" in html(client.get(response.headers["Location"]))


def test_a_clerk_may_neither_see_nor_publish_processes(client):
    sign_in(client, "shouli")
    inbox = html(client.get("/inbox"))
    assert "流程设计" not in inbox and "工作日历" not in inbox
    assert client.get("/processes").status_code == 403
    assert client.get(f"/processes/{OUTPATIENT_PROCESS}/modeler").status_code == 403
    response = upload(client, inbox, outpatient_diagram(RENAMED_REVIEW), "x.bpmn")
    assert response.status_code == 403 and "需要岗位：流程设计员、系统管理员" in html(response)


def test_the_handlers_are_listed_by_name_for_signed_in_users(client, auth):
    assert client.get("/api/handlers").status_code == 401
    handlers = client.get("/api/handlers", headers=auth("sheji")).get_json()
    assert handlers == [{"name": name, "title": HANDLERS[name].title} for name in sorted(HANDLERS)]
    assert {"name": "payment", "title": HANDLERS["payment"].title} in handlers
    sign_in(client, "sheji")  # the modeler reads it with the session cookie
    assert client.get("/api/handlers").get_json() == handlers


# --- the working-day calendar ---------------------------------------------------------------------------------------

def test_the_calendar_names_each_years_notice_by_its_number_not_a_librarys(client):
    sign_in(client, "admin")
    for year, notice in ((2026, "依据：国办发明电〔2025〕7号"), (2024, "依据：国办发明电〔2023〕7号"),
                         (2020, "依据：国办发明电〔2019〕16号、国办发明电〔2020〕1号（延长春节假期）"),
                         (2010, "依据：国务院2010年节假日安排通知（文号未录入）")):
        page = html(client.get(f"/calendar?year={year}"))
        assert notice in page, year
        assert "chinese-calendar" not in page and "chinese_calendar" not in page


def test_an_administrator_publishes_a_year_and_corrects_a_day_through_the_page(client, ctx):
    sign_in(client, "admin")
    page = html(client.get("/calendar?year=2030"))
    assert "2030 年的放假安排尚未发布" in page and 'href="/calendar"' in page

    published = client.post("/calendar/years", data={
        "csrf_token": csrf_token(page), "year": "2030", "source": "国办发明电〔2029〕1号",
        "days_off": "2030-01-01\n2030-10-01..2030-10-07\n", "workdays": "2030-09-29\n2030-10-12"})

    assert published.status_code == 302
    page = html(client.get(published.headers["Location"]))
    assert "已发布 2030 年工作日历（国办发明电〔2029〕1号）" in page
    view = calendar.calendar_year(ctx, 2030)
    assert view.covered and view.source == "国办发明电〔2029〕1号"
    assert view.holidays == [date(2030, 1, 1), date(2030, 10, 1), date(2030, 10, 2), date(2030, 10, 3),
                             date(2030, 10, 4), date(2030, 10, 7)]  # 10-05 and 10-06 are a weekend anyway
    assert view.workdays == [date(2030, 9, 29), date(2030, 10, 12)]
    assert "2030-10-07" in page and "2030-09-29" in page and "发布全年安排" in page

    corrected = client.post("/calendar/days", data={"csrf_token": csrf_token(page), "day": "2030-05-02",
                                                    "working": "false", "name": "劳动节",
                                                    "source": "国办发明电〔2030〕2号"})

    assert corrected.status_code == 302
    page = html(client.get(corrected.headers["Location"]))
    assert "已将 2030-05-02 调整为休息日" in page
    assert date(2030, 5, 2) in calendar.calendar_year(ctx, 2030).holidays
    assert "2030-05-02 调整为休息日（劳动节）" in page and "更正单日" in page  # the change history


def test_a_bad_date_is_shown_beside_its_field_and_nothing_typed_is_lost(client, ctx):
    sign_in(client, "admin")
    page = html(client.get("/calendar?year=2030"))
    typed = {"csrf_token": csrf_token(page), "year": "2030", "source": "国办发明电〔2029〕1号",
             "days_off": "2030-01-01\n2030-13-01", "workdays": "2030-09-29"}

    response = client.post("/calendar/years", data=typed)

    assert response.status_code == 422
    page = html(response)
    field = page[page.index('id="p-days-off"'):page.index('id="p-workdays"')]
    assert "“2030-13-01”应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD" in field  # beside the days-off field
    assert "2030-01-01\n2030-13-01</textarea>" in field
    assert 'value="国办发明电〔2029〕1号"' in page and "2030-09-29</textarea>" in page
    assert not calendar.calendar_year(ctx, 2030).covered

    weekday_worked = client.post("/calendar/years", data={**typed, "days_off": "2030-01-01",
                                                          "workdays": "2030-10-08", "source": ""})
    page = html(weekday_worked)
    assert weekday_worked.status_code == 422
    assert "调休上班日应为周六或周日" in page and "请填写通知文号" in page and "2030-10-08</textarea>" in page

    bad_day = client.post("/calendar/days", data={"csrf_token": typed["csrf_token"], "day": "2030/05/02",
                                                  "working": "true", "name": "调休", "source": "某号"})
    assert bad_day.status_code == 422
    assert "“2030/05/02”不是 YYYY-MM-DD 格式的日期" in html(bad_day) and 'value="2030/05/02"' in html(bad_day)


def test_the_calendars_changes_past_its_first_page_show_on_the_next(client, monkeypatch):
    monkeypatch.setattr(designer, "CHANGE_ROWS", 2)
    sign_in(client, "admin")
    sources = [f"国办发明电〔2026〕{n}号" for n in (1, 2, 3)]
    for day, source in zip(("2026-12-09", "2026-12-10", "2026-12-11"), sources):
        token = csrf_token(html(client.get("/calendar?year=2026")))
        assert client.post("/calendar/days", data={"csrf_token": token, "day": day, "working": "false",
                                                   "name": "临时调整", "source": source}).status_code == 302

    first = html(client.get("/calendar?year=2026"))
    second = html(client.get("/calendar?year=2026&changes_page=2"))

    assert sorted(source for source in sources if source in first) == sources[1:]  # the newest first
    assert 'href="/calendar?year=2026&amp;changes_page=2">下一页' in first
    assert [source for source in sources if source in second] == sources[:1] and "上一页" in second
    assert "第 3 页没有变更" in html(client.get("/calendar?year=2026&changes_page=3"))


def test_only_an_administrator_manages_the_calendar(client, ctx):
    sign_in(client, "sheji")
    page = html(client.get("/processes"))
    assert client.get("/calendar").status_code == 403
    response = client.post("/calendar/years", data={"csrf_token": csrf_token(page), "year": "2030",
                                                    "source": "x", "days_off": "2030-01-01", "workdays": ""})
    assert response.status_code == 403
    assert not calendar.calendar_year(ctx, 2030).covered
