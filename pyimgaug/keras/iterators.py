"""Iterators over arrays, directories and dataframes, as in Keras.

Randomness: the shuffled order of an epoch is a function of `(seed, epoch)`
and the random transform of a sample a function of
`(seed, epoch, the sample's position in the listing)` (see `pipeline.params`), so
`it[i]` is the same batch whichever thread or process asks for it, a sample
is transformed alike whatever the batch size, shard or engine, and two
iterators with the same seed (an image and a mask generator) transform
sample for sample alike.  NumPy's global RNG is never
used.  Without a seed, each iterator draws a fresh one from the OS.
"""
import inspect
import os
import threading
import warnings

import numpy as np

from ..pipeline import budget as _budget
from ..pipeline import decode as _stage
from . import checks as _checks
from ..pipeline import params as _params
from ..pipeline.affine import kernel_input
from ..errors import SkippedFile, check_on_error, record_skipped
from ..integrations import IteratorExtras
from ..pipeline.io import array_to_img, check_interpolation, decode_for_batch, is_image_filename
from ..pipeline.io import _PIL_INTERPOLATION_METHODS, pil_image
from ..pipeline.listing import WHITE_LIST_FORMATS, list_classes, list_directory
from ..pipeline.pathtable import PathList, PathTable, join_prefix
from ..pipeline.batch import augment_batch, identity_params

__all__ = ["Iterator", "NumpyArrayIterator", "DirectoryIterator", "DataFrameIterator"]


