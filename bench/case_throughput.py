"""Cases per second of one 申请—受理—审核—拨付—办结 item (门诊费用报销), three ways in one run:

1. raw SpiffWorkflow in memory, with our parser, sandbox and handlers (the ceiling);
2. through the service layer, with every step persisted in its own transaction;
3. through the HTTP API, served by gunicorn as `workflows serve` runs it (entrypoints/gunicorn_config.py: gthread,
   4 threads a worker), driven by client threads: once per worker count of --workers (default
   1 and 2, each on a fresh database), and the ratio of the most workers to one (issue 11 wants 2 workers ≥ 1.6× of
   1: on SQLite that holds only while the write lock is taken just for the writes). Each client thread runs each case
   on a keep-alive connection of its own (Client), and one case before the clock starts (the workers' first requests
   parse the catalog and the process); the line also gives the workers' CPU per case (from /proc, before and after: the
   command, the PDFs' thread and the HTTP path together; their shares tell whether the connections spread evenly)
   and the client threads' own CPU per request, to show that the bench's client is not what limits the rate.
   The scheduler process runs beside gunicorn as `workflows serve` starts it (cli.SCHEDULER): it works the
   outbox (the 文书 PDFs, the applicant's texts), so its CPU per case is printed too, read once the outbox has no
   entry left undone. --threads sets gunicorn's threads per worker, --ports the range the server's port is
   taken from.

Usage: python bench/case_throughput.py [--cases N] [--database-url URL] [--clients K] [--workers 1,2] [--http-only]
                                      [--threads T] [--ports LOW-HIGH] [--kick thread|inline|off] [--profile FILE]
Without --database-url each part gets a fresh SQLite file; with a PostgreSQL URL the database is emptied first.
The service-layer part also prints its rate over the first and the last tenth of the cases, to show whether the
cost of a step stays flat as cases and their histories pile up, the SQL statements each command sends (open, then
each task by its stage; counted at the cursor: a batch of rows in one executemany is one statement), and the bytes a
case stores (its workflow_state, and the values of every row of the case: the case row and those with its case_id).
--profile FILE runs the service layer under cProfile (in this thread: with --kick inline the PDFs count too) and
saves the stats to FILE (read them with `python -m pstats FILE`), timed by process_time; it prints the CPU time per case
and the functions that took the most of it. The rates of a profiled run are the profiler's, not the code's.
It prints the machine's load average at the start and at the end. On the 2-core development machine the same code
ran at 37 and at 70 cases/s over HTTP (2 workers) an hour apart, at loads under 1, its service layer's CPU a case
38 and 18 ms, while raw SpiffWorkflow moved by a tenth only: read a figure beside a run of the code it is compared
with, the two alternated, never beside a figure of another hour.
"""
from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import os
import pstats
import socket
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import sessionmaker

from handlers.gateways import LocalNationalPlatform, LocalPaymentGateway, LocalSmsNotifier
from workflows.adapters.bpmn_parsing import parse_process
from workflows.adapters.catalog_files import load_catalog
from workflows.adapters.dmn_parsing import decision_files, read_decisions
from workflows.adapters.database import make_engine
from workflows.adapters.engine import CaseBindings, Engine
from workflows.adapters.migrate import upgrade
from workflows.bootstrap import bootstrap
from workflows.entrypoints.cli import SCHEDULER
from workflows.entrypoints.gunicorn_config import COMMAND as GUNICORN
from workflows.adapters import orm
from workflows.adapters.write_lock import GUARD
from workflows.services import cases, tasks, users
from workflows.services.demo import resident_id
from workflows.services.clock import FAR_FUTURE
from workflows.services.setup import install

ROOT = Path(__file__).resolve().parent.parent
ITEM, AGENCY, HALL, CLERK, PASSWORD = "002036006001", "210400", "210400-01", "bench_clerk", "bench-password"
APPLICANT = {"name": "张伟", "id_number": resident_id("21040219800101123"), "phone": "13804130001"}
DATA = {"expense_total": "1860.00", "self_pay_total": "120.00", "bank_account": "6222020712001234567"}
DECISIONS = {"受理": "accept", "审核": "approve", "拨付": "pay"}
PERSON = {"name": "张伟", "status": "参保缴费", "arrears": "0.00", "account_balance": "0.00"}


