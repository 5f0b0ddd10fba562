"""flow_*(workers=..., max_queue_size=...): the same batches, built ahead, clean life cycle.

The reference is the same iterator with workers=0 (batches built on demand),
driven through the same calls.
"""
import gc
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import pyimgaug
from pyimgaug.pipeline import budget

from pipeline_helpers import AUG, assert_same_batches, flow, mixed_dataset, take

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return mixed_dataset(tmp_path_factory.mktemp("prefetch") / "data")


@pytest.fixture(autouse=True)
def _close_prefetchers():
    yield
    # Batches queued by one test must not run during the next one.
    from pyimgaug.pipeline import prefetch
    for p in list(prefetch._LIVE):
        p.close()


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name.startswith("pyimgaug-prefetch")]


def _wait_until(cond, limit=30.0):
    # A deadline for a thread to exit, not a speed check.
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.02)
    return cond()


@pytest.mark.parametrize("workers", [1, 2, 3])
@pytest.mark.parametrize("decode", ["exact", "fast"])
def test_same_batches_for_any_number_of_workers(data, workers, decode):
    ref = take(flow(data, decode=decode), 9)  # about 2.5 epochs of next()
    it = flow(data, decode=decode, workers=workers, max_queue_size=4)
    assert_same_batches(ref, take(it, 9))


def test_flow_arrays_with_workers():
    x = np.random.default_rng(0).uniform(0, 255, (23, 16, 12, 3)).astype(np.float32)
    y = np.arange(23)
    ref = pyimgaug.ImageDataGenerator(**AUG).flow(x, y, batch_size=4, seed=3)
    it = pyimgaug.ImageDataGenerator(**AUG).flow(x, y, batch_size=4, seed=3, workers=2,
                                                max_queue_size=3)
    for _ in range(15):
        (a, ya), (b, yb) = next(ref), next(it)
        assert np.array_equal(a, b) and np.array_equal(ya, yb)


def test_reset_epoch_end_and_indexing_between_batches(data):
    def drive(it):
        out = take(it, 2)
        it.reset()
        out += take(it, 3)
        it.on_epoch_end()
        out += take(it, 2)
        out.append(it[1][0])
        out += take(it, 4)
        it.reset()
        out += take(it, 1)
        return out, (it.epoch, it.batch_index)
    ref, ref_state = drive(flow(data))
    got, state = drive(flow(data, workers=2, max_queue_size=3))
    assert_same_batches(ref, got)
    assert state == ref_state


def test_the_file_of_a_failing_batch_reaches_the_consumer(tmp_path):
    root = mixed_dataset(tmp_path / "data")
    bad = os.path.join(root, "class_01", "zz_broken.jpg")
    with open(bad, "wb") as f:
        f.write(b"\xff\xd8\xff\xe0 this is not a JPEG")
    it = flow(root, workers=2, shuffle=False, batch_size=4)
    good = 0
    with pytest.raises(Exception) as info:
        for _ in range(len(it)):
            next(it)
            good += 1
    text = str(info.value) + "".join(getattr(info.value, "__notes__", []))
    assert "zz_broken.jpg" in text
    # Every batch before the bad file's arrived; the bad file is in the last one.
    assert good == len(it) - 1
    # The iterator goes on with the next batch (a new epoch here).
    assert next(it)[0].shape[0] == 4


def test_threads_end_when_the_iterator_is_dropped(data):
    it = flow(data, workers=3, max_queue_size=6)
    take(it, 2)
    assert _prefetch_threads()
    del it

    def gone():
        # Batches still running hold the iterator until they finish.
        gc.collect()
        return not _prefetch_threads()
    assert _wait_until(gone)


def test_pickle_and_copy_keep_settings_not_threads(data):
    it = flow(data, workers=2, max_queue_size=5)
    take(it, 3)
    clone = pickle.loads(pickle.dumps(it))
    assert clone._prefetcher is not it._prefetcher
    assert (clone._prefetcher.workers, clone._prefetcher.max_queue_size) == (2, 5)
    assert_same_batches(take(it, 4), take(clone, 4))


def test_keras_sees_the_same_knobs(data):
    it = flow(data, workers=3, max_queue_size=7)
    assert (it.workers, it.max_queue_size) == (3, 7)