class Iterator(IteratorExtras):
    """Base class for image data iterators.

    Every `Iterator` must implement `_get_batches_of_transformed_samples`.

    # Arguments
        n: Integer, total number of samples in the dataset to loop over.
        batch_size: Integer, size of a batch.
        shuffle: Boolean, whether to shuffle the data between epochs.
        seed: Random seed for data shuffling and transforms.
    """

    white_list_formats = WHITE_LIST_FORMATS

    def __init__(self, n, batch_size, shuffle, seed):
        # Keras fails on some later batch (or divides by zero); fail here.
        _checks.check_batch_size(batch_size)
        _checks.check_seed(seed)
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array = None
        # The seed that names this iterator's random streams.
        self._base_seed = _params.normalize_seed(seed)
        self._epoch = 0
        self._index_epoch = None
        self._pass_started = False

    # Pickling: the lock cannot travel; a fresh one is made on arrival.
    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("lock", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.lock = threading.Lock()
        # An unpickled array has its own copy of its dtype, and the kernel
        # accepts only NumPy's canonical dtype objects: view it as one.
        for name, value in state.items():
            if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
                canonical = np.dtype(value.dtype.str)
                if value.dtype is not canonical:
                    self.__dict__[name] = value.view(canonical)

    @property
    def epoch(self):
        """Number of the current epoch (0 for the first)."""
        return self._epoch

    def _set_index_array(self):
        # The epoch's order (of this shard's samples, for a shard).
        self.index_array = self._index_array_for(self._epoch)
        self._index_epoch = self._epoch

    def _sample_key(self, epoch):
        # Names the epoch's per-sample draws; a batch draws for its index array.
        return _params.sample_key(self._base_seed, epoch)

    def __getitem__(self, idx):
        if idx >= len(self):
            raise ValueError('Asked to retrieve element {idx}, '
                             'but the Sequence '
                             'has length {length}'.format(idx=idx, length=len(self)))
        with self.lock:
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array()
            index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
            key = self._sample_key(self._index_epoch)
        return self._build_batch(index_array, key)

    def __len__(self):
        return (self.n + self.batch_size - 1) // self.batch_size  # round up

    def on_epoch_end(self):
        """Starts a new epoch: a new shuffle and new random transforms."""
        with self.lock:
            self._epoch += 1
            self._set_index_array()

    def reset(self):
        """Makes the next `next()` start a new pass from the first batch."""
        self.batch_index = 0

    def _next_index(self):
        with self.lock:
            if self.batch_index == 0:
                # Every pass after the first is a new epoch.
                previous = self._epoch
                if self._pass_started:
                    self._epoch += 1
                try:
                    self._set_index_array()
                except BaseException:
                    # Interrupted while reshuffling (KeyboardInterrupt lands
                    # there on large datasets): leave the cursor as it was,
                    # so the retry starts this same epoch.
                    self._epoch = previous
                    raise
                self._pass_started = True
            if self.n == 0:
                current_index = 0
            else:
                current_index = (self.batch_index * self.batch_size) % self.n
            if self.n > current_index + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            index_array = self.index_array[current_index:current_index + self.batch_size]
            key = self._sample_key(self._epoch)
        return index_array, key

    def _flow_index(self):
        """Keras's generator of batch index arrays: starts a new pass, then advances like `next()`."""
        self.reset()
        while True:
            yield self._next_index()[0]

    @property
    def index_generator(self):
        """Yields the index array of each next batch, advancing like `next()` (as in Keras)."""
        while True:
            yield self._next_index()[0]

    def __iter__(self):
        return self

    def __next__(self, *args, **kwargs):
        return self.next(*args, **kwargs)

    def next(self):
        """Returns the next batch."""
        index_array, key = self._next_index()
        prefetcher = getattr(self, "_prefetcher", None)
        if prefetcher is not None:
            # Built ahead by worker threads (flow_*(workers=...)); same batch.
            return prefetcher.take(self, index_array, key)
        # The batch is built outside the lock, so threads work in parallel.
        return self._build_batch(index_array, key)

    def _build_batch(self, index_array, key):
        # Counted as in flight so that concurrent builders share the cores.
        with _budget.building():
            # Subclasses written for Keras override the hook with one argument.
            if _takes_key(type(self)):
                return self._get_batches_of_transformed_samples(index_array, key=key)
            return self._get_batches_of_transformed_samples(index_array)

    def _get_batches_of_transformed_samples(self, index_array, key=None):
        """Gets a batch of transformed samples.

        # Arguments
            index_array: Array of sample indices to include in batch.
            key: list of ints naming the epoch's random draws (a fresh one
                when None); sample j's draws are keyed by `(key, j)`.

        # Returns
            A batch of transformed samples.
        """
        raise NotImplementedError

    def _resolve_key(self, key):
        if key is None:
            return [_params.normalize_seed(None), 3]
        return key


_TAKES_KEY = {}


def _takes_key(cls):
    """Whether `cls._get_batches_of_transformed_samples` accepts `key`."""
    if cls not in _TAKES_KEY:
        try:
            sig = inspect.signature(cls._get_batches_of_transformed_samples)
            _TAKES_KEY[cls] = "key" in sig.parameters
        except (TypeError, ValueError):
            _TAKES_KEY[cls] = False
    return _TAKES_KEY[cls]


def _labels_for(it, index_array, batch_x):
    """Keras's label batch for `class_mode` (None when there are no labels)."""
    if it.class_mode == 'input':
        return batch_x.copy()
    if it.class_mode in {'binary', 'sparse'}:
        batch_y = np.empty(len(batch_x), dtype=it.dtype)
        for i, n_observation in enumerate(index_array):
            batch_y[i] = it.classes[n_observation]
        return batch_y
    if it.class_mode == 'categorical':
        batch_y = np.zeros((len(batch_x), len(it.class_indices)), dtype=it.dtype)
        for i, n_observation in enumerate(index_array):
            batch_y[i, it.classes[n_observation]] = 1.
        return batch_y
    if it.class_mode == 'multi_output':
        return [output[index_array] for output in it.labels]
    if it.class_mode == 'raw':
        return it.labels[index_array]
    return None


def _save_batch(batch_x, index_array, data_format, save_to_dir, save_prefix, save_format,
                key, hash_max):
    hashes = _params.misc_integers(key, index_array, hash_max)
    for i, j in enumerate(index_array):
        img = array_to_img(batch_x[i], data_format, scale=True)
        fname = '{prefix}_{index}_{hash}.{format}'.format(
            prefix=save_prefix, index=j, hash=int(hashes[i]), format=save_format)
        img.save(os.path.join(save_to_dir, fname))


class BatchFromFilesMixin(object):
    """Builds batches from image files: decode, sample, one kernel call."""

    # Class defaults, so that subclasses written for Keras work unchanged.
    _on_error = "raise"
    _skipped = None

    @property
    def on_error(self):
        """What a file that cannot be read does to its batch.

        `"raise"` (default, as Keras): the batch raises `BadImageError` (an
        `OSError` naming the file).  `"skip"`: the batch comes back without
        that sample (shorter, possibly empty; its label and weight dropped
        too) and the file is added to `skipped_files`.  `"warn"`: as
        `"skip"`, and a `BadImageWarning` the first time each file is skipped.
        """
        return self._on_error

    @on_error.setter
    def on_error(self, value):
        self._on_error = check_on_error(value)
        if self._skipped is None:
            self._skipped = {}

    @property
    def skipped_files(self):
        """`SkippedFile(filename, path, reason)` of each file skipped so far, once each."""
        return list(self._skipped.values()) if self._skipped else []

    def set_processing_attrs(self, image_data_generator, target_size, color_mode, data_format,
                             save_to_dir, save_prefix, save_format, subset, interpolation):
        """Sets attributes used later to process files into a batch."""
        self.image_data_generator = image_data_generator
        self.target_size = _checks.check_target_size(target_size)
        if color_mode not in {'rgb', 'rgba', 'grayscale'}:
            raise ValueError('Invalid color mode:', color_mode,
                             '; expected "rgb", "rgba", or "grayscale".')
        # Keras checks these only on a batch that needs them; check them now.
        check_interpolation(interpolation)
        if save_to_dir:
            _checks.check_save_format(save_format)
        self.color_mode = color_mode
        self.data_format = data_format
        channels = {'rgba': 4, 'rgb': 3, 'grayscale': 1}[color_mode]
        if self.data_format == 'channels_last':
            self.image_shape = self.target_size + (channels,)
        else:
            self.image_shape = (channels,) + self.target_size
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        if subset is not None:
            validation_split = self.image_data_generator._validation_split
            if subset == 'validation':
                split = (0, validation_split)
            elif subset == 'training':
                split = (validation_split, 1)
            else:
                raise ValueError('Invalid subset name: %s;'
                                 'expected "training" or "validation"' % (subset,))
        else:
            split = None
        self.split = split
        self.subset = subset

    def _decode_batch(self, index_array, on_bad=None):
        filepaths = self.filepaths
        take = getattr(filepaths, "take", None)
        paths = take(index_array) if take is not None else [filepaths[j] for j in index_array]
        # With on_bad, a file that cannot be read is reported to on_bad(path,
        # error) and its entry is None, instead of raising for the batch.
        extra = {} if on_bad is None else {"on_bad": on_bad}
        # Decoded on the thread budget (Pillow releases the GIL); with a
        # cache, already resized to target_size (see pyimgaug.pipeline.decode).
        return _stage.load_stage(paths, self.color_mode, self.target_size, self.interpolation,
                                 decode=getattr(self, "decode", "exact"),
                                 cache=getattr(self, "cache", None), **extra)

    def _without_bad_files(self, index_array, decoded, bad):
        """Drops the samples whose file could not be read and records them.

        Returns `(index_array, decoded, keep)`; `keep` is None when nothing
        was dropped, else the boolean mask over the listed batch.
        """
        if not bad:
            return index_array, decoded, None
        keep = np.array([d is not None for d in decoded], dtype=bool)
        filenames, filepaths = self.filenames, self.filepaths
        for j in np.asarray(index_array)[~keep]:
            err = bad.get(filepaths[j])
            reason = err.reason if err is not None else "unreadable"
            record_skipped(self._skipped, SkippedFile(filenames[j], filepaths[j], reason),
                           self._on_error)
        kept = [d for d in decoded if d is not None]
        return np.asarray(index_array)[keep], kept, keep

    def _get_batches_of_transformed_samples(self, index_array, key=None):
        key = self._resolve_key(key)
        listed = len(index_array)
        listed_ids = np.asarray(index_array)
        bad = None if self._on_error == "raise" else {}
        decoded = self._decode_batch(index_array, on_bad=None if bad is None else bad.__setitem__)
        index_array, decoded, keep = self._without_bad_files(index_array, decoded, bad)
        th, tw = self.target_size
        if any(resized for _, resized in decoded):
            # A rare file Pillow had to resize itself: resize the others with
            # Pillow as well and hand the kernel float32 images at target size.
            images = [x if resized else _pillow_resize(x, self.target_size, self.interpolation)
                      for x, resized in decoded]
            resize_to = None
        else:
            images = [x for x, _ in decoded]
            needs = any(x.shape[0] != th or x.shape[1] != tw for x in images)
            resize_to = self.target_size if needs else None
        n = len(images)
        gen = self.image_data_generator
        if gen is not None:
            # Drawn for the batch as listed, so that a skipped file does not
            # change the transforms of the others.
            params = _params.sample_params(gen, listed, self.target_size, key, ids=listed_ids)
            if keep is not None:
                params = {k: (v if v is None else v[keep]) for k, v in params.items()}
        else:
            params = identity_params(n)
        if n == 0:
            batch_x = np.zeros((0,) + self.image_shape, dtype=self.dtype)
        else:
            batch_x = augment_batch(gen, images, params, self.target_size,
                                    data_format=self.data_format, resize_to=resize_to,
                                    resample=self.interpolation, work_dtype='float32',
                                    out_dtype=self.dtype)
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir,
                        self.save_prefix, self.save_format, key, int(1e7))
        batch_y = _labels_for(self, index_array, batch_x)
        if batch_y is None and self.class_mode is None:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]

    def cache_info(self):
        """Counters of the `cache=` of the flow method (None without a cache).

        A dict with `hits` and `misses` (files found or not in the cache, this
        process), `bytes` (in memory, or in the cache directory), `damaged`
        (entries found corrupt and rebuilt) and `not_stored` (entries not kept:
        memory bound reached, or a failed write).
        """
        cache = getattr(self, "cache", None)
        return None if cache is None else cache.info()

    # -- file names, packed (see pyimgaug.pipeline.pathtable) ----------------
    _paths = None
    _filepaths_table = None

    @property
    def filenames(self):
        """Paths of the image files relative to `directory`, in listing order.

        A read-only list-like view (`pyimgaug.pipeline.pathtable.PathList`) over one
        packed buffer: reads like Keras's list (`len`, indexing, slices,
        iteration, `==` with a list, `list(...)`); assign a new list to
        change it.
        """
        return PathList(self._paths if self._paths is not None else PathTable.from_strings([]))

    @filenames.setter
    def filenames(self, value):
        self._paths = value if isinstance(value, PathTable) else PathTable.from_strings(value)
        self._filepaths_table = None

    def _file_paths_view(self):
        """`filepaths` of a subclass listing files under `self.directory`."""
        if self._filepaths_table is not None:
            return PathList(self._filepaths_table)
        return PathList(self._paths, join_prefix(self.directory))

    @property
    def filepaths(self):
        """List of absolute paths to image files."""
        raise NotImplementedError(
            '`filepaths` property method has not been implemented in {}.'
            .format(type(self).__name__))

    @property
    def labels(self):
        """Class labels of every observation."""
        raise NotImplementedError(
            '`labels` property method has not been implemented in {}.'
            .format(type(self).__name__))

    @property
    def sample_weight(self):
        raise NotImplementedError(
            '`sample_weight` property method has not been implemented in {}.'
            .format(type(self).__name__))


