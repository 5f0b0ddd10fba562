// B-spline interpolation weights and tap placement for orders 2-5, written as
// scipy.ndimage writes them (ni_splines.c, ni_interpolation.c) so that every
// weight is the same double scipy computes: same start rule for even and odd
// orders, same polynomial forms, same operation order, the last weight as
// 1 minus the others.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernel/border.hpp"
#include "kernel/types.hpp"

// The per-sample helpers below sit inside the per-row loops; inlining them is what
// lets the compiler vectorise those loops.
#if defined(__GNUC__) || defined(__clang__)
#define PYIMGAUG_SPLINE_INLINE static inline __attribute__((always_inline))
#else
#define PYIMGAUG_SPLINE_INLINE static inline
#endif

namespace pyimgaug {
namespace spline {

// First tap of a sample at `cc`: odd orders centre on floor(cc), even orders on
// the nearest integer (ties up), and the support reaches ORDER/2 taps left of it.
template <int ORDER>
PYIMGAUG_SPLINE_INLINE std::int64_t first_tap(double cc) {
    const double centre = std::floor((ORDER & 1) ? cc : cc + 0.5);
    return static_cast<std::int64_t>(centre) - ORDER / 2;
}

// The ORDER + 1 weights of a sample at `cc`, for the taps first_tap(cc) + 0..ORDER,
// stored at w[0], w[stride], ... (a stride lets a loop over many samples store
// them as a structure of arrays, which the compiler can vectorise).
template <int ORDER>
PYIMGAUG_SPLINE_INLINE void weights(double cc, double* w, std::int64_t stride = 1) {
    // x: distance from the middle knot; 0 <= x < 1 (odd), -0.5 < x <= 0.5 (even).
    const double x = cc - std::floor((ORDER & 1) ? cc : cc + 0.5);
    double y = x, z = 1.0 - x, t;
    double v0 = 0.0, v1 = 0.0, v2 = 0.0, v3 = 0.0, v4 = 0.0;
    switch (ORDER) {
        case 2:
            v1 = 0.75 - x * x;
            y = 0.5 - x;
            v0 = 0.5 * y * y;
            break;
        case 3:
            v1 = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
            v2 = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
            v0 = z * z * z / 6.0;
            break;
        case 4:
            t = x * x;
            v2 = t * (t * 0.25 - 0.625) + 115.0 / 192.0;
            y = 1.0 + x;
            v1 = y * (y * (y * (5.0 - y) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
            v3 = z * (z * (z * (5.0 - z) / 6.0 - 1.25) + 5.0 / 24.0) + 55.0 / 96.0;
            y = 0.5 - x;
            t = y * y;
            v0 = t * t / 24.0;
            break;
        case 5:
            t = y * y;
            v2 = t * (t * (0.25 - y / 12.0) - 0.5) + 0.55;
            t = z * z;
            v3 = t * (t * (0.25 - z / 12.0) - 0.5) + 0.55;
            y += 1.0;
            v1 = y * (y * (y * (y * (y / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
            z += 1.0;
            v4 = z * (z * (z * (z * (z / 24.0 - 0.375) + 1.25) - 1.75) + 0.625) + 0.425;
            y = 1.0 - x;
            t = y * y;
            v0 = y * t * t / 120.0;
            break;
        default:
            break;
    }
    // The weights add up to one; scipy takes the last as one minus the others,
    // subtracted in order.
    double last = 1.0 - v0;
    if (ORDER >= 2) last -= v1;
    if (ORDER >= 3) last -= v2;
    if (ORDER >= 4) last -= v3;
    if (ORDER >= 5) last -= v4;
    const double v[6] = {v0, v1, v2, v3, v4, 0.0};
    for (int k = 0; k < ORDER; ++k) w[k * stride] = v[k];
    w[ORDER * stride] = last;
}

// Taps of one axis for a source coordinate `coord` (indices into an axis of
// length `len`, times `step`: offsets into the coefficient array), and the
// coordinate the weights are computed from.
// `npad` is the prepadding of the coefficient array (12 for fill mode nearest,
// else 0). Returns false when the sample is in the constant (cval) region.
//
// As in scipy: nearest maps no coordinate (its prepadded, clamped taps do the
// work); the other modes map the coordinate into the image first, and constant
// gives cval outside [0, len-1]. Taps beyond the array are mapped with mirror
// (constant, wrap), reflect (reflect) or clamped (nearest), then forced inside.
template <int ORDER>
PYIMGAUG_SPLINE_INLINE bool axis_taps(double coord, std::int64_t len, int npad, FillMode mode, std::int64_t step,
                                      std::int64_t* taps, double& cc_out) {
    double cc = border::clamp_coordinate(coord + static_cast<double>(npad));
    if (mode != FillMode::Nearest) {
        cc = border::map_coordinate(cc, len, border::ext_of(mode));
        if (!(cc > -1.0)) return false;
    }
    const std::int64_t start = first_tap<ORDER>(cc);
    if (start < 0 || start + ORDER >= len) {
        const border::Ext tap_ext = border::tap_ext_of(mode);
        for (int l = 0; l <= ORDER; ++l) {
            const double idx = border::map_coordinate(static_cast<double>(start + l), len, tap_ext);
            taps[l] = border::safe_index(static_cast<std::int64_t>(idx), len) * step;
        }
    } else {
        for (int l = 0; l <= ORDER; ++l) taps[l] = (start + l) * step;
    }
    cc_out = cc;
    return true;
}

}  // namespace spline
}  // namespace pyimgaug
