"""Per-sample randomness: a sample's transform is a function of (seed, epoch, its position).

Whatever the batch size, the shard, or the number of workers building the
batches, a sample gets the same pixels in a given epoch.  Pixels are
compared exactly: the kernel computes each image alone, from start to end,
so the same image and the same parameters give the same bits.
"""
import numpy as np
import pytest

from pyimgaug import ImageDataGenerator
from pyimgaug.pipeline.params import sample_key, sample_params, uniforms

AUG = dict(rotation_range=25, width_shift_range=0.2, height_shift_range=3, shear_range=10,
           zoom_range=0.2, horizontal_flip=True, vertical_flip=True, channel_shift_range=20.0,
           brightness_range=(0.6, 1.4), fill_mode="reflect", rescale=1 / 255.0)
TARGET = (20, 24)


def _dir_flow(root, batch_size, **kw):
    kw.setdefault("seed", 5)
    return ImageDataGenerator(**AUG).flow_from_directory(
        root, target_size=TARGET, batch_size=batch_size, class_mode="sparse",
        interpolation="bilinear", **kw)


def _pixels_by_sample(it, epoch):
    """{dataset position: image} of every sample of `epoch`, through it.batch_at."""
    order = it.sample_indices(epoch)
    bs = it.batch_size
    out = {}
    for b in range(len(it)):
        x = it.batch_at(epoch, b)[0]
        for i, j in enumerate(order[b * bs:(b + 1) * bs]):
            if int(j) in out:  # a padded shard repeats a sample: same pixels
                np.testing.assert_array_equal(out[int(j)], x[i])
            out[int(j)] = x[i]
    return out


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from conftest import build_dataset
    return build_dataset(tmp_path_factory.mktemp("persample") / "data", classes=3, per_class=[17, 15, 15])


def test_uniforms_row_depends_only_on_key_and_id():
    key = sample_key(9, 4)
    ids = np.array([5, 0, 1_281_166, 77, 2**40])
    full = uniforms(key, ids)
    assert full.shape[0] == len(ids)
    for i, j in enumerate(ids):
        np.testing.assert_array_equal(uniforms(key, [j])[0], full[i])
    perm = np.array([3, 1, 4, 0, 2])
    np.testing.assert_array_equal(uniforms(key, ids[perm]), full[perm])
    # Another epoch, another seed: other values.
    assert not np.any(uniforms(sample_key(9, 5), ids) == full)
    assert not np.any(uniforms(sample_key(10, 4), ids) == full)
    assert full.min() >= 0 and full.max() < 1


def test_uniforms_are_uniform_and_uncorrelated():
    scipy_stats = pytest.importorskip("scipy.stats", reason="scipy (test extra) is not installed")
    u = uniforms(sample_key(1, 0), np.arange(200_000))
    for s in range(u.shape[1]):
        # A fixed seed: the p-value is a fixed number; 1e-3 leaves room for any
        # reasonable generator and catches a biased or truncated one.
        assert scipy_stats.kstest(u[:, s], "uniform").pvalue > 1e-3, s
    corr = np.corrcoef(u.T)
    off = corr[~np.eye(len(corr), dtype=bool)]
    # 200k samples: independent columns give |r| ~ N(0, 1/sqrt(2e5) = 0.0022).
    assert np.abs(off).max() < 0.012
    # Neighbouring ids are not correlated either (counter-based generators can be).
    assert abs(np.corrcoef(u[:-1, 0], u[1:, 0])[0, 1]) < 0.012


