// Hot loops of the Pillow-compatible resize. Included by resize.cpp (baseline
// ISA) and resize_avx2.cpp (-mavx2), each inside its own namespace PYIMGAUG_ISA.
// Raw pointers only: no inline library code may be shared between the two copies.
#include <cstdint>
#include <cstring>

#include "kernel/coeffs.hpp"

#ifdef __AVX2__
#include <immintrin.h>
#endif

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


#ifdef __AVX2__
// Rounds, shifts and saturates four 32-bit sums to bytes, as Pillow's clip8.
static inline std::uint32_t clip8x4(__m128i sums) {
    const __m128i v = _mm_srai_epi32(_mm_add_epi32(sums, _mm_set1_epi32(1 << (kPrecisionBits - 1))), kPrecisionBits);
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(_mm_packs_epi32(v, v), v)));
}

// Sums of the 8 lanes of a, b and c, returned as lanes 0, 1, 2 (lane 3 is zero).
static inline __m128i hsum3(__m256i a, __m256i b, __m256i c) {
    const __m256i ab = _mm256_hadd_epi32(a, b);
    const __m256i cz = _mm256_hadd_epi32(c, _mm256_setzero_si256());
    const __m256i t = _mm256_hadd_epi32(ab, cz);
    return _mm_add_epi32(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

// AVX2 horizontal pass. Each group of 8 taps is split into one register per
// channel (byte shuffles), multiplied by the 8 tap weights and accumulated; the
// per-channel sums are reduced in registers. Integer arithmetic, so the result is
// bit-identical to Pillow's scalar loop. `w8` holds 8*groups weights per output.
static void horizontal_u8_avx2_c3(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                  std::int64_t in_width, const int* first, std::int64_t out_width,
                                  const std::int32_t* w8, int groups, std::uint8_t* rowbuf, std::uint8_t* dst) {
    const __m128i r_lo = _mm_setr_epi8(0, 3, 6, 9, 12, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i r_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, 2, 5, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_lo = _mm_setr_epi8(1, 4, 7, 10, 13, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i g_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 0, 3, 6, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_lo = _mm_setr_epi8(2, 5, 8, 11, 14, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    const __m128i b_hi = _mm_setr_epi8(-1, -1, -1, -1, -1, 1, 4, 7, -1, -1, -1, -1, -1, -1, -1, -1);
    for (std::int64_t r = 0; r < rows; ++r) {
        std::memcpy(rowbuf, src + r * src_stride, static_cast<std::size_t>(in_width * 3));
        std::uint8_t* out = dst + r * out_width * 3;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const std::uint8_t* p = rowbuf + static_cast<std::int64_t>(first[xx]) * 3;
            const std::int32_t* w = w8 + xx * groups * 8;
            __m256i ar = _mm256_setzero_si256(), ag = ar, ab = ar;
            for (int g = 0; g < groups; ++g, p += 24, w += 8) {
                const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
                const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + 16));
                const __m256i wv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
                const __m128i rb = _mm_or_si128(_mm_shuffle_epi8(lo, r_lo), _mm_shuffle_epi8(hi, r_hi));
                const __m128i gb = _mm_or_si128(_mm_shuffle_epi8(lo, g_lo), _mm_shuffle_epi8(hi, g_hi));
                const __m128i bb = _mm_or_si128(_mm_shuffle_epi8(lo, b_lo), _mm_shuffle_epi8(hi, b_hi));
                ar = _mm256_add_epi32(ar, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(rb), wv));
                ag = _mm256_add_epi32(ag, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(gb), wv));
                ab = _mm256_add_epi32(ab, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(bb), wv));
            }
            const std::uint32_t px = clip8x4(hsum3(ar, ag, ab));
            std::memcpy(out + xx * 3, &px, 3);
        }
    }
}

static void horizontal_u8_avx2_c1(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                  std::int64_t in_width, const int* first, std::int64_t out_width,
                                  const std::int32_t* w8, int groups, std::uint8_t* rowbuf, std::uint8_t* dst) {
    for (std::int64_t r = 0; r < rows; ++r) {
        std::memcpy(rowbuf, src + r * src_stride, static_cast<std::size_t>(in_width));
        std::uint8_t* out = dst + r * out_width;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const std::uint8_t* p = rowbuf + first[xx];
            const std::int32_t* w = w8 + xx * groups * 8;
            __m256i acc = _mm256_setzero_si256();
            for (int g = 0; g < groups; ++g, p += 8, w += 8)
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))),
                                                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
            const std::uint32_t px = clip8x4(hsum3(acc, acc, acc));
            out[xx] = static_cast<std::uint8_t>(px & 0xFF);
        }
    }
}