def raw_in_memory(count: int) -> float:
    definition = parse_process((ROOT / "bpmn" / f"item_{ITEM}.bpmn").read_bytes(), f"item_{ITEM}.bpmn",
                               read_decisions(decision_files(ROOT / "bpmn" / "decisions")))
    engine, calls = Engine(), []
    record = lambda *call: calls.append(call)  # noqa: E731 - the stand-ins' record callback
    not_yet = lambda kind="promised": FAR_FUTURE  # noqa: E731 - the limits' timers, which never fire here
    functions = {"deadline": not_yet, "warning_time": not_yet, "working_days": lambda days: FAR_FUTURE}
    bindings = CaseBindings("bench", AGENCY, ITEM, "门诊费用报销", APPLICANT,
                            LocalNationalPlatform({APPLICANT["id_number"]: PERSON}.get, record),
                            LocalPaymentGateway(record), LocalSmsNotifier(record), functions=functions,
                            policy=load_catalog(ROOT / "catalog").agency(AGENCY).item(ITEM).payment_policy)
    started = time.perf_counter()
    for _ in range(count):
        run = engine.start(definition, {"applicant": APPLICANT, **DATA}, bindings)
        while not run.completed:
            [task] = run.ready_tasks()
            run.complete(task.id, {"decision": DECISIONS[task.definition.stage]})
        _check(run.failure is None and run.result == "办结", run.failure)
    return count / (time.perf_counter() - started)


def _check(finished: bool, what) -> None:
    """A benchmark of cases that did not end as they should would measure the wrong thing."""
    if not finished:
        raise RuntimeError(f"a case did not end with 办结: {what}")


def prepared_database(url: str | None, scratch: Path, name: str) -> str:
    url = url or f"sqlite:///{scratch / name}.db"
    database = make_engine(url)
    if database.dialect.name == "postgresql":
        with database.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(database)
    ctx = bootstrap(sessionmaker(database, expire_on_commit=False))
    install(ctx, ROOT / "catalog", ROOT / "bpmn")
    users.save_user(ctx, CLERK, "压测窗口", PASSWORD, AGENCY, HALL, ["acceptor", "reviewer", "finance"])
    with ctx.uow() as uow:  # the national platform knows the applicant as insured, or 核查参保状态 refuses the case
        uow.external.save_person({"id_number": APPLICANT["id_number"], **PERSON, "insured_since": "2010-01",
                                  "suspended": False})
        uow.commit()
    database.dispose()
    return url


class StatementCounter:
    """The SQL statements an engine sends, counted at the cursor (what the database actually receives)."""

    def __init__(self, database):
        self.count = 0
        event.listen(database, "before_cursor_execute", self._seen)

    def _seen(self, *_arguments) -> None:
        self.count += 1


class LockedCpu:
    """The CPU time (this thread's) each SQLite write unit spends holding the write lock: from the statement that took
    it (write_lock.WriteGuard) to its commit. Two web workers overlap only what runs outside it. Only the commands'
    thread counts: the PDFs' thread's units are not in the commands' CPU either."""

    def __init__(self, session_factory: sessionmaker):
        self.seconds = 0.0
        self._thread = threading.get_ident()
        event.listen(session_factory, "after_commit", self._committed)

    def _committed(self, session) -> None:
        guard = session.info.get(GUARD)
        if guard is not None and threading.get_ident() == self._thread:
            self.seconds += guard.held + (time.thread_time() - guard.locked_at if guard.locked_at is not None else 0)


