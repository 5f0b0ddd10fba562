// Stage 2 for interpolation orders 2-5: scipy.ndimage.affine_transform's
// B-spline warp (prefilter=True), on the stage-1 image.
#pragma once
#include <vector>

#include "kernel/types.hpp"
#include "kernel/warp.hpp"

namespace pyimgaug {

// Per-thread scratch; grows, never shrinks, within one call.
struct SplineScratch {
    std::vector<double> coeffs;  // the image's (prepadded) spline coefficients
    std::vector<double> lines;   // prefilter scratch
    std::vector<double> row;     // one output row before conversion
    std::vector<std::int64_t> taps;  // per-row taps of the spline loop
    std::vector<double> weights;     // per-row weights of the spline loop
};

// Prefilters `src` into coefficients, then warps them into `dst` (out_height x
// out_width x channels of out_dtype) with p.order in 2..5, then stage 3.
// Returns OutOfMemory when the coefficient array would be too large.
Status spline_warp_image(const ImageView& src, DType in_dtype, int channels, const WarpParams& p,
                         SplineScratch& scratch, unsigned char* dst);

}  // namespace pyimgaug
