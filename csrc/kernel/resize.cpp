#include "kernel/resize.hpp"

#include <algorithm>
#include <cstring>
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#endif

#include "kernel/isa.hpp"
#include "kernel/resize_entries.hpp"

#define PYIMGAUG_ISA baseline
#include "kernel/resize_impl.hpp"
#undef PYIMGAUG_ISA

namespace pyimgaug {
namespace {

// The vertical pass only needs the input rows that some output row reads.
void needed_rows(const AxisCoeffs& v, std::int64_t& begin, std::int64_t& end) {
    begin = v.first.empty() ? 0 : v.first.front();
    end = v.first.empty() ? 0 : static_cast<std::int64_t>(v.first.back()) + v.count.back();
}

// A cache hint, where the compiler has one.
inline void prefetch(const unsigned char* p) {
#if defined(__GNUC__) || defined(__clang__)
    __builtin_prefetch(p);
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0);
#else
    (void)p;
#endif
}

// Copies the pixels of one output row; `Pixel` bytes per pixel, fixed at compile
// time for the common sizes so each copy is one or two moves instead of a call.
template <std::size_t Pixel>
void nearest_row(const unsigned char* in, const std::int64_t* table, std::int64_t out_width, unsigned char* out) {
    for (std::int64_t x = 0; x < out_width; ++x)
        std::memcpy(out + static_cast<std::size_t>(x) * Pixel, in + static_cast<std::size_t>(table[x]) * Pixel, Pixel);
}

void resize_nearest(const ImageView& src, std::size_t sample_bytes, int channels, const ResizePlan& plan,
                    unsigned char* dst) {
    const std::size_t pixel = sample_bytes * static_cast<std::size_t>(channels);
    for (std::int64_t y = 0; y < plan.out_height; ++y) {
        const unsigned char* in = src.data + plan.nearest_y[static_cast<std::size_t>(y)] * src.row_stride;
        unsigned char* out = dst + static_cast<std::size_t>(y * plan.out_width) * pixel;
        const std::int64_t* table = plan.nearest_x.data();
        // The rows read skip ahead by the reduction factor, which the hardware
        // prefetcher does not follow: ask for the next output's source row now.
        if (y + 1 < plan.out_height) {
            const unsigned char* next = src.data + plan.nearest_y[static_cast<std::size_t>(y + 1)] * src.row_stride;
            const std::int64_t row_bytes = src.width * static_cast<std::int64_t>(pixel);
            for (std::int64_t b = 0; b < row_bytes; b += 64) prefetch(next + b);
        }
        switch (pixel) {
            case 1: nearest_row<1>(in, table, plan.out_width, out); break;
            case 2: nearest_row<2>(in, table, plan.out_width, out); break;
            case 3: nearest_row<3>(in, table, plan.out_width, out); break;
            case 4: nearest_row<4>(in, table, plan.out_width, out); break;
            case 6: nearest_row<6>(in, table, plan.out_width, out); break;
            case 8: nearest_row<8>(in, table, plan.out_width, out); break;
            case 12: nearest_row<12>(in, table, plan.out_width, out); break;
            case 16: nearest_row<16>(in, table, plan.out_width, out); break;
            default:
                for (std::int64_t x = 0; x < plan.out_width; ++x)
                    std::memcpy(out + static_cast<std::size_t>(x) * pixel,
                                in + static_cast<std::size_t>(table[x]) * pixel, pixel);
        }
    }
}


// Splits a fixed-point weight as k = high * 2^15 + low with 0 <= low < 2^15; false
// when `high` does not fit int16 (|k| >= 2^30, a weight of 256 or more, which no
// Pillow filter produces, but the tables are checked rather than trusted).
constexpr int kSplitShift = 15;
bool split_coefficient(std::int32_t k, std::int16_t& high, std::int16_t& low) {
    const std::int32_t h = k >> kSplitShift;  // arithmetic: floor division
    if (h < -32768 || h > 32767) return false;
    high = static_cast<std::int16_t>(h);
    low = static_cast<std::int16_t>(k & ((1 << kSplitShift) - 1));
    return true;
}

bool all_split(const AxisCoeffs& axis) {
    std::int16_t h = 0, l = 0;
    for (std::int32_t k : axis.fixed)
        if (!split_coefficient(k, h, l)) return false;
    return true;
}

// Lays the horizontal weights out for the AVX2 madd loops (resize_impl.hpp): per
// output and per group, 16 int16 high parts then 16 low parts. 3 and 4 channels:
// groups of 4 taps, pairs (t0, t1) repeated 4 times then (t2, t3) 4 times, one per
// channel slot of the pixel shuffle. 1 channel: groups of 16 taps in order.
void build_split_table(ResizePlan& plan) {
    const AxisCoeffs& h = plan.horizontal;
    plan.horizontal_split.clear();
    plan.horizontal_split_groups = 0;
    if (!all_split(h)) return;
    const int taps = plan.channels == 1 ? 16 : 4;
    const int groups = (h.ksize + taps - 1) / taps;
    plan.horizontal_split_groups = groups;
    plan.horizontal_split.assign(static_cast<std::size_t>(plan.out_width) * groups * 32, 0);
    for (std::int64_t xx = 0; xx < plan.out_width; ++xx) {
        const std::int32_t* k = &h.fixed[static_cast<std::size_t>(xx) * h.ksize];
        const int n = h.count[static_cast<std::size_t>(xx)];
        std::int16_t* w = &plan.horizontal_split[static_cast<std::size_t>(xx) * groups * 32];
        for (int t = 0; t < n; ++t) {
            std::int16_t hi = 0, lo = 0;
            split_coefficient(k[t], hi, lo);
            const int g = t / taps, j = t % taps;
            std::int16_t* gw = w + g * 32;
            if (taps == 16) {
                gw[j] = hi;
                gw[16 + j] = lo;
            } else {
                // Tap j sits at int16 slot (j / 2) * 8 + (j % 2) + 2 * c for channel slot c.
                for (int c = 0; c < 4; ++c) {
                    const int slot = (j / 2) * 8 + (j % 2) + 2 * c;
                    gw[slot] = hi;
                    gw[16 + slot] = lo;
                }
            }
        }
    }
}

// Pillow 11.0-12.2 store 16-bit samples with each byte clipped on its own.
bool u16_byte_clip(ResizeBehaviour b) {
    return b == ResizeBehaviour::Pillow11_0 || b == ResizeBehaviour::Pillow12_2;
}

// Horizontal pass over `rows` rows of `src` into contiguous rows of `dst`.
void horizontal_pass(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, DType dtype, int channels,
                     const ResizePlan& plan, bool avx2, ResizeScratch& scratch, unsigned char* dst) {
    const AxisCoeffs& h = plan.horizontal;
    switch (dtype) {
        case DType::U8: {
            // Zero padding past the row: 8 taps per group for the portable loop; the
            // AVX2 loops copy only a row's tail (for up to 4 rows) and pad it by their
            // tap span plus 64 bytes (resize_impl.hpp).
            const std::int64_t pad = std::max<std::int64_t>(8 * plan.horizontal_groups,
                                                            4 * (16 * plan.horizontal_split_groups + 64));
            const std::size_t row_len = static_cast<std::size_t>(4 * plan.in_width * channels + pad * channels);
            scratch.row.assign(row_len, 0);
            PYIMGAUG_PICK(avx2, horizontal_u8_dispatch)(src, src_stride, rows, plan.in_width, channels,
                                                        h.first.data(), plan.out_width,
                                                        plan.horizontal_expanded.data(), plan.horizontal_groups,
                                                        plan.horizontal_split.empty() ? nullptr
                                                                                      : plan.horizontal_split.data(),
                                                        plan.horizontal_split_groups, scratch.row.data(), dst);
            break;
        }
        case DType::U16:
            PYIMGAUG_PICK(avx2, horizontal_u16_entry)(src, src_stride, rows, channels, h.first.data(),
                                                      h.count.data(), h.weights.data(), h.ksize, plan.out_width,
                                                      u16_byte_clip(plan.behaviour),
                                                      reinterpret_cast<std::uint16_t*>(dst));
            break;
        default:
            PYIMGAUG_PICK(avx2, horizontal_f32_entry)(src, src_stride, rows, channels, h.first.data(),
                                                      h.count.data(), h.weights.data(), h.ksize, plan.out_width,
                                                      reinterpret_cast<float*>(dst));
            break;
    }
}

// Vertical pass: `src` holds input rows from `first_row` on, each `width` pixels wide.
void vertical_pass(const unsigned char* src, std::int64_t src_stride, std::int64_t first_row, std::int64_t width,
                   DType dtype, int channels, const ResizePlan& plan, bool avx2, ResizeScratch& scratch,
                   unsigned char* dst) {
    const AxisCoeffs& v = plan.vertical;
    const std::int64_t samples = width * channels;
    if (dtype == DType::U8) {
        scratch.accum_fixed.resize(static_cast<std::size_t>(samples));
        PYIMGAUG_PICK(avx2, vertical_u8_entry)(src, src_stride, samples, v.first.data(), v.count.data(),
                                               v.fixed.data(), v.ksize, plan.out_height, first_row,
                                               plan.vertical_splits, scratch.accum_fixed.data(), dst);
        return;
    }
    scratch.accum.resize(static_cast<std::size_t>(samples));
    if (dtype == DType::U16)
        PYIMGAUG_PICK(avx2, vertical_u16_entry)(src, src_stride, samples, v.first.data(), v.count.data(),
                                                v.weights.data(), v.ksize, plan.out_height, first_row,
                                                scratch.accum.data(), u16_byte_clip(plan.behaviour),
                                                reinterpret_cast<std::uint16_t*>(dst));
    else
        PYIMGAUG_PICK(avx2, vertical_f32_entry)(src, src_stride, samples, v.first.data(), v.count.data(),
                                                v.weights.data(), v.ksize, plan.out_height, first_row,
                                                scratch.accum.data(), reinterpret_cast<float*>(dst));
}

}  // namespace