class PerCommand:
    """Statements per command, by command (open, then each task's stage), and its CPU time: in all, and under
    SQLite's write lock."""

    def __init__(self, counter: StatementCounter, locked: LockedCpu):
        self.counter, self.locked = counter, locked
        self.totals, self.runs = defaultdict(int), defaultdict(int)
        self.cpu, self.cpu_locked = defaultdict(float), defaultdict(float)

    def run(self, name: str, command):
        before, cpu, locked = self.counter.count, time.thread_time(), self.locked.seconds
        result = command()
        self.totals[name] += self.counter.count - before
        self.cpu[name] += time.thread_time() - cpu
        self.cpu_locked[name] += self.locked.seconds - locked
        self.runs[name] += 1
        return result

    def summary(self) -> str:
        means = {name: self.totals[name] / self.runs[name] for name in self.totals}
        return ", ".join(f"{name} {mean:.1f}" for name, mean in means.items()) + f"; per case {sum(means.values()):.1f}"

    def locked_summary(self) -> str:
        """Per command: ms under the lock of ms in all; and the share of the whole case's CPU under the lock."""
        parts = [f"{name} {self.cpu_locked[name] / self.runs[name] * 1000:.1f}/{self.cpu[name] / self.runs[name] * 1000:.1f}"
                 for name in self.cpu]
        share = sum(self.cpu_locked.values()) / sum(self.cpu.values())
        return ", ".join(parts) + f" ms; {share:.0%} of the commands' CPU"


