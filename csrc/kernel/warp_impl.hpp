// Hot loops of the warp. Included by warp.cpp (baseline ISA) and warp_avx2.cpp
// (-mavx2 -mfma), each inside its own namespace PYIMGAUG_ISA (see isa.hpp).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernel/border.hpp"
#include "kernel/types.hpp"
#include "kernel/warp_entries.hpp"

#ifdef __AVX2__
#include <immintrin.h>
#endif

namespace pyimgaug {
namespace PYIMGAUG_ISA {

// Everything one row of output needs to know about the source image.
struct Source {
    const unsigned char* data;
    std::int64_t stride;  // bytes between rows
    std::int64_t height, width;
};

template <typename T>
static inline double sample_at(const Source& s, std::int64_t row, std::int64_t col, int channels, int c) {
    return static_cast<double>(reinterpret_cast<const T*>(s.data + row * s.stride)[col * channels + c]);
}

// One pixel through the general path: fill modes, borders, constant region.
// The arithmetic (taps, weights, summation order) is scipy's, in double.
template <typename T, int C, int ORDER>
static inline void sample_general(const Source& s, double yy, double xx, FillMode mode, double cval, double* out) {
    std::int64_t ty[2] = {0, 0}, tx[2] = {0, 0};
    double wy[2] = {1.0, 0.0}, wx[2] = {1.0, 0.0};
    if (!border::axis_taps<ORDER>(yy, s.height, mode, ty, wy) ||
        !border::axis_taps<ORDER>(xx, s.width, mode, tx, wx)) {
        for (int c = 0; c < C; ++c) out[c] = cval;
        return;
    }
    for (int c = 0; c < C; ++c) {
        if (ORDER == 0) {
            out[c] = sample_at<T>(s, ty[0], tx[0], C, c);
        } else {
            double t = 0.0;
            t += sample_at<T>(s, ty[0], tx[0], C, c) * wy[0] * wx[0];
            t += sample_at<T>(s, ty[0], tx[1], C, c) * wy[0] * wx[1];
            t += sample_at<T>(s, ty[1], tx[0], C, c) * wy[1] * wx[0];
            t += sample_at<T>(s, ty[1], tx[1], C, c) * wy[1] * wx[1];
            out[c] = t;
        }
    }
}

// One output row, values before scale/offset, in double.
// Source coordinates are formed exactly as scipy forms them: (shift + r*m0) + c*m1.
template <typename T, int C, int ORDER>
static void warp_row_scalar(const Source& s, const double* m, std::int64_t r, std::int64_t col_begin,
                            std::int64_t col_end, FillMode mode, double cval, double* row) {
    const double ry = m[2] + static_cast<double>(r) * m[0];
    const double rx = m[5] + static_cast<double>(r) * m[3];
    const double ylim = static_cast<double>(s.height - 1), xlim = static_cast<double>(s.width - 1);
    for (std::int64_t c = col_begin; c < col_end; ++c) {
        const double yy = ry + static_cast<double>(c) * m[1];
        const double xx = rx + static_cast<double>(c) * m[4];
        double* o = row + c * C;
        if (ORDER == 1 && yy >= 0.0 && xx >= 0.0 && yy < ylim && xx < xlim) {
            // Interior: both taps of both axes inside the image.
            const std::int64_t y0 = static_cast<std::int64_t>(yy), x0 = static_cast<std::int64_t>(xx);
            const double wy0 = 1.0 - (yy - static_cast<double>(y0)), wx0 = 1.0 - (xx - static_cast<double>(x0));
            const double wy1 = 1.0 - wy0, wx1 = 1.0 - wx0;
            const T* p0 = reinterpret_cast<const T*>(s.data + y0 * s.stride) + x0 * C;
            const T* p1 = reinterpret_cast<const T*>(s.data + (y0 + 1) * s.stride) + x0 * C;
            for (int ch = 0; ch < C; ++ch) {
                double t = 0.0;
                t += static_cast<double>(p0[ch]) * wy0 * wx0;
                t += static_cast<double>(p0[C + ch]) * wy0 * wx1;
                t += static_cast<double>(p1[ch]) * wy1 * wx0;
                t += static_cast<double>(p1[C + ch]) * wy1 * wx1;
                o[ch] = t;
            }
        } else if (ORDER == 0 && yy >= 0.0 && xx >= 0.0 && yy <= ylim && xx <= xlim) {
            // Interior for nearest-neighbour: no fill mode maps a coordinate inside
            // [0, len-1], and the rounded index stays inside too.
            const std::int64_t y0 = static_cast<std::int64_t>(std::floor(yy + 0.5));
            const std::int64_t x0 = static_cast<std::int64_t>(std::floor(xx + 0.5));
            const T* p = reinterpret_cast<const T*>(s.data + y0 * s.stride) + x0 * C;
            for (int ch = 0; ch < C; ++ch) o[ch] = static_cast<double>(p[ch]);
        } else {
            sample_general<T, C, ORDER>(s, yy, xx, mode, cval, o);
        }
    }
}

template <typename T, int C>
static void warp_rows_c(const Source& s, const double* m, int order, std::int64_t r, std::int64_t out_width,
                        FillMode mode, double cval, double* row) {
    if (order == 0)
        warp_row_scalar<T, C, 0>(s, m, r, 0, out_width, mode, cval, row);
    else
        warp_row_scalar<T, C, 1>(s, m, r, 0, out_width, mode, cval, row);
}

// Entry point: one output row of any dtype / channel count, as doubles.
void warp_row_entry(const unsigned char* data, std::int64_t stride, std::int64_t height, std::int64_t width,
                    DType dtype, int channels, const double* m, int order, std::int64_t r, std::int64_t out_width,
                    FillMode mode, double cval, double* row) {
    const Source s{data, stride, height, width};
#define PYIMGAUG_WARP_CASE(T)                                                                     \
    switch (channels) {                                                                           \
        case 1: warp_rows_c<T, 1>(s, m, order, r, out_width, mode, cval, row); break;            \
        case 3: warp_rows_c<T, 3>(s, m, order, r, out_width, mode, cval, row); break;            \
        case 4: warp_rows_c<T, 4>(s, m, order, r, out_width, mode, cval, row); break;            \
        default: break;                                                                           \
    }
    switch (dtype) {
        case DType::U8: PYIMGAUG_WARP_CASE(std::uint8_t) break;
        case DType::U16: PYIMGAUG_WARP_CASE(std::uint16_t) break;
        case DType::F32: PYIMGAUG_WARP_CASE(float) break;
        case DType::F64: PYIMGAUG_WARP_CASE(double) break;
    }
#undef PYIMGAUG_WARP_CASE
}

// Stage 3 for one row: value * scale + offset, converted to the output dtype.
void store_row_entry(const double* row, std::int64_t n, double scale, double offset, DType out_dtype,
                     unsigned char* dst) {
    switch (out_dtype) {
        case DType::F32: {
            float* o = reinterpret_cast<float*>(dst);
            for (std::int64_t i = 0; i < n; ++i) o[i] = static_cast<float>(row[i] * scale + offset);
            break;
        }
        case DType::F64: {
            double* o = reinterpret_cast<double*>(dst);
            for (std::int64_t i = 0; i < n; ++i) o[i] = row[i] * scale + offset;
            break;
        }
        case DType::U8: {
            std::uint8_t* o = reinterpret_cast<std::uint8_t*>(dst);
            for (std::int64_t i = 0; i < n; ++i) {
                const double v = row[i] * scale + offset;
                // Round half up and saturate; NaN becomes 0.
                o[i] = v > 0.0 ? (v >= 254.5 ? 255 : static_cast<std::uint8_t>(v + 0.5)) : 0;
            }
            break;
        }
        case DType::U16: {
            std::uint16_t* o = reinterpret_cast<std::uint16_t*>(dst);
            for (std::int64_t i = 0; i < n; ++i) {
                const double v = row[i] * scale + offset;
                o[i] = v > 0.0 ? (v >= 65534.5 ? 65535 : static_cast<std::uint16_t>(v + 0.5)) : 0;
            }
            break;
        }
    }
}


// Finishes columns [c0, c1) of row r through the general path, for the vector loop.
template <int C, int ORDER>
static void finish_scalar(const Source& s, const double* m, std::int64_t r, std::int64_t c0, std::int64_t c1,
                          FillMode mode, double cval, double scale, double offset, double* tmp, float* out_row) {
    warp_row_scalar<std::uint8_t, C, ORDER>(s, m, r, c0, c1, mode, cval, tmp);
    for (std::int64_t i = c0 * C; i < c1 * C; ++i) out_row[i] = static_cast<float>(tmp[i] * scale + offset);
}

#ifdef __AVX2__
// Writes 8 pixels of C planar channels as interleaved floats.
template <int C>
static inline void store_interleaved(float* o, const __m256* v) {
    if (C == 1) {
        _mm256_storeu_ps(o, v[0]);
    } else if (C == 3) {
        const __m256i i0 = _mm256_setr_epi32(0, 0, 0, 1, 1, 1, 2, 2);
        const __m256i i1 = _mm256_setr_epi32(2, 3, 3, 3, 4, 4, 4, 5);
        const __m256i i2 = _mm256_setr_epi32(5, 5, 6, 6, 6, 7, 7, 7);
        __m256 a = _mm256_permutevar8x32_ps(v[0], i0);
        a = _mm256_blend_ps(a, _mm256_permutevar8x32_ps(v[1], i0), 0x92);
        a = _mm256_blend_ps(a, _mm256_permutevar8x32_ps(v[2], i0), 0x24);
        __m256 b = _mm256_permutevar8x32_ps(v[0], i1);
        b = _mm256_blend_ps(b, _mm256_permutevar8x32_ps(v[1], i1), 0x24);
        b = _mm256_blend_ps(b, _mm256_permutevar8x32_ps(v[2], i1), 0x49);
        __m256 c = _mm256_permutevar8x32_ps(v[0], i2);
        c = _mm256_blend_ps(c, _mm256_permutevar8x32_ps(v[1], i2), 0x49);
        c = _mm256_blend_ps(c, _mm256_permutevar8x32_ps(v[2], i2), 0x92);
        _mm256_storeu_ps(o, a);
        _mm256_storeu_ps(o + 8, b);
        _mm256_storeu_ps(o + 16, c);
    } else {
        const __m256 t0 = _mm256_unpacklo_ps(v[0], v[1 % C]), t1 = _mm256_unpackhi_ps(v[0], v[1 % C]);
        const __m256 t2 = _mm256_unpacklo_ps(v[2 % C], v[3 % C]), t3 = _mm256_unpackhi_ps(v[2 % C], v[3 % C]);
        const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
        const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
        _mm256_storeu_ps(o, _mm256_permute2f128_ps(u0, u1, 0x20));
        _mm256_storeu_ps(o + 8, _mm256_permute2f128_ps(u2, u3, 0x20));
        _mm256_storeu_ps(o + 16, _mm256_permute2f128_ps(u0, u1, 0x31));
        _mm256_storeu_ps(o + 24, _mm256_permute2f128_ps(u2, u3, 0x31));
    }
}

// Low 32 bits of each 64-bit lane of two double-compare masks, as one 8-lane mask.
static inline __m256i narrow_mask(__m256d lo, __m256d hi) {
    const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    const __m128i l = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(lo), pick));
    const __m128i h = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(_mm256_castpd_si256(hi), pick));
    return _mm256_set_m128i(h, l);
}