def _pillow_resize(x, target_size, interpolation):
    """Resizes a uint8 (H, W, C) array with Pillow (Keras's way); float32 result."""
    th, tw = target_size
    if x.shape[0] == th and x.shape[1] == tw:
        return x.astype(np.float32)
    c = x.shape[2]
    # The mode ('L', 'RGB', 'RGBA') follows from the uint8 array's shape; passing
    # it is deprecated in Pillow 11.3-12.x.
    img = pil_image.fromarray(np.ascontiguousarray(x[:, :, 0] if c == 1 else x, dtype=np.uint8))
    assert img.mode == {1: 'L', 3: 'RGB', 4: 'RGBA'}[c], img.mode
    img = img.resize((tw, th), _PIL_INTERPOLATION_METHODS[interpolation])
    out = np.asarray(img, dtype=np.float32)
    return out.reshape(th, tw, c)


class DirectoryIterator(BatchFromFilesMixin, Iterator):
    """Iterator capable of reading images from a directory on disk.

    # Arguments
        directory: string, path to the directory to read images from.
            Each subdirectory in this directory will be considered to contain
            images from one class, or alternatively you could specify class
            subdirectories via the `classes` argument.
        image_data_generator: Instance of `ImageDataGenerator`
            to use for random transformations and normalization.
        target_size: tuple of integers, dimensions to resize input images to.
        color_mode: One of `"rgb"`, `"rgba"`, `"grayscale"`.
        classes: Optional list of strings, names of subdirectories
            containing images from each class (e.g. `["dogs", "cats"]`).
        class_mode: `"binary"`, `"categorical"`, `"sparse"`, `"input"` or None.
        batch_size: Integer, size of a batch.
        shuffle: Boolean, whether to shuffle the data between epochs.
            If set to False, sorts the data in alphanumeric order.
        seed: Random seed for data shuffling and transforms.
        data_format: String, one of `channels_first`, `channels_last`.
        save_to_dir: Optional directory where to save the pictures
            being yielded, in a viewable format.
        save_prefix: String prefix to use for saving sample images.
        save_format: Format to use for saving sample images.
        follow_links: boolean, follow symbolic links to subdirectories.
        subset: Subset of data (`"training"` or `"validation"`) if
            validation_split is set in ImageDataGenerator.
        interpolation: Interpolation method used to resample the image if the
            target size is different from that of the loaded image: one of
            "nearest", "bilinear", "bicubic", "lanczos", "box", "hamming".
        dtype: Dtype to use for generated arrays.
    """

    allowed_class_modes = {'categorical', 'binary', 'sparse', 'input', None}

    def __init__(self, directory, image_data_generator, target_size=(256, 256),
                 color_mode='rgb', classes=None, class_mode='categorical', batch_size=32,
                 shuffle=True, seed=None, data_format='channels_last', save_to_dir=None,
                 save_prefix='', save_format='png', follow_links=False, subset=None,
                 interpolation='nearest', dtype='float32'):
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset, interpolation)
        self.directory = directory
        self.classes = classes
        if class_mode not in self.allowed_class_modes:
            raise ValueError('Invalid class_mode: {}; expected one of: {}'
                             .format(class_mode, self.allowed_class_modes))
        self.class_mode = class_mode
        self.dtype = dtype
        self.samples = 0

        if not classes:
            classes = list_classes(directory)
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))

        # Packed: about 1 byte a character and 8 bytes a file (see pipeline/pathtable.py).
        self._paths, self.classes = list_directory(directory, classes, self.class_indices,
                                                   self.white_list_formats, self.split,
                                                   follow_links)
        self.samples = len(self._paths)

        print('Found %d images belonging to %d classes.' % (self.samples, self.num_classes))
        super(DirectoryIterator, self).__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self):
        """`os.path.join(directory, name)` of each of `filenames` (read-only, list-like)."""
        return self._file_paths_view()

    @property
    def labels(self):
        return self.classes

    @property
    def sample_weight(self):
        return None


