// Declarations of the per-ISA warp loops (defined in warp_impl.hpp).
#pragma once
#include <cstdint>

#include "kernel/types.hpp"

namespace pyimgaug {
// Scratch bytes warp_image_fast needs for the taps of one output row of `width`
// pixels (offset and two weights per pixel, a kind per group of 8; whole groups).
static inline std::int64_t warp_row_taps_bytes(std::int64_t width) {
    const std::int64_t padded = (width + 7) / 8 * 8;
    return padded * 12 + padded / 8;
}
}  // namespace pyimgaug

#define PYIMGAUG_DECLARE_WARP_ENTRIES(ns)                                                                       \
    namespace pyimgaug {                                                                                        \
    namespace ns {                                                                                              \
    void warp_row_entry(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, DType, int,            \
                        const double*, int, std::int64_t, std::int64_t, FillMode, double, double*);           \
    void store_row_entry(const double*, std::int64_t, double, double, DType, unsigned char*);                 \
    bool warp_image_fast(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, int, const double*,   \
                         int, FillMode, double, double, double, std::int64_t, std::int64_t, float*, double*,   \
                         unsigned char*);                                                                       \
    }                                                                                                           \
    }

PYIMGAUG_DECLARE_WARP_ENTRIES(baseline)
PYIMGAUG_DECLARE_WARP_ENTRIES(avx2)
