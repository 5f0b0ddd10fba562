// Hot loops of the warp. Included by warp.cpp (baseline ISA) and warp_avx2.cpp
// (-mavx2 -mfma), each inside its own namespace PYIMGAUG_ISA (see isa.hpp).
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernel/border.hpp"
#include "kernel/types.hpp"

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
// Vectorised uint8 -> float32 warp, 8 output pixels at a time. Coordinates are
// formed in double exactly as in the scalar path (so order 0 picks the same pixel
// as scipy); interpolation weights and values are float32, whose rounding error
// (about 3e-5 on a 0-255 scale) is far below the tolerance the tests hold us to.
// Pixels whose taps are not all inside the image go through the general path.
template <int C, int ORDER>
static void warp_fast_avx2(const Source& s, const double* m, FillMode mode, double cval, double scale, double offset,
                           std::int64_t out_height, std::int64_t out_width, float* dst, double* tmp) {
    const __m256d m1 = _mm256_set1_pd(m[1]), m4 = _mm256_set1_pd(m[4]);
    const __m256d step = _mm256_set1_pd(8.0);
    const __m256d zero = _mm256_setzero_pd();
    // Interior limits: order 1 needs both taps inside; order 0 the rounded index.
    const __m256d ylim = _mm256_set1_pd(static_cast<double>(s.height - 1));
    const __m256d xlim = _mm256_set1_pd(static_cast<double>(s.width - 1));
    const __m256d half = _mm256_set1_pd(0.5);
    // A gather reads 4 bytes per pixel; the last bytes it may touch must lie inside
    // the image's memory (the last pixel of the last row has fewer than 4 after it).
    const std::int64_t span = (s.height - 1) * s.stride + s.width * C;
    const __m256i last_ok = _mm256_set1_epi32(static_cast<int>(span - 4));
    const __m256i stride_v = _mm256_set1_epi32(static_cast<int>(s.stride));
    const __m256i cvec = _mm256_set1_epi32(C);
    const __m256i byte_mask = _mm256_set1_epi32(0xFF);
    const __m256 scale_v = _mm256_set1_ps(static_cast<float>(scale));
    const __m256 offset_v = _mm256_set1_ps(static_cast<float>(offset));
    const int* base = reinterpret_cast<const int*>(s.data);
    alignas(32) float planes[C][8];

    for (std::int64_t r = 0; r < out_height; ++r) {
        float* out_row = dst + r * out_width * C;
        const __m256d ry = _mm256_set1_pd(m[2] + static_cast<double>(r) * m[0]);
        const __m256d rx = _mm256_set1_pd(m[5] + static_cast<double>(r) * m[3]);
        __m256d col_lo = _mm256_setr_pd(0.0, 1.0, 2.0, 3.0);
        __m256d col_hi = _mm256_setr_pd(4.0, 5.0, 6.0, 7.0);
        std::int64_t c = 0;
        for (; c + 8 <= out_width; c += 8, col_lo = _mm256_add_pd(col_lo, step), col_hi = _mm256_add_pd(col_hi, step)) {
            const __m256d yy_lo = _mm256_add_pd(ry, _mm256_mul_pd(col_lo, m1));
            const __m256d yy_hi = _mm256_add_pd(ry, _mm256_mul_pd(col_hi, m1));
            const __m256d xx_lo = _mm256_add_pd(rx, _mm256_mul_pd(col_lo, m4));
            const __m256d xx_hi = _mm256_add_pd(rx, _mm256_mul_pd(col_hi, m4));
            __m256d in_lo, in_hi;
            if (ORDER == 1) {
                in_lo = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(yy_lo, zero, _CMP_GE_OQ), _mm256_cmp_pd(yy_lo, ylim, _CMP_LT_OQ)),
                                      _mm256_and_pd(_mm256_cmp_pd(xx_lo, zero, _CMP_GE_OQ), _mm256_cmp_pd(xx_lo, xlim, _CMP_LT_OQ)));
                in_hi = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(yy_hi, zero, _CMP_GE_OQ), _mm256_cmp_pd(yy_hi, ylim, _CMP_LT_OQ)),
                                      _mm256_and_pd(_mm256_cmp_pd(xx_hi, zero, _CMP_GE_OQ), _mm256_cmp_pd(xx_hi, xlim, _CMP_LT_OQ)));
            } else {
                in_lo = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(yy_lo, zero, _CMP_GE_OQ), _mm256_cmp_pd(yy_lo, ylim, _CMP_LE_OQ)),
                                      _mm256_and_pd(_mm256_cmp_pd(xx_lo, zero, _CMP_GE_OQ), _mm256_cmp_pd(xx_lo, xlim, _CMP_LE_OQ)));
                in_hi = _mm256_and_pd(_mm256_and_pd(_mm256_cmp_pd(yy_hi, zero, _CMP_GE_OQ), _mm256_cmp_pd(yy_hi, ylim, _CMP_LE_OQ)),
                                      _mm256_and_pd(_mm256_cmp_pd(xx_hi, zero, _CMP_GE_OQ), _mm256_cmp_pd(xx_hi, xlim, _CMP_LE_OQ)));
            }
            if ((_mm256_movemask_pd(in_lo) & _mm256_movemask_pd(in_hi)) != 0xF) {
                finish_scalar<C, ORDER>(s, m, r, c, c + 8, mode, cval, scale, offset, tmp, out_row);
                continue;
            }
            const __m256d fy_lo = _mm256_floor_pd(ORDER == 1 ? yy_lo : _mm256_add_pd(yy_lo, half));
            const __m256d fy_hi = _mm256_floor_pd(ORDER == 1 ? yy_hi : _mm256_add_pd(yy_hi, half));
            const __m256d fx_lo = _mm256_floor_pd(ORDER == 1 ? xx_lo : _mm256_add_pd(xx_lo, half));
            const __m256d fx_hi = _mm256_floor_pd(ORDER == 1 ? xx_hi : _mm256_add_pd(xx_hi, half));
            const __m256i y0 = _mm256_set_m128i(_mm256_cvttpd_epi32(fy_hi), _mm256_cvttpd_epi32(fy_lo));
            const __m256i x0 = _mm256_set_m128i(_mm256_cvttpd_epi32(fx_hi), _mm256_cvttpd_epi32(fx_lo));
            const __m256i off00 = _mm256_add_epi32(_mm256_mullo_epi32(y0, stride_v), _mm256_mullo_epi32(x0, cvec));
            if (ORDER == 1) {
                const __m256i off11 = _mm256_add_epi32(off00, _mm256_add_epi32(stride_v, cvec));
                if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(off11, last_ok)) != 0) {
                    finish_scalar<C, ORDER>(s, m, r, c, c + 8, mode, cval, scale, offset, tmp, out_row);
                    continue;
                }
                const __m256 ty = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_sub_pd(yy_hi, fy_hi)), _mm256_cvtpd_ps(_mm256_sub_pd(yy_lo, fy_lo)));
                const __m256 tx = _mm256_set_m128(_mm256_cvtpd_ps(_mm256_sub_pd(xx_hi, fx_hi)), _mm256_cvtpd_ps(_mm256_sub_pd(xx_lo, fx_lo)));
                const __m256i g00 = _mm256_i32gather_epi32(base, off00, 1);
                const __m256i g01 = _mm256_i32gather_epi32(base, _mm256_add_epi32(off00, cvec), 1);
                const __m256i g10 = _mm256_i32gather_epi32(base, _mm256_add_epi32(off00, stride_v), 1);
                const __m256i g11 = _mm256_i32gather_epi32(base, off11, 1);
                for (int ch = 0; ch < C; ++ch) {
                    const __m256 p00 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g00, 8 * ch), byte_mask));
                    const __m256 p01 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g01, 8 * ch), byte_mask));
                    const __m256 p10 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g10, 8 * ch), byte_mask));
                    const __m256 p11 = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g11, 8 * ch), byte_mask));
                    const __m256 top = _mm256_fmadd_ps(tx, _mm256_sub_ps(p01, p00), p00);
                    const __m256 bot = _mm256_fmadd_ps(tx, _mm256_sub_ps(p11, p10), p10);
                    const __m256 v = _mm256_fmadd_ps(ty, _mm256_sub_ps(bot, top), top);
                    _mm256_store_ps(planes[ch], _mm256_fmadd_ps(v, scale_v, offset_v));
                }
            } else {
                if (_mm256_movemask_epi8(_mm256_cmpgt_epi32(off00, last_ok)) != 0) {
                    finish_scalar<C, ORDER>(s, m, r, c, c + 8, mode, cval, scale, offset, tmp, out_row);
                    continue;
                }
                const __m256i g = _mm256_i32gather_epi32(base, off00, 1);
                for (int ch = 0; ch < C; ++ch) {
                    const __m256 p = _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srli_epi32(g, 8 * ch), byte_mask));
                    _mm256_store_ps(planes[ch], _mm256_fmadd_ps(p, scale_v, offset_v));
                }
            }
            float* o = out_row + c * C;
            for (int i = 0; i < 8; ++i)
                for (int ch = 0; ch < C; ++ch) o[i * C + ch] = planes[ch][i];
        }
        if (c < out_width) finish_scalar<C, ORDER>(s, m, r, c, out_width, mode, cval, scale, offset, tmp, out_row);
    }
}
#endif

// The vectorised uint8 -> float32 path; false when this build or these
// arguments are not covered by it (the caller then takes the general path).
bool warp_image_fast(const unsigned char* data, std::int64_t stride, std::int64_t height, std::int64_t width,
                     int channels, const double* m, int order, FillMode mode, double cval, double scale,
                     double offset, std::int64_t out_height, std::int64_t out_width, float* dst, double* tmp) {
#ifdef __AVX2__
    // Byte offsets are 32-bit lanes: the image must span well under 2 GiB, rows go forward.
    if (stride < width * channels || height < 2 || width < 2) return false;
    if ((height + 1) * stride > (std::int64_t(1) << 30)) return false;
    const Source s{data, stride, height, width};
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
    (void)cval; (void)scale; (void)offset; (void)out_height; (void)out_width; (void)dst; (void)tmp;
    return false;
#endif
}

}  // namespace PYIMGAUG_ISA
}  // namespace pyimgaug