// Four channels: each register holds two pixels' RGBA, so folding the registers
// and the two halves leaves the four channel sums in place.
static void horizontal_u8_avx2_c4(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                  std::int64_t in_width, const int* first, std::int64_t out_width,
                                  const std::int32_t* wexp, int groups, std::uint8_t* rowbuf, std::uint8_t* dst) {
    for (std::int64_t r = 0; r < rows; ++r) {
        std::memcpy(rowbuf, src + r * src_stride, static_cast<std::size_t>(in_width * 4));
        std::uint8_t* out = dst + r * out_width * 4;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const std::uint8_t* p = rowbuf + static_cast<std::int64_t>(first[xx]) * 4;
            const std::int32_t* w = wexp + xx * groups * 32;
            __m256i acc = _mm256_setzero_si256();
            for (int g = 0; g < groups * 4; ++g, p += 8, w += 8)
                acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))),
                                                               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w))));
            const std::uint32_t px = clip8x4(_mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1)));
            std::memcpy(out + xx * 4, &px, 4);
        }
    }
}

// AVX2 vertical pass: 32 samples of an output row stay in four registers while
// every tap is added, so each input byte is loaded once per output row.
static void vertical_u8_avx2(const unsigned char* src, std::int64_t src_stride, std::int64_t samples,
                             const int* first, const int* count, const std::int32_t* k, int ksize,
                             std::int64_t out_height, std::int64_t first_row, std::uint8_t* dst) {
    const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
    const __m256i zero = _mm256_setzero_si256();
    const __m256i top = _mm256_set1_epi32(255);
    for (std::int64_t yy = 0; yy < out_height; ++yy) {
        const std::int64_t ymin = first[yy] - first_row;
        const int n = count[yy];
        const std::int32_t* wk = k + yy * ksize;
        const std::uint8_t* base = src + ymin * src_stride;
        std::uint8_t* out = dst + yy * samples;
        std::int64_t i = 0;
        for (; i + 32 <= samples; i += 32) {
            __m256i a0 = round, a1 = round, a2 = round, a3 = round;
            const std::uint8_t* row = base + i;
            for (int y = 0; y < n; ++y, row += src_stride) {
                const __m256i w = _mm256_set1_epi32(wk[y]);
                a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row))), w));
                a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 8))), w));
                a2 = _mm256_add_epi32(a2, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 16))), w));
                a3 = _mm256_add_epi32(a3, _mm256_mullo_epi32(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + 24))), w));
            }
            // Pillow's clip8: >> precision bits, saturated to 0..255 (shift is arithmetic).
            a0 = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(a0, kPrecisionBits), zero), top);
            a1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(a1, kPrecisionBits), zero), top);
            a2 = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(a2, kPrecisionBits), zero), top);
            a3 = _mm256_min_epi32(_mm256_max_epi32(_mm256_srai_epi32(a3, kPrecisionBits), zero), top);
            const __m256i p01 = _mm256_packs_epi32(a0, a1);  // lanes interleaved by 128-bit halves
            const __m256i p23 = _mm256_packs_epi32(a2, a3);
            __m256i bytes = _mm256_packus_epi16(p01, p23);
            bytes = _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), bytes);
        }
        for (; i < samples; ++i) {
            std::int32_t acc = 1 << (kPrecisionBits - 1);
            const std::uint8_t* row = base + i;
            for (int y = 0; y < n; ++y, row += src_stride) acc += static_cast<std::int32_t>(*row) * wk[y];
            out[i] = clip8_fixed(acc);
        }
    }
}
#endif

// Stores a double result the way Pillow does for each sample type. `byte_clip`
// selects Pillow 11.0-12.2's I;16 store, which clips the high and the low byte
// separately (CLIP8(v >> 8), CLIP8(v % 256)): a sum above 65535 becomes 0xFF00 plus
// its low byte. Later releases (and our other behaviours) saturate at 65535.
template <typename T>
static inline T store_sample(double v, bool byte_clip);
template <>
inline std::uint16_t store_sample<std::uint16_t>(double v, bool byte_clip) {
    // Pillow's ROUND_UP (half away from zero, then truncation); negatives become 0.
    if (!(v > 0.0)) return 0;
    if (v >= 65535.0) {
        if (!byte_clip || !(v < 1e15)) return 65535;
        const std::int64_t r = static_cast<std::int64_t>(v + 0.5);
        return static_cast<std::uint16_t>(r > 65535 ? (0xFF00 | (r & 0xFF)) : r);
    }
    return static_cast<std::uint16_t>(v + 0.5);
}
template <>
inline float store_sample<float>(double v, bool) {
    return static_cast<float>(v);
}

