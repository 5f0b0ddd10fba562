"""Property tests: random fixed transform dicts give the reference's output.

Tolerance: see test_generator_transform.py (float32 rounding of 0..255
values; ATOL = 1e-3 is far below one grey level).
"""
import numpy as np
import pytest

from pyimgaug import ImageDataGenerator

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis (test extra) is not installed")
from hypothesis import given, settings, strategies as st  # noqa: E402

ATOL = 1e-3

finite = dict(allow_nan=False, allow_infinity=False)
transform = st.fixed_dictionaries({}, optional={
    "theta": st.floats(-360, 360, **finite),
    "tx": st.floats(-20, 20, **finite),
    "ty": st.floats(-20, 20, **finite),
    "shear": st.floats(-60, 60, **finite),
    "zx": st.floats(0.3, 3, **finite),
    "zy": st.floats(0.3, 3, **finite),
    "flip_horizontal": st.booleans(),
    "flip_vertical": st.booleans(),
    "channel_shift_intensity": st.floats(-100, 100, **finite),
})


@settings(max_examples=150, deadline=None)
@given(params=transform,
       h=st.integers(1, 24), w=st.integers(1, 24), channels=st.sampled_from([1, 3, 4]),
       fill_mode=st.sampled_from(["nearest", "constant", "reflect", "wrap"]),
       order=st.sampled_from([0, 1]), seed=st.integers(0, 2 ** 16))
def test_apply_transform_matches_keras_for_any_dict(params, h, w, channels, fill_mode, order, seed):
    from keras_preprocessing import image as kimage
    x = (np.random.default_rng(seed).random((h, w, channels)) * 255).astype(np.float32)
    kw = dict(fill_mode=fill_mode, cval=11.0, interpolation_order=order)
    ours = ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    ref = kimage.ImageDataGenerator(**kw).apply_transform(x.copy(), params)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_allclose(ours, ref, rtol=0, atol=ATOL)
