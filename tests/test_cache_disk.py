"""Cache semantics: keys never stale, entries never corrupt, bound, counters, arguments.

Every check compares batches with the same iterator built without a cache.
The disk cache writes one pack file per batch (its new entries); the damage
tests damage whole pack files.
"""
import os
import pickle
import shutil
import subprocess
import sys
import threading
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from pyimgaug.pipeline import cache as cache_mod
from pyimgaug.pipeline.cache import CacheWarning, DiskCache, MemoryCache

from pipeline_helpers import assert_same_batches, flow, mixed_dataset, take
from pipeline_helpers import entry_files as pack_files


@pytest.fixture
def data(tmp_path):
    return mixed_dataset(tmp_path / "data")


def _epoch(it):
    return take(it, len(it))


def _reference(root, epochs=1, **kw):
    it = flow(root, **kw)
    return take(it, epochs * len(it))


def _replace_with_new_pixels(path, keep_mtime=False):
    st = os.stat(path)
    img = Image.open(path)
    img.load()
    arr = 255 - np.asarray(img)
    tmp = path + ".new" + os.path.splitext(path)[1]
    Image.fromarray(arr, img.mode).save(tmp, format=img.format)
    os.replace(tmp, path)
    if keep_mtime:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    else:
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10 ** 9))


@pytest.mark.parametrize("cache_kind", ["memory", "disk"])
@pytest.mark.parametrize("keep_mtime", [False, True])
def test_replaced_file_is_decoded_again(data, tmp_path, cache_kind, keep_mtime):
    cache = "memory" if cache_kind == "memory" else str(tmp_path / "cache")
    it = flow(data, cache=cache, shuffle=False)
    _epoch(it)
    target = it.filepaths[3]
    _replace_with_new_pixels(target, keep_mtime=keep_mtime)
    got = _epoch(it)
    ref_it = flow(data, shuffle=False)
    ref_it.on_epoch_end()  # the cached iterator is in its second epoch
    ref = [ref_it[i][0] for i in range(len(ref_it))]
    assert_same_batches(ref, got)
    assert it.cache_info()["misses"] == it.samples + 1


_damaged_names = []


def _damage_all(cache_dir, how):
    files = pack_files(cache_dir)
    assert files
    _damaged_names[:] = files
    for f in files:
        if how == "truncate":
            with open(f, "r+b") as fh:
                fh.truncate(os.path.getsize(f) - 7)
        elif how == "flip":
            with open(f, "r+b") as fh:
                fh.seek(-1, os.SEEK_END)
                b = fh.read(1)
                fh.seek(-1, os.SEEK_END)
                fh.write(bytes([b[0] ^ 0x5A]))
        elif how == "header":
            with open(f, "r+b") as fh:
                fh.write(b"garbage!")
        elif how == "empty":
            open(f, "wb").close()
    return len(files)