@pytest.mark.parametrize("spec", [
    dict(rotation_range=30), dict(width_shift_range=0.3), dict(height_shift_range=4),
    dict(width_shift_range=[2, 5, 9]), dict(shear_range=12), dict(zoom_range=(0.6, 1.2)),
    dict(channel_shift_range=15.0), dict(brightness_range=(0.3, 1.7)),
    dict(horizontal_flip=True, vertical_flip=True),
])
def test_draws_follow_keras_distributions(kimage, spec):
    """Two-sample KS test of each parameter against Keras's own get_random_transform."""
    scipy_stats = pytest.importorskip("scipy.stats", reason="scipy (test extra) is not installed")
    n, shape = 3000, (30, 40, 3)
    ours = sample_params(ImageDataGenerator(**spec), n, shape[:2], sample_key(3, 0))
    kgen = kimage.ImageDataGenerator(**spec)
    state = np.random.get_state()  # Keras draws from NumPy's global RNG
    try:
        np.random.seed(12345)
        ref = [kgen.get_random_transform(shape) for _ in range(n)]
    finally:
        np.random.set_state(state)
    for name in ("theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical",
                 "channel_shift_intensity", "brightness"):
        theirs = np.array([np.nan if r[name] is None else float(r[name]) for r in ref])
        mine = ours[name]
        if np.all(np.isnan(theirs)):
            assert mine is None, name
            continue
        mine = np.asarray(mine, dtype=np.float64)
        if np.all(theirs == theirs[0]):
            assert np.all(mine == theirs[0]), name
            continue
        # Discrete draws (integer or listed shifts, flips): the same set of values.
        if len(np.unique(theirs)) < 50:
            assert set(np.unique(np.round(mine, 9))) == set(np.unique(np.round(theirs, 9))), name
        # Both samples fixed by their seeds; p > 1e-3 fails only on a different law.
        assert scipy_stats.ks_2samp(mine, theirs).pvalue > 1e-3, name
        assert mine.min() >= theirs.min() - 1e-9 - 0.01 * np.ptp(theirs)
        assert mine.max() <= theirs.max() + 1e-9 + 0.01 * np.ptp(theirs)


def test_same_pixels_under_batch_sizes_16_and_40(dataset):
    a = _dir_flow(dataset, 16)
    b = _dir_flow(dataset, 40)
    for epoch in (0, 1):
        np.testing.assert_array_equal(a.sample_indices(epoch), b.sample_indices(epoch))
        pa, pb = _pixels_by_sample(a, epoch), _pixels_by_sample(b, epoch)
        assert sorted(pa) == sorted(pb) == list(range(a.samples))
        for j in pa:
            np.testing.assert_array_equal(pa[j], pb[j])
    # The transforms are random: epochs differ, samples differ.
    p0, p1 = _pixels_by_sample(a, 0), _pixels_by_sample(a, 1)
    assert not np.array_equal(p0[0], p1[0])


@pytest.mark.parametrize("k", [0, 1, 2])
def test_same_pixels_in_shard_3_k_as_in_whole(dataset, k):
    whole = _dir_flow(dataset, 8)
    shard = _dir_flow(dataset, 5).shard(3, k)
    for epoch in (0, 2):
        pw, ps = _pixels_by_sample(whole, epoch), _pixels_by_sample(shard, epoch)
        assert set(ps) == set(int(j) for j in shard.sample_indices(epoch))
        for j in ps:
            np.testing.assert_array_equal(ps[j], pw[j])


def test_same_pixels_with_workers_0_and_2(dataset):
    a = _dir_flow(dataset, 7, workers=0)
    b = _dir_flow(dataset, 7, workers=2)
    for _ in range(2 * len(a)):  # two epochs through next(), as training does
        xa, ya = next(a)
        xb, yb = next(b)
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert a.epoch == b.epoch == 1


def test_numpy_flow_same_pixels_under_batch_sizes():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (23, 9, 11, 3)).astype(np.float32)
    gen = ImageDataGenerator(**AUG)
    a = gen.flow(x, batch_size=4, seed=3)
    b = gen.flow(x, batch_size=23, seed=3)
    for epoch in (0, 1):
        pa, pb = _pixels_by_sample(_Xonly(a), epoch), _pixels_by_sample(_Xonly(b), epoch)
        for j in range(len(x)):
            np.testing.assert_array_equal(pa[j], pb[j])


class _Xonly(object):
    """Adapts a y-less flow (batches are arrays) to `_pixels_by_sample`."""

    def __init__(self, it):
        self.it = it
        self.batch_size = it.batch_size

    def __len__(self):
        return len(self.it)

    def sample_indices(self, epoch):
        return self.it.sample_indices(epoch)

    def batch_at(self, epoch, b):
        return (self.it.batch_at(epoch, b),)