static inline __m256i to_int32(__m256d lo, __m256d hi) {
    return _mm256_set_m128i(_mm256_cvttpd_epi32(hi), _mm256_cvttpd_epi32(lo));
}

static inline __m256 to_float(__m256d lo, __m256d hi) {
    return _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
}

// Loads the pixel at each byte offset with one 4-byte gather. For C < 4 a pixel is
// shorter than the load, so the load starts up to 4 - C bytes early (never before
// the first byte) and the channel bytes are shifted down by the returned amount:
// no byte outside the image is ever read, even at its last pixel.
template <int C>
static inline __m256i gather_pixels(const int* base, __m256i off, __m256i& shift_bits) {
    if (C == 4) {
        shift_bits = _mm256_setzero_si256();
        return _mm256_i32gather_epi32(base, off, 1);
    }
    const __m256i adj = _mm256_min_epi32(off, _mm256_set1_epi32(4 - C));
    shift_bits = _mm256_slli_epi32(adj, 3);
    return _mm256_i32gather_epi32(base, _mm256_sub_epi32(off, adj), 1);
}

static inline __m256 channel_of(__m256i g, __m256i shift_bits, int ch) {
    const __m256i s = _mm256_add_epi32(shift_bits, _mm256_set1_epi32(8 * ch));
    return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(g, s), _mm256_set1_epi32(0xFF)));
}

