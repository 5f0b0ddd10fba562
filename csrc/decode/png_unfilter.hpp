// Reverses PNG's per-row filters (sub, up, average, Paeth) of an 8-bit image and
// writes its pixels with the channel count the caller asks for. The inflated
// stream comes from zlib; everything around it (chunks, checks) is Python's
// (pyimgaug/pipeline/png.py).
#pragma once

#include <cstdint>

namespace pyimgaug {

// `raw`: `height` rows of one filter-type byte then `width * in_channels` bytes
// (the inflated IDAT stream, exactly `height * (1 + width * in_channels)` bytes).
// `out`: height x width x out_channels bytes. Channel pairs: 1 -> 1, 3 or 4
// (gray copied to each colour; alpha 255), 3 -> 3 or 4 (alpha 255), 4 -> 3 (alpha
// dropped) or 4: Pillow's L/RGB/RGBA conversions, which are these copies.
// Returns false, with `out` partly written, when a row names an unknown filter.
bool png_unfilter(const std::uint8_t* raw, std::int64_t height, std::int64_t width, int in_channels,
                  int out_channels, std::uint8_t* out);

}  // namespace pyimgaug
