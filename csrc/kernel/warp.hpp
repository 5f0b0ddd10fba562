// Stage 2 and 3: inverse affine warp with scipy.ndimage's semantics, then
// value * scale + offset converted to the output dtype.
#pragma once
#include <cstdint>
#include <vector>

#include "kernel/types.hpp"

namespace pyimgaug {

struct WarpParams {
    const double* matrix = nullptr;  // row-major 2x3: output (row, col) -> input (row, col)
    int order = 1;
    FillMode mode = FillMode::Nearest;
    double cval = 0.0;
    double scale = 1.0, offset = 0.0;
    std::int64_t out_height = 0, out_width = 0;
    DType out_dtype = DType::F32;
};

struct WarpScratch {
    std::vector<double> row;           // one output row before conversion
    std::vector<unsigned char> taps;   // the taps of one output row (uint8 -> float32 path)
};

// Warps `src` into `dst` (out_height x out_width x channels of out_dtype, contiguous).
void warp_image(const ImageView& src, DType in_dtype, int channels, const WarpParams& p, WarpScratch& scratch,
                unsigned char* dst);

// No warp: converts `src` (same size as the output) with scale and offset.
void convert_image(const ImageView& src, DType in_dtype, int channels, const WarpParams& p, WarpScratch& scratch,
                   unsigned char* dst);

}  // namespace pyimgaug