def _isolated_budget(monkeypatch, cores):
    # Batches that other tests' prefetchers still build do not count here.
    monkeypatch.setattr(budget, "_STATE", dict(budget._STATE, in_flight=0))
    monkeypatch.setattr(budget, "cores", lambda: cores)


def test_thread_budget_divides_the_cores(monkeypatch):
    _isolated_budget(monkeypatch, 4)
    assert budget.threads_now() == 4
    with budget.building():
        assert budget.threads_now() == 4
        with budget.building():
            assert budget.threads_now() == 2
            with budget.building(), budget.building(), budget.building():
                assert budget.threads_now() == 1
    assert budget.threads_now() == 4


def test_concurrent_batches_split_the_kernel_threads(data, monkeypatch):
    """Two threads calling it[i] (as Keras's fit(workers=2) does): at most cores in all."""
    from pyimgaug import _kernel
    _isolated_budget(monkeypatch, 2)
    seen, ts = [], []
    real = _kernel.transform_batch
    barrier = threading.Barrier(2)

    in_kernel = threading.Barrier(2)

    def spy(*args, **kwargs):
        if threading.current_thread() in ts:
            seen.append(kwargs.get("num_threads"))
            # Both chose their thread count while the other was in flight.
            in_kernel.wait(timeout=30)
        return real(*args, **kwargs)
    monkeypatch.setattr(_kernel, "transform_batch", spy)
    decode = pyimgaug.pipeline.decode
    monkeypatch.setattr(decode, "load_stage", _synchronised(decode.load_stage, barrier, ts))
    it = flow(data)
    ts[:] = [threading.Thread(target=it.__getitem__, args=(i,)) for i in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert seen and all(n == 1 for n in seen), seen


def _synchronised(fn, barrier, threads):
    def wrapped(*args, **kwargs):
        if threading.current_thread() in threads:
            # Both batches are in flight before either reaches the kernel.
            barrier.wait(timeout=30)
        return fn(*args, **kwargs)
    return wrapped


def _run_script(code, timeout=120, **kw):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code), HERE],
                          capture_output=True, text=True, timeout=timeout, **kw)


def test_interpreter_exits_with_batches_queued(data):
    r = _run_script("""
        import sys
        sys.path.insert(0, sys.argv[1])
        from pipeline_helpers import flow, take
        it = flow(%r, workers=2, max_queue_size=50, batch_size=2)
        take(it, 2)
        print("done")
    """ % data)
    assert r.returncode == 0, r.stderr
    assert "done" in r.stdout


def test_keyboard_interrupt_while_waiting_for_a_batch(data):
    code = """
        import sys, os, signal, threading
        sys.path.insert(0, sys.argv[1])
        from pipeline_helpers import flow
        # A process started in the background (nohup, CI runners) inherits SIGINT
        # as ignored, and Python then raises no KeyboardInterrupt: restore Ctrl-C.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        it = flow(%r, workers=2, max_queue_size=4)
        next(it)
        threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        while True:
            next(it)
    """ % data
    r = _run_script(code)
    assert r.returncode != 0
    assert "KeyboardInterrupt" in r.stderr


def test_forked_child_completes_its_batches(data):
    """Fork after the kernel, the decode pool and the prefetch threads ran in the parent."""
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    r = _run_script("""
        import os, sys, hashlib
        sys.path.insert(0, sys.argv[1])
        from pipeline_helpers import flow, take
        from pyimgaug.pipeline import budget
        data = %r
        it = flow(data, workers=2, max_queue_size=3, cache="memory")
        take(it, 3)
        expected = [hashlib.sha1(b.tobytes()).hexdigest() for b in take(flow(data), 8)[3:]]
        pid = os.fork()
        if pid == 0:
            try:
                got = [hashlib.sha1(b.tobytes()).hexdigest() for b in take(it, 5)]
                fresh = [hashlib.sha1(b.tobytes()).hexdigest()
                         for b in take(flow(data, workers=2), 8)[3:]]
                ok = got == expected and fresh == expected and budget.cores() == 1
                os._exit(0 if ok else 3)
            except BaseException:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        # The parent goes on too.
        got = [hashlib.sha1(b.tobytes()).hexdigest() for b in take(it, 5)]
        print("parent", got == expected)
    """ % data, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "child 0" in r.stdout and "parent True" in r.stdout, r.stdout + r.stderr
