"""The process's thread budget: decode threads plus kernel threads never exceed the cores.

Every batch being built registers itself (`building()`); a batch then uses
`threads_now()` threads, the budget divided by the batches in flight, both to
decode its files (`map_files`) and for its kernel call.  One batch alone gets
every core; two batch builders on two cores (prefetch workers, or a training
loop's own threads calling `it[i]`) get one thread each, so workers x kernel
threads stay within the cores whoever started the threads.

The shared decode pool is re-made after a fork (by pid), as a thread pool
does not survive `fork()`; in a forked child the budget is one thread, as the
kernel's own default is, because the parent (a DataLoader, Keras with
`use_multiprocessing=True`) already runs one process per core.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

__all__ = ["cores", "building", "threads_now", "kernel_threads", "map_files"]

_STATE = {"pid": os.getpid(), "forked": False, "pool": None, "pool_pid": None, "in_flight": 0}
_LOCK = threading.Lock()


def _after_fork_in_child():
    # Locks held by parent threads at fork time would never be released here.
    global _LOCK
    _LOCK = threading.Lock()
    _STATE.update(pid=os.getpid(), forked=True, pool=None, pool_pid=None, in_flight=0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def cores():
    """CPUs this process may run on (its affinity mask, not the machine's count); 1 in a forked child."""
    if _STATE["forked"]:
        return 1
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, n)


@contextmanager
def building():
    """Counts one batch in flight for as long as it is being built."""
    state = _STATE
    with _LOCK:
        state["in_flight"] += 1
    try:
        yield
    finally:
        with _LOCK:
            state["in_flight"] -= 1


def threads_now():
    """Threads one batch may use now: the cores shared by the batches in flight."""
    return max(1, cores() // max(1, _STATE["in_flight"]))


def kernel_threads():
    """Threads for a kernel call now: `threads_now()`, but never above the
    kernel's own default (which honours OMP_NUM_THREADS)."""
    from . import _core
    return max(1, min(threads_now(), _core.default_num_threads()))


def _pool():
    n = cores()
    if n < 2:
        return None
    with _LOCK:
        if _STATE["pool_pid"] != os.getpid():
            _STATE["pool"] = ThreadPoolExecutor(n, thread_name_prefix="pyimgaug-decode")
            _STATE["pool_pid"] = os.getpid()
        return _STATE["pool"]


def map_files(fn, paths, threads=None):
    """`[fn(p) for p in paths]` on up to `threads` threads (the caller's included).

    Threads pull the next file from a shared counter, so a large photograph
    does not hold back a fixed share of the batch.  An exception is re-raised
    in the caller with a note naming the file (the first failing file in
    batch order wins, so the error does not depend on timing).
    """
    n = len(paths)
    threads = min(threads_now() if threads is None else threads, n)
    pool = _pool() if threads > 1 else None
    results = [None] * n
    errors = {}
    queue = {"next": iter(range(n))}
    take = threading.Lock()

    def work():
        while True:
            with take:
                i = next(queue["next"], None)
            if i is None:
                return
            try:
                results[i] = fn(paths[i])
            except BaseException as exc:  # noqa: B902 - re-raised in the caller
                with take:
                    errors[i] = exc
                    # The batch is lost: stop handing out its remaining files.
                    queue["next"] = iter(())

    helpers = [pool.submit(work) for _ in range(threads - 1)] if pool is not None else []
    try:
        work()
    finally:
        for f in helpers:
            f.result()
    if errors:
        i = min(errors)
        exc = errors[i]
        note = "while reading %s" % (paths[i],)
        if note not in getattr(exc, "__notes__", ()) and str(paths[i]) not in str(exc):
            if hasattr(exc, "add_note"):
                exc.add_note(note)
        raise exc
    return results