bool vertical_pass_first(ResizeBehaviour behaviour, std::int64_t in_height, std::int64_t in_width,
                         std::int64_t out_height, std::int64_t out_width) {
    switch (behaviour) {
        case ResizeBehaviour::Pillow13_0:
            // Resample.c (13.0): the height shrinks by more than twice as many pixels as the width.
            return in_height > out_height && (in_height - out_height) > 2 * (in_width - out_width);
        case ResizeBehaviour::Pillow12_2:
        case ResizeBehaviour::Pillow12_3:
            // Image.py (12.2, 12.3): an image more than 100 times taller than wide that
            // shrinks in height is resized in two calls, height first.
            return in_height > 100 * in_width && out_height < in_height;
        case ResizeBehaviour::Pillow9_1:
        case ResizeBehaviour::Pillow11_0:
            break;
    }
    return false;
}

bool prepare_resize(ResizePlan& plan, std::int64_t in_height, std::int64_t in_width, std::int64_t out_height,
                    std::int64_t out_width, Filter filter, int channels, ResizeBehaviour behaviour) {
    if (plan.in_height == in_height && plan.in_width == in_width && plan.out_height == out_height &&
        plan.out_width == out_width && plan.filter == filter && plan.channels == channels &&
        plan.behaviour == behaviour)
        return true;
    plan = ResizePlan{};
    plan.in_height = in_height;
    plan.in_width = in_width;
    plan.out_height = out_height;
    plan.out_width = out_width;
    plan.filter = filter;
    plan.channels = channels;
    plan.behaviour = behaviour;
    if (filter == Filter::Nearest) {
        build_nearest_table(in_width, out_width, plan.nearest_x);
        build_nearest_table(in_height, out_height, plan.nearest_y);
        return true;
    }
    if (!build_axis_coeffs(in_width, out_width, filter, plan.horizontal)) return false;
    if (!build_axis_coeffs(in_height, out_height, filter, plan.vertical)) return false;
    // The AVX2 loops' split weights when they will run; otherwise the portable
    // loop's expanded weights (the two tables are never both needed).
    if (cpu_has_avx2()) build_split_table(plan);
    const int ksize = plan.horizontal.ksize;
    const int groups = (ksize + 7) / 8;
    const int L = 8 * channels;
    plan.horizontal_groups = groups;
    if (plan.horizontal_split.empty()) {
        plan.horizontal_expanded.assign(static_cast<std::size_t>(out_width) * groups * L, 0);
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            std::int32_t* w = &plan.horizontal_expanded[static_cast<std::size_t>(xx) * groups * L];
            const std::int32_t* k = &plan.horizontal.fixed[static_cast<std::size_t>(xx) * ksize];
            for (int t = 0; t < plan.horizontal.count[static_cast<std::size_t>(xx)]; ++t)
                for (int c = 0; c < channels; ++c) w[t * channels + c] = k[t];
        }
    }
    plan.vertical_splits = all_split(plan.vertical);
    return true;
}

