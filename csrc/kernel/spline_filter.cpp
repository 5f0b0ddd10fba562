#include "kernel/spline_filter.hpp"

namespace pyimgaug {
namespace spline {

bool coefficient_shape(std::int64_t h, std::int64_t w, int channels, FillMode mode, std::int64_t& rows,
                       std::int64_t& cols, std::int64_t& count) {
    const std::int64_t pad = prepad_of(mode);
    if (h < 1 || w < 1 || channels < 1 || h > kMaxCoefficients || w > kMaxCoefficients) return false;
    rows = h + 2 * pad;
    cols = w + 2 * pad;
    if (rows > kMaxCoefficients / cols || rows * cols > kMaxCoefficients / channels) return false;
    count = rows * cols * channels;
    return true;
}

}  // namespace spline
}  // namespace pyimgaug