// Constants of the gather path, set up once per image.
struct GatherConsts {
    __m256d zero, half, big, nbig, ylim, xlim;
    __m256i yhi, xhi, izero, ione, stride_v, cvec;
    __m256 scale_v, offset_v, fill_v;
    const int* base;
    bool clamp_border, constant;

    GatherConsts(const Source& s, FillMode mode, double cval, double scale, double offset, int channels)
        : zero(_mm256_setzero_pd()),
          half(_mm256_set1_pd(0.5)),
          big(_mm256_set1_pd(1073741824.0)),
          nbig(_mm256_set1_pd(-1073741824.0)),
          ylim(_mm256_set1_pd(static_cast<double>(s.height - 1))),
          xlim(_mm256_set1_pd(static_cast<double>(s.width - 1))),
          yhi(_mm256_set1_epi32(static_cast<int>(s.height - 1))),
          xhi(_mm256_set1_epi32(static_cast<int>(s.width - 1))),
          izero(_mm256_setzero_si256()),
          ione(_mm256_set1_epi32(1)),
          stride_v(_mm256_set1_epi32(static_cast<int>(s.stride))),
          cvec(_mm256_set1_epi32(channels)),
          scale_v(_mm256_set1_ps(static_cast<float>(scale))),
          offset_v(_mm256_set1_ps(static_cast<float>(offset))),
          fill_v(_mm256_set1_ps(static_cast<float>(cval * scale + offset))),
          base(reinterpret_cast<const int*>(s.data)),
          clamp_border(mode == FillMode::Nearest || mode == FillMode::Constant),
          constant(mode == FillMode::Constant) {}
};

