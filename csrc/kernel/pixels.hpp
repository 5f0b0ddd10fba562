// Packing the pixels of a strided view (see ImageView::pixel_stride).
#pragma once
#include <cstddef>
#include <vector>

#include "kernel/types.hpp"

namespace pyimgaug {

// Whether the view's pixels are packed: `channels` samples of `sample` bytes each,
// one pixel right after the other.
inline bool pixels_packed(const ImageView& v, int channels, std::size_t sample) {
    return v.pixel_stride == static_cast<std::int64_t>(channels) * static_cast<std::int64_t>(sample);
}

// Copies `src`, each pixel's `channels` samples of `sample` bytes, packed into `buf`
// (resized to fit); returns a view of them. The loops that only read packed pixels
// read this.
ImageView pack_pixels(const ImageView& src, int channels, std::size_t sample, std::vector<unsigned char>& buf);

}  // namespace pyimgaug
