"""Iterator.shard(): DistributedSampler's split of each epoch."""
import collections
import math
import warnings

import numpy as np
import pytest

from pyimgaug import ImageDataGenerator
from pyimgaug.cli.sample_data import make_sample_dataset
from pyimgaug.integrations.sharding import ShardSpec, shard_size


def _numbered(n, h=4, w=4):
    """Images whose pixels are their sample number, labels = sample number."""
    x = np.zeros((n, h, w, 3), np.float32) + np.arange(n, dtype=np.float32)[:, None, None, None]
    return x, np.arange(n)


def _flow(n, batch_size=3, shuffle=True, seed=11, **gen):
    x, y = _numbered(n)
    return ImageDataGenerator(**gen).flow(x, y, batch_size=batch_size, shuffle=shuffle, seed=seed)


def _epoch_samples(it):
    """Labels of every batch of the current epoch, via it[i]."""
    return [int(v) for i in range(len(it)) for v in it[i][1]]


def _reference_split(order, num_shards, drop_last):
    """DistributedSampler.__iter__'s arithmetic, written out independently."""
    n = len(order)
    if drop_last and n % num_shards:
        per = math.ceil((n - num_shards) / num_shards)
    else:
        per = math.ceil(n / num_shards)
    total = per * num_shards
    idx = list(order)
    if not drop_last:
        pad = total - n
        idx += (idx * math.ceil(pad / n))[:pad] if pad > len(idx) else idx[:pad]
    else:
        idx = idx[:total]
    return [idx[k:total:num_shards] for k in range(num_shards)]


@pytest.mark.parametrize("n", [1, 2, 7, 12, 13])
@pytest.mark.parametrize("num_shards", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_shards_split_each_epoch_like_distributed_sampler(n, num_shards, drop_last, shuffle):
    it = _flow(n, shuffle=shuffle)
    shards = [it.shard(num_shards, k, drop_last=drop_last) for k in range(num_shards)]
    for epoch in range(2):
        order = list(it.sample_indices(epoch))
        expected = _reference_split(order, num_shards, drop_last)
        got = [_epoch_samples(s) for s in shards]
        assert got == expected
        lengths = {len(g) for g in got}
        assert lengths == {shard_size(n, num_shards, drop_last)}
        counts = collections.Counter(j for g in got for j in g)
        if drop_last:
            assert sum(counts.values()) == (n // num_shards) * num_shards
            assert max(counts.values(), default=1) == 1
        else:
            assert set(counts) == set(range(n))  # every sample, every epoch
            assert sum(counts.values()) - n < num_shards  # padding only
        for s in shards:
            s.on_epoch_end()
        it.on_epoch_end()


def test_shuffled_shards_reshuffle_per_epoch_from_the_shared_seed():
    it = _flow(40, shuffle=True)
    shard = it.shard(4, 1)
    first = _epoch_samples(shard)
    shard.on_epoch_end()
    second = _epoch_samples(shard)
    assert first != second
    assert sorted(first) != list(range(10)) or sorted(second) != list(range(10))
    # Another iterator built with the same seed (another process) agrees.
    again = _flow(40, shuffle=True).shard(4, 1)
    assert _epoch_samples(again) == first
    again.seek(1)
    assert _epoch_samples(again) == second


def test_next_walks_the_shard_and_starts_a_new_epoch():
    it = _flow(10, batch_size=2)
    shard = it.shard(3, 2)
    assert shard.n == 4 and len(shard) == 2
    pass1 = [int(v) for _ in range(len(shard)) for v in next(shard)[1]]
    assert pass1 == list(shard.sample_indices(0))
    pass2 = [int(v) for _ in range(len(shard)) for v in next(shard)[1]]
    assert shard.epoch == 1
    assert pass2 == list(shard.sample_indices(1))


def test_shard_matches_torch_distributed_sampler_without_shuffle():
    torch_data = pytest.importorskip("torch.utils.data",
                                     reason="torch is optional; it gives the reference sampler")
    for n, num_shards, drop_last in [(13, 4, False), (13, 4, True), (3, 5, False), (8, 2, False)]:
        it = _flow(n, shuffle=False)
        for k in range(num_shards):
            sampler = torch_data.DistributedSampler(range(n), num_replicas=num_shards, rank=k,
                                                    shuffle=False, drop_last=drop_last)
            shard = it.shard(num_shards, k, drop_last=drop_last)
            assert list(shard.sample_indices()) == list(sampler)
            assert shard.n == len(sampler)


def test_shards_draw_different_transforms_for_the_same_batch_number():
    # Eight copies of one image: only the random transforms tell batches apart.
    one = np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 3)).astype(np.float32)
    x = np.repeat(one, 8, axis=0)
    it = ImageDataGenerator(rotation_range=30).flow(x, batch_size=4, shuffle=False, seed=5)
    a = it.shard(2, 0)
    b = it.shard(2, 1)
    # Each shard repeats itself...
    np.testing.assert_array_equal(a[0], it.shard(2, 0)[0])
    # ...and its random transforms are its own, not a copy of the other shard's.
    assert not np.allclose(a[0], b[0])


