// Hot loop of the spline warp (orders 2-5). Included by spline.cpp (baseline ISA)
// and spline_avx2.cpp (-mavx2 -mfma), each inside its own namespace PYIMGAUG_ISA
// (see isa.hpp). Without FP contraction both copies compute the same doubles.
#include <cstdint>
#include <cstring>

#include "kernel/spline_weights.hpp"
#include "kernel/types.hpp"

// Lane4 values are passed between static functions of this translation unit
// only, so GCC's note that their ABI differs without AVX is moot here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace pyimgaug {
namespace PYIMGAUG_ISA {

// Four doubles, operated on lane by lane with IEEE arithmetic (each lane's result
// is exactly the scalar one). GCC and Clang map it onto SSE2 or AVX registers.
#if defined(__GNUC__) || defined(__clang__)
typedef double Lane4 __attribute__((vector_size(32)));
#else
struct Lane4 {
    double v[4];
    double& operator[](int i) { return v[i]; }
    double operator[](int i) const { return v[i]; }
};
static inline Lane4 operator*(Lane4 a, Lane4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] *= b.v[i];
    return a;
}
static inline Lane4 operator+(Lane4 a, Lane4 b) {
    for (int i = 0; i < 4; ++i) a.v[i] += b.v[i];
    return a;
}
#endif

