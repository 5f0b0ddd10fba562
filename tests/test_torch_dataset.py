"""iterator.to_torch(): batches for torch.utils.data.DataLoader(batch_size=None)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is optional; `pip install torch`")
from torch.utils.data import DataLoader  # noqa: E402

from pyimgaug import ImageDataGenerator  # noqa: E402
from pyimgaug.integrations.torch import BatchDataset, IterableBatchDataset  # noqa: E402

# Small machines get torch's advice against 3 workers; the tests mean to use them.
pytestmark = pytest.mark.filterwarnings("ignore:This DataLoader will create")

N = 37
FORK = "fork"


def _numbered(n=N, h=6, w=5):
    """Images whose pixels are their sample number; labels = sample number."""
    x = np.zeros((n, h, w, 3), np.float32) + np.arange(n, dtype=np.float32)[:, None, None, None]
    return x, np.arange(n)


def _flow(seed=3, batch_size=5, **gen):
    x, y = _numbered()
    return ImageDataGenerator(**gen).flow(x, y, batch_size=batch_size, seed=seed)


def _loader(ds, workers, **kw):
    if workers:
        kw.setdefault("multiprocessing_context", FORK)
    return DataLoader(ds, batch_size=None, num_workers=workers, **kw)


def _close(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _close(u, v)
    else:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


@pytest.mark.parametrize("iterable", [False, True])
@pytest.mark.parametrize("workers", [0, 2, 3])
def test_every_sample_once_per_epoch_in_order_whatever_the_workers(iterable, workers):
    it = _flow()
    ds = it.to_torch(channels_first=True, iterable=iterable)
    assert isinstance(ds, IterableBatchDataset if iterable else BatchDataset)
    for epoch in range(2):
        ds.set_epoch(epoch)
        batches = list(_loader(ds, workers))
        assert len(batches) == len(it) == len(ds)
        ys = torch.cat([y for _, y in batches]).tolist()
        assert sorted(ys) == list(range(N))  # none lost, none duplicated
        assert ys == it.sample_indices(epoch).tolist()  # the iterator's order
        for x, y in batches:
            assert x.shape[1:] == (3, 6, 5) and x.dtype == torch.float32
            assert x.is_contiguous()
            # NCHW: every pixel of image k holds its sample number.
            assert torch.equal(x.amax(dim=(1, 2, 3)), y.float())
            assert torch.equal(x.amin(dim=(1, 2, 3)), y.float())


@pytest.mark.parametrize("workers", [0, 2])
def test_batches_equal_the_iterators_own_augmented_batches(workers):
    it = _flow(rotation_range=30, zoom_range=0.2, horizontal_flip=True)
    ds = it.to_torch(channels_first=False)
    ds.set_epoch(1)
    got = list(_loader(ds, workers))
    it.on_epoch_end()
    for i, (x, y) in enumerate(got):
        ref_x, ref_y = it[i]
        _close((x, y), (ref_x, ref_y))


def test_shuffled_batch_order_still_covers_the_epoch():
    it = _flow()
    ds = it.to_torch()
    gen = torch.Generator().manual_seed(0)
    ys = torch.cat([y for _, y in DataLoader(ds, batch_size=None, shuffle=True,
                                             generator=gen)]).tolist()
    assert sorted(ys) == list(range(N)) and ys != it.sample_indices(0).tolist()


def test_layouts_and_structures():
    x, y = _numbered(8)
    w = np.linspace(0.5, 1, 8)
    first = ImageDataGenerator(data_format="channels_first").flow(
        x.transpose(0, 3, 1, 2), y, sample_weight=w, batch_size=4, shuffle=False)
    xb, yb, wb = first.to_torch()[0]  # its own layout: NCHW
    assert xb.shape == (4, 3, 6, 5) and torch.equal(wb, torch.from_numpy(w[:4]))
    xb, _, _ = first.to_torch(channels_first=False)[0]
    assert xb.shape == (4, 6, 5, 3)
    only_x = ImageDataGenerator().flow(x, batch_size=4, shuffle=False).to_torch(
        channels_first=True)[1]
    assert isinstance(only_x, torch.Tensor) and only_x.shape == (4, 3, 6, 5)
    misc = ImageDataGenerator().flow((x, [y * 10]), y, batch_size=4, shuffle=False)
    (img, extra), labels = misc.to_torch(channels_first=True)[0]
    assert img.shape == (4, 3, 6, 5) and extra.tolist() == [0, 10, 20, 30]


def test_autoencoder_targets_follow_the_image_layout(tmp_path):
    from PIL import Image
    for i in range(3):
        (tmp_path / "c").mkdir(exist_ok=True)
        Image.fromarray(np.full((9, 7, 3), 40 * i, np.uint8)).save(tmp_path / "c" / f"{i}.png")
    it = ImageDataGenerator().flow_from_directory(str(tmp_path), target_size=(9, 7),
                                                  class_mode="input", batch_size=3)
    x, y = it.to_torch(channels_first=True)[0]
    assert x.shape == y.shape == (3, 3, 9, 7)
    assert torch.equal(x, y)


def test_pin_memory():
    it = _flow()
    ds = it.to_torch(channels_first=True)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # CPU-only builds warn that nothing gets pinned
        batches = list(_loader(ds, 2, pin_memory=True))
    for i, (x, y) in enumerate(batches):
        _close((x.permute(0, 2, 3, 1), y), it[i])
        if torch.cuda.is_available():
            assert x.is_pinned() and y.is_pinned()


def _noisy(x):
    """A preprocessing_function that draws from NumPy's global RNG."""
    return x + np.float32(np.random.random())


