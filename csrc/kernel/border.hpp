// Border handling with scipy.ndimage's semantics (ni_interpolation.c), for the
// four fill modes Keras exposes. Coordinates are doubles in index space.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernel/types.hpp"

namespace pyimgaug {
namespace border {

// Every function here is `static`: each translation unit keeps its own copy, so a
// copy compiled for AVX2 (warp_avx2.cpp, spline_avx2.cpp) can never be merged by
// the linker with, and called from, the baseline code.

// Coordinates beyond this are meaningless for any real image and are clamped
// first, so no later integer conversion can overflow (NaN goes to -kCoordLimit).
constexpr double kCoordLimit = 1099511627776.0;  // 2^40

static inline double clamp_coordinate(double cc) {
    if (!(cc >= -kCoordLimit)) return -kCoordLimit;
    if (!(cc <= kCoordLimit)) return kCoordLimit;
    return cc;
}

// Extension modes used internally; Mirror is scipy's whole-sample symmetric
// extension, used to place the zero-weight taps of points on the border.
enum class Ext { Constant, Nearest, Reflect, Wrap, Mirror };

static inline Ext ext_of(FillMode m) {
    switch (m) {
        case FillMode::Constant: return Ext::Constant;
        case FillMode::Nearest: return Ext::Nearest;
        case FillMode::Reflect: return Ext::Reflect;
        case FillMode::Wrap: return Ext::Wrap;
    }
    return Ext::Constant;
}

// scipy maps out-of-range spline taps with mirror for constant and wrap, and
// with the mode itself otherwise.
static inline Ext tap_ext_of(FillMode m) {
    switch (m) {
        case FillMode::Constant:
        case FillMode::Wrap: return Ext::Mirror;
        case FillMode::Nearest: return Ext::Nearest;
        case FillMode::Reflect: return Ext::Reflect;
    }
    return Ext::Mirror;
}

// Maps a coordinate outside [0, len-1] back inside, as scipy's map_coordinate
// does; Constant returns -1 to mean "use cval". `in` must be clamped already.
static inline double map_coordinate(double in, std::int64_t len, Ext mode) {
    if (in < 0) {
        switch (mode) {
            case Ext::Mirror:
                if (len <= 1) return 0;
                {
                    const std::int64_t sz2 = 2 * len - 2;
                    in = static_cast<double>(sz2 * static_cast<std::int64_t>(-in / static_cast<double>(sz2))) + in;
                    return in <= static_cast<double>(1 - len) ? in + static_cast<double>(sz2) : -in;
                }
            case Ext::Reflect:
                if (len <= 1) return 0;
                {
                    const std::int64_t sz2 = 2 * len;
                    if (in < static_cast<double>(-sz2))
                        in = static_cast<double>(sz2 * static_cast<std::int64_t>(-in / static_cast<double>(sz2))) + in;
                    // scipy keeps (-in - 1) away from exactly -1.
                    return in < static_cast<double>(-len) ? in + static_cast<double>(sz2)
                                                          : (in > -1e-15 ? 1e-15 : -in) - 1;
                }
            case Ext::Wrap:
                if (len <= 1) return 0;
                {
                    const std::int64_t sz = len - 1;  // scipy's legacy wrap: period len - 1
                    return in + static_cast<double>(sz * (static_cast<std::int64_t>(-in / static_cast<double>(sz)) + 1));
                }
            case Ext::Nearest: return 0;
            case Ext::Constant: return -1;
        }
    } else if (in > static_cast<double>(len - 1)) {
        switch (mode) {
            case Ext::Mirror:
                if (len <= 1) return 0;
                {
                    const std::int64_t sz2 = 2 * len - 2;
                    in -= static_cast<double>(sz2 * static_cast<std::int64_t>(in / static_cast<double>(sz2)));
                    if (in >= static_cast<double>(len)) in = static_cast<double>(sz2) - in;
                    return in;
                }
            case Ext::Reflect:
                if (len <= 1) return 0;
                {
                    const std::int64_t sz2 = 2 * len;
                    in -= static_cast<double>(sz2 * static_cast<std::int64_t>(in / static_cast<double>(sz2)));
                    if (in >= static_cast<double>(len)) in = static_cast<double>(sz2) - in - 1;
                    return in;
                }
            case Ext::Wrap:
                if (len <= 1) return 0;
                {
                    const std::int64_t sz = len - 1;
                    return in - static_cast<double>(sz * static_cast<std::int64_t>(in / static_cast<double>(sz)));
                }
            case Ext::Nearest: return static_cast<double>(len - 1);
            case Ext::Constant: return -1;
        }
    }
    return in;
}

// An index that the mapping above could still leave out of range by rounding is
// forced inside: the kernel never reads outside the image, whatever it is given.
static inline std::int64_t safe_index(std::int64_t idx, std::int64_t len) {
    return idx < 0 ? 0 : (idx >= len ? len - 1 : idx);
}

// Taps and weights of one axis for a sample at coordinate `cc`.
// Returns false when the sample lies in the constant (cval) region.
template <int ORDER>
static inline bool axis_taps(double cc, std::int64_t len, FillMode mode, std::int64_t taps[2], double weights[2]) {
    cc = clamp_coordinate(cc);
    if (mode != FillMode::Nearest) {
        cc = map_coordinate(cc, len, ext_of(mode));
        if (!(cc > -1.0)) return false;
    }
    const double fl = std::floor(ORDER == 1 ? cc : cc + 0.5);
    const std::int64_t start = static_cast<std::int64_t>(fl);
    const Ext tap_ext = tap_ext_of(mode);
    for (int l = 0; l <= ORDER; ++l) {
        std::int64_t idx = start + l;
        if (idx < 0 || idx >= len)
            idx = static_cast<std::int64_t>(map_coordinate(static_cast<double>(idx), len, tap_ext));
        taps[l] = safe_index(idx, len);
    }
    if (ORDER == 1) {
        const double t = cc - fl;
        weights[0] = 1.0 - t;
        weights[1] = 1.0 - weights[0];
    } else {
        weights[0] = 1.0;
    }
    return true;
}

}  // namespace border
}  // namespace pyimgaug