class DataFrameIterator(BatchFromFilesMixin, Iterator):
    """Iterator capable of reading images from a directory on disk through a dataframe.

    # Arguments
        dataframe: Pandas dataframe containing the filepaths relative to
            `directory` (or absolute paths if `directory` is None) of the
            images in a string column. It should include other column/s
            depending on the `class_mode`:
            - `"categorical"` (default): `y_col` with the class/es of each
              image (string, or list/tuple for multi-label).
            - `"binary"` or `"sparse"`: `y_col` with class values as strings.
            - `"raw"` or `"multi_output"`: the columns in `y_col`.
            - `"input"` or `None`: no extra column is needed.
        directory: string, path to the directory to read images from.
        image_data_generator: Instance of `ImageDataGenerator`, or None for
            no transformation and normalization.
        x_col: string, column in `dataframe` that contains the filenames.
        y_col: string or list, column/s in `dataframe` with the target data.
        weight_col: string, column in `dataframe` with sample weights.
        target_size: tuple of integers, dimensions to resize input images to.
        color_mode: One of `"rgb"`, `"rgba"`, `"grayscale"`.
        classes: Optional list of strings, classes to use.
        class_mode: one of "binary", "categorical", "input", "multi_output",
            "raw", "sparse" or None. Default: "categorical".
        batch_size, shuffle, seed, data_format, save_to_dir, save_prefix,
        save_format, subset, interpolation, dtype: as in `DirectoryIterator`.
        validate_filenames: Boolean, whether to validate image filenames in
            `x_col`. If `True`, invalid images are ignored.
    """

    allowed_class_modes = {
        'binary', 'categorical', 'input', 'multi_output', 'raw', 'sparse', None
    }

    def __init__(self, dataframe, directory=None, image_data_generator=None, x_col="filename",
                 y_col="class", weight_col=None, target_size=(256, 256), color_mode='rgb',
                 classes=None, class_mode='categorical', batch_size=32, shuffle=True, seed=None,
                 data_format='channels_last', save_to_dir=None, save_prefix='',
                 save_format='png', subset=None, interpolation='nearest', dtype='float32',
                 validate_filenames=True):
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset, interpolation)
        df = dataframe.copy()
        self.directory = directory or ''
        self.class_mode = class_mode
        self.dtype = dtype
        self._check_params(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        if class_mode not in ["input", "multi_output", "raw", None]:
            df, classes = self._filter_classes(df, y_col, classes)
            num_classes = len(classes)
            self.class_indices = dict(zip(classes, range(len(classes))))
        if self.split:
            num_files = len(df)
            start = int(self.split[0] * num_files)
            stop = int(self.split[1] * num_files)
            df = df.iloc[start:stop, :]
        if class_mode not in ["input", "multi_output", "raw", None]:
            self.classes = self.get_classes(df, y_col)
        self.filenames = df[x_col].tolist()  # packed by the property's setter
        self._sample_weight = df[weight_col].values if weight_col else None

        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        validated_string = 'validated' if validate_filenames else 'non-validated'
        if class_mode in ["input", "multi_output", "raw", None]:
            print('Found {} {} image filenames.'.format(self.samples, validated_string))
        else:
            print('Found {} {} image filenames belonging to {} classes.'
                  .format(self.samples, validated_string, num_classes))
        if self.directory and any(os.path.isabs(f) for f in df[x_col]):
            # os.path.join keeps an absolute name whole: no common prefix.
            self._filepaths_table = PathTable.from_strings(
                os.path.join(self.directory, fname) for fname in df[x_col])
        super(DataFrameIterator, self).__init__(self.samples, batch_size, shuffle, seed)

    def _check_params(self, df, x_col, y_col, weight_col, classes):
        if self.class_mode not in self.allowed_class_modes:
            raise ValueError('Invalid class_mode: {}; expected one of: {}'
                             .format(self.class_mode, self.allowed_class_modes))
        if (self.class_mode == 'multi_output') and not isinstance(y_col, list):
            raise TypeError('If class_mode="{}", y_col must be a list. Received {}.'
                            .format(self.class_mode, type(y_col).__name__))
        if not all(isinstance(v, str) for v in df[x_col]):
            raise TypeError('All values in column x_col={} must be strings.'.format(x_col))
        if self.class_mode in {'binary', 'sparse'}:
            if not all(isinstance(v, str) for v in df[y_col]):
                raise TypeError('If class_mode="{}", y_col="{}" column '
                                'values must be strings.'.format(self.class_mode, y_col))
        if self.class_mode == 'binary':
            if classes:
                classes = set(classes)
                if len(classes) != 2:
                    raise ValueError('If class_mode="binary" there must be 2 '
                                     'classes. {} class/es were given.'.format(len(classes)))
            elif df[y_col].nunique() != 2:
                raise ValueError('If class_mode="binary" there must be 2 classes. '
                                 'Found {} classes.'.format(df[y_col].nunique()))
        if self.class_mode == 'categorical':
            types = (str, list, tuple)
            if not all(isinstance(v, types) for v in df[y_col]):
                raise TypeError('If class_mode="{}", y_col="{}" column '
                                'values must be type string, list or tuple.'
                                .format(self.class_mode, y_col))
        if classes and self.class_mode in {"input", "multi_output", "raw", None}:
            warnings.warn('`classes` will be ignored given the class_mode="{}"'
                          .format(self.class_mode))
        if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
            raise TypeError('Column weight_col={} must be numeric.'.format(weight_col))

    def get_classes(self, df, y_col):
        labels = []
        for label in df[y_col]:
            if isinstance(label, (list, tuple)):
                labels.append([self.class_indices[lbl] for lbl in label])
            else:
                labels.append(self.class_indices[label])
        return labels

    @staticmethod
    def _filter_classes(df, y_col, classes):
        df = df.copy()

        def remove_classes(labels, classes):
            if isinstance(labels, (list, tuple)):
                labels = [cls for cls in labels if cls in classes]
                return labels or None
            elif isinstance(labels, str):
                return labels if labels in classes else None
            else:
                raise TypeError("Expect string, list or tuple but found {} in {} column "
                                .format(type(labels), y_col))

        if classes:
            classes = set(classes)
            df[y_col] = df[y_col].apply(remove_classes, args=(classes,))
        else:
            classes = set()
            for v in df[y_col]:
                if isinstance(v, (list, tuple)):
                    classes.update(v)
                else:
                    classes.add(v)
        return df.dropna(subset=[y_col]), sorted(classes)

    def _filter_valid_filepaths(self, df, x_col):
        """Keeps only the rows whose file exists and has an allowed extension."""
        directory = self.directory
        formats = self.white_list_formats
        mask = np.array([is_image_filename(os.path.join(directory, fname), formats)
                         for fname in df[x_col]], dtype=bool)
        n_invalid = int((~mask).sum())
        if n_invalid:
            warnings.warn('Found {} invalid image filename(s) in x_col="{}". '
                          'These filename(s) will be ignored.'.format(n_invalid, x_col))
        return df[mask]

    @property
    def filepaths(self):
        """`os.path.join(directory, name)` of each of `filenames` (read-only, list-like)."""
        return self._file_paths_view()

    @property
    def labels(self):
        if self.class_mode in {"multi_output", "raw"}:
            return self._targets
        return self.classes

    @property
    def sample_weight(self):
        return self._sample_weight


class NumpyArrayIterator(Iterator):
    """Iterator yielding data from a Numpy array.

    # Arguments
        x: Numpy array of input data or tuple. If tuple, the second element is
            either another numpy array or a list of numpy arrays, each of which
            gets passed through as an output without any modifications.
        y: Numpy array of targets data.
        image_data_generator: Instance of `ImageDataGenerator`
            to use for random transformations and normalization.
        batch_size: Integer, size of a batch.
        shuffle: Boolean, whether to shuffle the data between epochs.
        sample_weight: Numpy array of sample weights.
        seed: Random seed for data shuffling and transforms.
        data_format: String, one of `channels_first`, `channels_last`.
        save_to_dir: Optional directory where to save the pictures
            being yielded, in a viewable format.
        save_prefix: String prefix to use for saving sample images.
        save_format: Format to use for saving sample images.
        subset: Subset of data (`"training"` or `"validation"`) if
            validation_split is set in ImageDataGenerator.
        dtype: Dtype to use for the generated arrays.
    """

    def __init__(self, x, y, image_data_generator, batch_size=32, shuffle=False,
                 sample_weight=None, seed=None, data_format='channels_last', save_to_dir=None,
                 save_prefix='', save_format='png', subset=None, dtype='float32'):
        self.dtype = dtype
        if (type(x) is tuple) or (type(x) is list):
            if type(x[1]) is not list:
                x_misc = [np.asarray(x[1])]
            else:
                x_misc = [np.asarray(xx) for xx in x[1]]
            x = x[0]
            for xx in x_misc:
                if len(x) != len(xx):
                    raise ValueError(
                        'All of the arrays in `x` '
                        'should have the same length. '
                        'Found a pair with: len(x[0]) = %s, len(x[?]) = %s' %
                        (len(x), len(xx)))
        else:
            x_misc = []

        if y is not None and len(x) != len(y):
            raise ValueError('`x` (images tensor) and `y` (labels) '
                             'should have the same length. '
                             'Found: x.shape = %s, y.shape = %s' %
                             (np.asarray(x).shape, np.asarray(y).shape))
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError('`x` (images tensor) and `sample_weight` '
                             'should have the same length. '
                             'Found: x.shape = %s, sample_weight.shape = %s' %
                             (np.asarray(x).shape, np.asarray(sample_weight).shape))
        if subset is not None:
            if subset not in {'training', 'validation'}:
                raise ValueError('Invalid subset name:', subset,
                                 '; expected "training" or "validation".')
            split_idx = int(len(x) * image_data_generator._validation_split)

            if (y is not None and not
                    np.array_equal(np.unique(y[:split_idx]), np.unique(y[split_idx:]))):
                raise ValueError('Training and validation subsets '
                                 'have different number of classes after '
                                 'the split. If your numpy arrays are '
                                 'sorted by the label, you might want '
                                 'to shuffle them.')

            if subset == 'validation':
                x = x[:split_idx]
                x_misc = [np.asarray(xx[:split_idx]) for xx in x_misc]
                if y is not None:
                    y = y[:split_idx]
            else:
                x = x[split_idx:]
                x_misc = [np.asarray(xx[split_idx:]) for xx in x_misc]
                if y is not None:
                    y = y[split_idx:]

        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError('Input data in `NumpyArrayIterator` '
                             'should have rank 4. You passed an array '
                             'with shape', self.x.shape)
        channels_axis = 3 if data_format == 'channels_last' else 1
        if self.x.shape[channels_axis] not in {1, 3, 4}:
            warnings.warn('NumpyArrayIterator is set to use the '
                          'data format convention "' + data_format + '" '
                          '(channels on axis ' + str(channels_axis) +
                          '), i.e. expected either 1, 3, or 4 '
                          'channels on axis ' + str(channels_axis) + '. '
                          'However, it was passed an array with shape ' +
                          str(self.x.shape) + ' (' +
                          str(self.x.shape[channels_axis]) + ' channels).')
        self.y = np.asarray(y) if y is not None else None
        self.sample_weight = np.asarray(sample_weight) if sample_weight is not None else None
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super(NumpyArrayIterator, self).__init__(self.x.shape[0], batch_size, shuffle, seed)

    @property
    def samples(self):
        """Number of samples (the same as `n`)."""
        return self.n

    def _get_batches_of_transformed_samples(self, index_array, key=None):
        key = self._resolve_key(key)
        gen = self.image_data_generator
        if self.data_format == 'channels_first':
            hw = self.x.shape[2:4]
            images = kernel_input(self.x[index_array].transpose(0, 2, 3, 1))
        elif self.x.dtype in (np.float32, np.float64) and self.x.shape[3] in (1, 3, 4):
            # Views of the samples: the kernel gathers them, no batch copy first.
            hw = self.x.shape[1:3]
            images = [self.x[j] for j in index_array]
        else:
            hw = self.x.shape[1:3]
            images = kernel_input(self.x[index_array])
        n = len(index_array)
        if n == 0:
            batch_x = np.zeros((0,) + self.x.shape[1:], dtype=self.dtype)
        else:
            params = _params.sample_params(gen, n, hw, key, ids=index_array)
            # Keras warps x in the generator's dtype: float64 in float64; integers
            # in double, stored rounded as scipy stores them.
            work = 'float32' if self.x.dtype == np.float32 else 'float64'
            batch_x = augment_batch(gen, images, params, hw, data_format=self.data_format,
                                    work_dtype=work, out_dtype=self.dtype, warp_dtype=self.x.dtype)
        if self.save_to_dir:
            _save_batch(batch_x, index_array, self.data_format, self.save_to_dir,
                        self.save_prefix, self.save_format, key, int(1e4))
        batch_x_miscs = [xx[index_array] for xx in self.x_misc]
        output = (batch_x if batch_x_miscs == [] else [batch_x] + batch_x_miscs,)
        if self.y is None:
            return output[0]
        output += (self.y[index_array],)
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output
