"""Disk cache at scale: `cache_bytes` bounds the directory, stale packs are collected, CLI.

Every batch is still compared with the same iterator built without a cache:
a bound or a prune may cost decoding again, never a wrong pixel.
"""
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from pyimgaug.pipeline import cache as cache_mod
from pyimgaug.pipeline.cache import DiskCache
from pyimgaug.pipeline.cache_prune import inspect, prune

from pipeline_helpers import assert_same_batches, flow, mixed_dataset, take
from pipeline_helpers import entry_files as pack_files


@pytest.fixture
def data(tmp_path):
    return mixed_dataset(tmp_path / "data")


def _epoch(it):
    return take(it, len(it))


def _pack_bytes(cache_dir):
    return sum(os.path.getsize(p) for p in pack_files(cache_dir))


def _filled(data, cache_dir, **kw):
    it = flow(data, cache=cache_dir, **kw)
    batches = _epoch(it)
    it.cache.flush()
    return it, batches


def test_disk_bound_is_honoured_and_batches_stay_exact(data, tmp_path):
    ref = take(flow(data), 2 * len(flow(data)))
    full_dir = str(tmp_path / "full")
    _filled(data, full_dir)
    full = _pack_bytes(full_dir)
    bound = full // 2
    it = flow(data, cache=str(tmp_path / "bounded"), cache_bytes=bound)
    got = take(it, 2 * len(it))
    assert_same_batches(ref, got)
    info = it.cache_info()
    assert info["max_bytes"] == bound
    assert 0 < info["bytes"] <= bound
    assert info["not_stored"] > 0
    # First come, first kept: epoch 2 finds what epoch 1 stored, misses the rest.
    assert info["hits"] > 0 and info["misses"] > len(pack_files(str(tmp_path / "bounded")))


def test_bound_counts_packs_of_earlier_runs(data, tmp_path):
    cache_dir = str(tmp_path / "c")
    _filled(data, cache_dir)
    before = _pack_bytes(cache_dir)
    # A new run with a bound below what is already there writes nothing new.
    other = flow(data, cache=cache_dir, cache_bytes=before, target_size=(20, 24))
    _epoch(other)
    other.cache.flush()
    assert _pack_bytes(cache_dir) == before
    assert other.cache_info()["not_stored"] == other.samples


def _touch_newer(path):
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))


def test_prune_collects_stale_entries_and_keeps_live_ones(data, tmp_path):
    cache_dir = str(tmp_path / "c")
    it, ref = _filled(data, cache_dir)
    files = list(it.filepaths)
    before = inspect(cache_dir)
    assert before["live_entries"] == before["entries"] == it.samples
    assert before["stale_entries"] == {}
    # One file edited, one deleted: their entries can never be served again.
    _touch_newer(files[0])
    os.unlink(files[1])
    # A duplicate pack (two writers stored the same entries at once).
    first_pack = pack_files(cache_dir)[0]
    shutil.copy(first_pack, first_pack.replace(".npx", "-copy.npx"))
    # An old format's folder and a writer's leftover temporary file.
    old = os.path.join(cache_dir, "pyimgaug-stage-v2")
    os.makedirs(old)
    with open(os.path.join(old, "x.npx"), "wb") as f:
        f.write(b"\0" * 1000)
    tmp = os.path.join(cache_mod.stage_dir(cache_dir), "dead.npx.tmp")
    with open(tmp, "wb") as f:
        f.write(b"\0" * 100)
    os.utime(tmp, (time.time() - 7200, time.time() - 7200))
    info = inspect(cache_dir)
    dup = len(cache_mod.DiskCache(cache_dir)._map(os.path.basename(first_pack), None).table)
    # Which pack holds the edited and the deleted file's entries depends on how the
    # writer threads interleaved; when the copied pack holds one, that entry's copy is
    # counted under the file's reason instead of "duplicate". The total is fixed.
    stale = info["stale_entries"]
    assert set(stale) == {"file changed", "file deleted", "duplicate"}
    assert 1 <= stale["file changed"] <= 2 and 1 <= stale["file deleted"] <= 2
    assert sum(stale.values()) == 2 + dup
    assert info["live_entries"] == it.samples - 2
    assert (info["old_format_dirs"], info["old_tmp_files"]) == (1, 1)

    report = prune(cache_dir)
    assert report["entries_removed"] == 2 + dup
    assert report["old_format_dirs_removed"] == 1 and report["tmp_files_removed"] == 1
    assert report["bytes_after"] < report["bytes_before"]
    after = inspect(cache_dir)
    assert after["stale_entries"] == {} and after["live_entries"] == it.samples - 2
    assert not os.path.exists(old) and not os.path.exists(tmp)
    # The live entries are still served, exactly: a new run of the same flow
    # (without the deleted file) hits every file but the edited one.
    os.unlink(files[1]) if os.path.exists(files[1]) else None
    again = flow(data, cache=cache_dir)
    fresh = flow(data)
    assert_same_batches(_epoch(fresh), _epoch(again))
    assert again.cache_info()["misses"] == 1  # the edited file


