#include "kernel/coeffs.hpp"

#include <cmath>
#include <cstddef>
#include <cstring>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif

namespace pyimgaug {
namespace {

constexpr double kPi = 3.14159265358979323846;

double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow writes Hamming's window constants as float literals (0.54f, 0.46f), which C
// widens to double: 0.540000021..., 0.460000008... Doubles 0.54 and 0.46 move a few
// weights by one 22-bit fixed-point unit, and a few 8-bit samples by one level.
constexpr double k054 = static_cast<double>(0.54f), k046 = static_cast<double>(0.46f);

double hamming_filter(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * kPi;
    return std::sin(x) / x * (k054 + k046 * std::cos(x));
}

double bicubic_filter(double x) {
    // Keys' cubic with a = -0.5, as in Pillow.
    const double a = -0.5;
    if (x < 0.0) x = -x;
    if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

double sinc_filter(double x) {
    if (x == 0.0) return 1.0;
    x = x * kPi;
    return std::sin(x) / x;
}

double lanczos_filter(double x) {
    // Truncated sinc; Pillow's support is 3.
    if (-3.0 <= x && x < 3.0) return sinc_filter(x) * sinc_filter(x / 3.0);
    return 0.0;
}

// sin(pi t) and cos(pi t), within 6e-16 of the true values for |t| <= 3, with no
// libm call: n, the integer nearest 2t (rounded by adding and subtracting 1.5 *
// 2^52, which needs |2t| < 2^51), leaves r = t - n/2 in [-1/4, 1/4], exactly (r is
// a multiple of t's last place); then Taylor series in z = pi r, |z| <= pi/4, whose
// first omitted terms are below 5e-17. The sums' bit pattern holds n + 2^51 in its
// low mantissa bits, so its last two bits are n mod 4, the quadrant.
constexpr double kRoundToInt = 6755399441055744.0;  // 1.5 * 2^52
constexpr double kSin[] = {-1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800, 1.0 / 6227020800.0,
                           -1.0 / 1307674368000.0};
constexpr double kCos[] = {-1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800, 1.0 / 479001600.0,
                           -1.0 / 87178291200.0, 1.0 / 20922789888000.0};

inline void sincos_pi(double t, double& s, double& c) {
    const double shifted = 2.0 * t + kRoundToInt;
    const double n = shifted - kRoundToInt;
    const double z = (t - 0.5 * n) * kPi, z2 = z * z;
    double ps = kSin[6], pc = kCos[7];
    for (int i = 5; i >= 0; --i) ps = ps * z2 + kSin[i];
    for (int i = 6; i >= 0; --i) pc = pc * z2 + kCos[i];
    const double sz = z + z * z2 * ps, cz = 1.0 + z2 * pc;
    std::uint64_t bits;
    std::memcpy(&bits, &shifted, 8);
    const unsigned q = static_cast<unsigned>(bits & 3);  // sin(z + q pi/2), cos(z + q pi/2)
    s = ((q & 2) ? -1.0 : 1.0) * ((q & 1) ? cz : sz);
    c = (((q + 1) & 2) ? -1.0 : 1.0) * ((q & 1) ? sz : cz);
}

// sin(pi t) alone (Lanczos needs no cosine): n, the integer nearest t, leaves
// r = t - n in [-1/2, 1/2], exactly, and sin(pi t) = (-1)^n sin(pi r); Taylor series
// in z = pi r, |z| <= pi/2, to z^21 (the first omitted term is below 2e-18).
constexpr double kSinWide[] = {-1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800,
                               1.0 / 6227020800.0, -1.0 / 1307674368000.0, 1.0 / 355687428096000.0,
                               -1.0 / 121645100408832000.0, 1.0 / 51090942171709440000.0};

inline double sin_pi(double t) {
    const double shifted = t + kRoundToInt;
    const double n = shifted - kRoundToInt;
    const double z = (t - n) * kPi, z2 = z * z;
    double p = kSinWide[9];
    for (int i = 8; i >= 0; --i) p = p * z2 + kSinWide[i];
    std::uint64_t bits;
    std::memcpy(&bits, &shifted, 8);
    const double sz = z + z * z2 * p;
    return (bits & 1) ? -sz : sz;
}

// The two filters that call sin(), written to be cheap: sin_pi / sincos_pi for sin(x * pi),
// x * (1/3) for x / 3, and one division per weight, sinc(x) sinc(x/3) =
// sin(pi x) sin(pi x/3) / (x (x/3) pi^2). The weights are within kFastWeightError of
// Pillow's, which fill_axis_fixed_fast uses to prove that every fixed-point weight
// still rounds to Pillow's.
inline double lanczos_weight_fast(double x) {
    if (!(-3.0 <= x && x < 3.0)) return 0.0;
    if (x == 0.0) return 1.0;
    const double x3 = x * (1.0 / 3.0);
    return (sin_pi(x) * sin_pi(x3)) / (x * x3 * (kPi * kPi));
}

inline double hamming_weight_fast(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    double s, c;
    sincos_pi(x, s, c);
    return s / (x * kPi) * (k054 + k046 * c);
}

// A bound on |fast weight - Pillow's weight|. sincos_pi and sin_pi are within 6e-16
// of sin(pi t); Pillow's sin(x * pi) is of the rounded product, within 1.1e-15 of
// sin(pi t) for |t| <= 3 (libm's own error, under an ulp, included); x * (1/3) is
// within an ulp of x / 3, which moves sin(pi x/3) by under 7e-16. Each sinc factor
// is then within about 2.5e-15 of Pillow's (divided by |x pi| >= pi/4 once the
// reduction moves, else, for small x, relatively within a few ulps), the product,
// regrouped under one division, within 6e-15. Three times that, for margin.
constexpr double kFastWeightError = 2e-14;

#if defined(__SSE2__) || defined(_M_X64)
#define PYIMGAUG_COEFFS_SSE2 1
// sincos_pi on two lanes (SSE2, the x86-64 baseline): the same operations.
inline void sincos_pi2(__m128d t, __m128d& s, __m128d& c) {
    const __m128d round = _mm_set1_pd(kRoundToInt);
    const __m128d shifted = _mm_add_pd(_mm_mul_pd(_mm_set1_pd(2.0), t), round);
    const __m128d n = _mm_sub_pd(shifted, round);
    const __m128d z = _mm_mul_pd(_mm_sub_pd(t, _mm_mul_pd(_mm_set1_pd(0.5), n)), _mm_set1_pd(kPi));
    const __m128d z2 = _mm_mul_pd(z, z);
    __m128d ps = _mm_set1_pd(kSin[6]), pc = _mm_set1_pd(kCos[7]);
    for (int i = 5; i >= 0; --i) ps = _mm_add_pd(_mm_mul_pd(ps, z2), _mm_set1_pd(kSin[i]));
    for (int i = 6; i >= 0; --i) pc = _mm_add_pd(_mm_mul_pd(pc, z2), _mm_set1_pd(kCos[i]));
    const __m128d sz = _mm_add_pd(z, _mm_mul_pd(_mm_mul_pd(z, z2), ps));
    const __m128d cz = _mm_add_pd(_mm_set1_pd(1.0), _mm_mul_pd(z2, pc));
    const __m128i q = _mm_castpd_si128(shifted);
    const __m128i one = _mm_set1_epi64x(1);
    const __m128d odd = _mm_castsi128_pd(_mm_sub_epi64(_mm_setzero_si128(), _mm_and_si128(q, one)));
    const __m128i sign_bit = _mm_set1_epi64x(static_cast<long long>(0x8000000000000000ull));
    const __m128d sign_s = _mm_castsi128_pd(_mm_and_si128(_mm_slli_epi64(q, 62), sign_bit));
    const __m128d sign_c = _mm_castsi128_pd(_mm_and_si128(_mm_slli_epi64(_mm_add_epi64(q, one), 62), sign_bit));
    s = _mm_xor_pd(_mm_or_pd(_mm_and_pd(odd, cz), _mm_andnot_pd(odd, sz)), sign_s);
    c = _mm_xor_pd(_mm_or_pd(_mm_and_pd(odd, sz), _mm_andnot_pd(odd, cz)), sign_c);
}

// sin_pi on two lanes: the same operations.
inline __m128d sin_pi2(__m128d t) {
    const __m128d round = _mm_set1_pd(kRoundToInt);
    const __m128d shifted = _mm_add_pd(t, round);
    const __m128d z = _mm_mul_pd(_mm_sub_pd(t, _mm_sub_pd(shifted, round)), _mm_set1_pd(kPi));
    const __m128d z2 = _mm_mul_pd(z, z);
    __m128d p = _mm_set1_pd(kSinWide[9]);
    for (int i = 8; i >= 0; --i) p = _mm_add_pd(_mm_mul_pd(p, z2), _mm_set1_pd(kSinWide[i]));
    const __m128d sz = _mm_add_pd(z, _mm_mul_pd(_mm_mul_pd(z, z2), p));
    // n odd: flip the sign (bit 0 of the shifted sum's bit pattern, moved to bit 63).
    return _mm_xor_pd(sz, _mm_castsi128_pd(_mm_slli_epi64(_mm_castpd_si128(shifted), 63)));
}

inline __m128d select(__m128d mask, __m128d yes, __m128d no) {
    return _mm_or_pd(_mm_and_pd(mask, yes), _mm_andnot_pd(mask, no));
}

inline __m128d lanczos_weight_fast2(__m128d x) {
    const __m128d x3 = _mm_mul_pd(x, _mm_set1_pd(1.0 / 3.0));
    const __m128d w = _mm_div_pd(_mm_mul_pd(sin_pi2(x), sin_pi2(x3)),
                                 _mm_mul_pd(_mm_mul_pd(x, x3), _mm_set1_pd(kPi * kPi)));
    const __m128d inside = _mm_and_pd(_mm_cmple_pd(_mm_set1_pd(-3.0), x), _mm_cmplt_pd(x, _mm_set1_pd(3.0)));
    return _mm_and_pd(inside, select(_mm_cmpeq_pd(x, _mm_setzero_pd()), _mm_set1_pd(1.0), w));
}

inline __m128d hamming_weight_fast2(__m128d x) {
    x = _mm_andnot_pd(_mm_set1_pd(-0.0), x);  // |x|
    __m128d s, c;
    sincos_pi2(x, s, c);
    const __m128d w = _mm_mul_pd(_mm_div_pd(s, _mm_mul_pd(x, _mm_set1_pd(kPi))),
                                 _mm_add_pd(_mm_set1_pd(k054), _mm_mul_pd(_mm_set1_pd(k046), c)));
    const __m128d below_one = _mm_cmplt_pd(x, _mm_set1_pd(1.0));
    return _mm_and_pd(below_one, select(_mm_cmpeq_pd(x, _mm_setzero_pd()), _mm_set1_pd(1.0), w));
}
#endif

// Fast weights of the filter at the n positions `x`, two at a time where SSE2 is there.
template <bool Lanczos>
void fast_weights(const double* x, std::int64_t n, double* w) {
    std::int64_t i = 0;
#ifdef PYIMGAUG_COEFFS_SSE2
    for (; i + 2 <= n; i += 2) {
        const __m128d v = _mm_loadu_pd(x + i);
        _mm_storeu_pd(w + i, Lanczos ? lanczos_weight_fast2(v) : hamming_weight_fast2(v));
    }
#endif
    for (; i < n; ++i) w[i] = Lanczos ? lanczos_weight_fast(x[i]) : hamming_weight_fast(x[i]);
}

// Pillow's support of each filter, in input pixels at scale 1.
double filter_support(Filter f) {
    switch (f) {
        case Filter::Box: return 0.5;
        case Filter::Bilinear: return 1.0;
        case Filter::Hamming: return 1.0;
        case Filter::Bicubic: return 2.0;
        case Filter::Lanczos: return 3.0;
        case Filter::Nearest: break;
    }
    return 1.0;
}

}  // namespace

namespace {

// Output xx's window, as Pillow computes it: first tap and tap count.
inline void axis_window(std::int64_t xx, std::int64_t in_size, double in0, double scale, double support, int ksize,
                        double& center, std::int64_t& xmin, std::int64_t& count) {
    center = in0 + (static_cast<double>(xx) + 0.5) * scale;
    // Pillow rounds the window edges by truncation after adding 0.5.
    xmin = static_cast<std::int64_t>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    std::int64_t xmax = static_cast<std::int64_t>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    if (xmax > ksize) xmax = ksize;  // cannot happen with Pillow's arithmetic; keeps tables in bounds
    if (xmax < 0) xmax = 0;
    count = xmax;
}

// Pillow's normalisation and 8-bit fixed point of one output's weights `k`.
inline void to_fixed(double* k, std::int64_t n, double ww, std::int32_t* kf) {
    for (std::int64_t x = 0; x < n; ++x) {
        if (ww != 0.0) k[x] /= ww;
    }
    for (std::int64_t x = 0; x < n; ++x) {
        const double v = k[x] * static_cast<double>(1 << kPrecisionBits);
        kf[x] = static_cast<std::int32_t>(k[x] < 0 ? -0.5 + v : 0.5 + v);
    }
}

// One output's weights with filter Fn, exactly as Pillow computes them.
template <double (*Fn)(double)>
inline void exact_row(std::int64_t xmin, std::int64_t n, double center, double ss, double* k, std::int32_t* kf) {
    double ww = 0.0;
    for (std::int64_t x = 0; x < n; ++x) {
        const double w = Fn((static_cast<double>(x + xmin) - center + 0.5) * ss);
        k[x] = w;
        ww += w;
    }
    to_fixed(k, n, ww, kf);
}

// The weight loop, instantiated per filter so that the filter function is inlined
// (the same operations in the same order: inlining changes no value).
template <double (*Fn)(double)>
void fill_axis_weights(std::int64_t in_size, double in0, double scale, double filterscale, double support, int ksize,
                       AxisCoeffs& out) {
    const double ss = 1.0 / filterscale;
    for (std::int64_t xx = 0; xx < out.out_size; ++xx) {
        double center;
        std::int64_t xmin, n;
        axis_window(xx, in_size, in0, scale, support, ksize, center, xmin, n);
        exact_row<Fn>(xmin, n, center, ss, &out.weights[static_cast<std::size_t>(xx) * ksize],
                      &out.fixed[static_cast<std::size_t>(xx) * ksize]);
        out.first[static_cast<std::size_t>(xx)] = static_cast<int>(xmin);
        out.count[static_cast<std::size_t>(xx)] = static_cast<int>(n);
    }
}

// The 8-bit table alone (no double weights) for a filter that calls sin(): weights
// from Fast (no libm), then a proof per output that each fixed-point weight is the
// one Pillow's weights give. The fast weights are within kFastWeightError of
// Pillow's; carried through the sum ww (same order, each partial sum rounding at
// most an ulp differently), the division and the scaling by 2^22, that bounds how
// far each scaled weight v = k * 2^22 can be from Pillow's. Pillow's weight is
// trunc(v +- 0.5), which is the same for every v in an interval with no half-integer
// (nor 0, where the sign flips) within the bound; otherwise, or when the sum is
// near 0, the output's weights are computed again with Exact (sin() and all). On
// photographs' sizes about one output in a hundred thousand is.
template <bool Lanczos, double (*Exact)(double)>
void fill_axis_fixed_fast(std::int64_t in_size, double in0, double scale, double filterscale, double support,
                          int ksize, AxisCoeffs& out) {
    const double ss = 1.0 / filterscale;
    const double two22 = static_cast<double>(1 << kPrecisionBits);
    std::vector<double> k(static_cast<std::size_t>(ksize)), at(static_cast<std::size_t>(ksize));
    for (std::int64_t xx = 0; xx < out.out_size; ++xx) {
        double center;
        std::int64_t xmin, n;
        axis_window(xx, in_size, in0, scale, support, ksize, center, xmin, n);
        std::int32_t* kf = &out.fixed[static_cast<std::size_t>(xx) * ksize];
        out.first[static_cast<std::size_t>(xx)] = static_cast<int>(xmin);
        out.count[static_cast<std::size_t>(xx)] = static_cast<int>(n);
        for (std::int64_t x = 0; x < n; ++x)
            at[static_cast<std::size_t>(x)] = (static_cast<double>(x + xmin) - center + 0.5) * ss;
        fast_weights<Lanczos>(at.data(), n, k.data());
        double ww = 0.0, sum_abs = 0.0;
        for (std::int64_t x = 0; x < n; ++x) {
            ww += k[static_cast<std::size_t>(x)];
            sum_abs += std::fabs(k[static_cast<std::size_t>(x)]);
        }
        const double taps = static_cast<double>(n);
        // |ww' - ww|: the weights' errors plus an ulp of every partial sum.
        const double sum_error = taps * kFastWeightError + taps * 0x1p-52 * sum_abs;
        bool proven = n > 0 && std::fabs(ww) > 4.0 * sum_error && std::fabs(ww) > 1e-3;
        if (proven) {
            // |k' - k| <= (|w' - w| + |k'| |ww' - ww|) / |ww|, with |ww| >= |ww'| / 2 here,
            // plus an ulp of each quotient; |k'| <= sum_abs / |ww'|. Doubled again.
            const double k_bound = 2.0 * (kFastWeightError + sum_abs / std::fabs(ww) * sum_error) * 2.0 / std::fabs(ww) +
                                   4.0 * 0x1p-52 * sum_abs / std::fabs(ww);
            const double margin = 2.0 * two22 * k_bound + 0x1p-20;
            to_fixed(k.data(), n, ww, kf);
            for (std::int64_t x = 0; x < n && proven; ++x) {
                const double v = k[static_cast<std::size_t>(x)] * two22;
                // Distance to the nearest half-integer (where trunc(v +- 0.5) steps).
                const double g = v + 0.5;
                proven = std::fabs(g - std::floor(g + 0.5)) > margin;
            }
        }
        if (!proven) {
            exact_row<Exact>(xmin, n, center, ss, k.data(), kf);
            ++out.rows_recomputed;
        }
    }
}

}  // namespace

bool build_axis_coeffs(std::int64_t in_size, std::int64_t out_size, Filter filter, AxisCoeffs& out,
                       bool fixed_only) {
    // Pillow passes the box edges as floats; the scale is computed in double from them.
    const double in0 = 0.0, in1 = static_cast<double>(static_cast<float>(in_size));
    double scale = (in1 - in0) / static_cast<double>(out_size);
    double filterscale = scale < 1.0 ? 1.0 : scale;
    const double support = filter_support(filter) * filterscale;
    const double ksize_d = std::ceil(support) * 2.0 + 1.0;
    // Tables beyond 2^26 entries (a reduction of ~10^7 to 1) are refused, not allocated.
    if (!(ksize_d < 134217728.0) || static_cast<double>(out_size) * ksize_d > 67108864.0) return false;
    const int ksize = static_cast<int>(ksize_d);

    out.out_size = out_size;
    out.ksize = ksize;
    out.first.assign(static_cast<std::size_t>(out_size), 0);
    out.count.assign(static_cast<std::size_t>(out_size), 0);
    out.fixed.assign(static_cast<std::size_t>(out_size) * ksize, 0);
    out.rows_recomputed = 0;
    if (fixed_only && (filter == Filter::Lanczos || filter == Filter::Hamming)) {
        out.weights.clear();
        if (filter == Filter::Lanczos)
            fill_axis_fixed_fast<true, lanczos_filter>(in_size, in0, scale, filterscale, support, ksize, out);
        else
            fill_axis_fixed_fast<false, hamming_filter>(in_size, in0, scale, filterscale, support, ksize, out);
        return true;
    }
    out.weights.assign(static_cast<std::size_t>(out_size) * ksize, 0.0);

    switch (filter) {
        case Filter::Box: fill_axis_weights<box_filter>(in_size, in0, scale, filterscale, support, ksize, out); break;
        case Filter::Bilinear: fill_axis_weights<bilinear_filter>(in_size, in0, scale, filterscale, support, ksize, out); break;
        case Filter::Hamming: fill_axis_weights<hamming_filter>(in_size, in0, scale, filterscale, support, ksize, out); break;
        case Filter::Bicubic: fill_axis_weights<bicubic_filter>(in_size, in0, scale, filterscale, support, ksize, out); break;
        case Filter::Lanczos: fill_axis_weights<lanczos_filter>(in_size, in0, scale, filterscale, support, ksize, out); break;
        case Filter::Nearest: return false;
    }
    return true;
}

namespace {

// Least recently used tables first out, past kCacheBytes of tables (a table for a
// 4000-pixel side reduced to 128 is about 0.3 MB; a usual one 40 kB).
constexpr std::size_t kCacheBytes = std::size_t{32} << 20;

struct CacheKey {
    std::int64_t in_size, out_size;
    int filter;
    bool fixed_only;
    bool operator==(const CacheKey& o) const {
        return in_size == o.in_size && out_size == o.out_size && filter == o.filter && fixed_only == o.fixed_only;
    }
};

struct CacheKeyHash {
    std::size_t operator()(const CacheKey& k) const {
        std::uint64_t h = static_cast<std::uint64_t>(k.in_size) * 0x9E3779B97F4A7C15ull;
        h ^= static_cast<std::uint64_t>(k.out_size) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
        h ^= static_cast<std::uint64_t>(2 * k.filter + (k.fixed_only ? 1 : 0)) + (h << 6) + (h >> 2);
        return static_cast<std::size_t>(h);
    }
};

std::size_t table_bytes(const AxisCoeffs& t) {
    // The derived layouts, built later, take about 3 bytes a weight each way (12
    // bytes per 4 taps horizontally, as vertically; 4 for the AVX2 split), plus the
    // rounding of windows to groups: 8 a weight, counted up front.
    return t.first.size() * sizeof(int) + t.count.size() * sizeof(int) + t.weights.size() * sizeof(double) +
           t.fixed.size() * (sizeof(std::int32_t) + 8) + sizeof(AxisCoeffs);
}

struct AxisCache {
    std::mutex mutex;
    using Entry = std::pair<CacheKey, std::shared_ptr<const AxisCoeffs>>;
    std::list<Entry> order;  // most recently used first
    std::unordered_map<CacheKey, std::list<Entry>::iterator, CacheKeyHash> index;
    std::size_t bytes = 0;
};

AxisCache& axis_cache() {
    static AxisCache* cache = new AxisCache();  // never destroyed: no teardown order to get wrong
    return *cache;
}

}  // namespace

std::shared_ptr<const AxisCoeffs> cached_axis_coeffs(std::int64_t in_size, std::int64_t out_size, Filter filter,
                                                     bool fixed_only) {
    const CacheKey key{in_size, out_size, static_cast<int>(filter), fixed_only};
    AxisCache& cache = axis_cache();
    {
        std::lock_guard<std::mutex> lock(cache.mutex);
        auto it = cache.index.find(key);
        if (it != cache.index.end()) {
            cache.order.splice(cache.order.begin(), cache.order, it->second);
            return it->second->second;
        }
    }
    auto table = std::make_shared<AxisCoeffs>();
    if (!build_axis_coeffs(in_size, out_size, filter, *table, fixed_only)) return nullptr;
    const std::size_t size = table_bytes(*table);
    if (size > kCacheBytes / 4) return table;  // a freak size would evict everything else
    std::lock_guard<std::mutex> lock(cache.mutex);
    auto it = cache.index.find(key);
    if (it != cache.index.end()) return it->second->second;  // another thread built it meanwhile
    cache.order.emplace_front(key, table);
    cache.index.emplace(key, cache.order.begin());
    cache.bytes += size;
    while (cache.bytes > kCacheBytes && !cache.order.empty()) {
        cache.bytes -= table_bytes(*cache.order.back().second);
        cache.index.erase(cache.order.back().first);
        cache.order.pop_back();
    }
    return table;
}

void clear_axis_coeffs_cache() {
    AxisCache& cache = axis_cache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    cache.index.clear();
    cache.order.clear();
    cache.bytes = 0;
}

void build_nearest_table(std::int64_t in_size, std::int64_t out_size, std::vector<std::int64_t>& table) {
    // Pillow resizes with NEAREST through an affine scale: the sample position
    // starts at half a step and advances by in/out, truncated toward zero.
    table.assign(static_cast<std::size_t>(out_size), 0);
    const double step = static_cast<double>(in_size) / static_cast<double>(out_size);
    double pos = step * 0.5;
    for (std::int64_t i = 0; i < out_size; ++i) {
        std::int64_t idx = pos < 0.0 ? -1 : static_cast<std::int64_t>(pos);
        if (idx < 0) idx = 0;
        if (idx >= in_size) idx = in_size - 1;
        table[static_cast<std::size_t>(i)] = idx;
        pos += step;
    }
}

}  // namespace pyimgaug