// Bit j set when pixel j of a group (coordinates in two halves of four) lies inside
// [0, len-1] on both axes: no fill mode changes anything there.
static inline __m256d inside_mask(__m256d yy, __m256d xx, const GatherConsts& k) {
    return _mm256_and_pd(
        _mm256_and_pd(_mm256_cmp_pd(yy, k.zero, _CMP_GE_OQ), _mm256_cmp_pd(yy, k.ylim, _CMP_LE_OQ)),
        _mm256_and_pd(_mm256_cmp_pd(xx, k.zero, _CMP_GE_OQ), _mm256_cmp_pd(xx, k.xlim, _CMP_LE_OQ)));
}

// Eight output pixels (columns c .. c+7 of row r, source coordinates yy/xx) through
// gathers: fill modes nearest and constant are vectorised (taps clamped into the
// image, cval blended where the sample is outside); reflect and wrap send blocks
// that touch the border through the general path.
template <int C, int ORDER>
static inline void gather_group(const Source& s, const double* m, std::int64_t r, std::int64_t c, __m256d yy_lo,
                                __m256d yy_hi, __m256d xx_lo, __m256d xx_hi, FillMode mode, double cval,
                                double scale, double offset, const GatherConsts& k, double* tmp, float* out_row) {
    const __m256d in_lo = inside_mask(yy_lo, xx_lo, k), in_hi = inside_mask(yy_hi, xx_hi, k);
    const int inside_bits = _mm256_movemask_pd(in_lo) | (_mm256_movemask_pd(in_hi) << 4);
    if (inside_bits != 0xFF && !k.clamp_border) {
        finish_scalar<C, ORDER>(s, m, r, c, c + 8, mode, cval, scale, offset, tmp, out_row);
        return;
    }
    if (inside_bits != 0xFF) {
        // Keep far-away (or NaN) coordinates where int32 conversion is defined.
        yy_lo = _mm256_min_pd(_mm256_max_pd(yy_lo, k.nbig), k.big);
        yy_hi = _mm256_min_pd(_mm256_max_pd(yy_hi, k.nbig), k.big);
        xx_lo = _mm256_min_pd(_mm256_max_pd(xx_lo, k.nbig), k.big);
        xx_hi = _mm256_min_pd(_mm256_max_pd(xx_hi, k.nbig), k.big);
    }
    const __m256d fy_lo = _mm256_floor_pd(ORDER == 1 ? yy_lo : _mm256_add_pd(yy_lo, k.half));
    const __m256d fy_hi = _mm256_floor_pd(ORDER == 1 ? yy_hi : _mm256_add_pd(yy_hi, k.half));
    const __m256d fx_lo = _mm256_floor_pd(ORDER == 1 ? xx_lo : _mm256_add_pd(xx_lo, k.half));
    const __m256d fx_hi = _mm256_floor_pd(ORDER == 1 ? xx_hi : _mm256_add_pd(xx_hi, k.half));
    __m256i y0 = to_int32(fy_lo, fy_hi), x0 = to_int32(fx_lo, fx_hi);
    __m256i y1 = _mm256_add_epi32(y0, k.ione), x1 = _mm256_add_epi32(x0, k.ione);
    // Clamped taps: scipy's nearest mode exactly; elsewhere they only ever
    // replace taps whose weight is zero (a sample exactly on the last row/col).
    y0 = _mm256_min_epi32(_mm256_max_epi32(y0, k.izero), k.yhi);
    x0 = _mm256_min_epi32(_mm256_max_epi32(x0, k.izero), k.xhi);
    y1 = _mm256_min_epi32(_mm256_max_epi32(y1, k.izero), k.yhi);
    x1 = _mm256_min_epi32(_mm256_max_epi32(x1, k.izero), k.xhi);
    const __m256i row0 = _mm256_mullo_epi32(y0, k.stride_v), col0 = _mm256_mullo_epi32(x0, k.cvec);
    __m256 v[C];
    if (ORDER == 1) {
        const __m256i row1 = _mm256_mullo_epi32(y1, k.stride_v), col1 = _mm256_mullo_epi32(x1, k.cvec);
        const __m256 ty = to_float(_mm256_sub_pd(yy_lo, fy_lo), _mm256_sub_pd(yy_hi, fy_hi));
        const __m256 tx = to_float(_mm256_sub_pd(xx_lo, fx_lo), _mm256_sub_pd(xx_hi, fx_hi));
        __m256i s00, s01, s10, s11;
        const __m256i g00 = gather_pixels<C>(k.base, _mm256_add_epi32(row0, col0), s00);
        const __m256i g01 = gather_pixels<C>(k.base, _mm256_add_epi32(row0, col1), s01);
        const __m256i g10 = gather_pixels<C>(k.base, _mm256_add_epi32(row1, col0), s10);
        const __m256i g11 = gather_pixels<C>(k.base, _mm256_add_epi32(row1, col1), s11);
        for (int ch = 0; ch < C; ++ch) {
            const __m256 p00 = channel_of(g00, s00, ch), p01 = channel_of(g01, s01, ch);
            const __m256 p10 = channel_of(g10, s10, ch), p11 = channel_of(g11, s11, ch);
            const __m256 top = _mm256_fmadd_ps(tx, _mm256_sub_ps(p01, p00), p00);
            const __m256 bot = _mm256_fmadd_ps(tx, _mm256_sub_ps(p11, p10), p10);
            v[ch] = _mm256_fmadd_ps(_mm256_fmadd_ps(ty, _mm256_sub_ps(bot, top), top), k.scale_v, k.offset_v);
        }
    } else {
        __m256i s0;
        const __m256i g = gather_pixels<C>(k.base, _mm256_add_epi32(row0, col0), s0);
        for (int ch = 0; ch < C; ++ch) v[ch] = _mm256_fmadd_ps(channel_of(g, s0, ch), k.scale_v, k.offset_v);
    }
    if (k.constant && inside_bits != 0xFF) {
        // scipy's constant mode: any sample outside [0, len-1] is cval, unblended.
        const __m256 inside = _mm256_castsi256_ps(narrow_mask(in_lo, in_hi));
        for (int ch = 0; ch < C; ++ch) v[ch] = _mm256_blendv_ps(k.fill_v, v[ch], inside);
    }
    store_interleaved<C>(out_row + c * C, v);
}

