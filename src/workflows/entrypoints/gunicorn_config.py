"""gunicorn's settings for `workflows serve` (so `make run`) and for the HTTP part of bench/case_throughput.py, so
that the bench measures the server as it is served: `gunicorn -c python:workflows.entrypoints.gunicorn_config
--workers N --bind HOST:PORT` (the command line adds the workers, the threads, the address and the control socket).

- gthread workers, 4 threads each: a thread waiting (an external task's long poll, a PostgreSQL commit's flush,
  SQLite's write lock) leaves the worker's other threads to answer, while the GIL keeps the CPU a worker uses to
  one core; a thread costs no more CPU per request than a sync worker did (process_time in the worker, the bench's
  flow: the same within the machine's noise). 2 workers per 2 cores (`--workers`): one process per core is what
  adds CPU. Tried on 2 cores (bench/case_throughput.py --http-only, 100 cases, SQLite, threads 1/2/4 × workers
  1–4, two runs each, load 3–14): 4 threads gave the most cases/s at 1 worker (30.3, 33.6; 2 threads 14.2, 28.0;
  1 thread 18.3, 16.3: a worker with one thread stood idle half the time) and at 2 (38.3, 45.4; 2 threads 11.9,
  27.1; 1 thread 14.2, 22.2). A third worker won in some runs only (4 threads: 52.0 against 45.4, 28.6 against
  38.3, 26.2 against 22.0, 32.6 against 29.7) and each worker more costs CPU a case (workers' CPU 1: 24–27 ms,
  2: 24–29, 3: 26–30, 4: 29–34), so `workflows serve` keeps 2. 2 workers made 1.2–1.5× of 1, not the 1.6× issue
  11 wants: their threads wait for SQLite's write lock (wall time a case in BEGIN IMMEDIATE: 35–37 ms in each of 2
  workers, 2 waits over 1 ms; 60 ms in 1 worker of 4 threads, 5 waits), and SQLite's busy handler slept 1, 2, 5,
  10 … ms between tries, not woken when the lock was free. Since writers queue for the lock (adapters/write_lock.py,
  Turn) and the scheduler checkpoints the WAL, 2 workers made 1.53× and 1.76× of 1 (same bench, quiet machine).
- no preload: each worker makes its own database engine (its pool's connections) and its own thread for the 文书
  PDFs after it is forked, where a preloaded app would have to be taken apart again in every worker; preloading
  saves start-up time and memory, not time per request.
- the PDFs' thread stays in the worker (app.make_context): left to the scheduler process instead (WORKFLOWS_OUTBOX_KICK
  =off), the worker spent less (bench/case_throughput.py --http-only, 100 cases, 1 and 2 workers, alternately, load
  6–14: 41.3–50.2 ms a case against 46.8–54.6) but the scheduler more than that (13.6–24.3 against 7.1–9.9: it claims
  each entry and reads its layout back, where the thread has it in hand), 55.7–74.5 ms in all against 56.7–61.8.
  Tried again (1 and 2 workers, load 11–13): off 22.5 and 27.0 ms in the workers, 7.3 and 8.3 in the scheduler,
  against 25.2 and 26.5, 2.7 and 2.4 with the thread. Laying them out in the request's own thread after the commit
  (WORKFLOWS_OUTBOX_KICK=inline) cost the workers the same (25.7, 26.5 ms) and made 受理's and 办结's responses wait
  for their PDFs.
- the access log to stdout, masked like every log (logs.GunicornLogger), one line per request with its id.
- the garbage collector as entrypoints/collector.py sets it, once the app is loaded.
"""
import sys

from workflows.entrypoints.collector import tune_collector
from workflows.entrypoints.logs import ACCESS_FORMAT

# How a server is started with these settings (a name gunicorn does not read: settings are lower case)
COMMAND = [sys.executable, "-m", "gunicorn", "-c", f"python:{__name__}"]

wsgi_app = "workflows.entrypoints.wsgi:app"
worker_class = "gthread"
threads = 4
logger_class = "workflows.entrypoints.logs.GunicornLogger"
accesslog = "-"
access_log_format = ACCESS_FORMAT


def post_worker_init(_worker) -> None:
    """gunicorn calls this in each worker once the app is loaded."""
    tune_collector()
