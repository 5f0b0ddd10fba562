"""`iterator.to_ray(epoch)` on a local 2-node Ray cluster (1 CPU per node).

Every row is compared, pixel for pixel (exactly), with what the local
iterator gives the same sample in the same epoch: the actors run the same
batch builder, the parameters depend on (seed, epoch, position) only, and
the kernel computes each image on its own.
"""
import sys
import threading

import numpy as np
import pytest

from pyimgaug import ImageDataGenerator

AUG = dict(rotation_range=25, width_shift_range=0.2, height_shift_range=3, zoom_range=0.2,
           horizontal_flip=True, channel_shift_range=20.0, brightness_range=(0.6, 1.4),
           fill_mode="reflect", rescale=1 / 255.0)


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray", reason="Ray (the `ray` extra) is not installed")
    pytest.importorskip("ray.data", reason="Ray Data (the `ray` extra) is not installed")
    from ray.cluster_utils import Cluster
    store = 100 * 2**20  # small: the tests move a few MB
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "object_store_memory": store})
    c.add_node(num_cpus=1, object_store_memory=store)
    ray.init(address=c.address, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()
        c.shutdown()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from conftest import build_dataset
    return build_dataset(tmp_path_factory.mktemp("ray") / "data", classes=3, per_class=[17, 15, 15])


def _flow(root, **kw):
    kw.setdefault("seed", 11)
    kw.setdefault("batch_size", 8)
    return ImageDataGenerator(**AUG).flow_from_directory(
        root, target_size=(20, 24), class_mode="sparse", interpolation="bilinear", **kw)


def _local_pixels(it, epoch):
    """{position: (image, label)} of every sample of `epoch`, from the local iterator."""
    order = it.sample_indices(epoch)
    out = {}
    for b in range(len(it)):
        x, y = it.batch_at(epoch, b)
        for i, j in enumerate(order[b * it.batch_size:(b + 1) * it.batch_size]):
            out[int(j)] = (x[i], y[i])
    return out


def _rows(batches):
    rows = {}
    for batch in batches:
        for i, j in enumerate(batch["index"]):
            assert int(j) not in rows, "sample %d twice" % j
            rows[int(j)] = {k: v[i] for k, v in batch.items()}
    return rows


def _assert_rows_match(it, epoch, rows, positions):
    local = _local_pixels(it, epoch)
    assert sorted(rows) == sorted(int(j) for j in positions)
    compared = 0
    for j, row in rows.items():
        x, y = local[j]
        assert row["image"].dtype == x.dtype and row["image"].shape == x.shape
        np.testing.assert_array_equal(row["image"], x)
        assert row["label"] == y
        assert row["filename"] == it.filenames[j]
        compared += x.size
    return compared


def test_cluster_has_two_nodes_with_one_cpu_each(cluster):
    nodes = [n for n in cluster.nodes() if n["Alive"]]
    assert len(nodes) == 2 and all(n["Resources"]["CPU"] == 1 for n in nodes)


@pytest.mark.parametrize("epoch", [0, 3])
def test_every_sample_once_with_the_local_pixels(cluster, dataset, epoch):
    it = _flow(dataset)
    # Two actors of 1 CPU each: one on each node.  A Ray batch (6) that is
    # not the iterator's (8): the pixels must not depend on it.
    ds = it.to_ray(epoch, concurrency=2, batch_size=6)
    rows = _rows(ds.iter_batches(batch_size=None, batch_format="numpy"))
    compared = _assert_rows_match(it, epoch, rows, range(it.samples))
    assert compared == it.samples * 20 * 24 * 3


def test_streaming_split_gives_each_trainer_disjoint_samples_covering_the_epoch(cluster, dataset):
    it = _flow(dataset)
    splits = it.to_ray(1, concurrency=2, batch_size=5).streaming_split(2)
    seen = [None, None]

    def consume(k):
        seen[k] = _rows(splits[k].iter_batches(batch_size=None, batch_format="numpy"))

    threads = [threading.Thread(target=consume, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert all(s is not None for s in seen)
    assert not set(seen[0]) & set(seen[1])
    both = dict(seen[0])
    both.update(seen[1])
    _assert_rows_match(it, 1, both, range(it.samples))
    assert seen[0] and seen[1]


def test_shard_to_ray_matches_the_whole_iterator(cluster, dataset):
    whole = _flow(dataset)
    shard = _flow(dataset, batch_size=4).shard(3, 1)
    rows = _rows(shard.to_ray(2, concurrency=2).iter_batches(batch_size=None,
                                                             batch_format="numpy"))
    _assert_rows_match(whole, 2, rows, set(int(j) for j in shard.sample_indices(2)))


def test_array_flow_to_ray(cluster):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (19, 9, 11, 3)).astype(np.float32)
    y = np.arange(19)
    it = ImageDataGenerator(**AUG).flow(x, y, batch_size=4, seed=5)
    rows = _rows(it.to_ray(1, concurrency=2, batch_size=7).iter_batches(
        batch_size=None, batch_format="numpy"))
    order = it.sample_indices(1)
    local = {}
    for b in range(len(it)):
        xb, yb = it.batch_at(1, b)
        for i, j in enumerate(order[b * 4:(b + 1) * 4]):
            local[int(j)] = (xb[i], yb[i])
    assert sorted(rows) == list(range(19))
    for j, row in rows.items():
        np.testing.assert_array_equal(row["image"], local[j][0])
        assert row["label"] == local[j][1] == j


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(concurrency=0), ValueError, "concurrency"),
    (dict(concurrency=(3, 2)), TypeError, "concurrency"),
    (dict(concurrency=True), TypeError, "concurrency"),
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size="8"), TypeError, "batch_size"),
    (dict(epoch=-1), ValueError, "epoch"),
])
def test_bad_arguments(dataset, kwargs, error, message):
    pytest.importorskip("ray.data", reason="Ray Data (the `ray` extra) is not installed")
    it = _flow(dataset)
    with pytest.raises(error, match=message):
        it.to_ray(**kwargs)


def test_on_error_skip_is_refused(dataset):
    pytest.importorskip("ray.data", reason="Ray Data (the `ray` extra) is not installed")
    it = _flow(dataset, on_error="skip")
    with pytest.raises(ValueError, match="on_error"):
        it.to_ray(0)


def test_without_ray_the_error_names_the_extra(dataset, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ImportError, match=r"pyimgaug\[ray\]"):
        _flow(dataset).to_ray(0)


def test_one_kernel_call_per_ray_batch(dataset, monkeypatch):
    """The actor's callable, run here: a Ray batch of 13 samples is one kernel call."""
    pytest.importorskip("ray.data", reason="Ray Data (the `ray` extra) is not installed")
    import pyimgaug._kernel as kernel
    from pyimgaug.integrations.ray import AugmentBatches
    calls = []
    real = kernel.transform_batch

    def counting(images, *args, **kwargs):
        calls.append(len(images))
        return real(images, *args, **kwargs)

    monkeypatch.setattr(kernel, "transform_batch", counting)
    it = _flow(dataset)
    index = it.sample_indices(2)[:13]
    rows = AugmentBatches(it, 2)({"index": index})
    assert calls == [13]
    assert list(rows) == ["index", "image", "label", "filename"]
    np.testing.assert_array_equal(rows["index"], index)