// Vectorised uint8 -> float32 warp through gathers, 8 output pixels at a time: the
// path for one channel and for order 0. Source coordinates are formed in double
// exactly as in the scalar path (so order 0 picks the pixel scipy picks); weights
// and values are float32, whose rounding error (about 3e-5 on a 0-255 scale) is far
// below the tolerance the tests hold us to.
template <int C, int ORDER>
static void warp_fast_avx2(const Source& s, const double* m, FillMode mode, double cval, double scale, double offset,
                           std::int64_t out_height, std::int64_t out_width, float* dst, double* tmp) {
    const GatherConsts k(s, mode, cval, scale, offset, C);
    const __m256d m1 = _mm256_set1_pd(m[1]), m4 = _mm256_set1_pd(m[4]), step = _mm256_set1_pd(8.0);
    const __m256d first_cols_lo = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0), first_cols_hi = _mm256_setr_pd(4.0, 5.0, 6.0, 7.0);
    for (std::int64_t r = 0; r < out_height; ++r) {
        float* out_row = dst + r * out_width * C;
        const __m256d ry = _mm256_set1_pd(m[2] + static_cast<double>(r) * m[0]);
        const __m256d rx = _mm256_set1_pd(m[5] + static_cast<double>(r) * m[3]);
        __m256d col_lo = first_cols_lo, col_hi = first_cols_hi;
        std::int64_t c = 0;
        for (; c + 8 <= out_width; c += 8, col_lo = _mm256_add_pd(col_lo, step), col_hi = _mm256_add_pd(col_hi, step)) {
            const __m256d yy_lo = _mm256_add_pd(ry, _mm256_mul_pd(col_lo, m1));
            const __m256d yy_hi = _mm256_add_pd(ry, _mm256_mul_pd(col_hi, m1));
            const __m256d xx_lo = _mm256_add_pd(rx, _mm256_mul_pd(col_lo, m4));
            const __m256d xx_hi = _mm256_add_pd(rx, _mm256_mul_pd(col_hi, m4));
            gather_group<C, ORDER>(s, m, r, c, yy_lo, yy_hi, xx_lo, xx_hi, mode, cval, scale, offset, k, tmp, out_row);
        }
        if (c < out_width) finish_scalar<C, ORDER>(s, m, r, c, out_width, mode, cval, scale, offset, tmp, out_row);
    }
}

