// Declarations of the per-ISA warp loops (defined in warp_impl.hpp).
#pragma once
#include <cstdint>

#include "kernel/types.hpp"

#define PYIMGAUG_DECLARE_WARP_ENTRIES(ns)                                                                       \
    namespace pyimgaug {                                                                                        \
    namespace ns {                                                                                              \
    void warp_row_entry(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, DType, int,            \
                        const double*, int, std::int64_t, std::int64_t, FillMode, double, double*);           \
    void store_row_entry(const double*, std::int64_t, double, double, DType, unsigned char*);                 \
    bool warp_image_fast(const unsigned char*, std::int64_t, std::int64_t, std::int64_t, int, const double*,   \
                         int, FillMode, double, double, double, std::int64_t, std::int64_t, float*, double*); \
    }                                                                                                           \
    }

PYIMGAUG_DECLARE_WARP_ENTRIES(baseline)
PYIMGAUG_DECLARE_WARP_ENTRIES(avx2)