@pytest.mark.parametrize("iterable", [False, True])
def test_workers_are_seeded_from_the_iterators_seed(iterable):
    def noise_per_batch(seed, epoch=0):
        x, y = _numbered()
        it = ImageDataGenerator(preprocessing_function=_noisy).flow(x, y, batch_size=5, seed=seed,
                                                                    shuffle=False)
        ds = it.to_torch(iterable=iterable)
        ds.set_epoch(epoch)
        out = []
        for xb, yb in _loader(ds, 2):
            out += (xb[:, 0, 0, 0] - yb.float()).tolist()  # the drawn noise of each image
        return np.array(out)

    a, b = noise_per_batch(7), noise_per_batch(7)
    np.testing.assert_array_equal(a, b)  # same seed, same draws in the workers
    assert len(np.unique(np.round(a, 6))) == len(a)  # no two workers share a stream
    assert not np.array_equal(a, noise_per_batch(8))
    assert not np.array_equal(a, noise_per_batch(7, epoch=1))


def test_persistent_workers_follow_set_epoch_with_the_epoch_sampler():
    it = _flow()
    ds = it.to_torch()
    loader = DataLoader(ds, batch_size=None, num_workers=2, multiprocessing_context=FORK,
                        persistent_workers=True, sampler=ds.epoch_sampler())
    orders = []
    for epoch in range(3):
        ds.set_epoch(epoch)
        orders.append(torch.cat([y for _, y in loader]).tolist())
    for epoch, order in enumerate(orders):
        assert order == it.sample_indices(epoch).tolist()
    assert orders[0] != orders[1] != orders[2]


def test_shards_as_torch_datasets_cover_the_dataset():
    it = _flow()
    seen = []
    for rank in range(3):
        ds = it.shard(3, rank).to_torch()
        seen += torch.cat([y for _, y in _loader(ds, 2)]).tolist()
    assert sorted(set(seen)) == list(range(N)) and len(seen) - N == 2  # 37 -> 3 x 13


def test_arguments_are_checked():
    it = _flow()
    with pytest.raises(TypeError, match="channels_first"):
        it.to_torch(channels_first="yes")
    with pytest.raises(TypeError, match="iterable"):
        it.to_torch(iterable=1)
    ds = it.to_torch()
    with pytest.raises(ValueError, match="epoch"):
        ds.set_epoch(-1)
    with pytest.raises(IndexError):
        ds[len(ds)]
    with pytest.raises(TypeError, match="iterator"):
        BatchDataset([1, 2, 3])
