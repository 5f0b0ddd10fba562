#include "kernel/pixels.hpp"

#include <cstdint>
#include <cstring>

namespace pyimgaug {
namespace {

// The RGB of RGBX rows (a decoder's 4-byte pixels), four pixels a step. The
// last pixel's fourth byte is never read: the view need not include it.
void rgb_of_rgbx(const unsigned char* in, std::int64_t width, unsigned char* out) {
    std::int64_t x = 0;
    for (; x + 4 <= width; x += 4, in += 16, out += 12) {
        const unsigned char packed[12] = {in[0], in[1], in[2],  in[4],  in[5],  in[6],
                                          in[8], in[9], in[10], in[12], in[13], in[14]};
        std::memcpy(out, packed, 12);
    }
    for (; x < width; ++x, in += 4, out += 3) {
        out[0] = in[0];
        out[1] = in[1];
        out[2] = in[2];
    }
}

}  // namespace

ImageView pack_pixels(const ImageView& src, int channels, std::size_t sample, std::vector<unsigned char>& buf) {
    const std::int64_t pixel = static_cast<std::int64_t>(channels) * static_cast<std::int64_t>(sample);
    const std::int64_t row_bytes = src.width * pixel;
    const std::int64_t rows = src.height;
    buf.resize(static_cast<std::size_t>(rows * row_bytes));
    for (std::int64_t y = 0; y < rows; ++y) {
        const unsigned char* in = src.data + y * src.row_stride;
        unsigned char* out = buf.data() + y * row_bytes;
        if (pixel == 3 && src.pixel_stride == 4) {
            rgb_of_rgbx(in, src.width, out);
            continue;
        }
        for (std::int64_t x = 0; x < src.width; ++x)
            std::memcpy(out + x * pixel, in + x * src.pixel_stride, static_cast<std::size_t>(pixel));
    }
    ImageView v;
    v.data = buf.data();
    v.height = rows;
    v.width = src.width;
    v.row_stride = row_bytes;
    v.pixel_stride = pixel;
    return v;
}

}  // namespace pyimgaug
