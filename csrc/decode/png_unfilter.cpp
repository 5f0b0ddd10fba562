// PNG row filters (PNG specification, section 9): each byte was stored as the
// difference from a prediction made from its left neighbour a (the same channel
// one pixel before), the byte above b and the byte above-left c, all already
// reconstructed, 0 outside the image. Sub predicts a, Up b, Average
// floor((a + b) / 2), Paeth whichever of a, b, c is closest to a + b - c (ties
// in that order). Each pixel depends on the one before it, so the loops go
// pixel by pixel and, for 3 and 4 channels, do a pixel's channels at once in
// 16-bit lanes (SSE2, which every x86-64 CPU has); arithmetic is exact, so the
// bytes are the same as any decoder's, Pillow's included.
#include "png_unfilter.hpp"

#include <cstring>
#include <vector>

#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#define PYIMGAUG_PNG_SSE2 1
#endif

namespace pyimgaug {
namespace {

enum Filter : std::uint8_t { kNone = 0, kSub = 1, kUp = 2, kAverage = 3, kPaeth = 4 };

inline int paeth_predictor(int a, int b, int c) {
    const int pa = b > c ? b - c : c - b;              // |p - a| with p = a + b - c
    const int pb = a > c ? a - c : c - a;              // |p - b|
    const int pc = (a + b - 2 * c) < 0 ? -(a + b - 2 * c) : (a + b - 2 * c);  // |p - c|
    if (pa <= pb && pa <= pc) return a;
    return pb <= pc ? b : c;
}

// One row, any bytes per pixel: `cur` and `prev` are preceded by `bpp` zero bytes.
void unfilter_row_scalar(int filter, const std::uint8_t* f, std::int64_t n, int bpp, const std::uint8_t* prev,
                         std::uint8_t* cur) {
    switch (filter) {
        case kSub:
            for (std::int64_t i = 0; i < n; ++i) cur[i] = static_cast<std::uint8_t>(f[i] + cur[i - bpp]);
            break;
        case kAverage:
            for (std::int64_t i = 0; i < n; ++i)
                cur[i] = static_cast<std::uint8_t>(f[i] + ((cur[i - bpp] + prev[i]) >> 1));
            break;
        case kPaeth:
            for (std::int64_t i = 0; i < n; ++i)
                cur[i] = static_cast<std::uint8_t>(f[i] + paeth_predictor(cur[i - bpp], prev[i], prev[i - bpp]));
            break;
    }
}

#ifdef PYIMGAUG_PNG_SSE2
// A pixel's bytes (3 or 4) widened to 16-bit lanes; 4 bytes are read (for 3
// channels the fourth is the next pixel's, or the row buffer's padding).
inline __m128i load_pixel(const std::uint8_t* p) {
    std::uint32_t v;
    std::memcpy(&v, p, 4);
    return _mm_unpacklo_epi8(_mm_cvtsi32_si128(static_cast<int>(v)), _mm_setzero_si128());
}

// The row's last pixel of filtered data, reading exactly its `BPP` bytes (the
// inflated stream may end right after it).
template <int BPP>
inline __m128i load_last_pixel(const std::uint8_t* p) {
    std::uint32_t v = static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
                      static_cast<std::uint32_t>(p[2]) << 16;
    if (BPP == 4) v |= static_cast<std::uint32_t>(p[3]) << 24;
    return _mm_unpacklo_epi8(_mm_cvtsi32_si128(static_cast<int>(v)), _mm_setzero_si128());
}

// Stores 4 bytes (for 3 channels the fourth is the next pixel's, rewritten next,
// or the row buffer's padding).
inline void store_pixel(std::uint8_t* p, __m128i x16) {
    const std::uint32_t v = static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(x16, x16)));
    std::memcpy(p, &v, 4);
}

inline __m128i abs16(__m128i x) { return _mm_max_epi16(x, _mm_sub_epi16(_mm_setzero_si128(), x)); }

