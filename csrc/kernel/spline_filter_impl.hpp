// The prefilter loops, as scipy.ndimage's spline_filter1d computes them
// (ni_splines.c): per line, a gain, then for each pole a causal and an
// anticausal first-order recursion, each started by a boundary-dependent initial
// value. Every sample goes through the same operations in the same order as in
// scipy, so the coefficients are the doubles scipy computes; we only run many
// lines side by side instead of one at a time. Included by spline.cpp (baseline)
// and spline_avx2.cpp, each inside its own namespace PYIMGAUG_ISA (see isa.hpp);
// element-wise IEEE operations without contraction give the same doubles in both.
#include <cmath>
#include <cstdint>

#include "kernel/spline_filter.hpp"
#include "kernel/types.hpp"

namespace pyimgaug {
namespace PYIMGAUG_ISA {

// Poles of the B-spline prefilter (order / 2 of them), to the digits scipy uses.
static int filter_poles(int order, double* poles) {
    switch (order) {
        case 2: poles[0] = -0.171572875253809902396622551580603843; return 1;  // sqrt(8) - 3
        case 3: poles[0] = -0.267949192431122706472553658494127633; return 1;  // sqrt(3) - 2
        case 4:
            poles[0] = -0.361341225900220177092212841325675255;
            poles[1] = -0.013725429297339121360331226939128204;
            return 2;
        case 5:
            poles[0] = -0.430575347099973791851434783493520110;
            poles[1] = -0.043096288203264653822712376822550182;
            return 2;
        default: return 0;
    }
}

// `count` parallel lines of `n` samples each: sample k of line j is at b[k * step + j].
struct Lines {
    double* b;
    std::int64_t n, step, count;
    double* at(std::int64_t k) const { return b + k * step; }
};

// Causal initial value for scipy's "mirror" boundary (whole-sample symmetric),
// used by fill modes constant and wrap.
static void causal_mirror(const Lines& l, double z) {
    const std::int64_t n = l.n;
    const double z_n_1 = std::pow(z, static_cast<double>(n - 1));
    double* c0 = l.at(0);
    const double* last = l.at(n - 1);
    for (std::int64_t j = 0; j < l.count; ++j) c0[j] = c0[j] + z_n_1 * last[j];
    double z_i = z;
    for (std::int64_t i = 1; i < n - 1; ++i) {
        const double* a = l.at(i);
        const double* b = l.at(n - 1 - i);
        for (std::int64_t j = 0; j < l.count; ++j) c0[j] += z_i * (a[j] + z_n_1 * b[j]);
        z_i *= z;
    }
    const double d = 1 - z_n_1 * z_n_1;
    for (std::int64_t j = 0; j < l.count; ++j) c0[j] /= d;
}

static void anticausal_mirror(const Lines& l, double z) {
    double* last = l.at(l.n - 1);
    const double* prev = l.at(l.n - 2);
    const double d = z * z - 1;
    for (std::int64_t j = 0; j < l.count; ++j) last[j] = (z * prev[j] + last[j]) * z / d;
}

// Causal initial value for scipy's "reflect" boundary (half-sample symmetric),
// used by fill modes reflect and nearest. Like scipy, the last term reads the
// first sample as already updated by this sum (i = n - 1 reads c[0]).
static void causal_reflect(const Lines& l, double z, double* saved) {
    const std::int64_t n = l.n;
    const double z_n = std::pow(z, static_cast<double>(n));
    double* c0 = l.at(0);
    const double* last = l.at(n - 1);
    for (std::int64_t j = 0; j < l.count; ++j) {
        saved[j] = c0[j];
        c0[j] = c0[j] + z_n * last[j];
    }
    double z_i = z;
    for (std::int64_t i = 1; i < n; ++i) {
        const double* a = l.at(i);
        const double* b = l.at(n - 1 - i);
        for (std::int64_t j = 0; j < l.count; ++j) c0[j] += z_i * (a[j] + z_n * b[j]);
        z_i *= z;
    }
    const double f = z / (1 - z_n * z_n);
    for (std::int64_t j = 0; j < l.count; ++j) {
        c0[j] *= f;
        c0[j] += saved[j];
    }
}

static void anticausal_reflect(const Lines& l, double z) {
    double* last = l.at(l.n - 1);
    const double f = z / (z - 1);
    for (std::int64_t j = 0; j < l.count; ++j) last[j] *= f;
}

// The filter's gain, by which every sample is multiplied first.
static double filter_gain(const double* poles, int npoles) {
    double gain = 1.0;
    for (int p = 0; p < npoles; ++p) gain *= (1.0 - poles[p]) * (1.0 - 1.0 / poles[p]);
    return gain;
}

// Filters `l` in place (n >= 2), its samples already multiplied by the gain.
static void filter_lines(const Lines& l, const double* poles, int npoles, bool reflect, double* saved) {
    for (int p = 0; p < npoles; ++p) {
        const double z = poles[p];
        if (reflect)
            causal_reflect(l, z, saved);
        else
            causal_mirror(l, z);
        for (std::int64_t k = 1; k < l.n; ++k) {
            double* c = l.at(k);
            const double* prev = l.at(k - 1);
            for (std::int64_t j = 0; j < l.count; ++j) c[j] += z * prev[j];
        }
        if (reflect)
            anticausal_reflect(l, z);
        else
            anticausal_mirror(l, z);
        for (std::int64_t k = l.n - 2; k >= 0; --k) {
            double* c = l.at(k);
            const double* next = l.at(k + 1);
            for (std::int64_t j = 0; j < l.count; ++j) c[j] = z * (next[j] - c[j]);
        }
    }
}

// Copies the image into the coefficient array as doubles times the gain of the
// axis-0 filter (its first step, fused), padding `pad` edge pixels on every side
// (NumPy's pad mode "edge").
template <typename T>
static void load(const unsigned char* src, std::int64_t src_stride, std::int64_t h, std::int64_t w, int channels, int pad,
                 double gain, double* out) {
    const std::int64_t rows = h + 2 * pad, cols = w + 2 * pad, row_len = cols * channels;
    const std::int64_t inner = w * channels;
    for (std::int64_t y = 0; y < rows; ++y) {
        const std::int64_t sy = y < pad ? 0 : (y - pad >= h ? h - 1 : y - pad);
        const T* in = reinterpret_cast<const T*>(src + sy * src_stride);
        double* o = out + y * row_len;
        double* mid = o + pad * channels;
        for (std::int64_t i = 0; i < inner; ++i) mid[i] = static_cast<double>(in[i]) * gain;
        for (std::int64_t x = 0; x < pad; ++x) {
            for (int c = 0; c < channels; ++c) {
                o[x * channels + c] = mid[c];
                mid[inner + x * channels + c] = mid[inner - channels + c];
            }
        }
    }
}

// Block transposes for the axis-1 pass: rows [y0, y0 + nb) of the coefficient
// array to and from `tile`, where sample x of line (b, c) sits at x * nb*C + b*C + c.
// (to_tile also multiplies by the gain of the axis-1 filter, its first step.)
template <int C>
static void to_tile(const double* coeffs, std::int64_t row_len, std::int64_t cols, std::int64_t nb, double gain,
                    double* tile) {
    const std::int64_t width = nb * C;
    for (std::int64_t b = 0; b < nb; ++b) {
        const double* in = coeffs + b * row_len;
        double* t = tile + b * C;
        for (std::int64_t x = 0; x < cols; ++x)
            for (int c = 0; c < C; ++c) t[x * width + c] = in[x * C + c] * gain;
    }
}

template <int C>
static void from_tile(const double* tile, std::int64_t row_len, std::int64_t cols, std::int64_t nb, double* coeffs) {
    const std::int64_t width = nb * C;
    for (std::int64_t b = 0; b < nb; ++b) {
        double* out = coeffs + b * row_len;
        const double* t = tile + b * C;
        for (std::int64_t x = 0; x < cols; ++x)
            for (int c = 0; c < C; ++c) out[x * C + c] = t[x * width + c];
    }
}

static void tile_in(const double* coeffs, std::int64_t row_len, std::int64_t cols, std::int64_t nb, int channels,
                    double gain, double* tile) {
    switch (channels) {
        case 1: to_tile<1>(coeffs, row_len, cols, nb, gain, tile); break;
        case 3: to_tile<3>(coeffs, row_len, cols, nb, gain, tile); break;
        default: to_tile<4>(coeffs, row_len, cols, nb, gain, tile); break;
    }
}

static void tile_out(const double* tile, std::int64_t row_len, std::int64_t cols, std::int64_t nb, int channels,
                     double* coeffs) {
    switch (channels) {
        case 1: from_tile<1>(tile, row_len, cols, nb, coeffs); break;
        case 3: from_tile<3>(tile, row_len, cols, nb, coeffs); break;
        default: from_tile<4>(tile, row_len, cols, nb, coeffs); break;
    }
}

// Writes the coefficients of `src` into `coeffs` (spline::coefficient_shape);
// `lines` holds spline::filter_scratch_doubles(cols, channels) doubles.
void prefilter_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t h, std::int64_t w, DType dtype,
                     int channels, int order, FillMode mode, double* coeffs, double* lines) {
    const int pad = spline::prepad_of(mode);
    double poles[2];
    const int npoles = filter_poles(order, poles);
    const double gain = filter_gain(poles, npoles);
    const std::int64_t rows = h + 2 * pad, cols = w + 2 * pad, row_len = cols * channels;
    // scipy leaves an axis of length 1 unfiltered (no gain either).
    const double gain0 = rows > 1 && npoles > 0 ? gain : 1.0;
    switch (dtype) {
        case DType::U8: load<std::uint8_t>(src, src_stride, h, w, channels, pad, gain0, coeffs); break;
        case DType::U16: load<std::uint16_t>(src, src_stride, h, w, channels, pad, gain0, coeffs); break;
        case DType::F32: load<float>(src, src_stride, h, w, channels, pad, gain0, coeffs); break;
        case DType::F64: load<double>(src, src_stride, h, w, channels, pad, gain0, coeffs); break;
    }
    if (npoles == 0) return;
    // scipy's boundary for the filter: reflect for nearest (after prepadding) and
    // reflect, mirror for constant and wrap.
    const bool reflect = mode == FillMode::Nearest || mode == FillMode::Reflect;
    if (rows > 1) {
        // Axis 0: the columns of all channels side by side (contiguous lines), in
        // strips narrow enough that each strip's passes stay in the L1 cache.
        constexpr std::int64_t kStrip = spline::kFilterStrip;
        for (std::int64_t j0 = 0; j0 < row_len; j0 += kStrip) {
            const std::int64_t width = row_len - j0 < kStrip ? row_len - j0 : kStrip;
            filter_lines(Lines{coeffs + j0, rows, row_len, width}, poles, npoles, reflect, lines);
        }
    }
    if (cols > 1) {
        // Axis 1: a block of up to kBlock rows is transposed so that its lines
        // are contiguous too, filtered, and transposed back.
        constexpr std::int64_t kBlock = spline::kFilterBlock;
        const std::int64_t block_len = kBlock * channels;
        double* tile = lines;
        double* saved = tile + cols * block_len;
        for (std::int64_t y0 = 0; y0 < rows; y0 += kBlock) {
            const std::int64_t nb = rows - y0 < kBlock ? rows - y0 : kBlock;
            const std::int64_t width = nb * channels;  // parallel lines in this block
            tile_in(coeffs + y0 * row_len, row_len, cols, nb, channels, gain, tile);
            filter_lines(Lines{tile, cols, width, width}, poles, npoles, reflect, saved);
            tile_out(tile, row_len, cols, nb, channels, coeffs + y0 * row_len);
        }
    }
}

}  // namespace PYIMGAUG_ISA
}  // namespace pyimgaug
