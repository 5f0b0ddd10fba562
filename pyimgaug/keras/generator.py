"""`ImageDataGenerator`: Keras's real-time image augmentation on a batch kernel."""
import warnings

import numpy as np

from . import checks as _checks
from ..pipeline import params as _params
from ..pipeline import prefetch as _prefetch
from ..pipeline.cache import make_cache
from ..pipeline.decode import check_decode
from ..errors import check_on_error
from ..pipeline.affine import (apply_affine_transform, apply_brightness_shift, apply_channel_shift,
                     check_warp_args, flip_axis, kernel_input)
from .iterators import DataFrameIterator, DirectoryIterator, NumpyArrayIterator
from ..pipeline.batch import augment_batch

__all__ = ["ImageDataGenerator"]


def _svd(a):
    """SVD as Keras computes it: scipy's, in the input's precision.

    NumPy's SVD computes float32 input in float64 and so gives other principal
    components; rather than differ silently, ZCA needs scipy, as in Keras.
    """
    try:
        from scipy import linalg
    except ImportError:
        raise ImportError('Using zca_whitening requires SciPy. Install SciPy.') from None
    return linalg.svd(a)


def _file_flow_options(on_error, batch_size, seed, workers, max_queue_size, decode, cache, cache_bytes):
    """Checks the file flows' options (before any listing) and builds the cache."""
    on_error = check_on_error(on_error)
    _checks.check_batch_size(batch_size)
    _checks.check_seed(seed)
    workers, max_queue_size = _prefetch.check_workers(workers, max_queue_size)
    return on_error, workers, max_queue_size, check_decode(decode), make_cache(cache, cache_bytes)


