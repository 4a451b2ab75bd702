"""The `workflows` command line: installation, the catalog, deployment, and working cases from a terminal.

Commands that act on cases take `--user`: the command line runs on the server itself, by its operators, and acts
as that user with that user's permissions.
"""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from workflows.adapters.catalog_files import load_catalog
from workflows.adapters.database import make_engine
from workflows.adapters.engine import Engine
from workflows.adapters.migrate import upgrade
from workflows.domain.calendar import parse_day
from workflows.domain import pages
from workflows.domain.catalog import CatalogError
from workflows.domain.errors import InvalidInput, WorkflowsError
from workflows.domain.roles import role_name
from workflows.services import (calendar, case_migration, cases, catalog, demo, incidents, migration_runs,
                                process_messages, process_tests, processes, setup, signals, tasks, time_limits,
                                token_moves, users)
from workflows.services.context import CHINA

from . import logs, views
from .api_incidents import since_argument
from .app import database_url as default_database_url
from .app import make_context
from .collector import tune_collector
from .gunicorn_config import COMMAND as GUNICORN


def _echo(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _pairs(values: tuple[str, ...]) -> dict:
    """`key=value` arguments as a dict."""
    pairs = {}
    for text in values:
        key, sep, value = text.partition("=")
        if not sep:
            raise click.BadParameter(f"应为 字段=值：{text}")
        pairs[key.strip()] = value
    return pairs


def _variables(values: tuple[str, ...]) -> dict:
    """`--var name=JSON` options as process variables with their JSON values (a text in JSON quotes)."""
    variables = {}
    for name, value in _pairs(values).items():
        try:
            variables[name] = json.loads(value)
        except ValueError:
            raise click.BadParameter(f"变量 {name} 的值应为 JSON（文字加双引号）：{value}") from None
    return variables


# How `serve` starts the scheduler process beside gunicorn (bench/case_throughput.py starts it alike)
SCHEDULER = [sys.executable, "-m", "workflows.entrypoints.cli", "scheduler"]
VARIABLE = click.option("--var", "variables", multiple=True, help='流程变量：名称=JSON 值，如 count=3、tags=["a"]')


class Command(click.Group):
    """Turns our errors into a one-line message and exit status 1 (2 for a usage error, as click does)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (WorkflowsError, CatalogError) as error:
            click.echo(f"错误：{error}", err=True)
            if isinstance(error, InvalidInput):
                for field, problem in error.field_errors.items():
                    click.echo(f"  {field}: {problem}", err=True)
            sys.exit(1)


@click.group(cls=Command)
@click.option("--database-url", "url", envvar="WORKFLOWS_DATABASE_URL", default=None,
              help="数据库 URL（默认 sqlite:///var/workflows.db）")
@click.pass_context
def main(click_ctx, url):
    """医保经办业务流程平台的命令行。"""
    click_ctx.obj = {"url": url or default_database_url()}


def _context(click_ctx):
    obj = click_ctx.find_root().obj
    if "context" not in obj:
        obj["context"] = make_context(obj["url"], kick="inline")
    return obj["context"]


def _user(click_ctx, username: str):
    return users.get_user(_context(click_ctx), username)


@main.command()
@click.option("--catalog", "catalog_dir", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default="catalog", show_default=True)
@click.option("--bpmn", "bpmn_dir", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default="bpmn", show_default=True)
@click.option("--demo/--no-demo", "demo_data", default=False, help="空库时加入演示用户与演示办件")
@click.pass_context
def init(click_ctx, catalog_dir, bpmn_dir, demo_data):
    """升级数据库结构，载入事项目录，部署有变化的流程图；数据库中已有的数据保留。"""
    upgrade(make_engine(click_ctx.find_root().obj["url"]))
    report = setup.install(_context(click_ctx), catalog_dir, bpmn_dir)
    for code, count in sorted(report.items_per_agency.items()):
        click.echo(f"目录：{code} 共 {count} 个事项")
    click.echo(f"测试用例：{len(report.tests_loaded)} 个流程的测试已载入（发布时运行）")
    click.echo(f"部署：{len(report.deployed)} 个流程有新版本")
    if demo_data:
        seeded = demo.seed(_context(click_ctx))
        click.echo("演示数据：已加入" if seeded else "演示数据：已有，未改动")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="进程数（gunicorn）")
@click.option("--threads", default=4, show_default=True, type=int,
              help="每进程线程数：外部任务的长轮询（fetchAndLock）等待时只占一个线程，页面照常响应")
@click.option("--scheduler/--no-scheduler", "with_scheduler", default=True, help="同时启动定时器调度进程")
@click.option("--control-socket", type=click.Path(path_type=Path), default=None,
              help="gunicorn 控制套接字（默认 var/gunicorn-<端口>.ctl，每个端口一个，多个服务可并行）")
@click.pass_context
def serve(click_ctx, host, port, workers, threads, with_scheduler, control_socket):
    """启动 Web 服务（gunicorn，多进程）和定时器调度进程。"""
    url = click_ctx.find_root().obj["url"]
    environment = {**os.environ, "WORKFLOWS_DATABASE_URL": url}
    socket = (control_socket or Path("var") / f"gunicorn-{port}.ctl").resolve()
    socket.parent.mkdir(parents=True, exist_ok=True)
    scheduler = (subprocess.Popen(SCHEDULER, env=environment)
                 if with_scheduler else None)
    server = subprocess.Popen([*GUNICORN, "--workers", str(workers), "--threads", str(threads),
                               "--bind", f"{host}:{port}",
                               "--control-socket", str(socket)],  # gunicorn's default is one per user: servers clash
                              env=environment)
    # Stopping `workflows serve` (kill, a service manager) stops what it started, not only itself
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.wait()
    finally:
        for process in (server, scheduler):
            if process and process.poll() is None:
                process.terminate()
                process.wait()


@main.command(name="scheduler")
@click.option("--interval", default=1.0, show_default=True, type=float, help="轮询间隔（秒）")
@click.pass_context
def run_scheduler(click_ctx, interval):
    """运行定时器调度：到期的流程定时器（预警、超期督办）在到期后一两秒内触发，每个只触发一次。"""
    from .scheduler import run_scheduler as run

    logs.configure()
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per one-second round
    ctx = _context(click_ctx)
    tune_collector()
    run(ctx, interval)


@main.command()
@click.option("--agency", "agency_code", required=True)
@click.option("--item", "item_code", required=True)
@click.option("--accepted", required=True, help="受理时间 \"YYYY-MM-DD HH:MM\"（北京时间）")
@click.pass_context
def deadline(click_ctx, agency_code, item_code, accepted):
    """计算事项各时限的到期时间：第一行为承诺时限的到期时间 YYYY-MM-DD HH:MM。"""
    try:
        accepted_at = datetime.strptime(accepted, "%Y-%m-%d %H:%M").replace(tzinfo=CHINA)
    except ValueError:
        raise click.BadParameter("格式应为 YYYY-MM-DD HH:MM", param_hint="--accepted") from None
    limits = time_limits.compute_item_deadlines(_context(click_ctx), agency_code, item_code, accepted_at)
    click.echo(f"{limits[0].deadline.due_at:%Y-%m-%d %H:%M}")
    for limit in limits:
        if limit.deadline is None:  # counted from a stage that has no limit of its own
            click.echo(f"{limit.name}（{limit.limit.label}）\t自{limit.starts_after}结束起算")
            continue
        click.echo(f"{limit.name}（{limit.limit.label}）\t到期 {limit.deadline.label()}\t"
                   f"预警 {limit.deadline.warning_at:%Y-%m-%d %H:%M}\t起算 {limit.starts_at:%Y-%m-%d %H:%M}")


@main.group(name="calendar")
def calendar_group():
    """工作日历：查看、发布年度安排、更正某日。"""


@calendar_group.command(name="show")
@click.argument("year", type=int)
@click.pass_context
def calendar_show(click_ctx, year):
    """某年的放假与调休安排。"""
    view = calendar.calendar_year(_context(click_ctx), year)
    if not view.covered:
        click.echo(f"{year} 年日历尚未发布：该年的时限按周一至周五暂估")
        return
    click.echo(f"{year} 年（{view.source}）")
    click.echo("放假（工作日休息）：" + " ".join(f"{day:%m-%d}" for day in view.holidays))
    click.echo("调休上班（周末上班）：" + " ".join(f"{day:%m-%d}" for day in view.workdays))


@calendar_group.command(name="publish")
@click.argument("year", type=int)
@click.option("--source", required=True, help="国务院办公厅通知文号，如 国办发明电〔2026〕X号")
@click.option("--off", "days_off", multiple=True, help="放假日期 YYYY-MM-DD，可多次；或区间 YYYY-MM-DD..YYYY-MM-DD")
@click.option("--work", "workdays", multiple=True, help="调休上班的周末日期 YYYY-MM-DD，可多次")
@click.option("--user", "username", required=True)
@click.pass_context
def calendar_publish(click_ctx, year, source, days_off, workdays, username):
    """按国务院办公厅通知发布（或替换）某年的放假安排；在办案件的时限随之重算。"""
    view = calendar.publish_year(_context(click_ctx), _user(click_ctx, username), year, _days(days_off),
                                 _days(workdays), source)
    click.echo(f"已发布 {year} 年日历：放假 {len(view.holidays)} 个工作日，调休上班 {len(view.workdays)} 天")


@calendar_group.command(name="set-day")
@click.argument("day")
@click.option("--working/--off", required=True, help="该日上班或休息")
@click.option("--name", default="", help="如 调休上班、春节")
@click.option("--source", required=True, help="依据的通知文号")
@click.option("--user", "username", required=True)
@click.pass_context
def calendar_set_day(click_ctx, day, working, name, source, username):
    """更正某一天；在办案件的时限随之重算。"""
    calendar.correct_day(_context(click_ctx), _user(click_ctx, username), _days([day])[0], working, name, source)
    click.echo(f"已将 {day} 设为{'工作日' if working else '休息日'}")


def _days(texts) -> list[date]:
    """Dates from YYYY-MM-DD, or inclusive ranges YYYY-MM-DD..YYYY-MM-DD (a holiday period)."""
    days = []
    try:
        for text in texts:
            first, _, last = text.partition("..")
            start, end = parse_day(first), parse_day(last or first)
            days += [start + timedelta(days=n) for n in range((end - start).days + 1)]
    except ValueError:
        raise click.BadParameter(f"日期应为 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD：{text}") from None
    return days


@main.group(name="catalog")
def catalog_group():
    """事项目录。"""


@catalog_group.command(name="load")
@click.argument("directory", type=click.Path(path_type=Path, exists=True, file_okay=False), default="catalog")
@click.pass_context
def catalog_load(click_ctx, directory):
    """校验并载入目录文件（items.yaml 与 agencies/*.yaml）。"""
    for code, count in sorted(catalog.load_catalog(_context(click_ctx), directory).items()):
        click.echo(f"{code}: {count} 个事项")


@main.command(name="test-process")
@click.argument("item_code")
@click.option("--bpmn", "bpmn_dir", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default="bpmn", show_default=True, help="流程图目录（其中 item_X.bpmn 与测试文件 item_X.tests.yaml）")
@click.option("--tests", "tests_file", type=click.Path(path_type=Path, exists=True, dir_okay=False), default=None,
              help="测试文件（默认：流程图旁的 .tests.yaml）")
@click.option("--catalog", "catalog_dir", type=click.Path(path_type=Path, exists=True, file_okay=False),
              default="catalog", show_default=True)
@click.option("--agency", "agency_code", default=None, help="按哪个经办机构的规则运行（默认：办理该事项的第一个机构）")
def test_process(item_code, bpmn_dir, tests_file, catalog_dir, agency_code):
    """在内存中运行事项流程图的测试用例（不建案件、不调用外部系统），报告结果和未覆盖的连线；未通过时退出码为 1。"""
    found = load_catalog(catalog_dir)
    item = found.item(item_code)
    if item is None:
        raise InvalidInput(f"目录中没有事项 {item_code}", {"item_code": "请给出事项编码"})
    bpmn = bpmn_dir / f"{item.process_key}.bpmn"
    if not bpmn.exists():
        raise InvalidInput(f"没有流程图 {bpmn}", {"bpmn": f"请提供 {item.process_key}.bpmn"})
    _, report = process_tests.run_test_file(Engine(), found, bpmn, tests_file, agency_code)
    for outcome in report.outcomes:
        click.echo(f"通过：{outcome.name}" if outcome.passed else
                   f"未通过：{outcome.summary()}（元素 {outcome.element_id or '—'}）")
    coverage = report.coverage
    click.echo(f"连线覆盖：{len(coverage.taken)}/{len(coverage.taken) + len(coverage.missed)}；"
               f"未走过的网关分支：{'、'.join(coverage.missed_branches) or '无'}")
    if report.failure:
        sys.exit(1)


@main.command()
@click.pass_context
def agencies(click_ctx):
    """列出经办机构。"""
    for agency in catalog.list_agencies(_context(click_ctx)):
        click.echo(f"{agency.code}\t{agency.name}\t{len(agency.items)} 个事项\t{len(agency.halls)} 个大厅")


@main.command()
@click.argument("agency_code")
@click.pass_context
def items(click_ctx, agency_code):
    """列出经办机构的事项及其时限。"""
    for item in catalog.get_agency(_context(click_ctx), agency_code).items.values():
        click.echo(f"{item.code}\t{item.name}\t{item.promised_limit.label}\t{'—'.join(item.item.stages)}")


@main.command()
@click.argument("bpmn_files", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--user", "username", required=True)
@click.option("--decision", "dmn_files", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="其业务规则任务引用的决策表（DMN 文件，可多次给出）；未给出的取现行决策表")
@click.option("--national", is_flag=True, help="部署为全国版本（系统管理员），未自行部署的机构均使用")
@click.option("--note", default=None, help="变更说明：改了什么、为什么（随版本保存，显示在版本记录中）")
@click.pass_context
def deploy(click_ctx, bpmn_files, username, dmn_files, national, note):
    """部署 BPMN 文件（可一次多个：调用活动可调用其他文件中的流程；协作图的每个可执行池各为一个流程）及其决策表，
    为本机构流程的新版本。"""
    names = [path.name for path in bpmn_files]
    if len(set(names)) != len(names):
        raise click.UsageError("BPMN 文件名重复：一次部署的文件须各有不同的文件名")
    versions = processes.deploy_files(_context(click_ctx), _user(click_ctx, username),
                                      {path.name: path.read_bytes() for path in bpmn_files},
                                      {path.name: path.read_bytes() for path in dmn_files}, national, note)
    for version in versions:
        called = f"（调用 {', '.join(sorted(version.called_files))}）" if version.called_files else ""
        click.echo(f"已部署 {version.process_key} 版本 {version.version}{called}")


@main.command(name="processes")
@click.argument("process_key", required=False)
@click.pass_context
def list_processes(click_ctx, process_key):
    """列出各流程的最新版本，或某流程的所有版本。"""
    found = (processes.process_versions(_context(click_ctx), process_key) if process_key
             else processes.list_processes(_context(click_ctx)))
    for version in found:
        click.echo(f"{version.process_key}\tv{version.version}\t{version.name}\t{version.agency_code or '全国'}\t"
                   f"{version.deployed_by}\t{views.moment(version.deployed_at)}"
                   + (f"\t{version.change_note}" if process_key and version.change_note else ""))


@main.command(name="open-case")
@click.option("--user", "username", required=True)
@click.option("--item", "item_code", required=True)
@click.option("--name", required=True, help="申请人姓名或单位名称")
@click.option("--id-number", required=True, help="身份证号码或统一社会信用代码")
@click.option("--kind", default="自然人", show_default=True)
@click.option("--phone", default="")
@click.argument("fields", nargs=-1)
@VARIABLE
@click.pass_context
def open_case(click_ctx, username, item_code, name, id_number, kind, phone, fields, variables):
    """申请：登记一件办件。FIELDS 为申请表字段，如 expense_total=1200.50。"""
    applicant = {"name": name, "id_number": id_number, "kind": kind, "phone": phone}
    progress = cases.open_case(_context(click_ctx), _user(click_ctx, username), item_code, applicant,
                               _pairs(fields), _variables(variables))
    _print_progress(progress)


@main.command(name="tasks")
@click.option("--user", "username", required=True)
@click.option("--role", default=None)
@click.option("--mine", is_flag=True, help="只列本人认领的")
@click.option("--completed", is_flag=True, help="列出已办")
@click.pass_context
def list_tasks(click_ctx, username, role, mine, completed):
    """待办（或已办）任务：全部，一页一页读出。"""
    context, user = _context(click_ctx), _user(click_ctx, username)
    for task in _every_page(lambda limit, offset: tasks.list_tasks(
            context, user, role, mine, "completed" if completed else "ready", limit=limit, offset=offset)):
        click.echo(f"{task.id}\t{task.case_number}\t{task.item_name}\t{task.name}\t{task.assignee or '未认领'}")


def _every_page(read):
    """Every row of a list read as read(limit, offset), a page at a time: a terminal's list is not cut at the first
    page."""
    offset = 0
    while True:
        found = read(pages.MAX_PAGE, offset)
        yield from found
        if len(found) < pages.MAX_PAGE:
            return
        offset += len(found)


@main.command()
@click.argument("task_id")
@click.option("--user", "username", required=True)
@click.pass_context
def claim(click_ctx, task_id, username):
    """认领任务。"""
    task = tasks.claim_task(_context(click_ctx), _user(click_ctx, username), task_id)
    click.echo(f"已认领 {task.case_number} “{task.name}”")


@main.command()
@click.argument("task_id")
@click.argument("fields", nargs=-1)
@click.option("--user", "username", required=True)
@VARIABLE
@click.pass_context
def complete(click_ctx, task_id, fields, username, variables):
    """办理任务。FIELDS 为表单字段，如 decision=accept opinion=材料齐全。"""
    _print_progress(tasks.complete_task(_context(click_ctx), _user(click_ctx, username), task_id, _pairs(fields),
                                        _variables(variables)))


@main.command(name="message")
@click.argument("name")
@click.option("--user", "username", required=True)
@click.option("--agency", "agency_code", required=True, help="经办机构代码")
@click.option("--payload", default="null", help="消息内容（任意 JSON），如 '{\"order_no\": \"ZF001\"}'")
@click.pass_context
def post_message(click_ctx, name, username, agency_code, payload):
    """按名称向经办机构发送消息：送达等待它的办件（按关联属性区分），或由以它开始的事项流程立案。"""
    try:
        content = json.loads(payload)
    except ValueError as error:
        raise click.BadParameter(f"不是合法的 JSON：{error}", param_hint="--payload") from None
    correlated = process_messages.post_message(_context(click_ctx), _user(click_ctx, username), agency_code, name,
                                               content)
    click.echo("已立案" if correlated.started else "已送达")
    _print_progress(correlated.progress)


@main.command(name="signal")
@click.argument("name")
@click.option("--user", "username", required=True, help="科室负责人或系统管理员")
@click.option("--agency", "agency_code", default=None, help="经办机构代码（默认为该用户所在的经办机构）")
@click.pass_context
def send_signal(click_ctx, name, username, agency_code):
    """按名称发出信号：该经办机构所有等待它的办件各自捕获（与 POST /api/signals 相同）。"""
    user = _user(click_ctx, username)
    waiting = signals.send_signal(_context(click_ctx), user, agency_code or user.agency_code, name)
    click.echo(f"已发出信号“{name.strip()}”：{waiting} 件办件在等待")


def _print_progress(progress) -> None:
    case = progress.case
    click.echo(f"{case.number}\t{case.item_name}\t{case.stage}\t{views.case_view(case)['status_name']}\t"
               f"{case.result or ''}")
    for task in progress.open_tasks:
        click.echo(f"  待办：{task.id}\t{task.name}\t{role_name(task.role)}")


@main.command(name="case")
@click.argument("number")
@click.option("--user", "username", required=True)
@click.pass_context
def show_case(click_ctx, number, username):
    """办件详情（JSON）：环节、数据、任务、办理历史。"""
    _echo(views.case_details_view(cases.case_details(_context(click_ctx), _user(click_ctx, username), number)))


@main.command(name="add-user")
@click.argument("username")
@click.option("--name", "full_name", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--agency", "agency_code", required=True)
@click.option("--hall", "hall_code", required=True)
@click.option("--role", "roles", multiple=True, required=True,
              help="acceptor reviewer finance supervisor hospital designer admin（可多次）")
@click.pass_context
def add_user(click_ctx, username, full_name, password, agency_code, hall_code, roles):
    """新增或更新用户。"""
    user = users.save_user(_context(click_ctx), username, full_name, password, agency_code, hall_code, list(roles))
    click.echo(f"已保存用户 {user.username}")


@main.command(name="draft-bpmn")
@click.argument("item_code")
@click.option("--catalog", "items_file", type=click.Path(path_type=Path, exists=True, dir_okay=False),
              default="catalog/items.yaml", show_default=True)
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), required=True)
def draft_bpmn(item_code, items_file, output):
    """按事项的办理环节起草一张 BPMN 流程图（供设计员在建模器中修改）。"""
    from workflows.adapters.bpmn_draft import draft_item, load_catalog

    output.write_bytes(draft_item(item_code, load_catalog(items_file)))
    click.echo(f"已起草 {output}")


@main.command(name="incidents")
@click.option("--user", "username", required=True)
@click.option("--item", "item_code", default=None, help="事项编码")
@click.option("--hall", "hall_code", default=None, help="大厅")
@click.option("--handler", default=None, help="处理程序或外部任务主题")
@click.option("--since", default=None, help="自此日期（YYYY-MM-DD）或时刻（ISO 8601）起出现的")
@click.pass_context
def list_incidents(click_ctx, username, item_code, hall_code, handler, since):
    """故障：办件步骤出错、消息送达失败、后台任务失败（一行一个：故障编号、种类、办件、处理程序、出现时间、错误）。"""
    found = incidents.list_incidents(_context(click_ctx), _user(click_ctx, username), item_code, hall_code, handler,
                                     since_argument(since))
    for incident in found:
        click.echo("\t".join(str(value or "") for value in (
            incident.ref, incident.kind_label, incident.case_number, incident.handler,
            f"{incident.since:%Y-%m-%d %H:%M}" if incident.since else "", incident.error)))


@main.command(name="retry")
@click.argument("refs", nargs=-1, required=True)
@click.option("--reason", required=True, help="重试原因（如：银行接口已恢复）")
@click.option("--user", "username", required=True)
@click.pass_context
def retry_incidents(click_ctx, refs, reason, username):
    """重试所列故障（故障编号见 workflows incidents），每个一次；仍失败的列出新的错误，退出码 1。"""
    outcomes = incidents.retry_incidents(_context(click_ctx), _user(click_ctx, username), list(refs), reason)
    for outcome in outcomes:
        click.echo(f"{outcome.ref}\t" + ("已重试成功" if outcome.retried else f"未成功：{outcome.error}"))
    if not all(outcome.retried for outcome in outcomes):
        raise SystemExit(1)



def _mapping(pairs) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{pair!r} 应为 源元素id=目标元素id", param_hint="--map")
        mapping[old] = new
    return mapping


@main.command(name="migration-plan")
@click.argument("process_key")
@click.option("--from", "source", type=int, required=True, help="源版本号")
@click.option("--to", "target", type=int, required=True, help="目标版本号")
@click.option("--map", "pairs", multiple=True, help="目标版本没有的元素：源元素id=目标元素id（可多次）")
@click.option("--reason", required=True, help="迁移原因")
@click.option("--user", "username", required=True)
@click.pass_context
def migration_plan(click_ctx, process_key, source, target, pairs, reason, username):
    """提出迁移计划（设计员提出的须科室负责人批准：workflows migration-approve），并列出各在办案件能否迁移。"""
    context, user = _context(click_ctx), _user(click_ctx, username)
    plan = case_migration.request_migration(context, user, process_key, source, target, _mapping(pairs), reason)
    click.echo(f"迁移计划 {plan.id}：{'已批准' if plan.approved_by else '待科室负责人批准'}")
    for case in _every_page(lambda limit, offset: case_migration.plan_details(context, user, plan.id, limit,
                                                                             offset).candidates):
        click.echo(f"{case.number}\t{'、'.join(case.at)}\t{case.refusal or '可迁移'}")


@main.command(name="migration-approve")
@click.argument("plan_id", type=int)
@click.option("--user", "username", required=True)
@click.pass_context
def migration_approve(click_ctx, plan_id, username):
    """科室负责人批准迁移计划。"""
    case_migration.approve_plan(_context(click_ctx), _user(click_ctx, username), plan_id)
    click.echo(f"迁移计划 {plan_id} 已批准")


@main.command(name="migrate")
@click.argument("plan_id", type=int)
@click.argument("numbers", nargs=-1)
@click.option("--user", "username", required=True)
@click.pass_context
def migrate(click_ctx, plan_id, numbers, username):
    """执行已批准的迁移计划：所列办件，每件一个事务；不列即全部，在后台分批执行，本命令边执行边显示进度直到结束。
    有未迁移的，退出码 1。"""
    context, user = _context(click_ctx), _user(click_ctx, username)
    if not numbers:
        _migrate_all(context, user, plan_id)
        return
    outcomes = case_migration.run_plan(context, user, plan_id, list(numbers))
    for outcome in outcomes:
        click.echo(f"{outcome.number}\t" + ("已迁移" if outcome.migrated else f"未迁移：{outcome.error}"))
    if not all(outcome.migrated for outcome in outcomes):
        raise SystemExit(1)


def _migrate_all(context, user, plan_id: int) -> None:
    """Start the plan's run on all its cases and see it through: its batches are migrated here, as the scheduler
    would (a scheduler running meanwhile takes its share: each batch is claimed once), the progress after each."""
    run = migration_runs.start_run(context, user, plan_id)
    click.echo(f"迁移计划 {plan_id}：执行 {run.id} 已开始，共 {run.total} 件（中断本命令不影响执行：调度进程会接着做）")
    while True:
        progress = migration_runs.run_progress(context, user, plan_id, run.id)
        click.echo(f"已迁移 {progress.migrated} 件，未迁移 {progress.failed} 件，共 {run.total} 件")
        if not progress.run.running:
            break
        if not migration_runs.work_next_batch(context):
            time.sleep(1)  # a scheduler holds the batch, or it failed and waits for its retry
    for outcome in _every_page(lambda limit, offset: migration_runs.run_progress(context, user, plan_id, run.id,
                                                                                 limit, offset).failures):
        click.echo(f"{outcome.number}\t未迁移：{outcome.error}")
    if progress.failed:
        raise SystemExit(1)


@main.command(name="move-token")
@click.argument("number")
@click.option("--from", "source", required=True, help="当前所在的元素id")
@click.option("--to", "target", required=True, help="跳转到的元素id（用户任务或环节起点）")
@click.option("--reason", required=True, help="跳转原因")
@click.option("--compensation", default=None, help="越过对外办理步骤（如拨付资金）时的补偿说明")
@click.option("--user", "username", required=True)
@click.pass_context
def move_token(click_ctx, number, source, target, reason, compensation, username):
    """跳转（科室负责人、系统管理员）：取消案件当前环节，启动同一版本的另一环节。"""
    progress = token_moves.move_token(_context(click_ctx), _user(click_ctx, username), number, source, target,
                                      reason, compensation)
    click.echo(f"{number} 已跳转，现处于：{'、'.join(t.name for t in progress.open_tasks) or progress.case.stage}")


if __name__ == "__main__":
    main()
