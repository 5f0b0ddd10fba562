"""Self-consistency of ``pyimgaug.transform_batch``: results do not depend on
the thread count (bit for bit), on batching, on the memory layout of the input,
or on whether ``out=`` is used; the inputs are never modified; ``out=`` is
written in place and a wrong ``out`` raises instead of being silently replaced.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import pyimgaug

import kernel_reference as kr

THREAD_COUNTS = sorted({1, 2, 3, 4, os.cpu_count() or 1})

CONFIGS = {
    "warp-order1-nearest": dict(order=1, fill_mode="nearest"),
    "warp-order0-constant": dict(order=0, fill_mode="constant", cval=9.0),
    "warp-order1-reflect-u8": dict(order=1, fill_mode="reflect", dtype="uint8", scale=1.3, offset=-7.0),
    "warp-order1-wrap-f64": dict(order=1, fill_mode="wrap", dtype="float64"),
    "resize-lanczos": dict(resize_to=(37, 29), resample="lanczos", matrices=False),
    "resize-bicubic-warp": dict(resize_to=(40, 50), resample="bicubic", order=1, fill_mode="reflect"),
    "resize-box-u8": dict(resize_to=(9, 61), resample="box", dtype="uint8", matrices=False),
}


def _call(images, config, rng_seed=0, **extra):
    cfg = dict(config)
    use_m = cfg.pop("matrices", True)
    hw = cfg.get("resize_to") or kr.as_hwc(images[0]).shape[:2]
    mats = None
    if use_m:
        rng = np.random.default_rng(rng_seed)
        mats = np.stack([kr.random_affine(rng, hw, (33, 45)) for _ in range(len(images))])
        cfg["output_size"] = (33, 45)
    cfg.update(extra)
    return pyimgaug.transform_batch(images, mats, **cfg)


def _images(dtype=np.uint8, n=9, hw=(48, 64), channels=3, seed=1):
    return kr.random_image(np.random.default_rng(seed), (n,) + hw + (channels,), dtype)


@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_thread_count_does_not_change_a_bit(name, dtype):
    for n in (1, 2, 9):
        images = _images(dtype, n=n)
        ref = _call(images, CONFIGS[name], num_threads=1)
        for t in THREAD_COUNTS[1:]:
            got = _call(images, CONFIGS[name], num_threads=t)
            assert got.dtype == ref.dtype
            assert got.tobytes() == ref.tobytes(), f"num_threads={t}, N={n} differs from num_threads=1"
        assert _call(images, CONFIGS[name]).tobytes() == ref.tobytes(), "num_threads=None differs"
        assert _call(images, CONFIGS[name], num_threads=1000).tobytes() == ref.tobytes(), "num_threads=1000 differs"


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_batch_equals_loop_of_single_calls(name):
    images = _images(n=6)
    batch = _call(images, CONFIGS[name], rng_seed=3)
    cfg = dict(CONFIGS[name])
    use_m = cfg.pop("matrices", True)
    rng = np.random.default_rng(3)
    hw = cfg.get("resize_to") or images.shape[1:3]
    mats = np.stack([kr.random_affine(rng, hw, (33, 45)) for _ in range(len(images))]) if use_m else None
    if use_m:
        cfg["output_size"] = (33, 45)
    for i in range(len(images)):
        single = pyimgaug.transform_batch(images[i:i + 1], None if mats is None else mats[i:i + 1], **cfg)
        assert single.tobytes() == batch[i:i + 1].tobytes(), f"image {i}"


@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
def test_list_of_different_sizes_equals_per_image_calls(dtype):
    rng = np.random.default_rng(4)
    sizes = [(37, 23), (1, 1), (5, 80), (64, 3), (12, 12), (100, 71)]
    images = [kr.random_image(rng, hw + (4,), dtype) for hw in sizes]
    before = [a.copy() for a in images]
    # warp only: each matrix is built for its own image size
    mats = np.stack([kr.random_affine(rng, hw, (20, 30)) for hw in sizes])
    for kwargs in (
        dict(matrices=mats, output_size=(20, 30), order=1, fill_mode="reflect"),
        dict(matrices=mats, output_size=(20, 30), order=0, fill_mode="constant", cval=0.25),
        dict(resize_to=(16, 9), resample="hamming"),
        dict(matrices=mats, resize_to=(21, 17), output_size=(20, 30), resample="bilinear"),
    ):
        kwargs = dict(kwargs)
        m = kwargs.pop("matrices", None)
        got = pyimgaug.transform_batch(images, m, **kwargs)
        for i, img in enumerate(images):
            single = pyimgaug.transform_batch([img], None if m is None else m[i:i + 1], **kwargs)
            assert single[0].tobytes() == got[i].tobytes(), f"image {i} {img.shape} with {sorted(kwargs)}"
    for a, b in zip(images, before):
        np.testing.assert_array_equal(a, b)


def test_list_matches_the_reference_per_image():
    """Differently sized float32 images warped into one size, against scipy."""
    pytest.importorskip("scipy.ndimage", reason="the warp reference is scipy.ndimage.affine_transform")
    rng = np.random.default_rng(6)
    sizes = [(9, 31), (31, 9), (1, 5), (17, 17)]
    images = [kr.random_image(rng, hw + (3,), np.float32) for hw in sizes]
    mats = np.stack([kr.random_affine(rng, hw, (11, 13)) for hw in sizes])
    got = pyimgaug.transform_batch(images, mats, output_size=(11, 13), order=1, fill_mode="wrap", dtype="float64")
    for i, (img, m) in enumerate(zip(images, mats)):
        ref, _ = kr.reference_transform(img, m, output_size=(11, 13), order=1, fill_mode="wrap")
        mask = kr.critical_mask(m, img.shape[:2], (11, 13), 1, "wrap")
        kr.compare_image(got[i], ref, "float64", float_tol=kr.order1_tolerance(np.float32, 1.0), exclude=mask,
                         label=f"image {i} {img.shape}")


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_inputs_are_not_modified(name):
    images = _images(n=3)
    before = images.copy()
    _call(images, CONFIGS[name])
    np.testing.assert_array_equal(images, before)
    cfg = dict(CONFIGS[name])
    if cfg.pop("matrices", True):
        mats = np.stack([kr.random_affine(np.random.default_rng(0), (48, 64), (48, 64)) for _ in range(3)])
        mats_before = mats.copy()
        pyimgaug.transform_batch(images, mats, **cfg)
        np.testing.assert_array_equal(mats, mats_before)


def _layouts(images):
    """Non-contiguous views of a batch with the same logical content."""
    big = np.zeros((images.shape[0] * 2, images.shape[1] + 5, images.shape[2] + 7, images.shape[3] + 1), images.dtype)
    big[::2, 2:-3, 3:-4, :-1] = images
    yield "strided-slices", big[::2, 2:-3, 3:-4, :-1]
    flipped = np.ascontiguousarray(images[:, ::-1, ::-1])
    yield "negative-strides", flipped[:, ::-1, ::-1]
    yield "fortran-order", np.asfortranarray(images)
    t = np.ascontiguousarray(images.transpose(0, 2, 1, 3))
    yield "transposed-view", t.transpose(0, 2, 1, 3)
    yield "list-of-views", [big[2 * i, 2:-3, 3:-4, :-1] for i in range(images.shape[0])]
    ro = images.copy()
    ro.setflags(write=False)
    yield "read-only", ro


@pytest.mark.parametrize("dtype", kr.IN_DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_non_contiguous_inputs_equal_contiguous_copies(name, dtype):
    images = _images(dtype, n=3, hw=(21, 34))
    ref = _call(images, CONFIGS[name])
    for label, view in _layouts(images):
        np.testing.assert_array_equal(
            np.asarray(view) if not isinstance(view, list) else np.stack(view), images, err_msg=label
        )
        got = _call(view, CONFIGS[name])
        assert got.tobytes() == ref.tobytes(), f"{label} gives a different result"


@pytest.mark.parametrize("channels", [1, 3, 4], ids=lambda c: f"C{c}")
def test_channel_subset_views(channels):
    """A view taking some channels of a wider array has a pixel stride larger
    than the pixel: it must still be read correctly."""
    rng = np.random.default_rng(8)
    wide = kr.random_image(rng, (2, 13, 17, 4), np.uint8)
    view = wide[..., :channels] if channels < 4 else wide[..., ::-1]
    mats = np.stack([kr.random_affine(rng, (13, 17), (13, 17)) for _ in range(2)])
    got = pyimgaug.transform_batch(view, mats, order=1)
    ref = pyimgaug.transform_batch(np.ascontiguousarray(view), mats, order=1)
    assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("dtype", kr.OUT_DTYPES)
def test_out_is_written_and_returned(dtype):
    images = _images(n=3)
    expected = _call(images, CONFIGS["warp-order1-nearest"], dtype=dtype)
    out = np.full(expected.shape, 77, dtype=dtype)
    got = _call(images, CONFIGS["warp-order1-nearest"], dtype=dtype, out=out)
    assert got is out
    assert out.tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    "bad",
    ["shape", "batch", "channels", "dtype", "non-contiguous", "read-only", "not-an-array", "aliases-input"],
)
def test_wrong_out_raises_and_is_left_alone(bad):
    images = _images(n=3)
    shape = (3, 33, 45, 3)
    if bad == "shape":
        out = np.zeros((3, 45, 33, 3), np.float32)
    elif bad == "batch":
        out = np.zeros((2, 33, 45, 3), np.float32)
    elif bad == "channels":
        out = np.zeros((3, 33, 45, 4), np.float32)
    elif bad == "dtype":
        out = np.zeros(shape, np.float64)
    elif bad == "non-contiguous":
        out = np.zeros((3, 33, 90, 3), np.float32)[:, :, ::2]
    elif bad == "read-only":
        out = np.zeros(shape, np.float32)
        out.setflags(write=False)
    elif bad == "not-an-array":
        out = np.zeros(shape, np.float32).tolist()
    else:  # out is the input itself
        images = np.zeros(shape, np.float32)
        out = images
    snapshot = np.array(out, copy=True)
    with pytest.raises((ValueError, TypeError), match="out"):
        _call(images, CONFIGS["warp-order1-nearest"], out=out)
    np.testing.assert_array_equal(np.asarray(out), snapshot)


def _unaligned(shape, dtype):
    """A writable array of ``dtype`` whose data pointer is 1 byte off alignment."""
    dtype = np.dtype(dtype)
    buf = np.zeros(int(np.prod(shape)) * dtype.itemsize + 1, np.uint8)
    return np.ndarray(shape, dtype=dtype, buffer=buf, offset=1)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32], ids=["uint16", "float32"])
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_unaligned_input_and_out(name, dtype):
    """Arrays from byte buffers need not be aligned to their itemsize; the kernel
    must not assume they are (no aligned vector loads or stores on them)."""
    images = _images(dtype, n=3, hw=(37, 53))
    ref = _call(images, CONFIGS[name])
    u = _unaligned(images.shape, dtype)
    u[...] = images
    assert not u.flags.aligned
    assert _call(u, CONFIGS[name], num_threads=2).tobytes() == ref.tobytes()
    if ref.dtype.itemsize > 1:
        out = _unaligned(ref.shape, ref.dtype)
        try:
            got = _call(images, CONFIGS[name], out=out)
        except ValueError as e:  # refusing an unaligned out is acceptable; a wrong result is not
            assert "out" in str(e)
        else:
            assert got is out and out.tobytes() == ref.tobytes()


def test_concurrent_calls_from_python_threads():
    """The call releases the GIL: several Python threads calling at once (each
    with its own thread count and configuration) get exactly the sequential
    results -- no shared scratch or cached plans between calls."""
    from concurrent.futures import ThreadPoolExecutor

    jobs = []
    for k, name in enumerate(sorted(CONFIGS) * 3):
        images = _images(kr.IN_DTYPES[k % 3], n=5, seed=k)
        jobs.append((images, name, k, 1 + k % 3))
    expected = [_call(images, CONFIGS[name], rng_seed=k, num_threads=1).tobytes() for images, name, k, _ in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(_call, images, CONFIGS[name], k, num_threads=t) for images, name, k, t in jobs]
        got = [f.result(timeout=120).tobytes() for f in futures]
    for i, (g, e) in enumerate(zip(got, expected)):
        assert g == e, f"job {i} ({jobs[i][1]}) differs when run concurrently"


def _child_call(conn):
    try:
        images = _images(n=6)
        res = _call(images, CONFIGS["resize-bicubic-warp"], num_threads=2)
        conn.send(res.tobytes())
    except BaseException as e:  # pragma: no cover - reported to the parent
        conn.send(repr(e))
    finally:
        conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_after_parallel_use_does_not_hang():
    """After the parent has used its thread pool, a fork()ed child (e.g. a data
    loader worker) can still call the kernel with several threads and gets the
    same bytes, within a time limit."""
    import multiprocessing as mp
    import warnings

    images = _images(n=6)
    expected = _call(images, CONFIGS["resize-bicubic-warp"], num_threads=2).tobytes()
    ctx = mp.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # fork with threads alive
        proc = ctx.Process(target=_child_call, args=(child,))
        proc.start()
    child.close()
    try:
        assert parent.poll(60), "the forked child did not answer within 60 s (hang after fork?)"
        got = parent.recv()
    finally:
        proc.join(10)
        if proc.is_alive():
            proc.kill()
            proc.join()
    assert got == expected, got if isinstance(got, str) else "different bytes in the forked child"
    assert proc.exitcode == 0


@pytest.mark.parametrize("resample", ["nearest", "box", "bilinear", "hamming", "bicubic", "lanczos"])
@pytest.mark.parametrize("sizes", [((211, 227), (128, 128)), ((400, 550), (128, 128)), ((130, 300), (130, 64)),
                                   ((301, 128), (64, 128)), ((600, 100), (50, 90)), ((64, 64), (64, 64)),
                                   ((1, 9), (1, 4)), ((9, 1), (4, 1))], ids=str)
def test_rgb_of_rgbx_views_equal_packed_copies(resample, sizes):
    """The RGB of a decoder's RGBX pixels (a view whose pixels are 4 bytes apart) is
    read in place by the 8-bit horizontal-first loops and packed for the others:
    either way, the same bytes as a packed copy, for every pass order."""
    (h, w), (oh, ow) = sizes
    rgbx = np.random.default_rng(h * w).integers(0, 256, (h, w, 4), dtype=np.uint8)
    view = rgbx[..., :3]
    packed = np.ascontiguousarray(view)
    mats = kr.centered_affine((oh, ow), (oh, ow), angle=0.3, zoom=(1.1, 0.9), shift=(0.7, -0.4))[None]
    for m, dtype in ((None, "uint8"), (mats, "float32")):
        kwargs = dict(resize_to=(oh, ow), resample=resample, order=1, dtype=dtype)
        got = pyimgaug.transform_batch([view], m, **kwargs)
        assert got.tobytes() == pyimgaug.transform_batch([packed], m, **kwargs).tobytes()
    # Without a resize the warp reads a packed copy.
    rot = kr.centered_affine((h, w), (h, w), angle=0.3, zoom=(1.1, 0.9), shift=(0.7, -0.4))[None]
    got = pyimgaug.transform_batch([view], rot, order=1, dtype="float32")
    assert got.tobytes() == pyimgaug.transform_batch([packed], rot, order=1, dtype="float32").tobytes()
