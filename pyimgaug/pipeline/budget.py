"""The process's thread budget: decode threads plus kernel threads never exceed the cores.

Every batch being built registers itself (`building()`); a batch then uses
`threads_now()` threads, the budget divided by the batches in flight, both to
decode its files (`map_files`) and for its kernel call.  One batch alone gets
every core; two batch builders on two cores (prefetch workers, or a training
loop's own threads calling `it[i]`) get one thread each, so workers x kernel
threads stay within the cores whoever started the threads.

The budget is the cores this process may run on (its affinity mask), or the
number given to `pyimgaug.set_num_threads(n)`: the one knob, like
`torch.set_num_threads`, for the decode threads and the kernel threads of
every flow, and for `transform_batch` calls without `num_threads`.

The shared decode pool is re-made after a fork (by pid), as a thread pool
does not survive `fork()`; in a forked child the budget is one thread, as the
kernel's own default is, because the parent (a DataLoader, Keras with
`use_multiprocessing=True`) already runs one process per core.  A number set
with `set_num_threads` in the parent is not inherited (the child would
otherwise run that many threads per process); calling `set_num_threads` in
the child sets the child's own budget.
"""
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

__all__ = ["cores", "set_num_threads", "get_num_threads", "user_threads", "building", "threads_now",
           "kernel_threads", "map_files"]

# "user": the number given to set_num_threads, or None (the cores).
_STATE = {"pid": os.getpid(), "forked": False, "pool": None, "pool_pid": None, "pool_size": 0,
          "in_flight": 0, "user": None}
# Far above any machine's cores; a bigger number is surely a mistake.
MAX_THREADS = 1024
_LOCK = threading.Lock()


def _after_fork_in_child():
    # Locks held by parent threads at fork time would never be released here.
    global _LOCK
    _LOCK = threading.Lock()
    _STATE.update(pid=os.getpid(), forked=True, pool=None, pool_pid=None, pool_size=0, in_flight=0,
                  user=None)


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


def set_num_threads(n):
    """Sets the threads pyimgaug uses in this process: decode and kernel threads together.

    Every flow divides `n` among the batches being built at once (see this
    module), and `transform_batch` uses `n` threads when it is not given
    `num_threads`.  `set_num_threads(None)` goes back to the default (the
    cores this process may run on).  Results are the same bytes for any `n`.
    Not inherited by forked children (see the module docstring).
    """
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError("n must be a positive integer or None; got %r" % (n,))
        if not 1 <= n <= MAX_THREADS:
            raise ValueError("n must be between 1 and %d; got %r" % (MAX_THREADS, n))
        n = int(n)
    with _LOCK:
        _STATE["user"] = n


def get_num_threads():
    """Threads pyimgaug uses in this process: the number set with
    `set_num_threads`, else the cores it may run on (1 in a forked child)."""
    user = _STATE["user"]
    return cores() if user is None else user


def user_threads():
    """The number given to `set_num_threads`, or None when it was not called."""
    return _STATE["user"]


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
    return max(1, get_num_threads() // max(1, _STATE["in_flight"]))


def kernel_threads():
    """Threads for a kernel call now: `threads_now()`; without `set_num_threads`,
    never above the kernel's own default (which honours OMP_NUM_THREADS)."""
    if _STATE["user"] is not None:
        return threads_now()
    from .. import _core
    return max(1, min(threads_now(), _core.default_num_threads()))


def _pool(threads):
    """The shared decode pool, with room for `threads - 1` helpers (the caller is one)."""
    if threads < 2:
        return None
    with _LOCK:
        if _STATE["pool_pid"] != os.getpid() or _STATE["pool_size"] < threads:
            # Sized for the whole budget (every batch in flight at once); a
            # larger budget (set_num_threads) needs a larger pool.  The old one
            # is dropped, not shut down: a batch may still be submitting to it;
            # its idle threads exit once it is garbage.
            size = max(threads, get_num_threads())
            _STATE["pool"] = ThreadPoolExecutor(size, thread_name_prefix="pyimgaug-decode")
            _STATE["pool_pid"] = os.getpid()
            _STATE["pool_size"] = size
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
    pool = _pool(threads) if threads > 1 else None
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
