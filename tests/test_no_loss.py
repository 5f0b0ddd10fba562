"""Nothing lost, nothing duplicated: every sample once per epoch, counted by file name.

Each test image is a solid grey whose value names its file, and no
augmentation or resize is applied, so the file behind every returned sample
can be read back from its pixels.
"""
import os
import random
import threading
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from pyimgaug import ImageDataGenerator

N = 23            # not a multiple of any batch size used: the last batch is short
SIZE = (5, 4)


def _value(k):
    return 10 + 9 * k


@pytest.fixture(scope="module")
def solid_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("solid")
    for k in range(N):
        path = root / ("c%d" % (k % 3)) / ("f%02d.png" % k)
        path.parent.mkdir(exist_ok=True)
        Image.fromarray(np.full(SIZE, _value(k), dtype=np.uint8), "L").save(str(path))
    return str(root)


def _names_of(batch_x):
    """File names (f00 ... f22) of the samples of a batch, from their pixels."""
    values = np.rint(batch_x[(slice(None),) + (0,) * (batch_x.ndim - 1)]).astype(int)
    return ["f%02d" % ((v - 10) // 9) for v in values]


def _x(batch):
    return batch[0] if isinstance(batch, tuple) else batch


def _directory(root, **kw):
    kw.setdefault("batch_size", 5)
    return ImageDataGenerator().flow_from_directory(root, target_size=SIZE,
                                                    color_mode="grayscale", **kw)


def _dataframe(root, **kw):
    pd = pytest.importorskip("pandas", reason="pandas (the 'pandas' extra) is not installed")
    files = sorted(os.path.join(c, f) for c in os.listdir(root)
                   for f in os.listdir(os.path.join(root, c)))
    df = pd.DataFrame({"filename": files, "class": [f.split(os.sep)[0] for f in files]})
    kw.setdefault("batch_size", 5)
    return ImageDataGenerator().flow_from_dataframe(df, root, target_size=SIZE,
                                                    color_mode="grayscale", **kw)


def _arrays(root, **kw):
    # flow(): the "file name" is the sample's position, encoded the same way.
    x = np.stack([np.full(SIZE + (1,), _value(k), dtype=np.float32) for k in range(N)])
    kw.setdefault("batch_size", 5)
    return ImageDataGenerator().flow(x, np.arange(N), **kw)


SOURCES = {"directory": _directory, "dataframe": _dataframe, "flow": _arrays}
ALL = Counter("f%02d" % k for k in range(N))


def _epochs_by_next(it, epochs):
    out = []
    for _ in range(epochs):
        names = []
        for _ in range(len(it)):
            names += _names_of(_x(next(it)))
        out.append(names)
    return out


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("workers", [0, 1, 3])
def test_next_gives_each_sample_once_per_epoch(solid_root, source, shuffle, workers):
    it = SOURCES[source](solid_root, shuffle=shuffle, seed=3, workers=workers, max_queue_size=4)
    epochs = _epochs_by_next(it, 4)
    for names in epochs:
        assert Counter(names) == ALL
    assert it.epoch == 3 and it.batch_index == 0
    if shuffle:
        assert len({tuple(e) for e in epochs}) == 4  # a new order every epoch
    else:
        assert all(e == epochs[0] for e in epochs)


@pytest.mark.parametrize("source", sorted(SOURCES))
@pytest.mark.parametrize("shuffle", [False, True])
def test_getitem_in_random_order_gives_each_sample_once_per_epoch(solid_root, source, shuffle):
    it = SOURCES[source](solid_root, shuffle=shuffle, seed=4, workers=2)
    rnd = random.Random(0)
    for _ in range(3):
        order = list(range(len(it)))
        rnd.shuffle(order)
        names = [n for i in order for n in _names_of(_x(it[i]))]
        assert Counter(names) == ALL
        it.on_epoch_end()


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("workers", [0, 2])
def test_threads_calling_next_neither_repeat_nor_skip_a_batch(solid_root, shuffle, workers):
    epochs, threads = 3, 6
    it = _directory(solid_root, shuffle=shuffle, seed=8, workers=workers, batch_size=4)
    twin = _directory(solid_root, shuffle=shuffle, seed=8, batch_size=4)
    total = epochs * len(it)
    expected = Counter(tuple(_names_of(_x(next(twin)))) for _ in range(total))
    got, lock, start = [], threading.Lock(), threading.Barrier(threads)

    def consume(count):
        start.wait()  # all threads call next() at the same time
        for _ in range(count):
            names = tuple(_names_of(_x(next(it))))
            with lock:
                got.append(names)

    shares = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]
    pool = [threading.Thread(target=consume, args=(c,)) for c in shares]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    # The same batches as one consumer gets, each exactly as often.
    assert Counter(got) == expected
    assert Counter(n for b in got for n in b) == Counter({k: epochs for k in ALL})
    assert it.total_batches_seen == total and it.batch_index == 0


@pytest.mark.parametrize("num_shards", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("workers", [0, 2])
def test_shards_together_give_each_sample_once_per_epoch(solid_root, num_shards, drop_last,
                                                         shuffle, workers):
    base = _directory(solid_root, shuffle=shuffle, seed=6, batch_size=3, workers=workers)
    shards = [base.shard(num_shards, i, drop_last=drop_last) for i in range(num_shards)]
    assert len({s.n for s in shards}) == 1  # equal lengths
    extra = (-N) % num_shards  # DistributedSampler's padding (drop_last=False)
    cut = N % num_shards       # and its cut (drop_last=True)
    for _ in range(3):
        names = []
        for s in shards:
            for _ in range(len(s)):
                names += _names_of(_x(next(s)))
        counts = Counter(names)
        if drop_last:
            assert len(names) == N - cut and set(counts.values()) == {1}
        else:
            assert len(names) == N + extra and set(counts) == set(ALL)
            assert sum(c - 1 for c in counts.values()) == extra  # only the padding repeats
        assert all(s.batch_index == 0 for s in shards)


@pytest.mark.parametrize("num_shards", [2, 4])
def test_shards_by_getitem_cover_the_epoch(solid_root, num_shards):
    base = _directory(solid_root, shuffle=True, seed=2, batch_size=4)
    shards = [base.shard(num_shards, i) for i in range(num_shards)]
    names = [n for s in shards for i in reversed(range(len(s))) for n in _names_of(_x(s[i]))]
    assert set(names) == set(ALL) and len(names) == N + (-N) % num_shards


def _interrupting(event):
    """A preprocessing_function that raises KeyboardInterrupt once `event` is set."""
    def fn(img):
        if event.is_set():
            event.clear()
            raise KeyboardInterrupt
        return img
    return fn


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("then_reset", [False, True])
def test_keyboard_interrupt_in_a_batch_leaves_the_iterator_consistent(solid_root, workers,
                                                                      then_reset):
    event = threading.Event()
    it = ImageDataGenerator(preprocessing_function=_interrupting(event)).flow_from_directory(
        solid_root, target_size=SIZE, color_mode="grayscale", batch_size=4, seed=1,
        workers=workers, max_queue_size=2)
    per_epoch, failed = {}, []
    for _ in range(2):
        per_epoch.setdefault(0, []).extend(_names_of(next(it)[0]))
    event.set()
    calls = 0
    while not failed:
        calls += 1
        assert calls <= 3 * len(it), "the interrupt never reached the consumer"
        try:
            batch = next(it)
        except KeyboardInterrupt:
            failed.append((it.epoch, it.batch_index))
        else:
            per_epoch.setdefault(it.epoch, []).extend(_names_of(batch[0]))
    interrupted_epoch, after = failed[0]
    lost_index = (after - 1) % len(it)  # batch_index already points past it
    lost_size = min(4, N - 4 * lost_index)
    if then_reset:
        it.reset()  # the next next() starts a whole new epoch
    else:
        while it.batch_index != 0:  # finish the interrupted epoch
            per_epoch.setdefault(it.epoch, []).extend(_names_of(next(it)[0]))
        got = Counter(per_epoch.get(interrupted_epoch, []))
        # The interrupted batch is missing (as in Keras, it was delivered as
        # the exception); nothing else is, and nothing repeats.
        assert set(got.values()) <= {1} and N - len(got) == lost_size
    fresh = _epochs_by_next(it, 2)
    assert all(Counter(e) == ALL for e in fresh)
    assert event.is_set() is False


def test_exception_in_the_consumer_loses_nothing(solid_root):
    it = _directory(solid_root, shuffle=True, seed=9, batch_size=4)
    seen = []
    with pytest.raises(RuntimeError):
        for batch in it:
            seen += _names_of(batch[0])
            if len(seen) >= 8:
                raise RuntimeError("consumer failed")
    # Continuing finishes the same epoch: the batches already taken stay taken.
    while it.batch_index != 0:
        seen += _names_of(next(it)[0])
    assert Counter(seen) == ALL
    # Or stop mid-epoch, reset, and get a whole new epoch.
    next(it)
    it.reset()
    assert all(Counter(e) == ALL for e in _epochs_by_next(it, 2))


@pytest.mark.parametrize("workers", [0, 2])
def test_skip_keeps_every_good_file_once_per_epoch(tmp_path, solid_root, workers):
    import shutil
    root = str(tmp_path / "data")
    shutil.copytree(solid_root, root)
    for c in range(3):
        with open(os.path.join(root, "c%d" % c, "zz_bad.png"), "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n broken")
    it = _directory(root, shuffle=True, seed=5, workers=workers, on_error="skip")
    assert it.samples == N + 3
    for names in _epochs_by_next(it, 3):
        assert Counter(names) == ALL
    assert len(it.skipped_files) == 3


def test_interrupt_while_reshuffling_starts_the_same_epoch_again(solid_root, monkeypatch):
    from pyimgaug.pipeline import params
    it = _directory(solid_root, shuffle=True, seed=12, batch_size=4)
    twin = _directory(solid_root, shuffle=True, seed=12, batch_size=4)
    first = _epochs_by_next(it, 1)
    real = params.shuffle_permutation
    calls = {"n": 0}

    def interrupted(*args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(params, "shuffle_permutation", interrupted)
    with pytest.raises(KeyboardInterrupt):
        next(it)  # the first batch of epoch 1, interrupted in the reshuffle
    assert it.epoch == 0 and it.batch_index == 0
    # The retry is epoch 1, batch for batch what an uninterrupted run gives.
    assert first + _epochs_by_next(it, 2) == _epochs_by_next(twin, 3)