void resize_image(const ImageView& src, DType dtype, int channels, const ResizePlan& plan, ResizeScratch& scratch,
                  unsigned char* dst) {
    const std::size_t sample = dtype_size(dtype);
    const std::int64_t out_row_bytes = plan.out_width * channels * static_cast<std::int64_t>(sample);
    if (plan.filter == Filter::Nearest) {
        resize_nearest(src, sample, channels, plan, dst);
        return;
    }
    const bool need_h = plan.out_width != plan.in_width;
    const bool need_v = plan.out_height != plan.in_height;
    if (!need_h && !need_v) {
        for (std::int64_t y = 0; y < plan.in_height; ++y)
            std::memcpy(dst + y * out_row_bytes, src.data + y * src.row_stride, static_cast<std::size_t>(out_row_bytes));
        return;
    }
    const bool avx2 = cpu_has_avx2();
    const std::int64_t sample_bytes = static_cast<std::int64_t>(sample);

    // The order matters because the intermediate image is rounded and clipped like
    // the final one; which order Pillow uses depends on its release.
    const bool vertical_first = need_h && need_v &&
                                vertical_pass_first(plan.behaviour, plan.in_height, plan.in_width, plan.out_height,
                                                    plan.out_width);

    if (vertical_first) {
        const std::int64_t mid_stride = plan.in_width * channels * sample_bytes;
        scratch.intermediate.resize(static_cast<std::size_t>(plan.out_height * mid_stride));
        vertical_pass(src.data, src.row_stride, 0, plan.in_width, dtype, channels, plan, avx2, scratch,
                      scratch.intermediate.data());
        horizontal_pass(scratch.intermediate.data(), mid_stride, plan.out_height, dtype, channels, plan, avx2,
                        scratch, dst);
        return;
    }
    if (!need_h) {
        vertical_pass(src.data, src.row_stride, 0, plan.in_width, dtype, channels, plan, avx2, scratch, dst);
        return;
    }
    if (!need_v) {
        horizontal_pass(src.data, src.row_stride, plan.in_height, dtype, channels, plan, avx2, scratch, dst);
        return;
    }
    // Horizontal pass first, over only the rows the vertical pass will read.
    std::int64_t row_begin = 0, row_end = plan.in_height;
    needed_rows(plan.vertical, row_begin, row_end);
    scratch.intermediate.resize(static_cast<std::size_t>((row_end - row_begin) * out_row_bytes));
    horizontal_pass(src.data + row_begin * src.row_stride, src.row_stride, row_end - row_begin, dtype, channels,
                    plan, avx2, scratch, scratch.intermediate.data());
    vertical_pass(scratch.intermediate.data(), out_row_bytes, row_begin, plan.out_width, dtype, channels, plan, avx2,
                  scratch, dst);
}

}  // namespace pyimgaug
