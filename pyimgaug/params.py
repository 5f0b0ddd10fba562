"""Random augmentation parameters for a whole batch, as arrays.

Pure and seeded: the parameters of a batch are a function of
`(seed, epoch, batch_index)` only.  NumPy's global RNG is never used.

Each parameter has its own random stream, so enabling one augmentation
(say `brightness_range` on the image generator but not on the mask
generator) does not change the values drawn for the others.  The
distributions are those of `keras_preprocessing` 1.1.2's
`ImageDataGenerator.get_random_transform`; its random stream (NumPy's
global `np.random`) cannot be reproduced and is not.
"""
import numpy as np

# Stream numbers; never reorder (that would change every seeded run).
_THETA, _TX, _TY, _SHEAR, _ZOOM, _FLIP_H, _FLIP_V, _CHANNEL, _BRIGHT, _MISC = range(10)
_SHUFFLE_DOMAIN, _BATCH_DOMAIN, _SINGLE_DOMAIN = 0, 1, 2

PARAM_KEYS = (
    "theta",
    "tx",
    "ty",
    "shear",
    "zx",
    "zy",
    "flip_horizontal",
    "flip_vertical",
    "channel_shift_intensity",
    "brightness",
)


def normalize_seed(seed):
    """Maps an int seed to a non-negative int; `None` draws fresh OS entropy."""
    if seed is None:
        return int(np.random.SeedSequence().entropy)
    return int(seed) % (1 << 64)


def shuffle_permutation(seed, epoch, n):
    """The shuffled index order of `epoch` (a pure function of its inputs)."""
    rng = np.random.default_rng([normalize_seed(seed), _SHUFFLE_DOMAIN, int(epoch)])
    return rng.permutation(n)


def batch_key(seed, epoch, batch_index):
    """Entropy list that names one batch's random streams."""
    return [normalize_seed(seed), _BATCH_DOMAIN, int(epoch), int(batch_index) % (1 << 64)]


def _stream(key, k):
    return np.random.default_rng(list(key) + [k])


def misc_rng(key):
    """A generator for non-geometric randomness of a batch (e.g. file names)."""
    return _stream(key, _MISC)


def _is_int(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _sample_shift(rng, spec, n, size):
    """Shift values following Keras's rules for `width/height_shift_range`.

    - int k > 0: integers in `[-(k-1), k-1]` (`np.random.choice(k)` times a
      random sign);
    - 1-D array-like: an element, times a random sign;
    - float: uniform in `[-r, r)`;
    and in every case, if `max(spec) < 1` the value is a fraction of `size`.
    """
    if not _truthy(spec):
        return np.zeros(n)
    if _is_int(spec) and spec > 0:
        vals = rng.integers(0, int(spec), size=n).astype(np.float64)
        vals *= rng.choice(np.array([-1.0, 1.0]), size=n)
    elif isinstance(spec, (list, tuple, np.ndarray)) and np.ndim(spec) == 1 and len(spec) > 0:
        arr = np.asarray(spec, dtype=np.float64)
        vals = arr[rng.integers(0, len(arr), size=n)]
        vals = vals * rng.choice(np.array([-1.0, 1.0]), size=n)
    else:
        r = float(spec)
        vals = rng.uniform(-r, r, size=n)
    if np.max(spec) < 1:
        vals = vals * size
    return vals


def _truthy(spec):
    if isinstance(spec, np.ndarray):
        return spec.size > 0 and bool(np.any(spec))
    return bool(spec)


def sample_params(config, n, img_size, key):
    """Draws the transform parameters of `n` images.

    # Arguments
        config: an `ImageDataGenerator` (or any object with its attributes
            `rotation_range`, `width_shift_range`, `height_shift_range`,
            `shear_range`, `zoom_range` (a 2-list), `horizontal_flip`,
            `vertical_flip`, `channel_shift_range`, `brightness_range`).
        n: number of images.
        img_size: `(height, width)` of the images being transformed (the
            fractional shifts are fractions of these).
        key: entropy list from `batch_key` (or any list of non-negative ints).

    # Returns
        A dict of arrays of length `n` with the keys of `PARAM_KEYS`;
        `channel_shift_intensity` and `brightness` are `None` when their
        augmentation is off.
    """
    h, w = img_size
    out = {}
    if config.rotation_range:
        r = config.rotation_range
        out["theta"] = _stream(key, _THETA).uniform(-r, r, size=n)
    else:
        out["theta"] = np.zeros(n)
    out["tx"] = _sample_shift(_stream(key, _TX), config.height_shift_range, n, h)
    out["ty"] = _sample_shift(_stream(key, _TY), config.width_shift_range, n, w)
    if config.shear_range:
        s = config.shear_range
        out["shear"] = _stream(key, _SHEAR).uniform(-s, s, size=n)
    else:
        out["shear"] = np.zeros(n)
    lo, hi = config.zoom_range
    if lo == 1 and hi == 1:
        out["zx"] = np.ones(n)
        out["zy"] = np.ones(n)
    else:
        z = _stream(key, _ZOOM).uniform(lo, hi, size=(n, 2))
        out["zx"] = z[:, 0]
        out["zy"] = z[:, 1]
    out["flip_horizontal"] = (_stream(key, _FLIP_H).random(n) < 0.5) & bool(config.horizontal_flip)
    out["flip_vertical"] = (_stream(key, _FLIP_V).random(n) < 0.5) & bool(config.vertical_flip)
    if config.channel_shift_range != 0:
        c = config.channel_shift_range
        out["channel_shift_intensity"] = _stream(key, _CHANNEL).uniform(-c, c, size=n)
    else:
        out["channel_shift_intensity"] = None
    if config.brightness_range is not None:
        b0, b1 = config.brightness_range
        out["brightness"] = _stream(key, _BRIGHT).uniform(b0, b1, size=n)
    else:
        out["brightness"] = None
    return out


def params_from_dicts(dicts):
    """Stacks Keras transform dicts into batch arrays (Keras's defaults for missing keys)."""
    n = len(dicts)

    def col(name, default):
        return np.array([float(d.get(name, default)) for d in dicts], dtype=np.float64).reshape(n)

    out = {
        "theta": col("theta", 0),
        "tx": col("tx", 0),
        "ty": col("ty", 0),
        "shear": col("shear", 0),
        "zx": col("zx", 1),
        "zy": col("zy", 1),
        "flip_horizontal": np.array([bool(d.get("flip_horizontal", False)) for d in dicts], dtype=bool),
        "flip_vertical": np.array([bool(d.get("flip_vertical", False)) for d in dicts], dtype=bool),
    }
    for name in ("channel_shift_intensity", "brightness"):
        vals = [d.get(name) for d in dicts]
        if all(v is None for v in vals):
            out[name] = None
        else:
            out[name] = np.array([np.nan if v is None else float(v) for v in vals], dtype=np.float64)
    return out


def params_to_dict(params, i):
    """The Keras transform dict of image `i` of a batch of parameters."""
    d = {}
    for name in ("theta", "tx", "ty", "shear", "zx", "zy"):
        d[name] = float(params[name][i])
    d["flip_horizontal"] = int(bool(params["flip_horizontal"][i]))
    d["flip_vertical"] = int(bool(params["flip_vertical"][i]))
    for name in ("channel_shift_intensity", "brightness"):
        v = params[name]
        d[name] = None if v is None or np.isnan(v[i]) else float(v[i])
    return d
