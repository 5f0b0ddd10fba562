#include "kernel/coeffs.hpp"

#include <cmath>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace pyimgaug {
namespace {

constexpr double kPi = 3.14159265358979323846;

double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double bilinear_filter(double x) {
    if (x < 0.0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

double hamming_filter(double x) {
    if (x < 0.0) x = -x;
    if (x == 0.0) return 1.0;
    if (x >= 1.0) return 0.0;
    x = x * kPi;
    // Pillow writes the window's constants as float literals (0.54f, 0.46f), which C
    // widens to double: 0.540000021..., 0.460000008... Doubles 0.54 and 0.46 move a
    // few weights by one 22-bit fixed-point unit, and a few 8-bit samples by one level.
    constexpr double k054 = static_cast<double>(0.54f), k046 = static_cast<double>(0.46f);
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

// The weight loop, instantiated per filter so that the filter function is inlined
// (the same operations in the same order: inlining changes no value).
template <double (*Fn)(double)>
void fill_axis_weights(std::int64_t in_size, double in0, double scale, double filterscale, double support, int ksize,
                       AxisCoeffs& out) {
    const std::int64_t out_size = out.out_size;
    const double ss = 1.0 / filterscale;
    for (std::int64_t xx = 0; xx < out_size; ++xx) {
        const double center = in0 + (static_cast<double>(xx) + 0.5) * scale;
        // Pillow rounds the window edges by truncation after adding 0.5.
        std::int64_t xmin = static_cast<std::int64_t>(center - support + 0.5);
        if (xmin < 0) xmin = 0;
        std::int64_t xmax = static_cast<std::int64_t>(center + support + 0.5);
        if (xmax > in_size) xmax = in_size;
        xmax -= xmin;
        if (xmax > ksize) xmax = ksize;  // cannot happen with Pillow's arithmetic; keeps tables in bounds
        if (xmax < 0) xmax = 0;
        double* k = &out.weights[static_cast<std::size_t>(xx) * ksize];
        double ww = 0.0;
        for (std::int64_t x = 0; x < xmax; ++x) {
            const double w = Fn((static_cast<double>(x + xmin) - center + 0.5) * ss);
            k[x] = w;
            ww += w;
        }
        for (std::int64_t x = 0; x < xmax; ++x) {
            if (ww != 0.0) k[x] /= ww;
        }
        std::int32_t* kf = &out.fixed[static_cast<std::size_t>(xx) * ksize];
        for (std::int64_t x = 0; x < xmax; ++x) {
            const double v = k[x] * static_cast<double>(1 << kPrecisionBits);
            kf[x] = static_cast<std::int32_t>(k[x] < 0 ? -0.5 + v : 0.5 + v);
        }
        out.first[static_cast<std::size_t>(xx)] = static_cast<int>(xmin);
        out.count[static_cast<std::size_t>(xx)] = static_cast<int>(xmax);
    }
}

}  // namespace

bool build_axis_coeffs(std::int64_t in_size, std::int64_t out_size, Filter filter, AxisCoeffs& out) {
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
    out.weights.assign(static_cast<std::size_t>(out_size) * ksize, 0.0);
    out.fixed.assign(static_cast<std::size_t>(out_size) * ksize, 0);

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
    bool operator==(const CacheKey& o) const {
        return in_size == o.in_size && out_size == o.out_size && filter == o.filter;
    }
};

struct CacheKeyHash {
    std::size_t operator()(const CacheKey& k) const {
        std::uint64_t h = static_cast<std::uint64_t>(k.in_size) * 0x9E3779B97F4A7C15ull;
        h ^= static_cast<std::uint64_t>(k.out_size) + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
        h ^= static_cast<std::uint64_t>(k.filter) + (h << 6) + (h >> 2);
        return static_cast<std::size_t>(h);
    }
};

std::size_t table_bytes(const AxisCoeffs& t) {
    return t.first.size() * sizeof(int) + t.count.size() * sizeof(int) + t.weights.size() * sizeof(double) +
           t.fixed.size() * sizeof(std::int32_t) + sizeof(AxisCoeffs);
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

std::shared_ptr<const AxisCoeffs> cached_axis_coeffs(std::int64_t in_size, std::int64_t out_size, Filter filter) {
    const CacheKey key{in_size, out_size, static_cast<int>(filter)};
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
    if (!build_axis_coeffs(in_size, out_size, filter, *table)) return nullptr;
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