// Horizontal pass for 16-bit and float samples, double weights (Pillow's 32-bit path).
template <typename T>
static void horizontal_generic(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, int channels,
                               const int* first, const int* count, const double* k, int ksize,
                               std::int64_t out_width, bool byte_clip, T* dst) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* in = reinterpret_cast<const T*>(src + r * src_stride);
        T* out = dst + r * out_width * channels;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const double* w = k + xx * ksize;
            const T* p = in + static_cast<std::int64_t>(first[xx]) * channels;
            for (int c = 0; c < channels; ++c) {
                double ss = 0.0;
                for (int x = 0; x < count[xx]; ++x) ss += static_cast<double>(p[x * channels + c]) * w[x];
                out[xx * channels + c] = store_sample<T>(ss, byte_clip);
            }
        }
    }
}

template <typename T>
static void vertical_generic(const unsigned char* src, std::int64_t src_stride, std::int64_t samples,
                             const int* first, const int* count, const double* k, int ksize,
                             std::int64_t out_height, std::int64_t first_row, double* acc, bool byte_clip, T* dst) {
    for (std::int64_t yy = 0; yy < out_height; ++yy) {
        for (std::int64_t i = 0; i < samples; ++i) acc[i] = 0.0;
        const std::int64_t ymin = first[yy] - first_row;
        for (int y = 0; y < count[yy]; ++y) {
            const double w = k[yy * ksize + y];
            const T* row = reinterpret_cast<const T*>(src + (ymin + y) * src_stride);
            for (std::int64_t i = 0; i < samples; ++i) acc[i] += static_cast<double>(row[i]) * w;
        }
        T* out = dst + yy * samples;
        for (std::int64_t i = 0; i < samples; ++i) out[i] = store_sample<T>(acc[i], byte_clip);
    }
}

// Entry points used by the dispatcher in resize.cpp.
void horizontal_u8_dispatch(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                            std::int64_t in_width, int channels, const int* first, std::int64_t out_width,
                            const std::int32_t* wexp, const std::int32_t* w8, int groups, std::uint8_t* rowbuf,
                            std::uint8_t* dst) {
#ifdef __AVX2__
    (void)wexp;
    switch (channels) {
        case 1: horizontal_u8_avx2_c1(src, src_stride, rows, in_width, first, out_width, w8, groups, rowbuf, dst); break;
        case 3: horizontal_u8_avx2_c3(src, src_stride, rows, in_width, first, out_width, w8, groups, rowbuf, dst); break;
        case 4: horizontal_u8_avx2_c4(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        default: break;
    }
#else
    (void)w8;
    switch (channels) {
        case 1: horizontal_u8<1>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        case 3: horizontal_u8<3>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        case 4: horizontal_u8<4>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        default: break;
    }
#endif
}

void vertical_u8_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                       const int* count, const std::int32_t* k, int ksize, std::int64_t out_height,
                       std::int64_t first_row, std::int32_t* acc, std::uint8_t* dst) {
#ifdef __AVX2__
    (void)acc;
    vertical_u8_avx2(src, src_stride, samples, first, count, k, ksize, out_height, first_row, dst);
#else
    vertical_u8(src, src_stride, samples, first, count, k, ksize, out_height, first_row, acc, dst);
#endif
}

void horizontal_u16_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, int channels,
                          const int* first, const int* count, const double* k, int ksize, std::int64_t out_width,
                          bool byte_clip, std::uint16_t* dst) {
    horizontal_generic<std::uint16_t>(src, src_stride, rows, channels, first, count, k, ksize, out_width, byte_clip,
                                      dst);
}
void horizontal_f32_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, int channels,
                          const int* first, const int* count, const double* k, int ksize, std::int64_t out_width,
                          float* dst) {
    horizontal_generic<float>(src, src_stride, rows, channels, first, count, k, ksize, out_width, false, dst);
}
void vertical_u16_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                        const int* count, const double* k, int ksize, std::int64_t out_height,
                        std::int64_t first_row, double* acc, bool byte_clip, std::uint16_t* dst) {
    vertical_generic<std::uint16_t>(src, src_stride, samples, first, count, k, ksize, out_height, first_row, acc,
                                    byte_clip, dst);
}
void vertical_f32_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                        const int* count, const double* k, int ksize, std::int64_t out_height,
                        std::int64_t first_row, double* acc, float* dst) {
    vertical_generic<float>(src, src_stride, samples, first, count, k, ksize, out_height, first_row, acc, false, dst);
}

}  // namespace PYIMGAUG_ISA
}  // namespace pyimgaug
