"""Ray Data: one epoch of an iterator as a `ray.data.Dataset`, built on Ray workers.

```python
ds = it.to_ray(epoch)                    # columns: index, image, label, filename
for split in ds.streaming_split(n):      # one per trainer: every sample once
    ...
```

How it works: the driver makes a dataset of the epoch's sample positions
(`it.sample_indices(epoch)`, in the epoch's order, a few blocks per actor).
`map_batches` hands each Ray batch of positions to an actor holding a copy
of the iterator, which builds it exactly as the local iterator builds a
batch: it reads and decodes the files, draws each sample's parameters from
`(seed, epoch, position)`, and makes one kernel call for the whole Ray batch
(resize, warp, rescale), then the steps Keras applies after the warp.  So
every sample gets, bit for bit, the pixels the local iterator gives it in
that epoch, whatever Ray's batch size, the number of actors or the node.

Files are read by the actors with the iterator's own paths: they must be
on a filesystem every node sees at the same path (NFS, a mounted bucket,
a cluster filesystem).  Object-store URIs (`s3://...`) are not read here:
`flow_from_directory` lists a local directory, so mount the bucket instead.

Importing this module does not import Ray; `to_ray` does.
"""
import copy
import math

import numpy as np

__all__ = ["to_ray", "AugmentBatches"]


def _import_ray():
    try:
        import ray
        import ray.data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("to_ray() needs Ray Data: pip install 'pyimgaug[ray]' "
                          "(or 'ray[data]')") from exc
    return ray


class AugmentBatches(object):
    """The `map_batches` callable: builds the rows of a Ray batch of sample positions.

    # Arguments
        iterator: a pyimgaug iterator, or a `ray.ObjectRef` of one (each
            actor gets its own copy).
        epoch: the epoch whose transforms the rows get.
    """

    def __init__(self, iterator, epoch):
        ray = _import_ray()
        if isinstance(iterator, ray.ObjectRef):
            # Put once in the object store by to_ray; each actor fetches it once.
            iterator = ray.get(iterator)
        self.iterator = iterator
        self.epoch = int(epoch)
        self.key = iterator._sample_key(self.epoch)

    def __call__(self, batch):
        index = np.asarray(batch["index"], dtype=np.int64)
        out = self.iterator._build_batch(index, self.key)
        rows = {"index": index}
        if isinstance(out, tuple):
            rows["image"] = out[0]
            y = out[1]
            if isinstance(y, list):  # multi_output: one column per output
                for k, part in enumerate(y):
                    rows["label_%d" % k] = np.asarray(part)
            else:
                rows["label"] = np.asarray(y)
            if len(out) > 2:
                rows["sample_weight"] = np.asarray(out[2])
        else:
            rows["image"] = out
        names = getattr(self.iterator, "filenames", None)  # array flows have none
        if names is not None:
            take = getattr(names, "take", None)
            files = take(index) if take is not None else [names[j] for j in index]
            rows["filename"] = np.array(files, dtype=object)
        return rows


def _compute(ray, concurrency):
    if concurrency is None:
        return None  # Ray's default for a callable class: an autoscaling pool
    if isinstance(concurrency, bool):
        raise TypeError("`concurrency` must be an int >= 1 or a (min, max) tuple; received "
                        "{!r}.".format(concurrency))
    if isinstance(concurrency, int):
        if concurrency < 1:
            raise ValueError("`concurrency` must be >= 1; received {}.".format(concurrency))
        return ray.data.ActorPoolStrategy(size=concurrency)
    if (isinstance(concurrency, tuple) and len(concurrency) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in concurrency)
            and 1 <= concurrency[0] <= concurrency[1]):
        return ray.data.ActorPoolStrategy(min_size=concurrency[0], max_size=concurrency[1])
    raise TypeError("`concurrency` must be an int >= 1 or a (min, max) tuple with "
                    "1 <= min <= max; received {!r}.".format(concurrency))


def _check_batch_size(batch_size, default):
    if batch_size is None:
        return int(default)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)):
        raise TypeError("`batch_size` must be an int >= 1 or None; received {!r}."
                        .format(batch_size))
    if batch_size < 1:
        raise ValueError("`batch_size` must be >= 1; received {}.".format(batch_size))
    return int(batch_size)


def _blocks(order, batch_size, actors):
    """The positions cut into blocks: whole Ray batches, about 4 blocks per actor."""
    n = len(order)
    if n == 0:
        return [order]
    target = max(1, math.ceil(n / (4 * max(actors, 1))))
    per = max(batch_size, min(64 * batch_size, target))
    per = math.ceil(per / batch_size) * batch_size  # a block holds whole batches
    return [order[i:i + per] for i in range(0, n, per)]


def to_ray(iterator, epoch=None, *, concurrency=None, batch_size=None):
    """A `ray.data.Dataset` of the samples of one epoch, built on Ray workers.

    # Arguments
        iterator: a pyimgaug file or array iterator (or a shard of one).
        epoch: Integer >= 0; default: the iterator's current epoch.
        concurrency: actors building batches: an int (a fixed pool), a
            `(min, max)` tuple (an autoscaling pool), or None (Ray's default
            for a callable class: 1 to as many as the cluster fits).
        batch_size: samples per Ray batch (one kernel call each); default
            the iterator's `batch_size`.

    # Returns
        A `ray.data.Dataset` with one row per sample of the epoch, in the
        epoch's order when Ray preserves order
        (`DataContext.execution_options.preserve_order`): `index` (the
        sample's position in `filenames`), `image` (as the iterator yields
        it), `label` (as the iterator's `y`; `label_0`, `label_1`, ... for
        `multi_output`; absent for `class_mode=None`), `sample_weight` (when
        the iterator has weights) and `filename` (file iterators).
    """
    from . import _check_int
    ray = _import_ray()
    epoch = iterator.epoch if epoch is None else _check_int("epoch", epoch)
    batch_size = _check_batch_size(batch_size, iterator.batch_size)
    compute = _compute(ray, concurrency)
    if getattr(iterator, "_on_error", "raise") != "raise":
        raise ValueError("to_ray() needs on_error='raise': a skipped file would change the "
                         "rows of a Ray batch; received on_error={!r}.".format(iterator._on_error))
    import pyarrow as pa

    order = np.asarray(iterator.sample_indices(epoch), dtype=np.int64)
    # The actors get a copy without the local prefetch threads and cursor.
    shipped = copy.copy(iterator)
    shipped.__dict__.pop("_prefetcher", None)
    shipped.index_array = None
    if isinstance(concurrency, int):
        actors = concurrency
    elif isinstance(concurrency, tuple):
        actors = concurrency[1]
    else:
        actors = 4
    blocks = [pa.table({"index": b}) for b in _blocks(order, batch_size, actors)]
    ds = ray.data.from_arrow(blocks)
    kwargs = dict(batch_size=batch_size, batch_format="numpy", num_cpus=1,
                  fn_constructor_args=(ray.put(shipped), epoch))
    if compute is not None:
        kwargs["compute"] = compute
    return ds.map_batches(AugmentBatches, **kwargs)