def test_prune_max_bytes_deletes_oldest_packs_first(data, tmp_path):
    cache_dir = str(tmp_path / "c")
    _filled(data, cache_dir)
    packs = pack_files(cache_dir)
    for k, p in enumerate(packs):  # distinct ages: packs[0] oldest
        os.utime(p, (1_000_000 + k, 1_000_000 + k))
    sizes = [os.path.getsize(p) for p in packs]
    bound = sum(sizes) - sizes[0] - 1  # the oldest alone is not enough: two go
    report = prune(cache_dir, max_bytes=bound)
    assert report["trimmed_packs"] == 2
    assert set(pack_files(cache_dir)) == set(packs[2:])
    assert report["bytes_after"] <= bound


def test_bound_reached_collects_stale_packs_once_and_stores_again(data, tmp_path):
    cache_dir = str(tmp_path / "c")
    it, _ = _filled(data, cache_dir)
    full = _pack_bytes(cache_dir)
    for path in it.filepaths:  # every entry goes stale
        _touch_newer(path)
    again = flow(data, cache=cache_dir, cache_bytes=full + full // 4)
    _epoch(again)
    again.cache.flush()
    # The stale packs were collected when the bound was reached, and the new
    # entries fit: the next epoch is all hits.
    assert inspect(cache_dir)["stale_entries"] == {}
    h0 = again.cache_info()["hits"]
    _epoch(again)
    assert again.cache_info()["hits"] - h0 == again.samples


def test_prune_removes_damaged_packs(data, tmp_path):
    cache_dir = str(tmp_path / "c")
    _filled(data, cache_dir)
    victim = pack_files(cache_dir)[0]
    with open(victim, "r+b") as f:
        f.seek(cache_mod._PACK_HEAD_SIZE + 3)  # inside the table
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    assert inspect(cache_dir)["damaged_packs"] == 1
    assert prune(cache_dir)["damaged_packs_removed"] == 1
    assert not os.path.exists(victim)


def test_keys_section_round_trips_odd_keys(tmp_path):
    arr = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    d = DiskCache(str(tmp_path / "c"))
    odd = (os.fsdecode(b"/no/such/\xff.png"), 1, 2, 3, (4, 5), "rgb", "nearest", "exact",
           cache_mod._version(), cache_mod.FORMAT_VERSION)
    d.put_many([(("plain", 1), arr), ((object(),), arr), (odd, arr)])
    d.flush()
    info = inspect(str(tmp_path / "c"))
    # The file of `odd` does not exist: stale; keys JSON cannot hold are never stale.
    assert info["stale_entries"] == {"file deleted": 1} and info["live_entries"] == 2
    assert DiskCache(str(tmp_path / "c")).get(("plain", 1)) is not None


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "pyimgaug", "cache", *args],
                          capture_output=True, text=True)