// The prediction of one pixel from its left (a), upper (b) and upper-left (c)
// neighbours, in 16-bit lanes.
template <int FILTER>
inline __m128i predict(__m128i a, __m128i b, __m128i c) {
    if (FILTER == kSub) return a;
    if (FILTER == kAverage) return _mm_srli_epi16(_mm_add_epi16(a, b), 1);
    // Paeth: the nearest of a, b, c to a + b - c, ties going to a then b.
    const __m128i da = _mm_sub_epi16(a, c), db = _mm_sub_epi16(b, c);
    const __m128i pa = abs16(db), pb = abs16(da), pc = abs16(_mm_add_epi16(da, db));
    const __m128i least = _mm_min_epi16(_mm_min_epi16(pa, pb), pc);
    const __m128i use_a = _mm_cmpeq_epi16(pa, least);
    const __m128i use_b = _mm_andnot_si128(use_a, _mm_cmpeq_epi16(pb, least));
    const __m128i use_c = _mm_andnot_si128(_mm_or_si128(use_a, use_b), _mm_set1_epi16(-1));
    return _mm_or_si128(_mm_or_si128(_mm_and_si128(use_a, a), _mm_and_si128(use_b, b)), _mm_and_si128(use_c, c));
}

template <int BPP, int FILTER>
void unfilter_row_simd(const std::uint8_t* f, std::int64_t width, const std::uint8_t* prev, std::uint8_t* cur) {
    const __m128i low_byte = _mm_set1_epi16(0xFF);
    __m128i a = _mm_setzero_si128(), c = _mm_setzero_si128();
    std::int64_t x = 0;
    for (; x + 1 < width; ++x) {
        const std::int64_t o = x * BPP;
        const __m128i b = load_pixel(prev + o);
        a = _mm_and_si128(_mm_add_epi16(load_pixel(f + o), predict<FILTER>(a, b, c)), low_byte);
        c = b;
        store_pixel(cur + o, a);
    }
    const std::int64_t o = x * BPP;
    const __m128i b = load_pixel(prev + o);
    store_pixel(cur + o, _mm_and_si128(_mm_add_epi16(load_last_pixel<BPP>(f + o), predict<FILTER>(a, b, c)), low_byte));
}
// Two consecutive Paeth rows, y and y + 1, at once: row y + 1's pixel x - 1 needs
// nothing of row y past pixel x - 1, so it is computed beside row y's pixel x, in
// the upper 64 bits of the same registers (two dependency chains for the price
// of one). `f0`, `f1`: the rows' filtered bytes (`f1` follows `f0` in the
// stream); `prev`: row y - 1; `cur0`, `cur1`: rows y and y + 1.
template <int BPP>
void unfilter_paeth_pair(const std::uint8_t* f0, const std::uint8_t* f1, std::int64_t width,
                         const std::uint8_t* prev, std::uint8_t* cur0, std::uint8_t* cur1) {
    const __m128i low_byte = _mm_set1_epi16(0xFF);
    // r: step x - 1's results (row y pixel x - 1 | row y + 1 pixel x - 2),
    // r_before: step x - 2's, up: row y - 1's pixel x - 1.
    __m128i r = _mm_setzero_si128(), r_before = r, up = r;
    for (std::int64_t x = 0; x <= width; ++x) {
        const __m128i b0 = x < width ? load_pixel(prev + x * BPP) : _mm_setzero_si128();
        // Row y's part past its last pixel (x == width) is computed but not stored;
        // its filtered bytes are then row y + 1's first ones (f1 follows f0).
        const __m128i d0 = load_pixel(f0 + x * BPP);
        const __m128i d1 = x == 0 ? _mm_setzero_si128()
                                  : (x == width ? load_last_pixel<BPP>(f1 + (x - 1) * BPP)
                                                : load_pixel(f1 + (x - 1) * BPP));
        const __m128i b = _mm_unpacklo_epi64(b0, r);        // row y - 1 pixel x | row y pixel x - 1
        const __m128i c = _mm_unpacklo_epi64(up, r_before);  // row y - 1 pixel x - 1 | row y pixel x - 2
        const __m128i d = _mm_unpacklo_epi64(d0, d1);
        __m128i next = _mm_and_si128(_mm_add_epi16(d, predict<kPaeth>(r, b, c)), low_byte);
        if (x < width) store_pixel(cur0 + x * BPP, next);
        if (x > 0) {
            store_pixel(cur1 + (x - 1) * BPP, _mm_srli_si128(next, 8));
        } else {
            next = _mm_move_epi64(next);  // row y + 1 has no pixel -1: its left neighbour is 0
        }
        r_before = r;
        r = next;
        up = b0;
    }
}
#endif

