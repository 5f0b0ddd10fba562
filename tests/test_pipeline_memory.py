"""Resident memory stays flat over 50 epochs of the file pipeline.

Workers, caches and fast decoding must not accumulate batches, queue entries
or decoded images: after a warm-up of 5 epochs (pools started, caches filled,
allocator at steady state), 45 more epochs may grow RSS by less than 8 MiB.
No timing is asserted.
"""
import gc
import os

import pytest

from pipeline_helpers import flow, mixed_dataset, take

ALLOWED_GROWTH = 8 * 1024 * 1024

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/statm"),
                                reason="reads RSS from /proc/self/statm")


def _rss():
    gc.collect()
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.parametrize("kwargs", [dict(workers=2, max_queue_size=3, cache="memory"),
                                    dict(workers=1, decode="fast"),
                                    dict(cache="DISK")])
def test_fifty_epochs_do_not_grow_memory(tmp_path, kwargs):
    root = mixed_dataset(tmp_path / "data")
    if kwargs.get("cache") == "DISK":
        kwargs = dict(kwargs, cache=str(tmp_path / "cache"))
    it = flow(root, target_size=(48, 48), **kwargs)
    steps = len(it)
    take(it, 5 * steps)
    before = _rss()
    for _ in range(45):
        take(it, steps)
    growth = _rss() - before
    assert growth < ALLOWED_GROWTH, "RSS grew by %.1f MiB" % (growth / 2 ** 20)
