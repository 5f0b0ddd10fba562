"""pyimgaug.set_num_threads / get_num_threads: the one knob for decode and kernel threads.

Checked where the threads are chosen: the `num_threads` the kernel receives
(a spy on the compiled call) and the threads that decode a batch's files (a
spy on the decoder, recording the thread each file is read on).  The bytes
are compared with the default setting's.
"""
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import pyimgaug
from pyimgaug import _kernel
from pyimgaug.pipeline import budget

from pipeline_helpers import assert_same_batches, flow, mixed_dataset, take

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return mixed_dataset(tmp_path_factory.mktemp("num_threads") / "data", per_class=8)


@pytest.fixture(autouse=True)
def _default_after():
    # Batches that other tests' prefetchers still build do not count here.
    saved = dict(budget._STATE)
    budget._STATE["in_flight"] = 0
    yield
    pyimgaug.set_num_threads(None)
    budget._STATE["in_flight"] = saved["in_flight"]


class _KernelSpy:
    """Stands in for the compiled module: records num_threads, then runs the real call."""

    def __init__(self, real):
        self.real, self.seen = real, []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def transform_batch(self, *args):
        self.seen.append(args[10])  # the num_threads argument (-1: OpenMP's default)
        return self.real.transform_batch(*args)


@pytest.fixture
def kernel_spy(monkeypatch):
    from pyimgaug import pillow_compat
    pillow_compat.kernel_resize_is_exact()  # its one-time probe calls the kernel too
    spy = _KernelSpy(_kernel._core)
    monkeypatch.setattr(_kernel, "_core", spy)
    return spy


def test_default_is_the_cores():
    assert pyimgaug.get_num_threads() == budget.cores()
    assert budget.user_threads() is None


@pytest.mark.parametrize("bad", [0, -1, 1025])
def test_out_of_range_is_a_value_error_naming_n(bad):
    with pytest.raises(ValueError, match=r"\bn must be between 1 and 1024"):
        pyimgaug.set_num_threads(bad)
    assert pyimgaug.get_num_threads() == budget.cores()  # unchanged


@pytest.mark.parametrize("bad", [2.0, "2", True, [2]])
def test_non_integer_is_a_type_error_naming_n(bad):
    with pytest.raises(TypeError, match=r"\bn must be a positive integer or None"):
        pyimgaug.set_num_threads(bad)


def test_set_get_and_back_to_default():
    pyimgaug.set_num_threads(np.int64(3))
    assert pyimgaug.get_num_threads() == 3 and type(pyimgaug.get_num_threads()) is int
    pyimgaug.set_num_threads(None)
    assert pyimgaug.get_num_threads() == budget.cores()


@pytest.mark.parametrize("n", [1, 3])
def test_transform_batch_without_num_threads_uses_the_setting(kernel_spy, n):
    img = np.arange(40 * 30 * 3, dtype=np.uint8).reshape(40, 30, 3)
    ref = pyimgaug.transform_batch([img], resize_to=(17, 13), resample="lanczos")
    pyimgaug.set_num_threads(n)
    got = pyimgaug.transform_batch([img], resize_to=(17, 13), resample="lanczos")
    explicit = pyimgaug.transform_batch([img], resize_to=(17, 13), resample="lanczos", num_threads=2)
    assert kernel_spy.seen == [-1, n, 2]  # an explicit num_threads still wins
    assert np.array_equal(ref, got) and np.array_equal(ref, explicit)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_flows_decode_and_call_the_kernel_on_the_setting(data, kernel_spy, monkeypatch, n):
    """One batch in flight (workers=0) uses exactly n threads to decode and n in the kernel."""
    from pyimgaug.pipeline import io as _io
    ref = take(flow(data, batch_size=16), 3)
    kernel_spy.seen.clear()
    readers = []
    real_decode = _io.decode_for_batch

    def decode_spy(*args, **kwargs):
        readers.append(threading.get_ident())
        # Long enough that every thread of the batch takes a file.
        threading.Event().wait(0.01)
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(_io, "decode_for_batch", decode_spy)
    pyimgaug.set_num_threads(n)
    got = take(flow(data, batch_size=16), 3)
    assert kernel_spy.seen == [n, n, n]
    assert len(set(readers)) == n
    assert_same_batches(ref, got)