def through_services(url: str, count: int, kick: str = "thread") -> tuple[float, float, float, PerCommand]:
    """kick: where the 文书 PDFs are rendered after each command (bootstrap.py): `thread` as the web app does,
    `inline` in the command's own thread after its commit, `off` not at all (left to the scheduler)."""
    database = make_engine(url)
    ctx = bootstrap(sessionmaker(database, expire_on_commit=False), kick=kick)
    clerk = users.get_user(ctx, CLERK)
    statements = PerCommand(StatementCounter(database), LockedCpu(ctx.session_factory))
    durations = []
    for _ in range(count):
        started = time.perf_counter()
        service_case(ctx, clerk, statements.run)
        durations.append(time.perf_counter() - started)
    database.dispose()
    tenth = max(1, count // 10)
    return count / sum(durations), tenth / sum(durations[:tenth]), tenth / sum(durations[-tenth:]), statements


def service_case(ctx, clerk, run=lambda _name, command: command()) -> None:
    """One case of the flow through the use cases, to 办结; `run(name, command)` runs each command ("open", then
    each task by its stage)."""
    progress = run("open", lambda: cases.open_case(ctx, clerk, ITEM, APPLICANT, DATA))
    while progress.open_tasks:
        task = progress.open_tasks[0]
        progress = run(task.stage, lambda: tasks.complete_task(ctx, clerk, task.id,
                                                               {"decision": DECISIONS[task.stage]}))
    _check(progress.case.result == "办结", (progress.case.result, progress.notices))


def api_case(request) -> None:
    """One case of the flow through the JSON API, to 办结; `request(method, path, body)` answers the response's
    JSON (a keep-alive connection here, Flask's test client in bench/instructions.py)."""
    case = request("POST", "/api/cases", {"item_code": ITEM, "applicant": APPLICANT, "data": DATA})
    while case["open_tasks"]:
        task = case["open_tasks"][0]
        case = request("POST", f"/api/tasks/{task['id']}/complete", {"data": {"decision": DECISIONS[task["stage"]]}})
    _check(case["result"] == "办结", case["status"])


def stored_bytes(url: str, sample: int = 20) -> tuple[float, float, dict[str, float]]:
    """Per case, over the last `sample` cases: the workflow_state's bytes, all the case's rows' bytes (each value
    as UTF-8 text), and the rows' bytes by table."""
    database = make_engine(url)
    by_table = {}
    with database.connect() as connection:
        ids = list(connection.scalars(select(orm.cases.c.id).order_by(orm.cases.c.id.desc()).limit(sample)))
        for table in orm.metadata.sorted_tables:
            key = table.c.id if table is orm.cases else table.c.get("case_id")
            if key is not None:
                rows = connection.execute(select(table).where(key.in_(ids)))
                by_table[table.name] = sum(_size(value) for row in rows for value in row) / len(ids)
        states = connection.scalars(select(orm.cases.c.workflow_state).where(orm.cases.c.id.in_(ids)))
        state = sum(len(value.encode()) for value in states) / len(ids)
    database.dispose()
    return state, sum(by_table.values()), {name: size for name, size in by_table.items() if size}


def _size(value) -> int:
    if value is None:
        return 0
    return len(value if isinstance(value, bytes) else
               (json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else str(value)).encode())


def _free_port(ports: range | None = None) -> int:
    """A port nobody listens on: the system's choice, or the first free one of `ports` (--ports, on a machine whose
    users share out port ranges)."""
    for port in ports or [0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:  # taken: the next one
                continue
            return probe.getsockname()[1]
    raise RuntimeError(f"no free port in {ports.start}–{ports.stop - 1}")


class Client:
    """A client thread's HTTP connection, kept alive for the requests of a case and opened anew for the next case:
    a connection stays with the worker that accepted it, and four connections held for a whole run were once all
    on one of two workers (shares 100%, 0%); a new one per case lets the workers' accepts spread the cases, while
    the case's four requests pay one TCP handshake, not four."""

    def __init__(self, port: int, token: str | None = None):
        self.connection, self.token, self.requests = http.client.HTTPConnection("127.0.0.1", port, timeout=60), token, 0

    def request(self, method: str, path: str, body: dict | None = None) -> dict:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        self.connection.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = self.connection.getresponse()
        payload = json.loads(response.read())
        self.requests += 1
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: {response.status} {payload}")
        return payload

    def run_case(self) -> None:
        self.connection.close()  # the next request connects again (http.client reopens a closed connection)
        api_case(self.request)


TICKS = os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers, of its master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _cpu(pid: int) -> float:
    """Seconds of CPU (user + system) a process has used, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _booted_workers(master: int, workers: int) -> list[int]:
    """The workers once each has loaded the app and waits: a worker still importing takes no connection, and with
    keep-alive the connections the clients open first stay with the workers that took them."""
    for _ in range(600):
        pids = _children(master)
        if len(pids) == workers and _settled(pids):
            return pids
    raise RuntimeError("the workers did not finish starting")


def _settled(pids: list[int]) -> bool:
    """Loaded: each has used some CPU (the app's import is a second or so) and then none for a while (0.2 s)."""
    before = {pid: _cpu(pid) for pid in pids}
    time.sleep(0.2)
    return all(0.3 <= before[pid] and _cpu(pid) <= before[pid] + 1 / TICKS for pid in pids)


def _started_scheduler(environment: dict, log) -> subprocess.Popen:
    """The scheduler process as `workflows serve` starts it beside gunicorn (the outbox's PDFs and texts are its
    work), once it has loaded and waits between rounds."""
    scheduler = subprocess.Popen(SCHEDULER, env=environment, stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(600):
        if _settled([scheduler.pid]):
            return scheduler
    raise RuntimeError("the scheduler did not finish starting")


def _drained(url: str, timeout: float = 120) -> float:
    """Seconds until the outbox has no entry left undone (the PDFs and texts of the cases run): its work is part
    of the cases' cost."""
    database, started = make_engine(url), time.perf_counter()
    try:
        while time.perf_counter() - started < timeout:
            with database.connect() as connection:
                if not connection.scalar(select(func.count()).select_from(orm.outbox).where(
                        orm.outbox.c.done_at.is_(None), orm.outbox.c.next_attempt_at.is_not(None))):
                    return time.perf_counter() - started
            time.sleep(0.1)
        raise RuntimeError(f"the outbox still had entries undone {timeout:.0f} s after the last case")
    finally:
        database.dispose()


def through_http(url: str, count: int, clients: int, workers: int, threads: int | None = None,
                 ports: range | None = None) -> dict:
    """The rate, and where the CPU went: the server's workers per case (read from /proc before and after), the
    bench's client threads per request (each thread's own CPU, so readers see the client is not the limit). Each
    client runs one case first on its connection, not counted: the workers' first requests parse the catalog and
    the process."""
    port = _free_port(ports)
    environment = {**os.environ, "WORKFLOWS_DATABASE_URL": url, "WORKFLOWS_SECRET_KEY": "bench"}
    log = tempfile.TemporaryFile()  # the workers' log (errors, tracebacks): shown when a request failed
    server = subprocess.Popen([*GUNICORN, "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                               *(["--threads", str(threads)] if threads else [])], env=environment,
                              stdout=subprocess.DEVNULL, stderr=log)
    scheduler = None
    try:
        pids = _booted_workers(server.pid, workers)
        scheduler = _started_scheduler(environment, log)
        token = Client(port).request("POST", "/api/login", {"username": CLERK, "password": PASSWORD})["token"]
        errors: list[Exception] = []
        warmed, finished = threading.Barrier(clients + 1), threading.Barrier(clients + 1)
        client_cpu: list[float] = []

        def client(share: int) -> None:
            bench = Client(port, token)
            try:
                bench.run_case()
            except Exception as error:  # report, don't hide: a failed request invalidates the figure
                errors.append(error)
            warmed.wait()
            cpu, bench.requests = time.thread_time(), 0
            try:
                for _ in range(share):
                    bench.run_case()
            except Exception as error:
                errors.append(error)
            client_cpu.append((time.thread_time() - cpu, bench.requests))
            bench.connection.close()
            finished.wait()

        shares = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
        threads = [threading.Thread(target=client, args=(share,)) for share in shares]
        for thread in threads:
            thread.start()
        warmed.wait()
        before = {pid: _cpu(pid) for pid in [*pids, scheduler.pid]}
        started = time.perf_counter()
        finished.wait()
        elapsed = time.perf_counter() - started
        drained = _drained(url)
        used = {pid: _cpu(pid) - before[pid] for pid in pids}
        scheduler_used = _cpu(scheduler.pid) - before[scheduler.pid]
        for thread in threads:
            thread.join()
        if errors:
            log.seek(0)
            logged = log.read().decode(errors="replace")
            first_error = logged.find(" ERROR ")  # its line, and its traceback after it
            raise RuntimeError(f"{len(errors)} clients failed, first: {errors[0]}; the server's first error: "
                               + (logged[first_error:first_error + 4000] if first_error >= 0 else "none logged"))
        requests = sum(done for _, done in client_cpu)
        return {"rate": count / elapsed, "server_ms": sum(used.values()) / count * 1000,
                "scheduler_ms": scheduler_used / count * 1000, "drained": drained,
                "shares": sorted((seconds / sum(used.values()) for seconds in used.values()), reverse=True),
                "client_ms": sum(cpu for cpu, _ in client_cpu) / requests * 1000, "requests": requests / count}
    finally:
        for process in (server, scheduler):
            if process:
                process.terminate()
                process.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=_worker_counts, default=[1, 2],
                        help="gunicorn worker counts to compare, comma-separated (default 1,2)")
    parser.add_argument("--threads", type=int, default=None,
                        help="gunicorn threads per worker (default: entrypoints/gunicorn_config.py's)")
    parser.add_argument("--ports", type=_port_range, default=None, metavar="LOW-HIGH",
                        help="serve on the first free port of this range (default: any free port)")
    parser.add_argument("--http-only", action="store_true", help="skip the raw engine and the service layer")
    parser.add_argument("--kick", choices=("thread", "inline", "off"), default="thread",
                        help="service layer: where the PDFs are rendered after the commit (the web app: thread)")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="run the service layer under cProfile, save the stats to FILE, print the top of them")
    options = parser.parse_args()
    print(_load("load at the start"))  # (how quiet the machine was; compare only with an alternated run, the docstring says)
    with tempfile.TemporaryDirectory() as scratch:
        if not options.http_only:
            raw = raw_in_memory(options.cases)
            print(f"raw SpiffWorkflow in memory:     {raw:8.1f} cases/s")
            service_url = prepared_database(options.database_url, Path(scratch), "services")
            profiler = cProfile.Profile(time.process_time) if options.profile else None
            cpu = time.process_time()
            if profiler:
                profiler.enable()
            service, first, last, statements = through_services(service_url, options.cases, options.kick)
            cpu = time.process_time() - cpu
            if profiler:
                profiler.disable()
                _print_profile(profiler, options.profile, options.cases)
            print(f"service layer CPU per case:      {cpu / options.cases * 1000:8.2f} ms (process_time, "
                  f"{'profiled' if profiler else 'not profiled'}; --kick thread: the PDFs' thread counts too)")
            print(f"service layer, persisted (PDFs: {options.kick}): {service:8.1f} cases/s "
                  f"(first tenth {first:.1f}/s, last tenth {last:.1f}/s)")
            print(f"SQL statements per command:      {statements.summary()}")
            if service_url.startswith("sqlite"):  # PostgreSQL has no database-wide write lock
                print(f"CPU under SQLite's write lock:   {statements.locked_summary()} (thread_time, the PDFs' "
                      "thread not counted; lock taken at the first write, held to the commit)")
            state, rows, by_table = stored_bytes(service_url)
            print(f"stored bytes per case:           workflow_state {state:,.0f}; all the case's rows {rows:,.0f} ("
                  + ", ".join(f"{name} {size:,.0f}" for name, size in sorted(by_table.items(), key=lambda i: -i[1]))
                  + ")")
        rates = {}
        for workers in options.workers:
            http_url = prepared_database(options.database_url, Path(scratch), f"http-{workers}")
            run = through_http(http_url, options.cases, options.clients, workers, options.threads, options.ports)
            rates[workers] = run["rate"]
            print(f"HTTP API ({workers} workers, {options.clients} clients): {run['rate']:8.1f} cases/s; workers' CPU "
                  f"{run['server_ms']:.2f} ms per case (shares {', '.join(f'{s:.0%}' for s in run['shares'])}); "
                  f"scheduler's CPU {run['scheduler_ms']:.2f} ms per case (outbox done {run['drained']:.1f} s after "
                  "the last response); "
                  f"client CPU {run['client_ms']:.2f} ms per request ({run['requests']:.0f} a case)")
        most, fewest = max(rates), min(rates)
        if most != fewest:
            print(f"HTTP {most} workers / {fewest}: {rates[most] / rates[fewest]:.2f}×")
        if not options.http_only:
            over_http = rates[most]
            print(f"ratios ({most} workers): services/raw {service / raw:.2f}, http/services {over_http / service:.2f}, "
                  f"http/raw {over_http / raw:.2f}")
    print(_load("load at the end"))


def _load(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"{when}: {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} cores"


def _print_profile(profiler: cProfile.Profile, path: str, count: int, top: int = 30) -> None:
    """Save the stats and print the functions with the most time, cumulative and own, per case."""
    profiler.dump_stats(path)
    stats = pstats.Stats(path)
    own: dict[str, float] = defaultdict(float)
    for (file, _, function), (_, _, tottime, _, _) in stats.stats.items():
        own[_package(file, function)] += tottime
    total = sum(own.values())
    print("--- profile, own time by package (ms per case, share) ---")
    for package, seconds in sorted(own.items(), key=lambda item: -item[1]):
        print(f"{seconds / count * 1000:8.2f} {seconds / total:6.1%}  {package}")
    for order in ("cumulative", "tottime"):
        print(f"--- profile, by {order} (ms per case; calls per case) ---")
        rows = sorted(stats.stats.items(), key=lambda item: -item[1][3 if order == "cumulative" else 2])[:top]
        for (file, line, function), (_, calls, own, cumulative, _) in rows:
            print(f"{cumulative / count * 1000:8.2f} {own / count * 1000:8.2f} {calls / count:9.1f}  "
                  f"{_short(file)}:{line}({function})")


PACKAGES = ("sqlalchemy", "sqlite3", "SpiffWorkflow", "reportlab", "json", "uuid", "workflows/adapters/engine",
            "workflows/adapters/case_workflow", "workflows/adapters/workflow_state", "workflows/adapters",
            "workflows/services", "workflows/domain", "handlers")


def _package(file: str, function: str) -> str:
    """What a function's own time counts towards: the first of PACKAGES its file or built-in name holds."""
    where = file if file != "~" else function
    return next((package for package in PACKAGES if package in where), "other")


def _short(file: str) -> str:
    for marker in ("site-packages/", "/src/", "/python3.11/"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def _worker_counts(text: str) -> list[int]:
    """'1,2' -> [1, 2]: each a positive number of gunicorn workers."""
    try:
        counts = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--workers takes numbers separated by commas, not {text!r}") from None
    if not counts or counts[0] < 1:
        raise argparse.ArgumentTypeError("--workers: each count at least 1")
    return counts


def _port_range(text: str) -> range:
    """'19300-19399' -> range(19300, 19400)."""
    low, _, high = text.partition("-")
    try:
        ports = range(int(low), int(high or low) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--ports takes LOW-HIGH, not {text!r}") from None
    if not ports or ports.start < 1 or ports.stop > 65536:
        raise argparse.ArgumentTypeError(f"--ports: {text!r} is no range of ports")
    return ports


if __name__ == "__main__":
    main()