static inline Lane4 load4(const double* p) {
    Lane4 v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

static inline Lane4 splat4(double x) {
    Lane4 v;
    for (int i = 0; i < 4; ++i) v[i] = x;
    return v;
}

// Per-row scratch of the spline loop, structure of arrays over output columns.
struct SplineRow {
    std::int64_t* ty;      // (ORDER+1) row taps per column, as offsets into the coefficients
    std::int64_t* tx;      // (ORDER+1) column taps per column, as offsets within a row
    std::int64_t* inside;  // 0: the pixel is cval
    double* cy;            // the coordinates the weights are computed from
    double* cx;
    double* wy;  // weights: wy[k * n + c] is the k-th row weight of column c
    double* wx;
};

// The weights of `n` coordinates, weight k of coordinate c at w[k * n + c]. A
// plain loop over arrays, so that the compiler can vectorise it (the divisions
// dominate otherwise); the arithmetic per coordinate is unchanged.
template <int ORDER>
static void weights_of(const double* cc, std::int64_t n, double* w) {
    for (std::int64_t c = 0; c < n; ++c) spline::weights<ORDER>(cc[c], w + c, n);
}

// Accumulation for 3 or 4 channels: one Lane4 holds a pixel's channels (for 3,
// the fourth lane reads the next sample and is ignored; the coefficient array
// has a spare double at its end), and P pixels are summed side by side so that
// their independent chains of additions overlap. Per channel, the sum is
// scipy's: for each row tap i, for each column tap j, acc += (coef * wy[i]) * wx[j].
template <int ORDER, int C, int P>
static inline void accumulate_channels(const double* coeffs, const SplineRow& s, std::int64_t n, std::int64_t c,
                                       double* out) {
    constexpr int K = ORDER + 1;
    Lane4 acc[P];
    for (int q = 0; q < P; ++q) acc[q] = splat4(0.0);
    for (int i = 0; i < K; ++i) {
        const double* line[P];
        Lane4 wyi[P];
        for (int q = 0; q < P; ++q) {
            line[q] = coeffs + s.ty[(c + q) * K + i];
            wyi[q] = splat4(s.wy[i * n + c + q]);
        }
        for (int j = 0; j < K; ++j) {
            for (int q = 0; q < P; ++q) {
                const Lane4 v = load4(line[q] + s.tx[(c + q) * K + j]);
                acc[q] = acc[q] + (v * wyi[q]) * splat4(s.wx[j * n + c + q]);
            }
        }
    }
    for (int q = 0; q < P; ++q)
        for (int ch = 0; ch < C; ++ch) out[(c + q) * C + ch] = acc[q][ch];
}

// Accumulation for 1 channel: one Lane4 holds four neighbouring pixels, two of
// them side by side; same order of operations per pixel.
template <int ORDER>
static inline void accumulate_gray8(const double* coeffs, const SplineRow& s, std::int64_t n, std::int64_t c,
                                    double* out) {
    constexpr int K = ORDER + 1;
    Lane4 acc[2] = {splat4(0.0), splat4(0.0)};
    for (int i = 0; i < K; ++i) {
        const Lane4 wyi[2] = {load4(s.wy + i * n + c), load4(s.wy + i * n + c + 4)};
        for (int j = 0; j < K; ++j) {
            const Lane4 wxj[2] = {load4(s.wx + j * n + c), load4(s.wx + j * n + c + 4)};
            for (int h = 0; h < 2; ++h) {
                Lane4 v;
                for (int q = 0; q < 4; ++q) {
                    const std::int64_t px = c + 4 * h + q;
                    v[q] = coeffs[s.ty[px * K + i] + s.tx[px * K + j]];
                }
                acc[h] = acc[h] + (v * wyi[h]) * wxj[h];
            }
        }
    }
    for (int h = 0; h < 2; ++h)
        for (int q = 0; q < 4; ++q) out[c + 4 * h + q] = acc[h][q];
}

template <int ORDER>
static inline void accumulate_gray1(const double* coeffs, const SplineRow& s, std::int64_t n, std::int64_t c,
                                    double* out) {
    constexpr int K = ORDER + 1;
    double acc = 0.0;
    for (int i = 0; i < K; ++i) {
        const double wyi = s.wy[i * n + c];
        for (int j = 0; j < K; ++j) acc += (coeffs[s.ty[c * K + i] + s.tx[c * K + j]] * wyi) * s.wx[j * n + c];
    }
    out[c] = acc;
}

// Output columns [0, n) of row r, as doubles: for each pixel, the sum over the
// (ORDER+1)^2 coefficient taps of coefficient * row weight * column weight.
// The fill mode is a template argument so that each mode's tap mapping compiles
// to straight-line code.
template <int ORDER, int C, FillMode MODE>
static void spline_row(const double* coeffs, std::int64_t rows, std::int64_t cols, int npad, const double* m,
                       std::int64_t r, std::int64_t n, double cval, const SplineRow& s, double* out) {
    constexpr int K = ORDER + 1;
    const std::int64_t row_len = cols * C;
    const double ry = m[2] + static_cast<double>(r) * m[0];
    const double rx = m[5] + static_cast<double>(r) * m[3];
    bool any_outside = false;
    for (std::int64_t c = 0; c < n; ++c) {
        // The source coordinate exactly as scipy forms it: (shift + r*m0) + c*m1.
        const double yy = ry + static_cast<double>(c) * m[1];
        const double xx = rx + static_cast<double>(c) * m[4];
        std::int64_t* ty = s.ty + c * K;
        std::int64_t* tx = s.tx + c * K;
        const bool inside = spline::axis_taps<ORDER>(yy, rows, npad, MODE, row_len, ty, s.cy[c]) &&
                            spline::axis_taps<ORDER>(xx, cols, npad, MODE, C, tx, s.cx[c]);
        s.inside[c] = inside;
        if (!inside) {
            // A cval pixel: harmless taps and weights, its sum is discarded below.
            any_outside = true;
            s.cy[c] = s.cx[c] = 0.0;
            for (int k = 0; k < K; ++k) ty[k] = tx[k] = 0;
        }
    }
    weights_of<ORDER>(s.cy, n, s.wy);
    weights_of<ORDER>(s.cx, n, s.wx);
    std::int64_t c = 0;
    if (C == 1) {
        for (; c + 8 <= n; c += 8) accumulate_gray8<ORDER>(coeffs, s, n, c, out);
        for (; c < n; ++c) accumulate_gray1<ORDER>(coeffs, s, n, c, out);
    } else {
        for (; c + 4 <= n; c += 4) accumulate_channels<ORDER, C, 4>(coeffs, s, n, c, out);
        for (; c < n; ++c) accumulate_channels<ORDER, C, 1>(coeffs, s, n, c, out);
    }
    if (any_outside)
        for (c = 0; c < n; ++c)
            if (!s.inside[c])
                for (int ch = 0; ch < C; ++ch) out[c * C + ch] = cval;
}

template <int ORDER, int C>
static void spline_row_m(const double* coeffs, std::int64_t rows, std::int64_t cols, int npad, const double* m,
                         std::int64_t r, std::int64_t n, FillMode mode, double cval, const SplineRow& s, double* out) {
    switch (mode) {
        case FillMode::Constant:
            spline_row<ORDER, C, FillMode::Constant>(coeffs, rows, cols, npad, m, r, n, cval, s, out);
            break;
        case FillMode::Nearest:
            spline_row<ORDER, C, FillMode::Nearest>(coeffs, rows, cols, npad, m, r, n, cval, s, out);
            break;
        case FillMode::Reflect:
            spline_row<ORDER, C, FillMode::Reflect>(coeffs, rows, cols, npad, m, r, n, cval, s, out);
            break;
        case FillMode::Wrap: spline_row<ORDER, C, FillMode::Wrap>(coeffs, rows, cols, npad, m, r, n, cval, s, out); break;
    }
}

template <int ORDER>
static void spline_row_c(const double* coeffs, std::int64_t rows, std::int64_t cols, int channels, int npad,
                         const double* m, std::int64_t r, std::int64_t n, FillMode mode, double cval,
                         std::int64_t* taps, double* scratch, double* out) {
    constexpr int K = ORDER + 1;
    // Carve the per-row arrays out of the scratch (spline_entries.hpp gives the sizes).
    SplineRow s;
    s.ty = taps;
    s.tx = s.ty + K * n;
    s.inside = s.tx + K * n;
    s.cy = scratch;
    s.cx = s.cy + n;
    s.wy = s.cx + n;
    s.wx = s.wy + K * n;
    switch (channels) {
        case 1: spline_row_m<ORDER, 1>(coeffs, rows, cols, npad, m, r, n, mode, cval, s, out); break;
        case 3: spline_row_m<ORDER, 3>(coeffs, rows, cols, npad, m, r, n, mode, cval, s, out); break;
        case 4: spline_row_m<ORDER, 4>(coeffs, rows, cols, npad, m, r, n, mode, cval, s, out); break;
        default: break;
    }
}

// `taps` and `scratch` hold spline_row_taps(out_width) integers and
// spline_row_doubles(out_width) doubles (spline_entries.hpp).
void spline_row_entry(const double* coeffs, std::int64_t rows, std::int64_t cols, int channels, int order, int npad,
                      const double* m, std::int64_t r, std::int64_t out_width, FillMode mode, double cval,
                      std::int64_t* taps, double* scratch, double* out) {
    switch (order) {
        case 2: spline_row_c<2>(coeffs, rows, cols, channels, npad, m, r, out_width, mode, cval, taps, scratch, out); break;
        case 3: spline_row_c<3>(coeffs, rows, cols, channels, npad, m, r, out_width, mode, cval, taps, scratch, out); break;
        case 4: spline_row_c<4>(coeffs, rows, cols, channels, npad, m, r, out_width, mode, cval, taps, scratch, out); break;
        case 5: spline_row_c<5>(coeffs, rows, cols, channels, npad, m, r, out_width, mode, cval, taps, scratch, out); break;
        default: break;
    }
}

}  // namespace PYIMGAUG_ISA
}  // namespace pyimgaug

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