@pytest.mark.parametrize("how", ["truncate", "flip", "header", "empty"])
def test_damaged_entries_are_reported_and_rebuilt(data, tmp_path, how):
    cache_dir = str(tmp_path / "cache")
    ref = _reference(data, epochs=2)
    it = flow(data, cache=cache_dir)
    first = _epoch(it)
    it.cache.flush()
    n = _damage_all(cache_dir, how)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        second = _epoch(it)
    assert_same_batches(ref, first + second)
    assert sum(issubclass(w.category, CacheWarning) for w in caught) == n
    assert it.cache_info()["damaged"] == n
    # Rebuilt: a new run reads good entries again.
    again = flow(data, cache=cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert_same_batches(ref[:len(again)], _epoch(again))
    assert again.cache_info()["misses"] == 0


@pytest.mark.parametrize("how", ["truncate", "flip", "header", "empty"])
def test_damaged_packs_are_found_by_a_later_run(data, tmp_path, how):
    cache_dir = str(tmp_path / "cache")
    ref = _reference(data, epochs=1)
    it = flow(data, cache=cache_dir)
    _epoch(it)
    it.cache.flush()
    n = _damage_all(cache_dir, how)
    later = flow(data, cache=cache_dir)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_same_batches(ref, _epoch(later))
        later.cache.flush()
    assert sum(issubclass(w.category, CacheWarning) for w in caught) == n
    assert later.cache_info()["damaged"] == n
    # A flipped byte spoils one entry: the pack's other entries are copied
    # to a new pack, not decoded again.  Other damage spoils the whole pack.
    assert later.cache_info()["misses"] == (n if how == "flip" else later.samples)
    assert not set(pack_files(cache_dir)) & set(_damaged_names)
    again = flow(data, cache=cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert_same_batches(ref, _epoch(again))
    assert again.cache_info()["misses"] == 0


def test_one_pack_per_batch(data, tmp_path):
    cache_dir = str(tmp_path / "cache")
    it = flow(data, cache=cache_dir)
    _epoch(it)
    it.cache.flush()
    packs = pack_files(cache_dir)
    assert len(packs) == len(it)
    entries = 0
    for f in packs:
        with open(f, "rb") as fh:
            raw = fh.read()
        magic, n, _ = cache_mod._PACK_HEAD.unpack_from(raw, 0)
        assert magic == cache_mod._MAGIC and n >= 1
        table = [cache_mod._ENTRY.unpack_from(raw, cache_mod._PACK_HEAD_SIZE + i * cache_mod._ENTRY.size)
                 for i in range(n)]
        for digest, code, h, w, c, crc, off, nbytes in table:
            assert off % 64 == 0 and (h, w) == (32, 40) and nbytes == h * w * c * (1 if code == 1 else 4)
            assert zlib.crc32(raw[off:off + nbytes]) == crc
        assert table[-1][6] + table[-1][7] == len(raw)
        entries += n
    assert entries == it.samples
    assert not [f for f in os.listdir(os.path.dirname(packs[0])) if f.endswith(".tmp")]


def test_put_many_and_put_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    items = [(("k", i), rng.integers(0, 256, (3, 5, 1 + i % 4), dtype=np.uint8)) for i in range(700)]
    items.append((("float",), rng.random((4, 4, 3), dtype=np.float32)))
    writer = DiskCache(str(tmp_path / "c"))
    writer.put_many(items)  # more buffers than one writev call takes
    writer.put(("one",), items[0][1])
    writer.flush()
    assert len(pack_files(str(tmp_path / "c"))) == 2
    reader = DiskCache(str(tmp_path / "c"))
    for key, array in items + [(("one",), items[0][1])]:
        got = reader.get(key)
        assert got is not None and got.dtype == array.dtype and np.array_equal(got, array)
        assert not got.flags.writeable
    assert reader.get(("absent",)) is None
    info = reader.info()
    assert (info["hits"], info["misses"], info["damaged"]) == (len(items) + 1, 1, 0)


def test_two_iterators_in_one_process_share_a_directory(data, tmp_path):
    cache_dir = str(tmp_path / "cache")
    ref = _reference(data, epochs=1)
    second = flow(data, cache=cache_dir)
    got = take(second, 1)  # its index is built now, from an empty directory
    first = flow(data, cache=cache_dir)
    _epoch(first)
    first.cache.flush()
    # The directory changed: the second iterator's next miss lists it again.
    got += take(second, len(second) - 1)
    assert_same_batches(ref, got)
    assert second.cache_info()["misses"] == second.batch_size


def test_forked_child_uses_the_cache(data, tmp_path):
    if not hasattr(os, "fork"):
        pytest.skip("no fork")
    cache_dir = str(tmp_path / "cache")
    ref = _reference(data, epochs=2)
    it = flow(data, cache=cache_dir)
    first = _epoch(it)  # the writer thread may still be busy when forking
    out = str(tmp_path / "child.npy")
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit status
        code = 1
        try:
            batches = _epoch(it)
            it.cache.flush()
            np.save(out, np.concatenate([b.ravel() for b in batches]))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert np.array_equal(np.load(out), np.concatenate([b.ravel() for b in ref[len(first):]]))
    assert_same_batches(ref[len(first):], _epoch(it))


def test_partial_temporary_files_are_never_read(data, tmp_path):
    cache_dir = str(tmp_path / "cache")
    it = flow(data, cache=cache_dir)
    ref = _epoch(it)
    it.cache.flush()
    # A writer killed mid-write leaves only its temporary file behind.
    for f in pack_files(cache_dir):
        os.replace(f, f + ".1234.deadbeef.tmp")
        with open(f + ".1234.deadbeef.tmp", "r+b") as fh:
            fh.truncate(100)
    again = flow(data, cache=cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        assert_same_batches(ref, _epoch(again))
    assert again.cache_info()["misses"] == again.samples


def test_deleting_the_cache_directory_at_any_time(data, tmp_path):
    cache_dir = str(tmp_path / "cache")
    ref = _reference(data, epochs=3)
    it = flow(data, cache=cache_dir)
    got = _epoch(it)
    # Between epochs, with entries still being written (a writer may refill
    # a folder while it is removed, hence ignore_errors).
    shutil.rmtree(cache_dir, ignore_errors=True)
    got += take(it, 1)
    it.cache.flush()
    shutil.rmtree(cache_dir, ignore_errors=True)  # mid-epoch
    got += take(it, 2 * len(it) - 1)
    assert_same_batches(ref, got)


def test_deleting_the_directory_while_packs_are_mapped(data, tmp_path):
    cache_dir = str(tmp_path / "cache")
    ref = _reference(data, epochs=3)
    it = flow(data, cache=cache_dir)
    got = take(it, 2 * len(it))  # epoch 2 maps every pack
    shutil.rmtree(cache_dir)
    got += _epoch(it)  # all misses, decoded again and written again
    assert_same_batches(ref, got)
    it.cache.flush()
    info = it.cache_info()
    assert (info["hits"], info["misses"]) == (it.samples, 2 * it.samples)
    assert info["bytes"] == sum(os.path.getsize(f) for f in pack_files(cache_dir)) > 0


def test_threads_write_one_directory_at_once(data, tmp_path):
    cache_dir = str(tmp_path / "cache")
    ref = _reference(data, epochs=1)
    results, errors = {}, []

    def run(k):
        try:
            results[k] = _epoch(flow(data, cache=cache_dir))
        except BaseException as exc:  # noqa: B902 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    for k in range(4):
        assert_same_batches(ref, results[k])


_WRITER = r"""
import sys, warnings, numpy as np
sys.path.insert(0, sys.argv[3])
from pipeline_helpers import flow, take
warnings.simplefilter("error")
it = flow(sys.argv[1], cache=sys.argv[2])
batches = take(it, 3 * len(it))
it.cache.flush()
np.save(sys.stdout.buffer, np.concatenate([b.ravel() for b in batches]))
"""


def test_processes_and_runs_share_one_directory(data, tmp_path):
    cache_dir = str(tmp_path / "cache")
    here = os.path.dirname(os.path.abspath(__file__))
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, data, cache_dir, here],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()
    ref = np.concatenate([b.ravel() for b in _reference(data, epochs=3)])
    import io
    for out, _ in outs:
        assert np.array_equal(np.load(io.BytesIO(out)), ref)
    later = flow(data, cache=cache_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        _epoch(later)
    assert later.cache_info()["misses"] == 0


def test_memory_bound_keeps_the_first_entries(data):
    one = flow(data, cache="memory")
    _epoch(one)
    per_entry = one.cache_info()["bytes"] / one.samples
    bound = int(per_entry * 4.5)
    it = flow(data, cache="memory", cache_bytes=bound)
    got = take(it, 3 * len(it))
    assert_same_batches(_reference(data, epochs=3), got)
    info = it.cache_info()
    assert info["bytes"] <= bound and info["max_bytes"] == bound
    assert 0 < info["entries"] < it.samples
    assert info["not_stored"] > 0
    # Entries are kept (never evicted): later epochs hit exactly those.
    assert info["hits"] == 2 * info["entries"]


def test_counters_and_no_cache(data, tmp_path):
    it = flow(data)
    assert it.cache_info() is None
    it = flow(data, cache=str(tmp_path / "c"))
    take(it, 2 * len(it))
    info = it.cache_info()
    assert (info["hits"], info["misses"], info["damaged"]) == (it.samples, it.samples, 0)
    assert info["bytes"] == sum(os.path.getsize(f) for f in pack_files(str(tmp_path / "c")))
    assert info["bytes"] > 0 and info["bytes_written"] == info["bytes"]
    assert info["not_stored"] == 0


def test_caches_pickle_as_their_settings(data, tmp_path):
    it = flow(data, cache="memory", cache_bytes=12345)
    _epoch(it)
    copy = pickle.loads(pickle.dumps(it))
    assert isinstance(copy.cache, MemoryCache) and copy.cache.max_bytes == 12345
    assert copy.cache_info()["entries"] == 0
    d = pickle.loads(pickle.dumps(DiskCache(str(tmp_path / "x"))))
    assert d.root == str(tmp_path / "x")
    disk = flow(data, cache=str(tmp_path / "d"))
    ref = _epoch(disk)
    disk.cache.flush()
    copy = pickle.loads(pickle.dumps(disk))
    assert copy.cache is not disk.cache and copy.cache.root == disk.cache.root
    assert_same_batches(_reference(data, epochs=2)[len(ref):], _epoch(copy))
    # The copy's index was built from the directory.
    assert copy.cache_info()["misses"] == 0 and copy.cache_info()["hits"] == disk.samples


@pytest.mark.parametrize("kwargs, exc, word", [
    (dict(cache=123), TypeError, "cache"),
    (dict(cache="memory", cache_bytes=-1), ValueError, "cache_bytes"),
    (dict(cache="memory", cache_bytes="big"), TypeError, "cache_bytes"),
    (dict(cache="memory", cache_bytes=True), TypeError, "cache_bytes"),
    (dict(decode="slow"), ValueError, "decode"),
    (dict(decode=None), ValueError, "decode"),
    (dict(workers=-1), ValueError, "workers"),
    (dict(workers=1.5), TypeError, "workers"),
    (dict(max_queue_size=0), ValueError, "max_queue_size"),
    (dict(max_queue_size="10"), TypeError, "max_queue_size"),
])
def test_bad_arguments_name_the_argument(data, kwargs, exc, word):
    with pytest.raises(exc, match=word):
        flow(data, **kwargs)


def test_cache_path_that_is_a_file(data, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="cache"):
        flow(data, cache=str(f))


def test_dataframe_flow_takes_the_same_options(data, tmp_path):
    pd = pytest.importorskip("pandas", reason="pandas (optional) is not installed")
    import pyimgaug
    from pipeline_helpers import AUG
    it0 = flow(data, shuffle=False)
    df = pd.DataFrame({"filename": it0.filepaths, "class": [str(c) for c in it0.classes]})

    def make(**kw):
        return pyimgaug.ImageDataGenerator(**AUG).flow_from_dataframe(
            df, target_size=(32, 40), batch_size=5, seed=7, **kw)
    ref = take(make(), 2 * len(it0))
    for kw in (dict(cache="memory"), dict(cache=str(tmp_path / "c"), workers=2),
               dict(decode="exact", workers=1, max_queue_size=2)):
        assert_same_batches(ref, take(make(**kw), 2 * len(it0)))
