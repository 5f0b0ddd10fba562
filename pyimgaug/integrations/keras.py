"""Keras 3: pyimgaug iterators as `keras.utils.PyDataset`s.

Importing this module imports Keras (`pip install keras`); choose the backend
with `KERAS_BACKEND` before that, as usual.

Usually nothing is needed: once Keras is imported, every pyimgaug iterator is
a `keras.utils.PyDataset`, so `model.fit(train_it, validation_data=val_it)`
and `model.predict(it)` take it directly, with the iterator's own
`workers`, `use_multiprocessing` and `max_queue_size` attributes.

`as_pydataset(it, workers=..., use_multiprocessing=..., max_queue_size=...)`
wraps an iterator instead, with its own Keras settings; the wrapper works
even when the automatic adoption is turned off (`PYIMGAUG_KERAS_HOOK=0`).
"""
import keras

from ._keras_hook import adopt_pydataset

__all__ = ["IteratorPyDataset", "as_pydataset"]

adopt_pydataset()


class IteratorPyDataset(keras.utils.PyDataset):
    """A `keras.utils.PyDataset` that serves a pyimgaug iterator's batches.

    Batch `i` is `iterator[i]`, a pure function of the iterator's seed, its
    epoch and `i`, so Keras may build batches in any order, on threads or
    processes, and shuffle their order (`fit(shuffle=True)`).  Keras's
    `on_epoch_end` advances the iterator to its next epoch (a new shuffle and
    new random transforms).  Other attributes (`filenames`, `classes`,
    `class_indices`, ...) are the iterator's.

    # Arguments
        iterator: a pyimgaug `Iterator` (e.g. from `flow_from_directory`).
        workers: Integer, number of threads or processes Keras uses to build
            batches. 1 builds them in the training loop's thread.
        use_multiprocessing: Boolean, use processes instead of threads
            (the iterator is copied into each, by fork or by pickling).
        max_queue_size: Integer, batches Keras keeps ready.
    """

    def __init__(self, iterator, workers=1, use_multiprocessing=False, max_queue_size=10):
        _check_knobs(workers, use_multiprocessing, max_queue_size)
        if not (hasattr(iterator, "__getitem__") and hasattr(iterator, "__len__")
                and hasattr(iterator, "on_epoch_end")):
            raise TypeError("`iterator` must be a pyimgaug Iterator (with __getitem__, __len__ "
                            "and on_epoch_end); received {}.".format(type(iterator).__name__))
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing,
                         max_queue_size=max_queue_size)
        self.iterator = iterator

    def __len__(self):
        return len(self.iterator)

    def __getitem__(self, index):
        return self.iterator[index]

    def on_epoch_end(self):
        self.iterator.on_epoch_end()

    def __getattr__(self, name):
        # Called only for names not found normally; never during unpickling's
        # early lookups (no `iterator` yet).
        iterator = self.__dict__.get("iterator")
        if iterator is None or name.startswith("__"):
            raise AttributeError(name)
        return getattr(iterator, name)


def _check_knobs(workers, use_multiprocessing, max_queue_size):
    for name, value, low in (("workers", workers, 1), ("max_queue_size", max_queue_size, 1)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("`{}` must be an integer; received {!r}.".format(name, value))
        if value < low:
            raise ValueError("`{}` must be >= {}; received {}.".format(name, low, value))
    if not isinstance(use_multiprocessing, bool):
        raise TypeError("`use_multiprocessing` must be a boolean; received {!r}."
                        .format(use_multiprocessing))


def as_pydataset(iterator, workers=1, use_multiprocessing=False, max_queue_size=10):
    """Wraps a pyimgaug iterator as a `keras.utils.PyDataset`.

    # Arguments
        iterator: a pyimgaug `Iterator`.
        workers, use_multiprocessing, max_queue_size: Keras's `PyDataset`
            settings (see `IteratorPyDataset`).

    # Returns
        An `IteratorPyDataset` for `model.fit`, `evaluate` and `predict`.

    # Example
        ```python
        train = as_pydataset(train_it, workers=4, use_multiprocessing=True)
        model.fit(train, validation_data=val_it, epochs=10)
        ```
    """
    return IteratorPyDataset(iterator, workers=workers, use_multiprocessing=use_multiprocessing,
                             max_queue_size=max_queue_size)
