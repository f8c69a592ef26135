"""The one way data preparation starts worker processes: spawned, never forked.

A fork copies the parent's memory but only the calling thread. If another thread held a lock at that moment (PyAV's
thread-local ``VideoReformatter`` after a Telegram encode on the app's encoder pool, a BLAS or tqdm thread), the
child inherits the lock held forever and deadlocks when it touches it (seen: ``sws_freeContext`` ->
``pthread_cond_destroy`` in a forked ``Pool`` worker, hanging the test suite). A spawned worker starts a fresh
interpreter, so it holds no such lock; the price is importing the worker's module once per process.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.pool import Pool


def worker_pool(workers: int) -> Pool:
    """A ``multiprocessing.Pool`` of ``workers`` spawned processes (safe in a process that has run threads)."""
    return multiprocessing.get_context("spawn").Pool(workers)


def loader_context(workers: int) -> str | None:
    """``DataLoader(multiprocessing_context=...)`` for ``workers`` loader processes: spawned, for the reason above
    (a training process has run threads: TensorBoard's writer, accelerate's, a Telegram encode in a test run)."""
    return "spawn" if workers > 0 else None