// ---------------------------------------------------------------------------
// Order 1, 3 or 4 channels: one pixel per vector, taps from plain loads.
//
// A pixel's two horizontal taps are adjacent in memory, so one 8-byte load per tap
// row brings both (RGB: R0 G0 B0 R1 G1 B1 and two bytes more; RGBA: exactly both).
// Widened to eight floats, the two rows are blended vertically in one vector, then
// the first tap's channels with the second's. Sixteen plain loads per 8 pixels
// replace four 8-lane gathers, which cost several times more on current x86 cores.
//
// Fill mode nearest needs no border case at all: scipy clamps both taps of an axis
// into the image, which for a bilinear sample equals clamping the coordinate into
// [0, len-1] (outside, both taps are the edge pixel and the weights sum to 1). With
// the coordinate clamped, the first tap is min(floor(cc), len-2) and the weight of
// the second cc - tap, in [0, 1]: at cc = len-1 it is 1 and picks the edge pixel
// exactly. Other fill modes take this path only for groups whose 8 samples are all
// inside [0, len-1] on both axes (where the clamp changes nothing), the gathers
// otherwise.

// The taps of one output row, computed for the whole row before any pixel is read
// (a load of an offset or weight just stored from a vector register would wait for
// the store, pixel after pixel): byte offset of each pixel's top-left tap, the
// weights of its second row and second column, and per group of 8 pixels how it
// is computed.
enum GroupKind : unsigned char { kLoads = 0, kLoadsRow1Early = 1, kGathers = 2 };

struct RowTaps {
    std::int32_t* off;
    float* ty;
    float* tx;
    unsigned char* kind;

    // `scratch` holds warp_row_taps_bytes(width) bytes.
    RowTaps(unsigned char* scratch, std::int64_t width) {
        const std::int64_t padded = (width + 7) / 8 * 8;
        off = reinterpret_cast<std::int32_t*>(scratch);
        ty = reinterpret_cast<float*>(scratch + padded * 4);
        tx = reinterpret_cast<float*>(scratch + padded * 8);
        kind = scratch + padded * 12;
    }
};