class ImageDataGenerator(object):
    """Generate batches of tensor image data with real-time data augmentation.

    A drop-in replacement for `keras_preprocessing.image.ImageDataGenerator`
    (1.1.2): same arguments, defaults and outputs.  Each batch is resized,
    warped and (where Keras's order allows) rescaled in one call of a
    multi-threaded C++ kernel.

    # Arguments
        featurewise_center: Boolean. Set input mean to 0 over the dataset,
            feature-wise.
        samplewise_center: Boolean. Set each sample mean to 0.
        featurewise_std_normalization: Boolean. Divide inputs by std of the
            dataset, feature-wise.
        samplewise_std_normalization: Boolean. Divide each input by its std.
        zca_whitening: Boolean. Apply ZCA whitening.
        zca_epsilon: epsilon for ZCA whitening. Default is 1e-6.
        rotation_range: Int. Degree range for random rotations.
        width_shift_range: Float, 1-D array-like or int
            - float: fraction of total width, if < 1, or pixels if >= 1.
            - 1-D array-like: random elements from the array, times a random
              sign.
            - int: integer number of pixels from interval
              `(-width_shift_range, +width_shift_range)`.
        height_shift_range: Float, 1-D array-like or int, as
            `width_shift_range` for the height.
        brightness_range: Tuple or list of two floats. Range for picking
            a brightness shift value from.
        shear_range: Float. Shear Intensity (shear angle in counter-clockwise
            direction in degrees).
        zoom_range: Float or [lower, upper]. Range for random zoom.
            If a float, `[lower, upper] = [1-zoom_range, 1+zoom_range]`.
        channel_shift_range: Float. Range for random channel shifts.
        fill_mode: One of {"constant", "nearest", "reflect" or "wrap"}.
            Default is 'nearest'.
        cval: Float or Int. Value used for points outside the boundaries
            when `fill_mode = "constant"`.
        horizontal_flip: Boolean. Randomly flip inputs horizontally.
        vertical_flip: Boolean. Randomly flip inputs vertically.
        rescale: rescaling factor. Defaults to None. If None or 0, no
            rescaling is applied, otherwise we multiply the data by the value
            provided (after applying all other transformations).
        preprocessing_function: function that will be applied on each input,
            after the image is resized and augmented. It takes one image
            (NumPy tensor with rank 3) and returns a tensor of the same shape.
        data_format: Image data format, either "channels_first" or
            "channels_last". Default: "channels_last".
        validation_split: Float. Fraction of images reserved for validation
            (strictly between 0 and 1).
        interpolation_order: int, order of the spline interpolation of the
            warp, 0 to 5, as in scipy.ndimage (0 nearest, 1 bilinear, 2-5
            B-splines with scipy's prefilter). Default: 1.
        dtype: Dtype to use for the generated arrays.
    """

    def __init__(self,
                 featurewise_center=False,
                 samplewise_center=False,
                 featurewise_std_normalization=False,
                 samplewise_std_normalization=False,
                 zca_whitening=False,
                 zca_epsilon=1e-6,
                 rotation_range=0,
                 width_shift_range=0.,
                 height_shift_range=0.,
                 brightness_range=None,
                 shear_range=0.,
                 zoom_range=0.,
                 channel_shift_range=0.,
                 fill_mode='nearest',
                 cval=0.,
                 horizontal_flip=False,
                 vertical_flip=False,
                 rescale=None,
                 preprocessing_function=None,
                 data_format='channels_last',
                 validation_split=0.0,
                 interpolation_order=1,
                 dtype='float32'):
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.zoom_range = zoom_range
        self.channel_shift_range = channel_shift_range
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype
        self.interpolation_order = interpolation_order

        if data_format not in {'channels_last', 'channels_first'}:
            raise ValueError(
                '`data_format` should be `"channels_last"` '
                '(channel after row and column) or '
                '`"channels_first"` (channel before row and column). '
                'Received: %s' % data_format)
        self.data_format = data_format
        if data_format == 'channels_first':
            self.channel_axis = 1
            self.row_axis = 2
            self.col_axis = 3
        if data_format == 'channels_last':
            self.channel_axis = 3
            self.row_axis = 1
            self.col_axis = 2
        if validation_split and not 0 < validation_split < 1:
            raise ValueError(
                '`validation_split` must be strictly between 0 and 1. '
                ' Received: %s' % validation_split)
        self._validation_split = validation_split

        self.mean = None
        self.std = None
        self.principal_components = None

        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif (len(zoom_range) == 2 and
              all(isinstance(val, (float, int)) for val in zoom_range)):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError('`zoom_range` should be a float or '
                             'a tuple or list of two floats. '
                             'Received: %s' % (zoom_range,))
        if zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn('This ImageDataGenerator specifies '
                              '`zca_whitening`, which overrides '
                              'setting of `featurewise_center`.')
            if featurewise_std_normalization:
                self.featurewise_std_normalization = False
                warnings.warn('This ImageDataGenerator specifies '
                              '`zca_whitening` '
                              'which overrides setting of'
                              '`featurewise_std_normalization`.')
        if featurewise_std_normalization:
            if not featurewise_center:
                self.featurewise_center = True
                warnings.warn('This ImageDataGenerator specifies '
                              '`featurewise_std_normalization`, '
                              'which overrides setting of '
                              '`featurewise_center`.')
        if samplewise_std_normalization:
            if not samplewise_center:
                self.samplewise_center = True
                warnings.warn('This ImageDataGenerator specifies '
                              '`samplewise_std_normalization`, '
                              'which overrides setting of '
                              '`samplewise_center`.')
        if brightness_range is not None:
            if (not isinstance(brightness_range, (tuple, list)) or
                    len(brightness_range) != 2):
                raise ValueError(
                    '`brightness_range should be tuple or list of two floats. '
                    'Received: %s' % (brightness_range,))
        self.brightness_range = brightness_range
        # The kernel warps with scipy's orders 0-5 and the four Keras fill
        # modes; fail here rather than on the first batch.
        check_warp_args(fill_mode, interpolation_order)
        self._check_values()

    def _check_values(self):
        """Values Keras accepts here and then misuses or fails on, on some batch."""
        for name in ('rotation_range', 'shear_range', 'channel_shift_range', 'cval',
                     'zca_epsilon'):
            _checks.check_real(getattr(self, name), name)
        _checks.check_shift_range(self.width_shift_range, 'width_shift_range')
        _checks.check_shift_range(self.height_shift_range, 'height_shift_range')
        _checks.check_pair_finite(self.zoom_range, 'zoom_range')
        if self.brightness_range is not None:
            _checks.check_pair_finite(self.brightness_range, 'brightness_range')
        _checks.check_rescale(self.rescale)
        _checks.check_preprocessing_function(self.preprocessing_function)
        _checks.check_dtype(self.dtype)

    # ------------------------------------------------------------------ flows

    def flow(self, x, y=None, batch_size=32, shuffle=True, sample_weight=None, seed=None,
             save_to_dir=None, save_prefix='', save_format='png', subset=None, *,
             workers=0, max_queue_size=10):
        """Takes data & label arrays, generates batches of augmented data.

        # Arguments
            x: Input data. Numpy array of rank 4 or a tuple. If tuple, the
                first element should contain the images and the second element
                another numpy array or a list of numpy arrays that gets passed
                to the output without any modifications.
            y: Labels.
            batch_size: Int (default: 32).
            shuffle: Boolean (default: True).
            sample_weight: Sample weights.
            seed: Int (default: None). With a seed, the shuffling and the
                random transforms of every batch are a function of
                `(seed, epoch, batch index)`.
            save_to_dir: None or str (default: None). Directory to save the
                augmented pictures being generated to.
            save_prefix: Str (default: `''`). Prefix of the saved pictures.
            save_format: one of "png", "jpeg" (default: "png").
            subset: Subset of data (`"training"` or `"validation"`) if
                `validation_split` is set in `ImageDataGenerator`.
            workers: Int (default: 0). Threads that build batches ahead for
                `next()`; 0 builds each batch when asked. The batches are the
                same for any number of workers.
            max_queue_size: Int (default: 10). Batches built or being built
                ahead of the consumer when `workers > 0`.

        # Returns
            A `NumpyArrayIterator` yielding tuples of `(x, y)` (or
            `(x, y, sample_weight)`, or only `x` when `y` is None).
        """
        _prefetch.check_workers(workers, max_queue_size)
        if save_to_dir:
            _checks.check_save_format(save_format)  # Keras: on the first batch
        it = NumpyArrayIterator(
            x, y, self,
            batch_size=batch_size, shuffle=shuffle, sample_weight=sample_weight, seed=seed,
            data_format=self.data_format, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, subset=subset, dtype=self.dtype)
        return _prefetch.attach(it, workers, max_queue_size)

    def flow_from_directory(self, directory, target_size=(256, 256), color_mode='rgb',
                            classes=None, class_mode='categorical', batch_size=32, shuffle=True,
                            seed=None, save_to_dir=None, save_prefix='', save_format='png',
                            follow_links=False, subset=None, interpolation='nearest', *,
                            decode='exact', cache=None, cache_bytes=None, workers=0,
                            max_queue_size=10, on_error='raise'):
        """Takes the path to a directory & generates batches of augmented data.

        # Arguments
            directory: string, path to the target directory. It should contain
                one subdirectory per class. Any PNG, JPG, BMP, PPM or TIF
                images inside each of the subdirectories' trees are included.
            target_size: Tuple of integers `(height, width)`,
                default: `(256, 256)`.
            color_mode: One of "grayscale", "rgb", "rgba". Default: "rgb".
            classes: Optional list of class subdirectories
                (e.g. `['dogs', 'cats']`). Default: None (all subdirectories,
                in sorted order).
            class_mode: One of "categorical", "binary", "sparse",
                "input", or None. Default: "categorical".
            batch_size: Size of the batches of data (default: 32).
            shuffle: Whether to shuffle the data (default: True).
            seed: Optional random seed for shuffling and transformations.
            save_to_dir: None or str (default: None).
            save_prefix: Str. Prefix to use for filenames of saved pictures.
            save_format: One of "png", "jpeg" (default: "png").
            follow_links: Whether to follow symlinks inside class
                subdirectories (default: False).
            subset: Subset of data (`"training"` or `"validation"`) if
                `validation_split` is set in `ImageDataGenerator`.
            interpolation: Interpolation method used to resample the image if
                the target size is different from that of the loaded image.
                One of "nearest", "bilinear", "bicubic", "lanczos", "box",
                "hamming". Default: "nearest".
            decode: "exact" (default: decoded at full size and resized as
                Keras does) or "fast" (JPEGs at least twice `target_size`
                decode at a reduced DCT scale first; close to, not equal to,
                the exact pixels).
            cache: None (default), "memory", or a directory path: keeps each
                file decoded and resized to `target_size`, so later epochs only
                warp. Batches are bit-identical with and without a cache.
            cache_bytes: bound of the cache: of the "memory" cache (default
                1 GiB) or of a directory's pack files (default: no bound);
                past it, new files are not kept (they are decoded every epoch).
            workers: threads that build batches ahead for `next()` (default 0).
            max_queue_size: batches built ahead when `workers > 0` (default 10).
            on_error: what a file that cannot be read does: "raise"
                (default, as Keras: the batch raises `BadImageError`, an
                `OSError` naming the file), "skip" (the batch comes back
                without it; see `iterator.skipped_files`) or "warn" (as
                "skip", with a `BadImageWarning` per file).

        # Returns
            A `DirectoryIterator` yielding tuples of `(x, y)`.
        """
        # Checked before the (possibly long) listing.
        on_error, workers, max_queue_size, decode, cache = _file_flow_options(
            on_error, batch_size, seed, workers, max_queue_size, decode, cache, cache_bytes)
        it = DirectoryIterator(
            directory, self,
            target_size=target_size, color_mode=color_mode, classes=classes,
            class_mode=class_mode, data_format=self.data_format, batch_size=batch_size,
            shuffle=shuffle, seed=seed, save_to_dir=save_to_dir, save_prefix=save_prefix,
            save_format=save_format, follow_links=follow_links, subset=subset,
            interpolation=interpolation, dtype=self.dtype)
        it.decode, it.cache = decode, cache
        it.on_error = on_error
        return _prefetch.attach(it, workers, max_queue_size)

    def flow_from_dataframe(self, dataframe, directory=None, x_col="filename", y_col="class",
                            weight_col=None, target_size=(256, 256), color_mode='rgb',
                            classes=None, class_mode='categorical', batch_size=32, shuffle=True,
                            seed=None, save_to_dir=None, save_prefix='', save_format='png',
                            subset=None, interpolation='nearest', validate_filenames=True, *,
                            decode='exact', cache=None, cache_bytes=None, workers=0,
                            max_queue_size=10, on_error='raise', **kwargs):
        """Takes a dataframe and the path to a directory and generates batches.

        Requires pandas (the `pandas` extra).

        # Arguments
            dataframe: Pandas dataframe containing the filepaths relative to
                `directory` (or absolute paths if `directory` is None) in the
                string column `x_col`, and the targets in `y_col` depending on
                `class_mode`.
            directory: string, path to the directory to read images from.
            x_col: string, column in `dataframe` that contains the filenames.
            y_col: string or list, column/s in `dataframe` with the targets.
            weight_col: string, column in `dataframe` that contains the sample
                weights. Default: `None`.
            target_size: tuple of integers `(height, width)`.
            color_mode: one of "grayscale", "rgb", "rgba". Default: "rgb".
            classes: optional list of classes to use. Default: all of `y_col`.
            class_mode: one of "binary", "categorical", "input",
                "multi_output", "raw", "sparse" or None.
            batch_size, shuffle, seed, save_to_dir, save_prefix, save_format,
            subset, interpolation: as in `flow_from_directory`.
            validate_filenames: Boolean, whether to validate image filenames in
                `x_col` (invalid ones are ignored). Default: `True`.
            decode, cache, cache_bytes, workers, max_queue_size, on_error: as
                in `flow_from_directory`.

        # Returns
            A `DataFrameIterator` yielding tuples of `(x, y)`.
        """
        if 'has_ext' in kwargs:
            warnings.warn('has_ext is deprecated, filenames in the dataframe have '
                          'to match the exact filenames in disk.', DeprecationWarning)
        if 'sort' in kwargs:
            warnings.warn('sort is deprecated, batches will be created in the'
                          'same order than the filenames provided if shuffle'
                          'is set to False.', DeprecationWarning)
        if class_mode == 'other':
            warnings.warn('`class_mode` "other" is deprecated, please use '
                          '`class_mode` "raw".', DeprecationWarning)
            class_mode = 'raw'
        if 'drop_duplicates' in kwargs:
            warnings.warn('drop_duplicates is deprecated, you can drop duplicates '
                          'by using the pandas.DataFrame.drop_duplicates method.',
                          DeprecationWarning)
        # Keras ignores any other keyword silently, so a misspelt option
        # (`on_eror="skip"`) would do nothing; refuse it as Python would.
        unknown = sorted(set(kwargs) - {'has_ext', 'sort', 'drop_duplicates'})
        if unknown:
            raise TypeError('flow_from_dataframe() got unexpected keyword argument(s): %s'
                            % ', '.join(unknown))
        on_error, workers, max_queue_size, decode, cache = _file_flow_options(
            on_error, batch_size, seed, workers, max_queue_size, decode, cache, cache_bytes)
        it = DataFrameIterator(
            dataframe, directory, self,
            x_col=x_col, y_col=y_col, weight_col=weight_col, target_size=target_size,
            color_mode=color_mode, classes=classes, class_mode=class_mode,
            data_format=self.data_format, batch_size=batch_size, shuffle=shuffle, seed=seed,
            save_to_dir=save_to_dir, save_prefix=save_prefix, save_format=save_format,
            subset=subset, interpolation=interpolation, dtype=self.dtype,
            validate_filenames=validate_filenames)
        it.decode, it.cache = decode, cache
        it.on_error = on_error
        return _prefetch.attach(it, workers, max_queue_size)

    # -------------------------------------------------------- normalization

    def _warn_unfit(self, what):
        warnings.warn('This ImageDataGenerator specifies '
                      '`%s`, but it hasn\'t '
                      'been fit on any training data. Fit it '
                      'first by calling `.fit(numpy_data)`.' % what)

    def _featurewise(self, x):
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                self._warn_unfit('featurewise_center')
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= (self.std + 1e-6)
            else:
                self._warn_unfit('featurewise_std_normalization')
        if self.zca_whitening:
            if self.principal_components is not None:
                flatx = np.reshape(x, (-1, np.prod(x.shape[-3:])))
                whitex = np.dot(flatx, self.principal_components)
                x = np.reshape(whitex, x.shape)
            else:
                self._warn_unfit('zca_whitening')
        return x

    def standardize(self, x):
        """Applies the normalization configuration in-place to a batch of inputs.

        Order: `preprocessing_function`, rescale, samplewise centering and
        std normalization, featurewise centering and std normalization, ZCA.
        As in Keras, the samplewise statistics are those of the whole array
        passed in (one image, or the whole batch if given a batch).

        `x` is changed in-place; call `standardize(np.copy(x))` to keep it.

        # Arguments
            x: Batch of inputs to be normalized.

        # Returns
            The inputs, normalized.
        """
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        return self._standardize_preprocessed(x)

    def _standardize_preprocessed(self, x):
        """`standardize` after `preprocessing_function`."""
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= (np.std(x, keepdims=True) + 1e-6)
        return self._featurewise(x)

    def _preprocess_one(self, img):
        """`preprocessing_function(img)`, checked to be an image of `img`'s shape."""
        out = self.preprocessing_function(img)
        if out is None or not (hasattr(out, '__array__') or isinstance(out, (list, tuple))):
            raise TypeError('`preprocessing_function` must return an image array; it returned %s.'
                            % (type(out).__name__,))
        if np.shape(out) != img.shape:
            raise ValueError('`preprocessing_function` must return an image of the shape it was '
                             'given, %s; it returned shape %s.' % (img.shape, np.shape(out)))
        return out

    def _standardize_batch(self, x, rescaled=False, out_dtype=None):
        """`standardize` of each image of a batch, as the iterators apply it.

        `rescaled=True` means the kernel already applied `rescale`.
        """
        if self.preprocessing_function:
            # User code takes one image at a time; Keras stores each result
            # into a batch of the generator's dtype.
            res = np.empty(x.shape, dtype=out_dtype or x.dtype)
            # A subclass's own `standardize` is called as Keras calls it.
            own = type(self).standardize is not ImageDataGenerator.standardize
            for i in range(len(x)):
                if own:
                    out = self.standardize(x[i])
                else:
                    out = self._standardize_preprocessed(self._preprocess_one(x[i]))
                if np.shape(out) != x[i].shape:
                    # Keras would broadcast a smaller result into the batch
                    # silently, or fail in NumPy without naming the function.
                    raise ValueError(
                        '`preprocessing_function` must return an image of the shape it was '
                        'given, %s; it returned shape %s.' % (x[i].shape, np.shape(out)))
                res[i] = out
            return res
        if self.rescale and not rescaled:
            x *= self.rescale
        axes = tuple(range(1, x.ndim))
        if self.samplewise_center:
            x -= np.mean(x, axis=axes, keepdims=True)
        if self.samplewise_std_normalization:
            x /= (np.std(x, axis=axes, keepdims=True) + 1e-6)
        return self._featurewise(x)

    # ----------------------------------------------------------- transforms

    def _img_hw(self, img_shape):
        return img_shape[self.row_axis - 1], img_shape[self.col_axis - 1]

    def get_random_transform(self, img_shape, seed=None):
        """Generates random parameters for a transformation.

        Uses its own random generator (seeded by `seed` when given); NumPy's
        global RNG is left alone.

        # Arguments
            img_shape: Tuple of integers. Shape of the image that is
                transformed.
            seed: Random seed.

        # Returns
            A dictionary containing randomly chosen parameters describing the
            transformation.
        """
        _checks.check_seed(seed)
        key = [_params.normalize_seed(seed), _params._SINGLE_DOMAIN]
        p = _params.sample_params(self, 1, self._img_hw(img_shape), key)
        return _params.params_to_dict(p, 0)

    def apply_transform(self, x, transform_parameters):
        """Applies a transformation to an image according to given parameters.

        # Arguments
            x: 3D tensor, single image.
            transform_parameters: Dictionary with string - parameter pairs
                describing the transformation. Used keys (missing ones mean
                "no change"): `'theta'` (rotation, degrees), `'tx'` (shift
                along rows), `'ty'` (shift along columns), `'shear'`
                (degrees), `'zx'` (zoom along rows), `'zy'` (zoom along
                columns), `'flip_horizontal'`, `'flip_vertical'`,
                `'channel_shift_intensity'`, `'brightness'`.

        # Returns
            A transformed version of the input (same shape).
        """
        img_row_axis = self.row_axis - 1
        img_col_axis = self.col_axis - 1
        img_channel_axis = self.channel_axis - 1
        p = transform_parameters
        x = apply_affine_transform(x, p.get('theta', 0), p.get('tx', 0), p.get('ty', 0),
                                   p.get('shear', 0), p.get('zx', 1), p.get('zy', 1),
                                   row_axis=img_row_axis, col_axis=img_col_axis,
                                   channel_axis=img_channel_axis, fill_mode=self.fill_mode,
                                   cval=self.cval, order=self.interpolation_order)
        if p.get('channel_shift_intensity') is not None:
            x = apply_channel_shift(x, p['channel_shift_intensity'], img_channel_axis)
        if p.get('flip_horizontal', False):
            x = flip_axis(x, img_col_axis)
        if p.get('flip_vertical', False):
            x = flip_axis(x, img_row_axis)
        if p.get('brightness') is not None:
            x = apply_brightness_shift(x, p['brightness'])
        return x

    def random_transform(self, x, seed=None):
        """Applies a random transformation to an image.

        # Arguments
            x: 3D tensor, single image.
            seed: Random seed.

        # Returns
            A randomly transformed version of the input (same shape).
        """
        params = self.get_random_transform(x.shape, seed)
        return self.apply_transform(x, params)

    def _transform_arrays(self, x, key):
        """Random transforms (no standardize) of a batch in `self.data_format`."""
        x = np.asarray(x)
        if self.data_format == 'channels_first':
            nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
        else:
            nhwc = np.ascontiguousarray(x)
        hw = nhwc.shape[1:3]
        p = _params.sample_params(self, len(x), hw, key)
        work = np.float32 if x.dtype == np.float32 else np.float64
        return augment_batch(self, kernel_input(nhwc), p, hw, data_format=self.data_format,
                             work_dtype=work, out_dtype=x.dtype if x.dtype.kind == 'f' else work,
                             standardize=False, warp_dtype=x.dtype)

    def fit(self, x, augment=False, rounds=1, seed=None):
        """Fits the data generator to some sample data.

        Computes the statistics needed by `featurewise_center`,
        `featurewise_std_normalization` and `zca_whitening`. When `rescale`
        is set, the sample data is rescaled before computing them.

        # Arguments
            x: Sample data. Should have rank 4 (1, 3 or 4 channels).
            augment: Boolean (default: False). Whether to fit on randomly
                augmented samples.
            rounds: Int (default: 1). If using data augmentation
                (`augment=True`), this is how many augmentation passes over
                the data to use.
            seed: Int (default: None). Random seed for the augmentation.
        """
        _checks.check_seed(seed)
        if augment:
            _checks.check_rounds(rounds)
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError('Input to `.fit()` should have rank 4. '
                             'Got array with shape: ' + str(x.shape))
        if x.shape[self.channel_axis] not in {1, 3, 4}:
            warnings.warn(
                'Expected input to be images (as Numpy array) '
                'following the data format convention "' +
                self.data_format + '" (channels on axis ' +
                str(self.channel_axis) + '), i.e. expected '
                'either 1, 3 or 4 channels on axis ' +
                str(self.channel_axis) + '. '
                'However, it was passed an array with shape ' +
                str(x.shape) + ' (' + str(x.shape[self.channel_axis]) +
                ' channels).')

        x = np.copy(x)
        if self.rescale:
            x *= self.rescale

        if augment:
            base = _params.normalize_seed(seed)
            ax = np.zeros(tuple([rounds * x.shape[0]] + list(x.shape)[1:]), dtype=self.dtype)
            for r in range(rounds):
                key = [base, _params._SINGLE_DOMAIN, 1, r]
                ax[r * x.shape[0]:(r + 1) * x.shape[0]] = self._transform_arrays(x, key)
            x = ax

        if self.featurewise_center:
            self.mean = np.mean(x, axis=(0, self.row_axis, self.col_axis))
            broadcast_shape = [1, 1, 1]
            broadcast_shape[self.channel_axis - 1] = x.shape[self.channel_axis]
            self.mean = np.reshape(self.mean, broadcast_shape)
            x -= self.mean

        if self.featurewise_std_normalization:
            self.std = np.std(x, axis=(0, self.row_axis, self.col_axis))
            broadcast_shape = [1, 1, 1]
            broadcast_shape[self.channel_axis - 1] = x.shape[self.channel_axis]
            self.std = np.reshape(self.std, broadcast_shape)
            x /= (self.std + 1e-6)

        if self.zca_whitening:
            flat_x = np.reshape(x, (x.shape[0], x.shape[1] * x.shape[2] * x.shape[3]))
            sigma = np.dot(flat_x.T, flat_x) / flat_x.shape[0]
            u, s, _ = _svd(sigma)
            s_inv = 1. / np.sqrt(s[np.newaxis] + self.zca_epsilon)
            self.principal_components = (u * s_inv).dot(u.T)