def test_cli_info_and_prune(data, tmp_path):
    cache_dir = str(tmp_path / "c")
    it, _ = _filled(data, cache_dir)
    os.unlink(list(it.filepaths)[0])
    res = _cli(cache_dir)
    assert res.returncode == 0, res.stderr
    assert "stale entries: 1 (file deleted 1)" in res.stdout
    assert "target_size=[32, 40] color_mode=rgb interpolation=nearest decode=exact" in res.stdout
    res = _cli(cache_dir, "--prune", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["prune"]["entries_removed"] == 1 and "info" not in out
    res = _cli(cache_dir, "--info", "--json")
    assert json.loads(res.stdout)["info"]["stale_entries"] == {}
    res = _cli(cache_dir, "--prune", "--max-bytes", "0")
    assert res.returncode == 0 and "0.0 MiB" in res.stdout and pack_files(cache_dir) == []


@pytest.mark.parametrize("args, message", [
    (["/no/such/dir"], "cache directory not found"),
    (["{tmp}", "--max-bytes", "5"], "--max-bytes needs --prune"),
    (["{tmp}", "--prune", "--max-bytes", "lots"], "not a size"),
])
def test_cli_errors(tmp_path, args, message):
    res = _cli(*[a.format(tmp=tmp_path) for a in args])
    assert res.returncode == 2 and message in res.stderr


def test_prune_argument_checked(tmp_path):
    with pytest.raises(ValueError, match="max_bytes"):
        prune(str(tmp_path), max_bytes=-1)
    with pytest.raises(ValueError, match="max_bytes"):
        prune(str(tmp_path), max_bytes=1.5)


def test_disk_cache_bound_survives_pickling(tmp_path):
    import pickle
    d = pickle.loads(pickle.dumps(DiskCache(str(tmp_path / "x"), 1234)))
    assert d.max_bytes == 1234


def test_packed_index_lookups_merges_duplicates_and_forgotten_packs():
    from pyimgaug.pipeline.cache import _PackedIndex
    idx = _PackedIndex()
    idx._MIN_RECENT = 8  # merge often
    rng = np.random.default_rng(0)
    digests = [rng.bytes(32) for _ in range(300)]
    keys = np.array([int.from_bytes(d[:8], "little") for d in digests], dtype=np.uint64)
    for p in range(30):  # pack p holds digests 10p .. 10p+9
        idx.add(keys[10 * p:10 * p + 10], p)
    assert len(idx._keys) > 0  # merged at least once
    for j, d in enumerate(digests):
        assert idx.get(d) == (j // 10, j % 10)
    # A newer pack holding the same entries shadows the older one.
    idx.add(keys[0:5], 30)
    assert idx.get(digests[3]) == (30, 3) and idx.get(digests[7]) == (0, 7)
    idx._merge()
    assert idx.get(digests[3]) == (30, 3) and idx.get(digests[7]) == (0, 7)
    # A forgotten (deleted) pack's entries are misses, before and after a merge.
    idx.forget(1)
    assert idx.get(digests[12]) is None and idx.get(digests[22]) == (2, 2)
    idx._merge()
    assert idx.get(digests[12]) is None and len(idx) == 290
    assert idx.get(rng.bytes(32)) is None


def test_same_8_byte_prefix_is_a_miss_not_damage(tmp_path):
    d = DiskCache(str(tmp_path / "c"))
    arr = np.ones((2, 3, 1), np.uint8)
    d.put(("a",), arr)
    d.flush()
    real = d._digest(("a",))
    impostor = real[:8] + bytes(b ^ 0xFF for b in real[8:])
    d._digest = lambda key: impostor if key == ("b",) else real
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a CacheWarning (damage) would fail here
        assert d.get(("b",)) is None
    assert d.get(("a",)) is not None and d.info()["damaged"] == 0


def test_index_memory_per_entry(tmp_path):
    import gc
    import tracemalloc
    w = DiskCache(str(tmp_path / "c"))
    a = np.zeros((2, 2, 3), np.uint8)
    n = 32 * 600
    for b in range(600):
        w.put_many([(("k", b, i), a) for i in range(32)])
    w.flush()
    gc.collect()
    tracemalloc.start()
    try:
        r = DiskCache(str(tmp_path / "c"))
        assert r.get(("k", 0, 0)) is not None  # lists and indexes every pack
        r._index._merge()
        gc.collect()
        per_entry = tracemalloc.get_traced_memory()[0] / n
    finally:
        tracemalloc.stop()
    # 68 bytes of table + 16 of index + 1 verified flag, plus per-pack costs
    # (a dict of tuples would be about 350).
    assert per_entry < 128, per_entry
    for b in (0, 299, 599):
        assert r.get(("k", b, 31)) is not None
