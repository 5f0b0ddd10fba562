"""Batches built ahead by worker threads, delivered in the iterator's order.

A batch is a pure function of its index array and key (see
`pyimgaug.keras.iterators`), so workers may build batches in any order and on
any thread: the consumer still gets exactly the batches, and bytes, that
`workers=0` gives.

The prefetcher never moves the iterator: it predicts the next batches by
running the iterator's own `_next_index` on a private copy of its cursor, and
`next()` compares each prediction with what the iterator really asks for.  A
mismatch (after `reset()`, `on_epoch_end()`, or anything else that moved the
cursor) drops the queue, builds the asked-for batch directly and predicts
again from there; a prediction can cost wasted work, never a wrong batch.

Life cycle: worker threads are those of a `ThreadPoolExecutor` owned by the
prefetcher.  Queued work holds only a weak reference to the iterator, so
dropping the iterator frees the prefetcher, whose finalizer shuts the pool
down; at interpreter exit queued batches are cancelled (a running one
finishes).  After a fork the child starts with an empty queue and, when
needed, a new pool.  Pickling or copying an iterator copies only the
settings.
"""
import collections
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as futures_wait

import numpy as np

__all__ = ["Prefetcher", "attach", "check_workers"]

_LIVE = weakref.WeakSet()
_EXITING = [False]


def check_workers(workers, max_queue_size):
    """Validates `workers` and `max_queue_size` (the flow methods' arguments)."""
    for name, value, low in (("workers", workers, 0), ("max_queue_size", max_queue_size, 1)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
            raise TypeError("%s must be an integer; got %r" % (name, value))
        if value < low:
            raise ValueError("%s must be >= %d; got %r" % (name, low, value))
    return int(workers), int(max_queue_size)


def _build(iterator_ref, index_array, key):
    it = iterator_ref()
    if it is None or _EXITING[0]:
        return None
    return it._build_batch(index_array, key)


def _cursor(it):
    """A private copy of the iterator's cursor (and everything `_next_index` reads)."""
    c = object.__new__(type(it))
    state = dict(it.__dict__)
    state.pop("_prefetcher", None)
    c.__dict__.update(state)
    c.lock = threading.Lock()
    return c


def _same(a_index, a_key, b_index, b_key):
    return list(a_key) == list(b_key) and np.array_equal(a_index, b_index)


def _shutdown(executor):
    executor.shutdown(wait=False, cancel_futures=True)


class Prefetcher(object):
    """Keeps up to `max_queue_size` batches built or being built by `workers` threads."""

    def __init__(self, workers, max_queue_size=10):
        self.workers, self.max_queue_size = check_workers(workers, max_queue_size)
        self._reset_state()
        _LIVE.add(self)

    def _reset_state(self):
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._queue = collections.deque()  # (index_array, key, future)
        self._ahead = None  # the cursor copy that predicts the next batches
        self._executor = None
        self._finalizer = None

    def _pool(self):
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="pyimgaug-prefetch")
            self._finalizer = weakref.finalize(self, _shutdown, self._executor)
        return self._executor

    def _drop(self):
        for _, _, fut in self._queue:
            fut.cancel()
        self._queue.clear()
        self._ahead = None

    def _fill(self, it):
        if self._ahead is None:
            self._ahead = _cursor(it)
        pool = self._pool()
        ref = weakref.ref(it)
        while len(self._queue) < self.max_queue_size and not _EXITING[0]:
            index_array, key = self._ahead._next_index()
            self._queue.append((index_array, key, pool.submit(_build, ref, index_array, key)))

    def take(self, it, index_array, key):
        """The batch `(index_array, key)` that `it.next()` asks for."""
        if self._pid != os.getpid():
            # A forked child: the parent's threads and queue do not exist here.
            self._reset_state()
        if self.workers == 0 or _EXITING[0]:
            return it._build_batch(index_array, key)
        with self._lock:
            fut = None
            if self._queue:
                q_index, q_key, q_fut = self._queue.popleft()
                if _same(q_index, q_key, index_array, key):
                    fut = q_fut
                else:
                    q_fut.cancel()
                    self._drop()
            if fut is None:
                self._drop()
                # Predict from the batch after this one.
                self._ahead = _cursor(it)
            self._fill(it)
        if fut is None:
            return it._build_batch(index_array, key)
        # Wait in short slices: a Ctrl-C that the OS delivered to a worker thread
        # is only acted on when the main thread runs Python code, so an unbounded
        # wait could hold it back for as long as the batch takes (or forever if
        # the batch never finishes while the process is being interrupted).
        while not futures_wait([fut], timeout=0.1).done:
            pass
        return fut.result()

    def close(self, wait=False):
        """Cancels queued batches and lets the worker threads exit (waits for
        the batches being built when `wait`).  The next `next()` starts anew."""
        with self._lock:
            self._drop()
            executor, self._executor = self._executor, None
            if self._finalizer is not None:
                self._finalizer.detach()
                self._finalizer = None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)

    def __reduce__(self):
        return (type(self), (self.workers, self.max_queue_size))


def _at_exit():
    # Runs before concurrent.futures joins its threads: queued batches would
    # otherwise all be built before the interpreter could exit.
    _EXITING[0] = True
    for p in list(_LIVE):
        try:
            p.close()
        except Exception:  # noqa: BLE001 - exiting anyway
            pass


if hasattr(threading, "_register_atexit"):
    threading._register_atexit(_at_exit)
else:  # pragma: no cover - Python < 3.9
    import atexit
    atexit.register(_at_exit)


def attach(it, workers, max_queue_size):
    """Gives iterator `it` its `workers` and `max_queue_size` (validated)."""
    workers, max_queue_size = check_workers(workers, max_queue_size)
    if workers > 0:
        # The same numbers are Keras 3's PyDataset knobs: `fit` then runs
        # that many threads calling `it[i]` (the thread budget shares the
        # cores among them).  workers=0 leaves Keras's own default alone.
        it.workers = workers
        it.max_queue_size = max_queue_size
    it._prefetcher = Prefetcher(workers, max_queue_size) if workers > 0 else None
    return it