static inline __m256 widen_8_bytes(const unsigned char* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// One pixel, all channels, scaled and offset, in the first C lanes. With
// ROW1_EARLY the second row's 8 bytes are read 2 bytes early (ending at the
// pixel's last tap byte) so that the read cannot pass the image's last byte.
template <int C, bool ROW1_EARLY>
static inline __m128 bilinear_pixel(const unsigned char* p0, std::int64_t stride, const float* ty, const float* tx,
                                    __m128 scale, __m128 offset) {
    const __m256 a = widen_8_bytes(p0);
    __m256 b;
    if (ROW1_EARLY) {
        b = _mm256_permutevar8x32_ps(widen_8_bytes(p0 + stride - 2), _mm256_setr_epi32(2, 3, 4, 5, 6, 7, 7, 7));
    } else {
        b = widen_8_bytes(p0 + stride);
    }
    const __m256 v = _mm256_fmadd_ps(_mm256_broadcast_ss(ty), _mm256_sub_ps(b, a), a);
    const __m128 left = _mm256_castps256_ps128(v);
    const __m128 right = C == 4 ? _mm256_extractf128_ps(v, 1)
                                : _mm256_castps256_ps128(_mm256_permutevar8x32_ps(v, _mm256_setr_epi32(3, 4, 5, 6, 7, 7, 7, 7)));
    const __m128 h = _mm_fmadd_ps(_mm_broadcast_ss(tx), _mm_sub_ps(right, left), left);
    return _mm_fmadd_ps(h, scale, offset);
}

// Pixels [0, n) of a row's taps into o. Each 16-byte store of an RGB pixel also
// writes the next pixel's first float, which the next store replaces: the caller
// stores the last pixel of an output row with store_last_pixel instead.
template <int C, bool ROW1_EARLY>
static inline void bilinear_run(const unsigned char* base, std::int64_t stride, const RowTaps& t, std::int64_t c,
                                int n, __m128 scale, __m128 offset, float* o) {
    for (int j = 0; j < n; ++j)
        _mm_storeu_ps(o + (c + j) * C, bilinear_pixel<C, ROW1_EARLY>(base + t.off[c + j], stride, t.ty + c + j,
                                                                      t.tx + c + j, scale, offset));
}

template <int C>
static inline void store_last_pixel(float* o, __m128 v) {
    if (C == 4) {
        _mm_storeu_ps(o, v);
    } else {
        _mm_storel_pi(reinterpret_cast<__m64*>(o), v);
        _mm_store_ss(o + 2, _mm_movehl_ps(v, v));
    }
}

// Order-1 uint8 -> float32 warp of 3- or 4-channel images (see above). Needs an
// image of at least 2 x 2 pixels and warp_row_taps_bytes(out_width) bytes of `taps`.
template <int C>
static void warp_bilinear_avx2(const Source& s, const double* m, FillMode mode, double cval, double scale,
                               double offset, std::int64_t out_height, std::int64_t out_width, float* dst,
                               double* tmp, unsigned char* taps) {
    const GatherConsts k(s, mode, cval, scale, offset, C);
    const bool nearest = mode == FillMode::Nearest;
    const __m256d m1 = _mm256_set1_pd(m[1]), m4 = _mm256_set1_pd(m[4]), step = _mm256_set1_pd(8.0);
    const __m256d first_cols_lo = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0), first_cols_hi = _mm256_setr_pd(4.0, 5.0, 6.0, 7.0);
    const __m256d ytap = _mm256_set1_pd(static_cast<double>(s.height - 2));
    const __m256d xtap = _mm256_set1_pd(static_cast<double>(s.width - 2));
    const __m256d stride_d = _mm256_set1_pd(static_cast<double>(s.stride)), chans_d = _mm256_set1_pd(C);
    // RGB only: a first tap at a byte offset above this has a second row whose
    // 8-byte read would pass the image's last byte (last row, last column pair).
    const __m256i last_safe = _mm256_set1_epi32(static_cast<int>((s.height - 2) * s.stride + s.width * C - 8));
    const __m128 scale4 = _mm_set1_ps(static_cast<float>(scale)), offset4 = _mm_set1_ps(static_cast<float>(offset));
    const RowTaps t(taps, out_width);

    for (std::int64_t r = 0; r < out_height; ++r) {
        float* out_row = dst + r * out_width * C;
        const __m256d ry = _mm256_set1_pd(m[2] + static_cast<double>(r) * m[0]);
        const __m256d rx = _mm256_set1_pd(m[5] + static_cast<double>(r) * m[3]);
        // Pass 1: the taps of every pixel of the row.
        __m256d col_lo = first_cols_lo, col_hi = first_cols_hi;
        for (std::int64_t c = 0; c < out_width; c += 8, col_lo = _mm256_add_pd(col_lo, step),
                          col_hi = _mm256_add_pd(col_hi, step)) {
            // scipy's coordinates, in scipy's order of operations.
            const __m256d yy_lo = _mm256_add_pd(ry, _mm256_mul_pd(col_lo, m1));
            const __m256d yy_hi = _mm256_add_pd(ry, _mm256_mul_pd(col_hi, m1));
            const __m256d xx_lo = _mm256_add_pd(rx, _mm256_mul_pd(col_lo, m4));
            const __m256d xx_hi = _mm256_add_pd(rx, _mm256_mul_pd(col_hi, m4));
            if (!nearest) {
                const int n = out_width - c < 8 ? static_cast<int>(out_width - c) : 8;
                const int inside_bits = _mm256_movemask_pd(inside_mask(yy_lo, xx_lo, k)) |
                                        (_mm256_movemask_pd(inside_mask(yy_hi, xx_hi, k)) << 4);
                if (((inside_bits | (0xFF << n)) & 0xFF) != 0xFF) {
                    t.kind[c / 8] = kGathers;
                    continue;
                }
            }
            // Clamp into [0, len-1] (max first: a NaN becomes 0), first tap at most len-2.
            const __m256d cy_lo = _mm256_min_pd(_mm256_max_pd(yy_lo, k.zero), k.ylim);
            const __m256d cy_hi = _mm256_min_pd(_mm256_max_pd(yy_hi, k.zero), k.ylim);
            const __m256d cx_lo = _mm256_min_pd(_mm256_max_pd(xx_lo, k.zero), k.xlim);
            const __m256d cx_hi = _mm256_min_pd(_mm256_max_pd(xx_hi, k.zero), k.xlim);
            const __m256d fy_lo = _mm256_min_pd(_mm256_floor_pd(cy_lo), ytap);
            const __m256d fy_hi = _mm256_min_pd(_mm256_floor_pd(cy_hi), ytap);
            const __m256d fx_lo = _mm256_min_pd(_mm256_floor_pd(cx_lo), xtap);
            const __m256d fx_hi = _mm256_min_pd(_mm256_floor_pd(cx_hi), xtap);
            _mm256_storeu_ps(t.ty + c, to_float(_mm256_sub_pd(cy_lo, fy_lo), _mm256_sub_pd(cy_hi, fy_hi)));
            _mm256_storeu_ps(t.tx + c, to_float(_mm256_sub_pd(cx_lo, fx_lo), _mm256_sub_pd(cx_hi, fx_hi)));
            // Byte offsets: small integers, exact in double.
            const __m256i off = to_int32(_mm256_add_pd(_mm256_mul_pd(fy_lo, stride_d), _mm256_mul_pd(fx_lo, chans_d)),
                                         _mm256_add_pd(_mm256_mul_pd(fy_hi, stride_d), _mm256_mul_pd(fx_hi, chans_d)));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(t.off + c), off);
            const __m256i past = _mm256_cmpgt_epi32(off, last_safe);
            t.kind[c / 8] = C == 3 && !_mm256_testz_si256(past, past) ? kLoadsRow1Early : kLoads;
        }
        // Pass 2: the pixels.
        for (std::int64_t c = 0; c < out_width; c += 8) {
            const unsigned char kind = t.kind[c / 8];
            if (kind == kGathers) {
                if (c + 8 <= out_width) {
                    const __m256d col_lo8 = _mm256_add_pd(first_cols_lo, _mm256_set1_pd(static_cast<double>(c)));
                    const __m256d col_hi8 = _mm256_add_pd(first_cols_hi, _mm256_set1_pd(static_cast<double>(c)));
                    gather_group<C, 1>(s, m, r, c, _mm256_add_pd(ry, _mm256_mul_pd(col_lo8, m1)),
                                       _mm256_add_pd(ry, _mm256_mul_pd(col_hi8, m1)),
                                       _mm256_add_pd(rx, _mm256_mul_pd(col_lo8, m4)),
                                       _mm256_add_pd(rx, _mm256_mul_pd(col_hi8, m4)), mode, cval, scale, offset, k,
                                       tmp, out_row);
                } else {
                    finish_scalar<C, 1>(s, m, r, c, out_width, mode, cval, scale, offset, tmp, out_row);
                }
                continue;
            }
            if (c + 8 < out_width) {
                if (kind == kLoadsRow1Early)
                    bilinear_run<C, true>(s.data, s.stride, t, c, 8, scale4, offset4, out_row);
                else
                    bilinear_run<C, false>(s.data, s.stride, t, c, 8, scale4, offset4, out_row);
                continue;
            }
            // The row's last group: its last pixel must not write past the row.
            const int n = static_cast<int>(out_width - c);
            const std::int64_t j = out_width - 1;
            if (kind == kLoadsRow1Early) {
                bilinear_run<C, true>(s.data, s.stride, t, c, n - 1, scale4, offset4, out_row);
                store_last_pixel<C>(out_row + j * C, bilinear_pixel<C, true>(s.data + t.off[j], s.stride, t.ty + j,
                                                                             t.tx + j, scale4, offset4));
            } else {
                bilinear_run<C, false>(s.data, s.stride, t, c, n - 1, scale4, offset4, out_row);
                store_last_pixel<C>(out_row + j * C, bilinear_pixel<C, false>(s.data + t.off[j], s.stride, t.ty + j,
                                                                              t.tx + j, scale4, offset4));
            }
        }
    }
}
#endif

