// The spline prefilter of scipy.ndimage (spline_filter with a boundary mode):
// turns an image into the B-spline coefficients that orders 2-5 interpolate.
#pragma once
#include <cstdint>
#include <vector>

#include "kernel/types.hpp"

namespace pyimgaug {
namespace spline {

// scipy pads an image by 12 edge pixels on every side before filtering it for
// fill mode "nearest" (_prepad_for_spline_filter) and adds 12 to every
// coordinate; the other modes are filtered unpadded.
constexpr int kNearestPad = 12;
inline int prepad_of(FillMode mode) { return mode == FillMode::Nearest ? kNearestPad : 0; }

// Largest coefficient array the kernel allocates for one image (doubles); the
// Python layer refuses larger ones first, with a message.
constexpr std::int64_t kMaxCoefficients = std::int64_t(1) << 29;  // 4 GiB of doubles

// Rows, columns and number of doubles of the (prepadded) coefficient array of an
// h x w x channels image. Returns false when it exceeds kMaxCoefficients.
bool coefficient_shape(std::int64_t h, std::int64_t w, int channels, FillMode mode, std::int64_t& rows,
                       std::int64_t& cols, std::int64_t& count);

// The prefilter itself is a per-ISA loop, prefilter_entry (spline_entries.hpp,
// spline_filter_impl.hpp): it writes the coefficients of `src` (h x w x channels
// samples of a dtype) as rows x cols x channels doubles, interleaved as the image
// is, with scipy's prepadding and per-mode boundary conditions, filtering axis 0
// then axis 1 as scipy does. Axis 0 runs over strips of kFilterStrip parallel
// lines, axis 1 over blocks of kFilterBlock rows transposed into scratch.
constexpr std::int64_t kFilterStrip = 32;
constexpr std::int64_t kFilterBlock = 8;

// Doubles of scratch prefilter_entry needs.
inline std::int64_t filter_scratch_doubles(std::int64_t cols, int channels) {
    const std::int64_t block = kFilterBlock * channels;
    const std::int64_t tile = cols * block + block;
    return tile > kFilterStrip ? tile : kFilterStrip;
}

}  // namespace spline
}  // namespace pyimgaug