void unfilter_row(int filter, const std::uint8_t* f, std::int64_t width, int bpp, const std::uint8_t* prev,
                  std::uint8_t* cur) {
    const std::int64_t n = width * bpp;
    if (filter == kNone) {
        std::memcpy(cur, f, static_cast<std::size_t>(n));
        return;
    }
    if (filter == kUp) {
        for (std::int64_t i = 0; i < n; ++i) cur[i] = static_cast<std::uint8_t>(f[i] + prev[i]);
        return;
    }
#ifdef PYIMGAUG_PNG_SSE2
#define PYIMGAUG_PNG_ROW(BPP)                                                            \
    if (bpp == BPP) {                                                                    \
        if (filter == kSub) return unfilter_row_simd<BPP, kSub>(f, width, prev, cur);    \
        if (filter == kAverage) return unfilter_row_simd<BPP, kAverage>(f, width, prev, cur); \
        return unfilter_row_simd<BPP, kPaeth>(f, width, prev, cur);                      \
    }
    PYIMGAUG_PNG_ROW(3)
    PYIMGAUG_PNG_ROW(4)
#undef PYIMGAUG_PNG_ROW
#endif
    unfilter_row_scalar(filter, f, n, bpp, prev, cur);
}

// Writes one reconstructed row with `out_channels` (see the header's pairs).
void convert_row(const std::uint8_t* in, std::int64_t width, int in_channels, int out_channels, std::uint8_t* out) {
    if (in_channels == out_channels) {
        std::memcpy(out, in, static_cast<std::size_t>(width * in_channels));
        return;
    }
    for (std::int64_t x = 0; x < width; ++x, in += in_channels, out += out_channels) {
        if (in_channels == 1) {
            out[0] = out[1] = out[2] = in[0];
        } else {
            out[0] = in[0];
            out[1] = in[1];
            out[2] = in[2];
        }
        if (out_channels == 4) out[3] = in_channels == 4 ? in[3] : 255;
    }
}

}  // namespace

bool png_unfilter(const std::uint8_t* raw, std::int64_t height, std::int64_t width, int in_channels,
                  int out_channels, std::uint8_t* out) {
    const std::int64_t row_bytes = width * in_channels;
    // Three row buffers (the row above and up to two being made), each with
    // `in_channels` zero bytes before the row (the left neighbours of the first
    // pixel) and 16 after (the SIMD loops' 4-byte accesses).
    const std::int64_t span = in_channels + row_bytes + 16;
    std::vector<std::uint8_t> rows(static_cast<std::size_t>(3 * span), 0);
    std::uint8_t* prev = rows.data() + in_channels;  // all zero: the row above the first
    std::uint8_t* cur = rows.data() + span + in_channels;
    std::uint8_t* spare = rows.data() + 2 * span + in_channels;
    auto line = [&](std::int64_t y) { return raw + y * (row_bytes + 1); };
    for (std::int64_t y = 0; y < height;) {
        const int filter = line(y)[0];
        if (filter > kPaeth) return false;
#ifdef PYIMGAUG_PNG_SSE2
        if (filter == kPaeth && (in_channels == 3 || in_channels == 4) && y + 1 < height &&
            line(y + 1)[0] == kPaeth) {
            if (in_channels == 3)
                unfilter_paeth_pair<3>(line(y) + 1, line(y + 1) + 1, width, prev, cur, spare);
            else
                unfilter_paeth_pair<4>(line(y) + 1, line(y + 1) + 1, width, prev, cur, spare);
            convert_row(cur, width, in_channels, out_channels, out + y * width * out_channels);
            convert_row(spare, width, in_channels, out_channels, out + (y + 1) * width * out_channels);
            std::uint8_t* t = prev;
            prev = spare;
            spare = t;
            y += 2;
            continue;
        }
#endif
        unfilter_row(filter, line(y) + 1, width, in_channels, prev, cur);
        convert_row(cur, width, in_channels, out_channels, out + y * width * out_channels);
        std::uint8_t* t = prev;
        prev = cur;
        cur = t;
        ++y;
    }
    return true;
}

}  // namespace pyimgaug
