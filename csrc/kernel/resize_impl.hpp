// Hot loops of the Pillow-compatible resize. Included by resize.cpp (baseline
// ISA) and resize_avx2.cpp (-mavx2), each inside its own namespace PYIMGAUG_ISA.
// Raw pointers only: no inline library code may be shared between the two copies.
#include <cstdint>
#include <cstring>

#include "kernel/coeffs.hpp"

namespace pyimgaug {
namespace PYIMGAUG_ISA {

static inline std::uint8_t clip8_fixed(std::int32_t v) {
    if (v >= (1 << kPrecisionBits << 8)) return 255;
    if (v <= 0) return 0;
    return static_cast<std::uint8_t>(v >> kPrecisionBits);
}

// Horizontal pass, 8-bit, Pillow's fixed point. Taps are read in groups of 8 from a
// zero-padded copy of the row, with weights pre-expanded per channel, so the inner
// loop is a fixed-length multiply-add the compiler turns into vector code. Integer
// sums are exact, so the grouping cannot change the result.
template <int C>
static void horizontal_u8(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, std::int64_t in_width,
                          const int* first, std::int64_t out_width, const std::int32_t* wexp, int groups,
                          std::uint8_t* rowbuf, std::uint8_t* dst) {
    constexpr int L = 8 * C;
    for (std::int64_t r = 0; r < rows; ++r) {
        std::memcpy(rowbuf, src + r * src_stride, static_cast<std::size_t>(in_width * C));
        std::uint8_t* out = dst + r * out_width * C;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const std::uint8_t* p = rowbuf + static_cast<std::int64_t>(first[xx]) * C;
            const std::int32_t* w = wexp + xx * groups * L;
            std::int32_t acc[L];
            for (int j = 0; j < L; ++j) acc[j] = 0;
            for (int g = 0; g < groups; ++g) {
                for (int j = 0; j < L; ++j) acc[j] += static_cast<std::int32_t>(p[j]) * w[j];
                p += L;
                w += L;
            }
            std::int32_t sum[C];
            for (int c = 0; c < C; ++c) sum[c] = 1 << (kPrecisionBits - 1);
            for (int j = 0; j < L; ++j) sum[j % C] += acc[j];
            for (int c = 0; c < C; ++c) out[xx * C + c] = clip8_fixed(sum[c]);
        }
    }
}

// Vertical pass, 8-bit: every output row is a weighted sum of whole input rows,
// contiguous across the row, which vectorises directly.
static void vertical_u8(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                        const int* count, const std::int32_t* k, int ksize, std::int64_t out_height,
                        std::int64_t first_row, std::int32_t* acc, std::uint8_t* dst) {
    for (std::int64_t yy = 0; yy < out_height; ++yy) {
        for (std::int64_t i = 0; i < samples; ++i) acc[i] = 1 << (kPrecisionBits - 1);
        const std::int64_t ymin = first[yy] - first_row;
        for (int y = 0; y < count[yy]; ++y) {
            const std::int32_t w = k[yy * ksize + y];
            const std::uint8_t* row = src + (ymin + y) * src_stride;
            for (std::int64_t i = 0; i < samples; ++i) acc[i] += static_cast<std::int32_t>(row[i]) * w;
        }
        std::uint8_t* out = dst + yy * samples;
        for (std::int64_t i = 0; i < samples; ++i) out[i] = clip8_fixed(acc[i]);
    }
}

// Stores a double result the way Pillow does for each sample type.
template <typename T>
static inline T store_sample(double v);
template <>
inline std::uint16_t store_sample<std::uint16_t>(double v) {
    // Pillow's ROUND_UP, then clipped to the 16-bit range.
    if (!(v > 0.0)) return 0;
    if (v >= 65535.0) return 65535;
    return static_cast<std::uint16_t>(v + 0.5);
}
template <>
inline float store_sample<float>(double v) {
    return static_cast<float>(v);
}

// Horizontal pass for 16-bit and float samples, double weights (Pillow's 32-bit path).
template <typename T>
static void horizontal_generic(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, int channels,
                               const int* first, const int* count, const double* k, int ksize,
                               std::int64_t out_width, T* dst) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* in = reinterpret_cast<const T*>(src + r * src_stride);
        T* out = dst + r * out_width * channels;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const double* w = k + xx * ksize;
            const T* p = in + static_cast<std::int64_t>(first[xx]) * channels;
            for (int c = 0; c < channels; ++c) {
                double ss = 0.0;
                for (int x = 0; x < count[xx]; ++x) ss += static_cast<double>(p[x * channels + c]) * w[x];
                out[xx * channels + c] = store_sample<T>(ss);
            }
        }
    }
}

template <typename T>
static void vertical_generic(const unsigned char* src, std::int64_t src_stride, std::int64_t samples,
                             const int* first, const int* count, const double* k, int ksize,
                             std::int64_t out_height, std::int64_t first_row, double* acc, T* dst) {
    for (std::int64_t yy = 0; yy < out_height; ++yy) {
        for (std::int64_t i = 0; i < samples; ++i) acc[i] = 0.0;
        const std::int64_t ymin = first[yy] - first_row;
        for (int y = 0; y < count[yy]; ++y) {
            const double w = k[yy * ksize + y];
            const T* row = reinterpret_cast<const T*>(src + (ymin + y) * src_stride);
            for (std::int64_t i = 0; i < samples; ++i) acc[i] += static_cast<double>(row[i]) * w;
        }
        T* out = dst + yy * samples;
        for (std::int64_t i = 0; i < samples; ++i) out[i] = store_sample<T>(acc[i]);
    }
}

// Entry points used by the dispatcher in resize.cpp.
void horizontal_u8_dispatch(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                            std::int64_t in_width, int channels, const int* first, std::int64_t out_width,
                            const std::int32_t* wexp, int groups, std::uint8_t* rowbuf, std::uint8_t* dst) {
    switch (channels) {
        case 1: horizontal_u8<1>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        case 2: horizontal_u8<2>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        case 3: horizontal_u8<3>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        case 4: horizontal_u8<4>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        default: break;
    }
}

void vertical_u8_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                       const int* count, const std::int32_t* k, int ksize, std::int64_t out_height,
                       std::int64_t first_row, std::int32_t* acc, std::uint8_t* dst) {
    vertical_u8(src, src_stride, samples, first, count, k, ksize, out_height, first_row, acc, dst);
}

void horizontal_u16_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, int channels,
                          const int* first, const int* count, const double* k, int ksize, std::int64_t out_width,
                          std::uint16_t* dst) {
    horizontal_generic<std::uint16_t>(src, src_stride, rows, channels, first, count, k, ksize, out_width, dst);
}
void horizontal_f32_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, int channels,
                          const int* first, const int* count, const double* k, int ksize, std::int64_t out_width,
                          float* dst) {
    horizontal_generic<float>(src, src_stride, rows, channels, first, count, k, ksize, out_width, dst);
}
void vertical_u16_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                        const int* count, const double* k, int ksize, std::int64_t out_height,
                        std::int64_t first_row, double* acc, std::uint16_t* dst) {
    vertical_generic<std::uint16_t>(src, src_stride, samples, first, count, k, ksize, out_height, first_row, acc, dst);
}
void vertical_f32_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                        const int* count, const double* k, int ksize, std::int64_t out_height,
                        std::int64_t first_row, double* acc, float* dst) {
    vertical_generic<float>(src, src_stride, samples, first, count, k, ksize, out_height, first_row, acc, dst);
}

}  // namespace PYIMGAUG_ISA
}  // namespace pyimgaug
