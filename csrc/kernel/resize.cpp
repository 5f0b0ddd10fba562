#include "kernel/resize.hpp"

#include <algorithm>
#include <cstring>
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#endif

#include "kernel/isa.hpp"
#include "kernel/pixels.hpp"
#include "kernel/resize_entries.hpp"

#define PYIMGAUG_ISA baseline
#include "kernel/resize_impl.hpp"
#undef PYIMGAUG_ISA

namespace pyimgaug {
namespace {

// Which copy of the loops runs: the AVX-512 VNNI copy where the CPU has it, then AVX2.
enum class ResizeIsa { Baseline, Avx2, Avx512 };

ResizeIsa resize_isa() {
    if (cpu_has_avx512_vnni()) return ResizeIsa::Avx512;
    return cpu_has_avx2() ? ResizeIsa::Avx2 : ResizeIsa::Baseline;
}

#ifdef PYIMGAUG_BUILT_AVX512
#define PYIMGAUG_RESIZE_PICK(isa, fn) \
    ((isa) == ResizeIsa::Avx512 ? ::pyimgaug::avx512::fn : PYIMGAUG_PICK((isa) == ResizeIsa::Avx2, fn))
#else
#define PYIMGAUG_RESIZE_PICK(isa, fn) PYIMGAUG_PICK((isa) != ResizeIsa::Baseline, fn)
#endif

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

// Lays the horizontal weights out for the AVX2 madd loops (resize_impl.hpp).
// 3 and 4 channels: per output, one 4-int16 unit per pair of taps (t, t+1): the
// pair's high parts, then its low parts (the loop broadcasts each 4-byte pair to
// the 4 channel slots of the pixel shuffle); `used` counts the pairs. 1 channel:
// per output, groups of 16 taps in order, 16 high parts then 16 low parts; `used`
// counts the groups. Units past an output's window are zero and never read.
void build_horizontal_split(const AxisCoeffs& h, bool one_channel, HorizontalSplit& out) {
    if (!all_split(h)) return;
    const int taps = one_channel ? 16 : 2;           // taps per unit
    const int unit = one_channel ? 32 : 4;           // int16 per unit
    const int units = (h.ksize + taps - 1) / taps;  // per output, for the widest window
    out.groups = units;
    out.weights.assign(static_cast<std::size_t>(h.out_size) * units * unit, 0);
    out.used.assign(static_cast<std::size_t>(h.out_size), 0);
    for (std::int64_t xx = 0; xx < h.out_size; ++xx) {
        const std::int32_t* k = &h.fixed[static_cast<std::size_t>(xx) * h.ksize];
        const int n = h.count[static_cast<std::size_t>(xx)];
        std::int16_t* w = &out.weights[static_cast<std::size_t>(xx) * units * unit];
        out.used[static_cast<std::size_t>(xx)] = (n + taps - 1) / taps;
        for (int t = 0; t < n; ++t) {
            std::int16_t hi = 0, lo = 0;
            split_coefficient(k[t], hi, lo);
            std::int16_t* uw = w + (t / taps) * unit;
            if (one_channel) {
                uw[t % 16] = hi;
                uw[16 + t % 16] = lo;
            } else {
                uw[t % 2] = hi;
                uw[2 + t % 2] = lo;
            }
        }
    }
}

// The AVX2 layouts of a table, built once by the first caller and kept with it.
const HorizontalSplit* horizontal_split_of(const AxisCoeffs& h, bool one_channel) {
    const int i = one_channel ? 0 : 1;
    std::call_once(h.split_once[i], [&h, one_channel, i] { build_horizontal_split(h, one_channel, h.split[i]); });
    return h.split[i].weights.empty() ? nullptr : &h.split[i];
}

bool all_split_of(const AxisCoeffs& v) {
    std::call_once(v.all_split_once, [&v] { v.all_split = all_split(v); });
    return v.all_split;
}

// Splits a fixed-point weight into three signed bytes, k = d2 * 2^16 + d1 * 2^8 + d0
// with d0, d1 in [-128, 127] (balanced digits); false when d2 leaves int8 (|k| near
// 2^23, a weight near 128, which no Pillow filter produces).
inline bool split_digits(std::int32_t k, std::uint32_t d[3]) {
    const std::int32_t d0 = static_cast<std::int32_t>((k & 255) ^ 128) - 128;
    const std::int32_t v1 = (k - d0) >> 8;  // exact: k - d0 is a multiple of 256
    const std::int32_t d1 = static_cast<std::int32_t>((v1 & 255) ^ 128) - 128;
    const std::int32_t d2 = (v1 - d1) >> 8;
    d[0] = static_cast<std::uint32_t>(d0) & 255u;
    d[1] = static_cast<std::uint32_t>(d1) & 255u;
    d[2] = static_cast<std::uint32_t>(d2) & 255u;
    return d2 >= -128 && d2 <= 127;
}

// For each output of `axis`, per group of 4 taps, 3 words: word e holds digit e of
// the four taps (byte t; zero past the window). False if a weight does not split.
bool digit_words(const AxisCoeffs& axis, int quads, std::vector<std::uint32_t>& words) {
    words.assign(static_cast<std::size_t>(axis.out_size) * quads * 3, 0u);
    for (std::int64_t o = 0; o < axis.out_size; ++o) {
        const std::int32_t* k = &axis.fixed[static_cast<std::size_t>(o) * axis.ksize];
        const int n = axis.count[static_cast<std::size_t>(o)];
        std::uint32_t* w = &words[static_cast<std::size_t>(o) * quads * 3];
        for (int t = 0; t < n; ++t) {
            std::uint32_t d[3];
            if (!split_digits(k[t], d)) return false;
            const int shift = 8 * (t % 4);
            std::uint32_t* wq = w + (t / 4) * 3;
            wq[0] |= d[0] << shift;
            wq[1] |= d[1] << shift;
            wq[2] |= d[2] << shift;
        }
    }
    return true;
}

// Whether every weight of `axis` splits into digits.
bool all_digits(const AxisCoeffs& axis) {
    std::uint32_t d[3];
    for (std::int32_t k : axis.fixed)
        if (!split_digits(k, d)) return false;
    return true;
}

// The vertical digits of `v` for windows widened to blocks of four rows counted from
// the first row the vertical pass reads (see ResizePlan); empty when some weight
// does not split.
void build_vertical_blocks(const AxisCoeffs& v, VerticalBlocks& out) {
    if (!all_digits(v)) return;
    const std::int64_t row0 = v.first.empty() ? 0 : v.first.front();
    const std::size_t n_out = static_cast<std::size_t>(v.out_size);
    out.start.resize(n_out);
    out.count.resize(n_out);
    int blocks = 1;
    for (std::size_t yy = 0; yy < n_out; ++yy) {
        const std::int64_t rel = v.first[yy] - row0;
        const std::int64_t start = rel / 4, end = (rel + v.count[yy] + 3) / 4;
        out.start[yy] = static_cast<int>(start);
        out.count[yy] = static_cast<int>(end - start);
        blocks = std::max(blocks, static_cast<int>(end - start));
    }
    out.blocks = blocks;
    out.digits.assign(n_out * blocks * 3, 0);
    for (std::size_t yy = 0; yy < n_out; ++yy) {
        const std::int32_t* k = &v.fixed[yy * v.ksize];
        const std::int64_t rel = v.first[yy] - row0;
        std::uint32_t* w = reinterpret_cast<std::uint32_t*>(&out.digits[yy * blocks * 3]);
        for (int t = 0; t < v.count[yy]; ++t) {
            std::uint32_t d[3];
            split_digits(k[t], d);
            const std::int64_t r = rel + t;
            const std::int64_t q = r / 4 - out.start[yy];
            for (int e = 0; e < 3; ++e) w[q * 3 + e] |= d[e] << (8 * (r % 4));
        }
    }
}

// The horizontal layout of `h` for 3 and 4 channels: per output and per group of 4
// taps, 12 bytes: the 3 digit words (byte t of word e: digit e of tap t), which the
// loop broadcasts to every channel slot. Empty when some weight does not split.
void build_horizontal_digits(const AxisCoeffs& h, HorizontalDigits& out) {
    const int groups = (h.ksize + 3) / 4;
    if (!digit_words(h, groups, out.words)) {
        out.words.clear();
        return;
    }
    out.groups = groups;
    out.used.resize(static_cast<std::size_t>(h.out_size));
    for (std::int64_t xx = 0; xx < h.out_size; ++xx)
        out.used[static_cast<std::size_t>(xx)] = (h.count[static_cast<std::size_t>(xx)] + 3) / 4;
}

// The layouts of a table, built by the first caller (tables are shared between
// threads through the memo) and kept with it.
const HorizontalDigits* horizontal_digits_of(const AxisCoeffs& h) {
    std::call_once(h.horizontal_digits_once, [&h] { build_horizontal_digits(h, h.horizontal_digits); });
    return h.horizontal_digits.words.empty() ? nullptr : &h.horizontal_digits;
}

const VerticalBlocks* vertical_blocks_of(const AxisCoeffs& v) {
    std::call_once(v.vertical_blocks_once, [&v] { build_vertical_blocks(v, v.vertical_blocks); });
    return v.vertical_blocks.digits.empty() ? nullptr : &v.vertical_blocks;
}

// Pillow 11.0-12.2 store 16-bit samples with each byte clipped on its own.
bool u16_byte_clip(ResizeBehaviour b) {
    return b == ResizeBehaviour::Pillow11_0 || b == ResizeBehaviour::Pillow12_2;
}

// The uint8 horizontal loops' scratch: zero padding past the row (8 taps per group
// for the portable loop; the AVX2 loops copy only a row's tail, for up to 4 rows,
// and pad it by their tap span plus 64 bytes, see resize_impl.hpp), and the stage
// of their four-row output pixels.
void horizontal_pass_buffers(const ResizePlan& plan, int pixel_bytes, ResizeScratch& scratch) {
    const std::int64_t pad = std::max<std::int64_t>(
        8 * plan.horizontal_groups,
        4 * (16 * std::max(plan.hsplit ? plan.hsplit->groups : 0, plan.hdigits ? plan.hdigits->groups : 0) + 64));
    const std::size_t row_len = static_cast<std::size_t>(4 * plan.in_width * pixel_bytes + pad * pixel_bytes);
    scratch.row.assign(row_len, 0);
    scratch.stage.resize(static_cast<std::size_t>(plan.out_width) * 16);
}

// Horizontal pass over `rows` rows of `src` into contiguous rows of `dst`.
// `pixel_bytes`: bytes from one 8-bit pixel to the next, `channels` unless the loop
// that runs reads RGB of RGBX pixels in place (reads_rgbx_in_place).
void horizontal_pass(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, DType dtype, int channels,
                     int pixel_bytes, const ResizePlan& plan, ResizeIsa isa, ResizeScratch& scratch,
                     unsigned char* dst) {
    const AxisCoeffs& h = plan.horizontal();
    switch (dtype) {
        case DType::U8: {
            horizontal_pass_buffers(plan, pixel_bytes, scratch);
#ifdef PYIMGAUG_BUILT_AVX512
            if (isa == ResizeIsa::Avx512 && plan.hdigits) {
                avx512::horizontal_u8_digits_entry(src, src_stride, rows, plan.in_width, channels, pixel_bytes,
                                                   h.first.data(),
                                                   plan.out_width, plan.hdigits->bytes(),
                                                   plan.hdigits->groups, plan.hdigits->used.data(),
                                                   scratch.row.data(), scratch.stage.data(), false,
                                                   cpu_prefers_512bit(), dst);
                break;
            }
#endif
            PYIMGAUG_RESIZE_PICK(isa, horizontal_u8_dispatch)(src, src_stride, rows, plan.in_width, channels,
                                                        pixel_bytes, h.first.data(), plan.out_width,
                                                        plan.horizontal_expanded.data(), plan.horizontal_groups,
                                                        plan.hsplit ? plan.hsplit->weights.data() : nullptr,
                                                        plan.hsplit ? plan.hsplit->groups : 0,
                                                        plan.hsplit ? plan.hsplit->used.data() : nullptr,
                                                        scratch.row.data(), scratch.stage.data(), dst);
            break;
        }
        case DType::U16:
            PYIMGAUG_RESIZE_PICK(isa, horizontal_u16_entry)(src, src_stride, rows, channels, h.first.data(),
                                                      h.count.data(), h.weights.data(), h.ksize, plan.out_width,
                                                      u16_byte_clip(plan.behaviour),
                                                      reinterpret_cast<std::uint16_t*>(dst));
            break;
        default:
            PYIMGAUG_RESIZE_PICK(isa, horizontal_f32_entry)(src, src_stride, rows, channels, h.first.data(),
                                                      h.count.data(), h.weights.data(), h.ksize, plan.out_width,
                                                      reinterpret_cast<float*>(dst));
            break;
    }
}

// Vertical pass: `src` holds input rows from `first_row` on, each `width` pixels wide.
void vertical_pass(const unsigned char* src, std::int64_t src_stride, std::int64_t first_row, std::int64_t width,
                   DType dtype, int channels, const ResizePlan& plan, ResizeIsa isa, ResizeScratch& scratch,
                   unsigned char* dst) {
    const AxisCoeffs& v = plan.vertical();
    const std::int64_t samples = width * channels;
    if (dtype == DType::U8) {
        scratch.accum_fixed.resize(static_cast<std::size_t>(samples));
#ifdef PYIMGAUG_BUILT_AVX512
        if (isa == ResizeIsa::Avx512 && plan.vblocks) {
            // The digit loop reads rows interleaved in blocks of four; interleaving
            // each row once beats doing it for every output row that reads it (about
            // twice the filter support of them). The horizontal digit pass writes
            // that layout itself (resize_image).
            std::int64_t row0 = 0, row_end = 0;
            needed_rows(v, row0, row_end);
            const std::int64_t rows = row_end - row0;
            scratch.blocks.resize(static_cast<std::size_t>((rows + 3) / 4 * 4 * samples));
            avx512::interleave_row_blocks_entry(src + (row0 - first_row) * src_stride, src_stride, rows, samples,
                                                scratch.blocks.data());
            avx512::vertical_u8_blocks_entry(scratch.blocks.data(), samples, plan.vblocks->start.data(),
                                             plan.vblocks->count.data(), plan.vblocks->digits.data(),
                                             plan.vblocks->blocks, v.first.data(), v.count.data(), v.fixed.data(),
                                             v.ksize, row0, plan.out_height, cpu_prefers_512bit(), dst);
            return;
        }
#endif
        PYIMGAUG_RESIZE_PICK(isa, vertical_u8_entry)(src, src_stride, samples, v.first.data(), v.count.data(),
                                               v.fixed.data(), v.ksize, plan.out_height, first_row,
                                               plan.vertical_splits, scratch.accum_fixed.data(), dst);
        return;
    }
    scratch.accum.resize(static_cast<std::size_t>(samples));
    if (dtype == DType::U16)
        PYIMGAUG_RESIZE_PICK(isa, vertical_u16_entry)(src, src_stride, samples, v.first.data(), v.count.data(),
                                                v.weights.data(), v.ksize, plan.out_height, first_row,
                                                scratch.accum.data(), u16_byte_clip(plan.behaviour),
                                                reinterpret_cast<std::uint16_t*>(dst));
    else
        PYIMGAUG_RESIZE_PICK(isa, vertical_f32_entry)(src, src_stride, samples, v.first.data(), v.count.data(),
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
                    std::int64_t out_width, Filter filter, int channels, ResizeBehaviour behaviour, bool fixed_only) {
    if (plan.in_height == in_height && plan.in_width == in_width && plan.out_height == out_height &&
        plan.out_width == out_width && plan.filter == filter && plan.channels == channels &&
        plan.behaviour == behaviour && plan.fixed_only == fixed_only)
        return true;
    // The tables are rebuilt in place: a batch of assorted sizes rebuilds them per
    // image, and reusing their memory saves an allocation and a page fault each.
    plan.in_height = -1;  // not valid until every table is built
    plan.out_height = out_height;
    plan.out_width = out_width;
    plan.filter = filter;
    plan.channels = channels;
    plan.behaviour = behaviour;
    plan.fixed_only = fixed_only;
    plan.horizontal_table.reset();
    plan.vertical_table.reset();
    plan.horizontal_expanded.clear();
    plan.horizontal_groups = 0;
    plan.hsplit = nullptr;
    plan.vertical_splits = false;
    plan.hdigits = nullptr;
    plan.vblocks = nullptr;
    if (filter == Filter::Nearest) {
        build_nearest_table(in_width, out_width, plan.nearest_x);
        build_nearest_table(in_height, out_height, plan.nearest_y);
    } else {
        plan.horizontal_table = cached_axis_coeffs(in_width, out_width, filter, fixed_only);
        plan.vertical_table = cached_axis_coeffs(in_height, out_height, filter, fixed_only);
        if (!plan.horizontal_table || !plan.vertical_table) return false;
        // Only the tables of the loops that will run: the AVX-512 VNNI loops' digits,
        // the AVX2 loops' split weights where those are missing, and the portable
        // loop's expanded weights where neither is there.
        if (cpu_has_avx512_vnni()) {
            if (channels == 3 || channels == 4) plan.hdigits = horizontal_digits_of(plan.horizontal());
            plan.vblocks = vertical_blocks_of(plan.vertical());
        }
        if (cpu_has_avx2() && !plan.hdigits) plan.hsplit = horizontal_split_of(plan.horizontal(), channels == 1);
        if (cpu_has_avx2() && !plan.vblocks) plan.vertical_splits = all_split_of(plan.vertical());
        if (!plan.hdigits && !plan.hsplit) {
            const int ksize = plan.horizontal().ksize;
            const int groups = (ksize + 7) / 8;
            const int L = 8 * channels;
            plan.horizontal_groups = groups;
            plan.horizontal_expanded.assign(static_cast<std::size_t>(out_width) * groups * L, 0);
            for (std::int64_t xx = 0; xx < out_width; ++xx) {
                std::int32_t* w = &plan.horizontal_expanded[static_cast<std::size_t>(xx) * groups * L];
                const std::int32_t* k = &plan.horizontal().fixed[static_cast<std::size_t>(xx) * ksize];
                for (int t = 0; t < plan.horizontal().count[static_cast<std::size_t>(xx)]; ++t)
                    for (int c = 0; c < channels; ++c) w[t * channels + c] = k[t];
            }
        }
    }
    plan.in_height = in_height;
    plan.in_width = in_width;
    return true;
}

namespace {

// Whether the loops that read the input read RGB of RGBX pixels in place: the 8-bit
// horizontal-first SIMD loops do (they load whole pixels and shuffle anyway).
bool reads_rgbx_in_place(const ImageView& src, DType dtype, int channels, const ResizePlan& plan, ResizeIsa isa,
                         bool need_h, bool vertical_first) {
    if (dtype != DType::U8 || channels != 3 || src.pixel_stride != 4 || !need_h || vertical_first ||
        plan.filter == Filter::Nearest)
        return false;
    return (isa == ResizeIsa::Avx512 && plan.hdigits) || (isa != ResizeIsa::Baseline && plan.hsplit);
}

}  // namespace

void resize_image(const ImageView& view, DType dtype, int channels, const ResizePlan& plan, ResizeScratch& scratch,
                  unsigned char* dst) {
    const std::size_t sample = dtype_size(dtype);
    const std::int64_t out_row_bytes = plan.out_width * channels * static_cast<std::int64_t>(sample);
    const bool need_h = plan.out_width != plan.in_width;
    const bool need_v = plan.out_height != plan.in_height;
    // The order matters because the intermediate image is rounded and clipped like
    // the final one; which order Pillow uses depends on its release.
    const bool vertical_first = need_h && need_v &&
                                vertical_pass_first(plan.behaviour, plan.in_height, plan.in_width, plan.out_height,
                                                    plan.out_width);
    const ResizeIsa isa = resize_isa();
    // Pixels further apart than their samples are packed first, unless the loops
    // that will read them take them as they are.
    ImageView src = view;
    int pixel_bytes = channels;
    if (!pixels_packed(view, channels, sample)) {
        if (reads_rgbx_in_place(view, dtype, channels, plan, isa, need_h, vertical_first))
            pixel_bytes = 4;
        else
            src = pack_pixels(view, channels, sample, scratch.packed);
    }
    if (plan.filter == Filter::Nearest) {
        resize_nearest(src, sample, channels, plan, dst);
        return;
    }
    if (!need_h && !need_v) {
        for (std::int64_t y = 0; y < plan.in_height; ++y)
            std::memcpy(dst + y * out_row_bytes, src.data + y * src.row_stride, static_cast<std::size_t>(out_row_bytes));
        return;
    }
    const std::int64_t sample_bytes = static_cast<std::int64_t>(sample);

    if (vertical_first) {
        const std::int64_t mid_stride = plan.in_width * channels * sample_bytes;
        scratch.intermediate.resize(static_cast<std::size_t>(plan.out_height * mid_stride));
        vertical_pass(src.data, src.row_stride, 0, plan.in_width, dtype, channels, plan, isa, scratch,
                      scratch.intermediate.data());
        horizontal_pass(scratch.intermediate.data(), mid_stride, plan.out_height, dtype, channels, channels, plan,
                        isa, scratch, dst);
        return;
    }
    if (!need_h) {
        vertical_pass(src.data, src.row_stride, 0, plan.in_width, dtype, channels, plan, isa, scratch, dst);
        return;
    }
    if (!need_v) {
        horizontal_pass(src.data, src.row_stride, plan.in_height, dtype, channels, pixel_bytes, plan, isa, scratch,
                        dst);
        return;
    }
    // Horizontal pass first, over only the rows the vertical pass will read.
    std::int64_t row_begin = 0, row_end = plan.in_height;
    needed_rows(plan.vertical(), row_begin, row_end);
#ifdef PYIMGAUG_BUILT_AVX512
    if (isa == ResizeIsa::Avx512 && dtype == DType::U8 && plan.hdigits && plan.vblocks) {
        // The digit loops hand over in blocks of four interleaved rows (resize_impl.hpp),
        // plus the 16 bytes an RGB pixel's store may spill past the last block.
        const std::int64_t rows = row_end - row_begin;
        const std::int64_t block_bytes = 4 * out_row_bytes;
        scratch.intermediate.resize(static_cast<std::size_t>((rows + 3) / 4 * block_bytes + 16));
        horizontal_pass_buffers(plan, pixel_bytes, scratch);
        avx512::horizontal_u8_digits_entry(src.data + row_begin * src.row_stride, src.row_stride, rows,
                                           plan.in_width, channels, pixel_bytes, plan.horizontal().first.data(),
                                           plan.out_width,
                                           plan.hdigits->bytes(), plan.hdigits->groups,
                                           plan.hdigits->used.data(), scratch.row.data(),
                                           scratch.stage.data(), true, cpu_prefers_512bit(),
                                           scratch.intermediate.data());
        avx512::vertical_u8_blocks_entry(scratch.intermediate.data(), plan.out_width * channels,
                                         plan.vblocks->start.data(), plan.vblocks->count.data(),
                                         plan.vblocks->digits.data(), plan.vblocks->blocks,
                                         plan.vertical().first.data(), plan.vertical().count.data(),
                                         plan.vertical().fixed.data(), plan.vertical().ksize, row_begin, plan.out_height,
                                         cpu_prefers_512bit(), dst);
        return;
    }
#endif
    scratch.intermediate.resize(static_cast<std::size_t>((row_end - row_begin) * out_row_bytes));
    horizontal_pass(src.data + row_begin * src.row_stride, src.row_stride, row_end - row_begin, dtype, channels,
                    pixel_bytes, plan, isa, scratch, scratch.intermediate.data());
    vertical_pass(scratch.intermediate.data(), out_row_bytes, row_begin, plan.out_width, dtype, channels, plan, isa,
                  scratch, dst);
}

}  // namespace pyimgaug