def test_builders_share_the_setting(monkeypatch):
    monkeypatch.setattr(budget, "cores", lambda: 2)
    pyimgaug.set_num_threads(6)
    assert budget.threads_now() == 6
    with budget.building(), budget.building():
        assert budget.threads_now() == 3 and budget.kernel_threads() == 3
        with budget.building():
            assert budget.threads_now() == 2


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("n", [1, 4])
def test_bytes_do_not_depend_on_the_setting(data, workers, n):
    ref = take(flow(data, decode="fast", workers=workers), 6)
    pyimgaug.set_num_threads(n)
    assert_same_batches(ref, take(flow(data, decode="fast", workers=workers), 6))


def test_setting_from_many_threads_is_safe():
    """Concurrent setters leave one of their values, never a torn or invalid one."""
    values = list(range(1, 9))
    barrier = threading.Barrier(len(values))

    def setter(v):
        barrier.wait(timeout=30)
        for _ in range(200):
            pyimgaug.set_num_threads(v)
            assert 1 <= pyimgaug.get_num_threads() <= 8

    ts = [threading.Thread(target=setter, args=(v,)) for v in values]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
    assert pyimgaug.get_num_threads() in values


def test_forked_child_starts_at_one_thread_and_may_set_its_own(data):
    if not hasattr(os, "fork"):
        pytest.skip("needs os.fork")
    r = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        import os, sys, hashlib
        sys.path.insert(0, sys.argv[1])
        from pipeline_helpers import flow, take
        import pyimgaug
        from pyimgaug.pipeline import budget
        data = %r
        digest = lambda bs: [hashlib.sha1(b.tobytes()).hexdigest() for b in bs]
        pyimgaug.set_num_threads(3)
        expected = digest(take(flow(data, workers=2), 4))
        pid = os.fork()
        if pid == 0:
            try:
                first = pyimgaug.get_num_threads()
                k1 = budget.kernel_threads()
                a = digest(take(flow(data), 4))
                pyimgaug.set_num_threads(2)
                k2 = budget.kernel_threads()  # no batch in flight: the whole setting
                b = digest(take(flow(data, workers=2), 4))
                ok = (first, k1, k2) == (1, 1, 2) and a == expected and b == expected
                if not ok:
                    print("child saw", (first, k1, k2), a == expected, b == expected, flush=True)
                os._exit(0 if ok else 3)
            except BaseException:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
        print("child", os.waitstatus_to_exitcode(status))
        print("parent", pyimgaug.get_num_threads(), digest(take(flow(data), 4)) == expected)
    """ % data), HERE], capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr
    assert "child 0" in r.stdout and "parent 3 True" in r.stdout, r.stdout + r.stderr


def test_numpy_flow_calls_the_kernel_on_the_setting(kernel_spy):
    x = np.random.default_rng(0).random((6, 9, 11, 3)).astype(np.float32)
    gen = pyimgaug.ImageDataGenerator(rotation_range=30, rescale=0.5)
    ref = take(gen.flow(x, np.arange(6), batch_size=3, seed=1), 2)
    pyimgaug.set_num_threads(3)
    kernel_spy.seen.clear()
    got = take(gen.flow(x, np.arange(6), batch_size=3, seed=1), 2)
    assert kernel_spy.seen == [3, 3]
    assert_same_batches(ref, got)


def test_show_config_reports_the_budget(capsys):
    pyimgaug.set_num_threads(3)
    pyimgaug.show_config()
    assert "3 decode + kernel threads (set_num_threads)" in capsys.readouterr().out
