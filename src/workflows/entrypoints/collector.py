"""The garbage collector as every process that runs commands sets it once its code is loaded: the gunicorn
workers (gunicorn_config.post_worker_init) and the scheduler process (`workflows scheduler`).

- The young generation is collected every 10,000 new objects, not Python's 700: a command makes some hundred
  thousand (the engine's task tree, the ORM's rows), and at the default the collections cost 1.7 ms of a request's
  20, 0.8 ms after (thread CPU timed by gc.callbacks in a worker over the 121 requests of 30 cases of the bench's
  flow, after the app's load).
- What the process has loaded by then (its modules, their functions and classes: ~150,000 objects) is frozen:
  a full collection walks only what came after, where it walked them all, ~0.1 s each, at a command's expense.
  Measured in one process over 300 cases of the bench's flow (the use cases alone, no PDFs, two runs each way,
  alternated): 13.9 and 14.7 ms of CPU a case at Python's thresholds, 12.6 and 13.2 at 10,000, 13.4 and 12.6 at
  10,000 and frozen (full collections come too seldom for 300 cases to tell); a full collection took 97–112 ms
  unfrozen, 0.5 ms frozen.
"""
import gc

YOUNG_THRESHOLD = 10_000


def tune_collector() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)
    gc.freeze()
