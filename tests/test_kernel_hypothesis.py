"""Property-based differential test of the whole ``pyimgaug.transform_batch``
pipeline (resize -> warp -> scale/offset/cast) against the slow reference
(Pillow per channel, then scipy per channel in float64, then the cast), on
random dtypes, channel counts, sizes (1 pixel upwards, odd, non-square),
matrices (random affine, exact integer/half-integer shifts, rot90s), orders,
fill modes, cvals, scales, offsets and output dtypes.

Tolerances are the same as in test_kernel_warp.py (order 1: 0.01 on a 0..255
scale; order 0: the same source pixel, up to float32 rounding of the rescale;
uint8 output exact except +-1 next to x.5 ties; pixels within 1e-9 of a tie or
border discontinuity and not computed exactly are excluded), plus one unit of
the integer input type (x |scale|) when a resize precedes the warp: the issue's
+-1 resize bound (test_kernel_resize.py checks the resize is exact).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

pytest.importorskip("scipy.ndimage", reason="the warp reference is scipy.ndimage.affine_transform")
pytest.importorskip("PIL.Image", reason="the resize reference is Pillow")
hypothesis = pytest.importorskip("hypothesis", reason="property-based tests need hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pyimgaug  # noqa: E402

import kernel_reference as kr  # noqa: E402

# mostly small (1-pixel, odd, non-square), sometimes wide enough for the
# vectorised interior spans and their remainders
side = st.one_of(st.integers(1, 24), st.integers(1, 24), st.integers(25, 90))
sizes = st.tuples(side, side)


@st.composite
def matrices(draw, in_hw, out_hw):
    kind = draw(st.sampled_from(["affine", "shift", "halfshift", "rot90", "stretch"]))
    if kind == "affine":
        return kr.centered_affine(
            in_hw,
            out_hw,
            angle=draw(st.floats(-math.pi, math.pi)),
            shear=draw(st.floats(-0.5, 0.5)),
            zoom=(draw(st.floats(0.25, 3.0)), draw(st.floats(0.25, 3.0))),
            shift=(draw(st.floats(-1.5, 1.5)) * in_hw[0], draw(st.floats(-1.5, 1.5)) * in_hw[1]),
            flip=(draw(st.booleans()), draw(st.booleans())),
        )
    if kind in ("shift", "halfshift"):
        m = kr.integer_shift(draw(st.integers(-30, 30)), draw(st.integers(-30, 30)))
        if kind == "halfshift":
            m[0, 2] += draw(st.sampled_from([-0.5, 0.0, 0.5]))
            m[1, 2] += draw(st.sampled_from([-0.5, 0.5]))
        return m
    if kind == "rot90":
        return kr.rot90_matrix(draw(st.integers(0, 3)), in_hw)[0]
    return kr.corner_stretch(in_hw, out_hw)


@st.composite
def cases(draw):
    dtype = draw(st.sampled_from(kr.IN_DTYPES))
    channels = draw(st.sampled_from([1, 3, 4]))
    n = draw(st.integers(1, 3))
    same_size = draw(st.booleans())
    in_sizes = [draw(sizes)] * n if same_size else [draw(sizes) for _ in range(n)]
    resize_to = draw(st.one_of(st.none(), sizes)) if same_size else draw(sizes)
    warp = draw(st.booleans()) or (resize_to is None and not same_size)
    stage1 = [resize_to or hw for hw in in_sizes]
    out_hw = draw(sizes) if warp else stage1[0]
    mats = np.stack([draw(matrices(hw, out_hw)) for hw in stage1]) if warp else None
    rng_ = kr.DATA_RANGE[np.dtype(dtype)]
    return dict(
        dtype=dtype,
        channels=channels,
        in_sizes=in_sizes,
        resize_to=resize_to,
        resample=draw(st.sampled_from(kr.RESAMPLE_FILTERS)),
        matrices=mats,
        output_size=out_hw if warp else None,
        order=draw(st.sampled_from([0, 1])),
        fill_mode=draw(st.sampled_from(kr.FILL_MODES)),
        cval=draw(st.floats(-0.5, 1.5)) * rng_,
        scale=draw(st.sampled_from([1.0, 1.0 / rng_, 255.0 / rng_, -2.0 / rng_, 0.7])),
        offset=draw(st.sampled_from([0.0, -0.5, 3.25])),
        out_dtype=draw(st.sampled_from(kr.OUT_DTYPES)),
        two_by_three=draw(st.booleans()),
        seed=draw(st.integers(0, 2**32 - 1)),
        as_list=(not same_size) or draw(st.booleans()),
    )


# More examples on demand: PYIMGAUG_HYPOTHESIS_EXAMPLES=5000 pytest tests/test_kernel_hypothesis.py
MAX_EXAMPLES = int(os.environ.get("PYIMGAUG_HYPOTHESIS_EXAMPLES", "150"))


@settings(deadline=None, max_examples=MAX_EXAMPLES, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=cases())
def test_pipeline_matches_reference(case):
    rng = np.random.default_rng(case["seed"])
    images = [kr.random_image(rng, hw + (case["channels"],), case["dtype"]) for hw in case["in_sizes"]]
    mats = case["matrices"]
    passed_mats = None if mats is None else (mats[:, :2] if case["two_by_three"] else mats)
    batch = images if case["as_list"] else np.stack(images)
    got = pyimgaug.transform_batch(
        batch,
        passed_mats,
        output_size=case["output_size"],
        resize_to=case["resize_to"],
        resample=case["resample"],
        order=case["order"],
        fill_mode=case["fill_mode"],
        cval=case["cval"],
        scale=case["scale"],
        offset=case["offset"],
        dtype=case["out_dtype"],
    )
    in_dtype = np.dtype(case["dtype"])
    scale = case["scale"]
    # tolerances (see the module docstring)
    if mats is not None and case["order"] == 1:
        float_tol = kr.order1_tolerance(in_dtype, scale)
    elif scale == 1.0 and case["offset"] == 0.0:
        float_tol = 0.0
    else:
        float_tol = 4 * np.finfo(np.float32).eps * (abs(scale) * kr.DATA_RANGE[in_dtype] * 1.5 + abs(case["offset"]))
    if case["resize_to"] is not None:
        unit = 1.0 if in_dtype.kind == "u" else 1e-5 * 2.0  # float32: Pillow 'F' within 1e-5 (lanczos overshoot)
        float_tol += unit * abs(scale)
    tie_band = max(1e-6, float_tol)
    for i, img in enumerate(images):
        m = None if mats is None else mats[i]
        ref, src = kr.reference_transform(
            img, m, output_size=case["output_size"], resize_to=case["resize_to"], resample=case["resample"],
            order=case["order"], fill_mode=case["fill_mode"], cval=case["cval"], scale=scale, offset=case["offset"],
        )
        mask = None
        if m is not None:
            mask = kr.critical_mask(m, src.shape[:2], case["output_size"], case["order"], case["fill_mode"])
        kr.compare_image(got[i], ref, case["out_dtype"], float_tol=float_tol, tie_band=tie_band, exclude=mask,
                         label=f"image {i}")
