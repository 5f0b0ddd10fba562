// Declarations of the per-ISA spline warp loop (defined in spline_impl.hpp).
#pragma once
#include <cstdint>

#include "kernel/types.hpp"

namespace pyimgaug {
// Per-row scratch of the spline loop for `n` output columns (enough for order 5):
// integers for the taps of both axes and an inside flag; doubles for the two
// weight coordinates and the weights of both axes.
inline std::int64_t spline_row_taps(std::int64_t n) { return n * (2 * 6 + 1); }
inline std::int64_t spline_row_doubles(std::int64_t n) { return n * (2 + 2 * 6); }
}  // namespace pyimgaug

#define PYIMGAUG_DECLARE_SPLINE_ENTRIES(ns)                                                                       \
    namespace pyimgaug {                                                                                          \
    namespace ns {                                                                                                \
    void spline_row_entry(const double*, std::int64_t, std::int64_t, int, int, int, const double*, std::int64_t, \
                          std::int64_t, FillMode, double, std::int64_t*, double*, double*);                       \
    void prefilter_entry(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, DType, int, int,        \
                         FillMode, double*, double*);                                                            \
    }                                                                                                             \
    }

PYIMGAUG_DECLARE_SPLINE_ENTRIES(baseline)
PYIMGAUG_DECLARE_SPLINE_ENTRIES(avx2)