// The vectorised uint8 -> float32 path; false when this build or these
// arguments are not covered by it (the caller then takes the general path).
bool warp_image_fast(const unsigned char* data, std::int64_t stride, std::int64_t height, std::int64_t width,
                     int channels, const double* m, int order, FillMode mode, double cval, double scale,
                     double offset, std::int64_t out_height, std::int64_t out_width, float* dst, double* tmp,
                     unsigned char* taps) {
#ifdef __AVX2__
    // Byte offsets are 32-bit lanes: the image must span well under 2 GiB, rows go
    // forward, and hold at least the 4 bytes one gather reads.
    if (stride < width * channels || height * width * channels < 4) return false;
    if ((height + 1) * stride > (std::int64_t(1) << 30)) return false;
    const Source s{data, stride, height, width};
    // Order 1 with 3 or 4 channels: plain loads (see warp_bilinear_avx2), which
    // need two taps per axis inside the image.
    if (order == 1 && height >= 2 && width >= 2) {
        if (channels == 3) {
            warp_bilinear_avx2<3>(s, m, mode, cval, scale, offset, out_height, out_width, dst, tmp, taps);
            return true;
        }
        if (channels == 4) {
            warp_bilinear_avx2<4>(s, m, mode, cval, scale, offset, out_height, out_width, dst, tmp, taps);
            return true;
        }
    }
#define PYIMGAUG_FAST_CASE(C)                                                                              \
    if (order == 0) warp_fast_avx2<C, 0>(s, m, mode, cval, scale, offset, out_height, out_width, dst, tmp); \
    else warp_fast_avx2<C, 1>(s, m, mode, cval, scale, offset, out_height, out_width, dst, tmp);            \
    return true;
    switch (channels) {
        case 1: PYIMGAUG_FAST_CASE(1)
        case 3: PYIMGAUG_FAST_CASE(3)
        case 4: PYIMGAUG_FAST_CASE(4)
        default: return false;
    }
#undef PYIMGAUG_FAST_CASE
#else
    (void)data; (void)stride; (void)height; (void)width; (void)channels; (void)m; (void)order; (void)mode;
    (void)cval; (void)scale; (void)offset; (void)out_height; (void)out_width; (void)dst; (void)tmp; (void)taps;
    return false;
#endif
}

}  // namespace PYIMGAUG_ISA
}  // namespace pyimgaug