def test_directory_shard_keeps_dataset_attributes(tmp_path):
    make_sample_dataset(str(tmp_path), images_per_class=3, classes=("a", "b"),
                        min_side=20, max_side=24)
    it = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        str(tmp_path), target_size=(16, 16), batch_size=2, shuffle=False, seed=0)
    shard = it.shard(2, 1)
    assert shard.filenames == it.filenames and shard.class_indices == it.class_indices
    assert shard.samples == it.samples == 6 and shard.n == 3
    idx = shard.sample_indices()
    labels = np.concatenate([shard[i][1].argmax(1) for i in range(len(shard))])
    np.testing.assert_array_equal(labels, it.classes[idx])
    assert shard.shard_spec.num_shards == 2 and it.shard_spec is None


def test_shard_arguments_are_checked():
    it = _flow(10)
    with pytest.raises(TypeError, match="num_shards"):
        it.shard(2.0, 0)
    with pytest.raises(ValueError, match="num_shards"):
        it.shard(0, 0)
    with pytest.raises(ValueError, match="index"):
        it.shard(2, 2)
    with pytest.raises(ValueError, match="index"):
        it.shard(2, -1)
    with pytest.raises(TypeError, match="index"):
        it.shard(2, True)
    with pytest.raises(TypeError, match="drop_last"):
        it.shard(2, 0, drop_last="yes")
    with pytest.raises(ValueError, match="already a shard"):
        it.shard(2, 0).shard(2, 0)
    with pytest.raises(ValueError, match="num_shards"):
        ShardSpec(0, 0, False, 10)


def test_unseeded_shuffled_shard_warns_and_seeded_does_not():
    with pytest.warns(UserWarning, match="seed"):
        _flow(10, seed=None).shard(2, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _flow(10, seed=3).shard(2, 0)
        _flow(10, seed=None, shuffle=False).shard(2, 0)


def test_empty_dataset_gives_empty_shards():
    x = np.zeros((0, 4, 4, 3), np.float32)
    it = ImageDataGenerator().flow(x, batch_size=2, seed=1)
    shard = it.shard(3, 1)
    assert shard.n == 0 and len(shard) == 0
    assert list(shard.sample_indices()) == []


def test_shards_of_a_prefetching_iterator_prefetch_on_their_own():
    x, y = _numbered(20)
    it = ImageDataGenerator(rotation_range=10).flow(x, y, batch_size=3, seed=2, workers=2,
                                                    max_queue_size=2)
    shard = it.shard(2, 1)
    assert shard._prefetcher is not it._prefetcher
    plain = _flow(20, seed=2, rotation_range=10).shard(2, 1)
    for _ in range(2 * len(shard)):  # interleaved with the parent's next()
        np.testing.assert_array_equal(next(shard)[0], next(plain)[0])
        next(it)


def test_keras_settings_are_checked():
    it = _flow(10)
    assert (it.workers, it.use_multiprocessing, it.max_queue_size) == (1, False, 10)
    it.workers, it.use_multiprocessing, it.max_queue_size = 3, True, 4
    assert (it.workers, it.use_multiprocessing, it.max_queue_size) == (3, True, 4)
    with pytest.raises(ValueError, match="workers"):
        it.workers = -1
    with pytest.raises(TypeError, match="workers"):
        it.workers = 2.5
    with pytest.raises(TypeError, match="use_multiprocessing"):
        it.use_multiprocessing = "yes"
    with pytest.raises(ValueError, match="max_queue_size"):
        it.max_queue_size = 0
