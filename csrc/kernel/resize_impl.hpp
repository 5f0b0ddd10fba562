// Hot loops of the Pillow-compatible resize. Included by resize.cpp (baseline
// ISA), resize_avx2.cpp (-mavx2) and resize_avx512.cpp (AVX-512 VNNI), each inside
// its own namespace PYIMGAUG_ISA.
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
// Exact 16-bit multiply-adds for Pillow's 22-bit fixed point (see split_coefficient
// in resize.cpp). Each weight k is stored as k = kh * 2^15 + kl with 0 <= kl < 2^15
// and |kh| < 2^15, so pixel pairs (0..255 as int16) times (kh, kh') and (kl, kl')
// with _mm256_madd_epi16 are exact in int32 (|p*a + p'*b| <= 2 * 255 * 32768 < 2^31;
// madd's one overflow case, -32768 * -32768 twice, needs a negative pixel). The two
// partial sums are then combined as (sum_h << 15) + sum_l + 2^21: every operation is
// an int32 addition or a shift left, exact modulo 2^32, so the combined value equals
// Pillow's ss = 2^21 + sum(p * k) modulo 2^32, and therefore exactly whenever Pillow's
// own int32 accumulator does not overflow (255 * sum|k| + 2^21 < 2^31, i.e. sum|k|
// below about 2.0 in weight units, which every Pillow filter satisfies; and where it
// would overflow, Pillow's wrapped two's-complement sum is the same residue).
// The result is then Pillow's clip8: ss >> 22 (arithmetic), saturated to 0..255.
constexpr int kSplitShift = 15;

// acc + madd(a, b): one instruction in the AVX-512 VNNI copy. VPDPWSSD adds the
// two int16 products to the int32 lane without saturation, so both forms are the
// same sum modulo 2^32 (the exactness argument above needs nothing more).
static inline __m256i madd_acc(__m256i acc, __m256i a, __m256i b) {
#ifdef PYIMGAUG_USE_VNNI
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// Finishes four RGBA/RGB sums: combines the high and low parts, rounds, shifts and
// saturates to bytes as Pillow's clip8 does.
static inline std::uint32_t finish4(__m128i hi, __m128i lo) {
    const __m128i ss = _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32(hi, kSplitShift), lo),
                                     _mm_set1_epi32(1 << (kPrecisionBits - 1)));
    const __m128i v = _mm_srai_epi32(ss, kPrecisionBits);
    return static_cast<std::uint32_t>(_mm_cvtsi128_si32(_mm_packus_epi16(_mm_packs_epi32(v, v), v)));
}

// First output whose tap loads (`span` bytes from its first tap) would run past the
// end of a row of `row_bytes` bytes. Outputs before it read the source row in place:
// bytes past their window are real pixels times weight 0, so they add nothing.
// Outputs from it on read a zero-padded copy of the row's tail. `first` is
// non-decreasing, so one scan from the right finds it.
static inline std::int64_t first_padded_output(const int* first, std::int64_t out_width, int channels,
                                               std::int64_t span, std::int64_t row_bytes) {
    std::int64_t x = out_width;
    while (x > 0 && static_cast<std::int64_t>(first[x - 1]) * channels + span > row_bytes) --x;
    return x;
}

// Copies `n` bytes without a library call (the copies here are a row's last few
// pixels, once per row, where a call costs more than the copy).
static inline void copy_bytes(std::uint8_t* dst, const std::uint8_t* src, std::int64_t n) {
    std::int64_t j = 0;
    for (; j + 16 <= n; j += 16)
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + j), _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + j)));
    for (; j < n; ++j) dst[j] = src[j];
}

// The same 16 bytes in both 128-bit lanes.
static inline __m256i both_lanes(const void* p) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// One 4-byte word of weights in all eight dwords (every channel slot of both
// rows): vpbroadcastd from memory, one load like a 16-byte broadcast, so the
// tables need not repeat each word per channel slot.
static inline __m256i every_dword(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

// The 4-byte word at `p` (any alignment).
static inline std::int32_t word_at(const void* p) {
    std::int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

// 16 bytes of two rows, one per 128-bit lane.
static inline __m256i two_rows(const std::uint8_t* a, const std::uint8_t* b) {
    return _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a))),
                                   _mm_loadu_si128(reinterpret_cast<const __m128i*>(b)), 1);
}

// The rows a four-row horizontal loop reads: where each output's window starts in
// each of the four rows (in place, or in a zero-padded copy of the row's tail for
// the outputs whose loads would run past the row), and the prefetch of the next
// four rows, a few cache lines per output (issued all at once they fill the miss
// buffers and stall; the hardware prefetcher starts late on each new row).
// `span`: how many bytes an output's loads reach from its first tap. Pixels are `P`
// bytes apart, of which the first `C` are read (P > C: the RGB of RGBX pixels); a row
// is read up to its last pixel's last sample, never the bytes after it.
template <int P, int C = P>
class FourRows {
  public:
    FourRows(const unsigned char* src, std::int64_t src_stride, std::int64_t rows, std::int64_t in_width,
             const int* first, std::int64_t out_width, std::int64_t span, std::uint8_t* rowbuf)
        : src_(src), stride_(src_stride), rows_(rows), row_bytes_((in_width - 1) * P + C), first_(first),
          out_width_(out_width), rowbuf_(rowbuf) {
        x_pad_ = first_padded_output(first, out_width, P, span, row_bytes_);
        tail_off_ = x_pad_ < out_width ? static_cast<std::int64_t>(first[x_pad_]) * P : row_bytes_;
        tail_len_ = row_bytes_ - tail_off_;
        buf_part_ = tail_len_ + span + 64;
    }

    // Starts the block of rows r..r+3 (past the last row, the last row again);
    // returns how many of them are real.
    int start(std::int64_t r) {
        r_ = r;
        const int live = static_cast<int>(rows_ - r < 4 ? rows_ - r : 4);
        for (int j = 0; j < 4; ++j) {
            in_[j] = src_ + (r + (j < live ? j : live - 1)) * stride_;
            tail_[j] = rowbuf_ + j * buf_part_ - tail_off_;
            copy_bytes(rowbuf_ + j * buf_part_, in_[j] + tail_off_, tail_len_);
        }
        pf_rows_ = rows_ - (r + 4) < 4 ? rows_ - (r + 4) : 4;
        pf_ = src_ + (r + 4) * stride_;
        pf_row_end_ = pf_ + row_bytes_;
        pf_row_ = 0;
        const std::int64_t pf_lines = pf_rows_ > 0 ? pf_rows_ * ((row_bytes_ + 63) / 64) : 0;
        pf_step_ = static_cast<int>((pf_lines + out_width_ - 1) / out_width_);
        return live;
    }

    // Output xx's window start in each of the four rows; issues its share of the
    // next block's prefetches.
    void windows(std::int64_t xx, const std::uint8_t* p[4]) {
        for (int q = 0; q < pf_step_ && pf_row_ < pf_rows_; ++q) {
            _mm_prefetch(reinterpret_cast<const char*>(pf_), _MM_HINT_T0);
            pf_ += 64;
            if (pf_ >= pf_row_end_) {
                ++pf_row_;
                pf_ = src_ + (r_ + 4 + pf_row_) * stride_;
                pf_row_end_ = pf_ + row_bytes_;
            }
        }
        const std::int64_t at = static_cast<std::int64_t>(first_[xx]) * P;
        const bool padded = xx >= x_pad_;
        for (int j = 0; j < 4; ++j) p[j] = (padded ? tail_[j] : in_[j]) + at;
    }

  private:
    const unsigned char* src_;
    std::int64_t stride_, rows_, row_bytes_;
    const int* first_;
    std::int64_t out_width_;
    std::uint8_t* rowbuf_;
    std::int64_t x_pad_ = 0, tail_off_ = 0, tail_len_ = 0, buf_part_ = 0, r_ = 0, pf_rows_ = 0;
    const unsigned char* in_[4] = {};
    const std::uint8_t* tail_[4] = {};
    const std::uint8_t* pf_ = nullptr;
    const std::uint8_t* pf_row_end_ = nullptr;
    int pf_row_ = 0, pf_step_ = 0;
};

// The horizontal loops finish an output pixel for four rows at once; they stage the
// four results (16 bytes, rows 0-3, 4 bytes each) per output and this writes a
// block's rows from the stage afterwards, four outputs at a time: a 4 x 4 transpose
// of 32-bit pixels, then (RGB) a shuffle dropping every fourth byte. Rows past
// `live` are not written, nor anything past a row's last pixel.
template <int C>
static void store_staged_rows(const std::uint8_t* stage, std::int64_t out_width, int live, std::uint8_t* out) {
    const __m128i rgb = _mm_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
    std::uint8_t* rows[4];
    for (int j = 0; j < 4; ++j) rows[j] = out + j * out_width * C;
    std::int64_t xx = 0;
    // A 16-byte store at output x ends at byte 16 + C * x of its row, which must not
    // pass the row's end (RGB stores write 16 bytes for 12); the rest is bytewise.
    const std::int64_t vec_end = C == 4 ? out_width - 3 : out_width - 5;
    for (; xx < vec_end; xx += 4) {
        const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(stage + xx * 16));
        const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(stage + xx * 16 + 16));
        const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(stage + xx * 16 + 32));
        const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(stage + xx * 16 + 48));
        const __m128i t0 = _mm_unpacklo_epi32(a, b), t1 = _mm_unpackhi_epi32(a, b);
        const __m128i t2 = _mm_unpacklo_epi32(c, d), t3 = _mm_unpackhi_epi32(c, d);
        __m128i r[4] = {_mm_unpacklo_epi64(t0, t2), _mm_unpackhi_epi64(t0, t2), _mm_unpacklo_epi64(t1, t3),
                        _mm_unpackhi_epi64(t1, t3)};
        for (int j = 0; j < live; ++j) {
            if (C == 3) r[j] = _mm_shuffle_epi8(r[j], rgb);
            _mm_storeu_si128(reinterpret_cast<__m128i*>(rows[j] + xx * C), r[j]);
        }
    }
    for (; xx < out_width; ++xx)
        for (int j = 0; j < live; ++j) std::memcpy(rows[j] + xx * C, stage + xx * 16 + 4 * j, C);
}

// Puts an output pixel's four rows (bytes: dword 0 = row 0, 1 = row 2, 4 = row 1,
// 5 = row 3, as the loops' packs leave them) in row order into the stage.
static inline void stage_pixel(__m256i px, std::uint8_t* stage) {
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(stage),
                     _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(px, order)));
}

// Horizontal pass for 3 and 4 channels, four rows at a time, two rows per register
// (one per 128-bit lane, as Pillow-SIMD does), so a lane's sums are one row's and
// need no folding. A 16-byte load from an output's window gives taps 0-3; a byte
// shuffle turns taps (0, 1) or (2, 3) into int16 pairs (c of tap t, c of tap t+1)
// for the 4 channel slots, and one madd with a unit of `split` (that pair's high or
// low parts, see build_horizontal_split in resize.cpp) gives four per-channel partial sums. Windows
// are walked a pair of taps at a time: two pairs per load, then a last odd pair,
// `used[x]` pairs in all.
template <int C, int P = C>
static void horizontal_u8_avx2_split(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                     std::int64_t in_width, const int* first, std::int64_t out_width,
                                     const std::int16_t* split, int units, const int* used, std::uint8_t* rowbuf,
                                     std::uint8_t* stage, std::uint8_t* dst) {
    static_assert((C == 3 || C == 4) && (P == C || (C == 3 && P == 4)), "3 or 4 channels; RGB of RGBX");
    // The shuffles go by the pixel size; with RGBX input the fourth channel slot
    // sums the X bytes, and only three channels are stored.
    const __m256i taps01 = P == 3 ? _mm256_setr_epi8(0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1,  //
                                                     0, -1, 3, -1, 1, -1, 4, -1, 2, -1, 5, -1, -1, -1, -1, -1)
                                  : _mm256_setr_epi8(0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1,  //
                                                     0, -1, 4, -1, 1, -1, 5, -1, 2, -1, 6, -1, 3, -1, 7, -1);
    const __m256i taps23 =
        P == 3 ? _mm256_setr_epi8(6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1,  //
                                  6, -1, 9, -1, 7, -1, 10, -1, 8, -1, 11, -1, -1, -1, -1, -1)
               : _mm256_setr_epi8(8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1,  //
                                  8, -1, 12, -1, 9, -1, 13, -1, 10, -1, 14, -1, 11, -1, 15, -1);
    // Pillow's rounding term, carried from the start in one low-part accumulator.
    const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
    const std::int64_t span = 2 * P * static_cast<std::int64_t>(units - 1) + 16;  // bytes the loads reach
    FourRows<P, C> block_rows(src, src_stride, rows, in_width, first, out_width, span, rowbuf);
    for (std::int64_t r = 0; r < rows; r += 4) {
        const int live = block_rows.start(r);
        std::uint8_t* out = dst + r * out_width * C;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const std::uint8_t* p[4];
            block_rows.windows(xx, p);
            const std::uint8_t *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3];
            const std::int16_t* w = split + xx * units * 4;
            // a: rows 0 | 1, b: rows 2 | 3; *0 sums taps (0, 1) of each load, *1 taps (2, 3).
            __m256i ha0 = _mm256_setzero_si256(), ha1 = ha0, hb0 = ha0, hb1 = ha0;
            __m256i la0 = round, la1 = ha0, lb0 = round, lb1 = ha0;
            const int n = used[xx];
            int q = 0;
            for (; q + 2 <= n; q += 2, w += 8) {
                const std::int64_t o = 2 * P * q;
                const __m256i sa = two_rows(p0 + o, p1 + o);
                const __m256i sb = two_rows(p2 + o, p3 + o);
                const __m256i wh0 = every_dword(w);
                const __m256i wl0 = every_dword(w + 2);
                const __m256i wh1 = every_dword(w + 4);
                const __m256i wl1 = every_dword(w + 6);
                const __m256i xa0 = _mm256_shuffle_epi8(sa, taps01), xa1 = _mm256_shuffle_epi8(sa, taps23);
                const __m256i xb0 = _mm256_shuffle_epi8(sb, taps01), xb1 = _mm256_shuffle_epi8(sb, taps23);
                ha0 = madd_acc(ha0, xa0, wh0);
                la0 = madd_acc(la0, xa0, wl0);
                ha1 = madd_acc(ha1, xa1, wh1);
                la1 = madd_acc(la1, xa1, wl1);
                hb0 = madd_acc(hb0, xb0, wh0);
                lb0 = madd_acc(lb0, xb0, wl0);
                hb1 = madd_acc(hb1, xb1, wh1);
                lb1 = madd_acc(lb1, xb1, wl1);
            }
            if (q < n) {  // the window's last pair
                const std::int64_t o = 2 * P * q;
                const __m256i sa = two_rows(p0 + o, p1 + o);
                const __m256i sb = two_rows(p2 + o, p3 + o);
                const __m256i wh0 = every_dword(w);
                const __m256i wl0 = every_dword(w + 2);
                const __m256i xa0 = _mm256_shuffle_epi8(sa, taps01), xb0 = _mm256_shuffle_epi8(sb, taps01);
                ha0 = madd_acc(ha0, xa0, wh0);
                la0 = madd_acc(la0, xa0, wl0);
                hb0 = madd_acc(hb0, xb0, wh0);
                lb0 = madd_acc(lb0, xb0, wl0);
            }
            // Combine the high and low parts (exact modulo 2^32, see above), shift
            // and saturate as Pillow's clip8 does.
            const __m256i ta = _mm256_add_epi32(_mm256_slli_epi32(_mm256_add_epi32(ha0, ha1), kSplitShift),
                                                _mm256_add_epi32(la0, la1));
            const __m256i tb = _mm256_add_epi32(_mm256_slli_epi32(_mm256_add_epi32(hb0, hb1), kSplitShift),
                                                _mm256_add_epi32(lb0, lb1));
            const __m256i va = _mm256_srai_epi32(ta, kPrecisionBits);
            const __m256i vb = _mm256_srai_epi32(tb, kPrecisionBits);
            // Bytes: dword 0 = row 0, 1 = row 2, 4 = row 1, 5 = row 3.
            stage_pixel(_mm256_packus_epi16(_mm256_packs_epi32(va, vb), _mm256_setzero_si256()), stage + xx * 16);
        }
        store_staged_rows<C>(stage, out_width, live, out);
    }
}

// Horizontal pass for one channel: 16 taps per register, weights as 16 int16 high
// parts then 16 low parts per group.
static void horizontal_u8_avx2_split_c1(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                        std::int64_t in_width, const int* first, std::int64_t out_width,
                                        const std::int16_t* split, int groups, const int* used,
                                        std::uint8_t* rowbuf, std::uint8_t* dst) {
    const std::int64_t span = 16 * static_cast<std::int64_t>(groups);
    const std::int64_t x_pad = first_padded_output(first, out_width, 1, span, in_width);
    const std::int64_t tail_off = x_pad < out_width ? first[x_pad] : in_width;
    for (std::int64_t r = 0; r < rows; ++r) {
        const unsigned char* row = src + r * src_stride;
        copy_bytes(rowbuf, row + tail_off, in_width - tail_off);
        std::uint8_t* out = dst + r * out_width;
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const std::uint8_t* p = xx < x_pad ? row + first[xx] : rowbuf + (first[xx] - tail_off);
            const std::int16_t* w = split + xx * groups * 32;
            __m256i ah = _mm256_setzero_si256(), al = ah;
            const int n = used[xx];
            for (int g = 0; g < n; ++g, p += 16, w += 32) {
                const __m256i px = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
                ah = madd_acc(ah, px, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w)));
                al = madd_acc(al, px, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + 16)));
            }
            // Fold 8 lanes to 1 (integer additions: order cannot matter).
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(ah), _mm256_extracti128_si256(ah, 1));
            __m128i l = _mm_add_epi32(_mm256_castsi256_si128(al), _mm256_extracti128_si256(al, 1));
            h = _mm_add_epi32(h, _mm_unpackhi_epi64(h, h));
            l = _mm_add_epi32(l, _mm_unpackhi_epi64(l, l));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 1));
            l = _mm_add_epi32(l, _mm_shuffle_epi32(l, 1));
            out[xx] = static_cast<std::uint8_t>(finish4(h, l) & 0xFF);
        }
    }
}

// Combines, rounds, shifts and saturates 16 sums (two registers of 8 int32 whose
// lanes are samples 0-3,8-11 and 4-7,12-15) into 16 int16 in sample order.
static inline __m256i finish16(__m256i h0, __m256i l0, __m256i h1, __m256i l1) {
    const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
    const __m256i s0 = _mm256_srai_epi32(
        _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(h0, kSplitShift), l0), round), kPrecisionBits);
    const __m256i s1 = _mm256_srai_epi32(
        _mm256_add_epi32(_mm256_add_epi32(_mm256_slli_epi32(h1, kSplitShift), l1), round), kPrecisionBits);
    return _mm256_packs_epi32(s0, s1);
}

// AVX2 vertical pass: rows are taken two at a time, their samples interleaved as
// int16 pairs (row y, row y+1) and multiplied by the weight pairs with madd; 32
// samples of an output row stay in eight accumulators across every tap.
static void vertical_u8_avx2_split(const unsigned char* src, std::int64_t src_stride, std::int64_t samples,
                                   const int* first, const int* count, const std::int32_t* k, int ksize,
                                   std::int64_t out_height, std::int64_t first_row, std::uint8_t* dst) {
    for (std::int64_t yy = 0; yy < out_height; ++yy) {
        const std::int64_t ymin = first[yy] - first_row;
        const int n = count[yy];
        const std::int32_t* wk = k + yy * ksize;
        const std::uint8_t* base = src + ymin * src_stride;
        std::uint8_t* out = dst + yy * samples;
        std::int64_t i = 0;
        for (; i + 32 <= samples; i += 32) {
            __m256i h0 = _mm256_setzero_si256(), l0 = h0, h1 = h0, l1 = h0, h2 = h0, l2 = h0, h3 = h0, l3 = h0;
            const std::uint8_t* row = base + i;
            for (int y = 0; y < n; y += 2, row += 2 * src_stride) {
                // An odd last tap is paired with itself at weight 0.
                const bool pair = y + 1 < n;
                const std::int32_t ka = wk[y], kb = pair ? wk[y + 1] : 0;
                const std::uint8_t* row_b = pair ? row + src_stride : row;
                const std::uint32_t lo_a = static_cast<std::uint32_t>(ka) & ((1u << kSplitShift) - 1);
                const std::uint32_t lo_b = static_cast<std::uint32_t>(kb) & ((1u << kSplitShift) - 1);
                const std::uint32_t hi_a = static_cast<std::uint32_t>(ka >> kSplitShift) & 0xFFFFu;
                const std::uint32_t hi_b = static_cast<std::uint32_t>(kb >> kSplitShift) & 0xFFFFu;
                const __m256i wh = _mm256_set1_epi32(static_cast<int>(hi_a | (hi_b << 16)));
                const __m256i wl = _mm256_set1_epi32(static_cast<int>(lo_a | (lo_b << 16)));
                const __m256i a0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row)));
                const __m256i b0 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row_b)));
                const __m256i a1 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row + 16)));
                const __m256i b1 = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row_b + 16)));
                const __m256i p0 = _mm256_unpacklo_epi16(a0, b0), p1 = _mm256_unpackhi_epi16(a0, b0);
                const __m256i p2 = _mm256_unpacklo_epi16(a1, b1), p3 = _mm256_unpackhi_epi16(a1, b1);
                h0 = madd_acc(h0, p0, wh);
                l0 = madd_acc(l0, p0, wl);
                h1 = madd_acc(h1, p1, wh);
                l1 = madd_acc(l1, p1, wl);
                h2 = madd_acc(h2, p2, wh);
                l2 = madd_acc(l2, p2, wl);
                h3 = madd_acc(h3, p3, wh);
                l3 = madd_acc(l3, p3, wl);
            }
            // packs gives samples 0-15 and 16-31 in order as int16; packus then
            // interleaves their 128-bit halves, which the final permute undoes.
            const __m256i bytes = _mm256_packus_epi16(finish16(h0, l0, h1, l1), finish16(h2, l2, h3, l3));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permute4x64_epi64(bytes, 0xD8));
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

#ifdef PYIMGAUG_USE_VNNI
// The AVX-512 VNNI loops. VPDPBUSD adds to each int32 lane the dot product of four
// unsigned bytes (pixels, as they are) with four signed bytes (weights), exactly and
// without saturation, so each 22-bit weight is split into three signed digits,
// k = d2 * 2^16 + d1 * 2^8 + d0 (split_digits in resize.cpp), and each digit's sum
// S_e = sum(p * d_e) is one dot product per four taps. Pillow's sum is then
// 2^21 + S_0 + (S_1 << 8) + (S_2 << 16): additions and left shifts, exact modulo
// 2^32 like the int16 split above, and the same clip8 follows.

// Finishes digit sums into Pillow's ss for one register.
static inline __m256i combine_digits(__m256i s0, __m256i s1, __m256i s2) {
    return _mm256_add_epi32(_mm256_add_epi32(s0, _mm256_slli_epi32(s1, 8)), _mm256_slli_epi32(s2, 16));
}

// The horizontal digit pass, for 3 and 4 channels, computes one output pixel of four
// rows at a time. A 16-byte load from an output's window (in each row) holds taps 0-3;
// a byte shuffle gathers, per channel slot c, (c of tap 0, c of tap 1, c of tap 2,
// c of tap 3) into dword c, and three dot products with the group's digits (12 bytes
// of `digits`, see build_horizontal_digits in resize.cpp) add its four taps to the
// channel sums. Each window is walked with one accumulator per digit, and a second set
// for odd groups so that each dependency chain is half the window. The result is the
// pixel's 16 bytes: rows 0-3, 4 bytes (channel slots) each.
//
// Two register widths: all four rows in one 512-bit register, one per 128-bit lane
// (where 512-bit work costs no clock speed, see cpu_prefers_512bit in parallel.cpp), or
// two rows per 256-bit register. `P`: bytes per input pixel (the shuffle goes by it;
// with RGBX input the fourth slot sums the X bytes, and only three channels are kept).
template <int P>
static inline __m128i digits_pixel_512(const std::uint8_t* const* p, const std::int8_t* w, int n) {
    const __m512i quads = _mm512_broadcast_i32x4(P == 3 ? _mm_setr_epi8(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1)
                                                        : _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m512i zero = _mm512_setzero_si512();
    __m512i a0 = _mm512_set1_epi32(1 << (kPrecisionBits - 1)), a1 = zero, a2 = zero;
#define PYIMGAUG_DIGIT_GROUP(g, A0, A1, A2)                                                                    \
    {                                                                                                          \
        const std::int64_t o = 4 * P * (g);                                                                   \
        const std::int8_t* wg = w + 12 * (g);                                                                  \
        __m512i q = _mm512_castsi128_si512(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p[0] + o)));       \
        q = _mm512_inserti32x4(q, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[1] + o)), 1);             \
        q = _mm512_inserti32x4(q, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[2] + o)), 2);             \
        q = _mm512_inserti32x4(q, _mm_loadu_si128(reinterpret_cast<const __m128i*>(p[3] + o)), 3);             \
        q = _mm512_shuffle_epi8(q, quads);                                                                     \
        A0 = _mm512_dpbusd_epi32(A0, q, _mm512_set1_epi32(word_at(wg)));                                       \
        A1 = _mm512_dpbusd_epi32(A1, q, _mm512_set1_epi32(word_at(wg + 4)));                                   \
        A2 = _mm512_dpbusd_epi32(A2, q, _mm512_set1_epi32(word_at(wg + 8)));                                   \
    }
    if (n <= 2) {  // short windows (box, bilinear shrinking little): one set is enough
        for (int g = 0; g < n; ++g) PYIMGAUG_DIGIT_GROUP(g, a0, a1, a2)
    } else {
        __m512i c0 = zero, c1 = zero, c2 = zero;
        int g = 0;
        for (; g + 2 <= n; g += 2) {
            PYIMGAUG_DIGIT_GROUP(g, a0, a1, a2)
            PYIMGAUG_DIGIT_GROUP(g + 1, c0, c1, c2)
        }
        if (g < n) PYIMGAUG_DIGIT_GROUP(g, a0, a1, a2)
        a0 = _mm512_add_epi32(a0, c0);
        a1 = _mm512_add_epi32(a1, c1);
        a2 = _mm512_add_epi32(a2, c2);
    }
#undef PYIMGAUG_DIGIT_GROUP
    // Pillow's ss, shifted and clipped to 0..255 as clip8 does.
    const __m512i ss = _mm512_add_epi32(_mm512_add_epi32(a0, _mm512_slli_epi32(a1, 8)), _mm512_slli_epi32(a2, 16));
    return _mm512_cvtusepi32_epi8(_mm512_max_epi32(_mm512_srai_epi32(ss, kPrecisionBits), zero));
}

template <int P>
static inline __m128i digits_pixel_256(const std::uint8_t* const* p, const std::int8_t* w, int n) {
    const __m256i quads = P == 3 ? _mm256_setr_epi8(0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1,  //
                                                    0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11, -1, -1, -1, -1)
                                 : _mm256_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,  //
                                                    0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
    const __m256i zero = _mm256_setzero_si256();
    // a: rows 0 | 1, b: rows 2 | 3.
    __m256i a0 = round, a1 = zero, a2 = zero, b0 = round, b1 = zero, b2 = zero;
#define PYIMGAUG_DIGIT_GROUP(g, A0, A1, A2, B0, B1, B2)                                                           \
    {                                                                                                              \
        const std::int64_t o = 4 * P * (g);                                                                       \
        const std::int8_t* wg = w + 12 * (g);                                                                      \
        const __m256i sa = _mm256_shuffle_epi8(two_rows(p[0] + o, p[1] + o), quads);                               \
        const __m256i sb = _mm256_shuffle_epi8(two_rows(p[2] + o, p[3] + o), quads);                               \
        const __m256i d0 = every_dword(wg);                                                                        \
        const __m256i d1 = every_dword(wg + 4);                                                                    \
        const __m256i d2 = every_dword(wg + 8);                                                                    \
        A0 = _mm256_dpbusd_epi32(A0, sa, d0);                                                                      \
        A1 = _mm256_dpbusd_epi32(A1, sa, d1);                                                                      \
        A2 = _mm256_dpbusd_epi32(A2, sa, d2);                                                                      \
        B0 = _mm256_dpbusd_epi32(B0, sb, d0);                                                                      \
        B1 = _mm256_dpbusd_epi32(B1, sb, d1);                                                                      \
        B2 = _mm256_dpbusd_epi32(B2, sb, d2);                                                                      \
    }
    if (n <= 2) {
        for (int g = 0; g < n; ++g) PYIMGAUG_DIGIT_GROUP(g, a0, a1, a2, b0, b1, b2)
    } else {
        __m256i c0 = zero, c1 = zero, c2 = zero, e0 = zero, e1 = zero, e2 = zero;
        int g = 0;
        for (; g + 2 <= n; g += 2) {
            PYIMGAUG_DIGIT_GROUP(g, a0, a1, a2, b0, b1, b2)
            PYIMGAUG_DIGIT_GROUP(g + 1, c0, c1, c2, e0, e1, e2)
        }
        if (g < n) PYIMGAUG_DIGIT_GROUP(g, a0, a1, a2, b0, b1, b2)
        a0 = _mm256_add_epi32(a0, c0);
        a1 = _mm256_add_epi32(a1, c1);
        a2 = _mm256_add_epi32(a2, c2);
        b0 = _mm256_add_epi32(b0, e0);
        b1 = _mm256_add_epi32(b1, e1);
        b2 = _mm256_add_epi32(b2, e2);
    }
#undef PYIMGAUG_DIGIT_GROUP
    const __m256i va = _mm256_srai_epi32(combine_digits(a0, a1, a2), kPrecisionBits);
    const __m256i vb = _mm256_srai_epi32(combine_digits(b0, b1, b2), kPrecisionBits);
    // The packs leave dword 0 = row 0, 1 = row 2, 4 = row 1, 5 = row 3; in row order:
    const __m256i px = _mm256_packus_epi16(_mm256_packs_epi32(va, vb), _mm256_setzero_si256());
    return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(px, _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5)));
}

// The horizontal digit pass over `rows` rows, four at a time (see digits_pixel_512).
// `interleaved` writes the result for the vertical digit loop instead of as rows:
// rows in blocks of four from the first, each block holding, per sample (pixel x
// channel), its four rows' bytes together, so the vertical loop reads dot-product
// operands with plain loads. Each pixel is then one shuffle of its four rows and
// one store (16 bytes; for RGB the last 4 are overwritten by the next pixel, and
// the caller leaves 16 bytes of room after the last block).
template <int C, int P, bool interleaved, bool wide>
static void horizontal_u8_digits(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                 std::int64_t in_width, const int* first, std::int64_t out_width,
                                 const std::int8_t* digits, int groups, const int* used, std::uint8_t* rowbuf,
                                 std::uint8_t* stage, std::uint8_t* dst) {
    static_assert((C == 3 || C == 4) && (P == C || (C == 3 && P == 4)), "3 or 4 channels; RGB of RGBX");
    // Four rows of RGBX bytes to the interleaved order: channel c's rows 0-3 together.
    const __m128i by_sample = _mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const std::int64_t span = 4 * P * static_cast<std::int64_t>(groups - 1) + 16;  // bytes the loads reach
    FourRows<P, C> block_rows(src, src_stride, rows, in_width, first, out_width, span, rowbuf);
    for (std::int64_t r = 0; r < rows; r += 4) {
        const int live = block_rows.start(r);
        std::uint8_t* out = dst + r * out_width * C;
        std::uint8_t* block = dst + r * out_width * C;  // interleaved: block r / 4, 4 * out_width * C bytes
        for (std::int64_t xx = 0; xx < out_width; ++xx) {
            const std::uint8_t* p[4];
            block_rows.windows(xx, p);
            const std::int8_t* w = digits + xx * groups * 12;
            const __m128i px = wide ? digits_pixel_512<P>(p, w, used[xx]) : digits_pixel_256<P>(p, w, used[xx]);
            if (interleaved)
                _mm_storeu_si128(reinterpret_cast<__m128i*>(block + xx * 4 * C), _mm_shuffle_epi8(px, by_sample));
            else
                _mm_storeu_si128(reinterpret_cast<__m128i*>(stage + xx * 16), px);
        }
        if (!interleaved) store_staged_rows<C>(stage, out_width, live, out);
    }
}

// Vertical pass over the horizontal pass's interleaved blocks (see
// horizontal_u8_digits): a 32-byte load is 8 samples of a block's four rows, ready
// for the dot products. Each output row's window is widened to whole blocks, the
// rows outside it at weight 0 (`block_digits`: per output row, `blocks` x 3 words
// from block `start[yy]` on, `nblocks[yy]` of them used).
static void vertical_u8_blocks(const std::uint8_t* src, std::int64_t samples, const int* start, const int* nblocks,
                               const std::int32_t* block_digits, int blocks, const int* first, const int* count,
                               const std::int32_t* k, int ksize, std::int64_t first_row, std::int64_t out_height,
                               bool wide, std::uint8_t* dst) {
    const std::int64_t block_bytes = 4 * samples;
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (std::int64_t yy = 0; yy < out_height; ++yy) {
        const std::uint8_t* base = src + static_cast<std::int64_t>(start[yy]) * block_bytes;
        const std::int32_t* wd = block_digits + yy * blocks * 3;
        const int nb = nblocks[yy];
        std::uint8_t* out = dst + yy * samples;
        std::int64_t i = 0;
        // 64 samples a step in 512-bit registers (16 per register) where that costs no
        // clock speed, then 32 in 256-bit ones.
        for (; wide && i + 64 <= samples; i += 64) {
            const __m512i round = _mm512_set1_epi32(1 << (kPrecisionBits - 1));
            const __m512i zero = _mm512_setzero_si512();
            __m512i s00 = round, s01 = zero, s02 = zero;  // samples 0-15
            __m512i s10 = round, s11 = zero, s12 = zero;  // 16-31
            __m512i s20 = round, s21 = zero, s22 = zero;  // 32-47
            __m512i s30 = round, s31 = zero, s32 = zero;  // 48-63
            const std::uint8_t* p = base + 4 * i;
            for (int q = 0; q < nb; ++q, p += block_bytes) {
                const __m512i q0 = _mm512_loadu_si512(p);
                const __m512i q1 = _mm512_loadu_si512(p + 64);
                const __m512i q2 = _mm512_loadu_si512(p + 128);
                const __m512i q3 = _mm512_loadu_si512(p + 192);
                const std::int32_t* wq = wd + q * 3;
                const __m512i d0 = _mm512_set1_epi32(wq[0]), d1 = _mm512_set1_epi32(wq[1]),
                              d2 = _mm512_set1_epi32(wq[2]);
                s00 = _mm512_dpbusd_epi32(s00, q0, d0);
                s01 = _mm512_dpbusd_epi32(s01, q0, d1);
                s02 = _mm512_dpbusd_epi32(s02, q0, d2);
                s10 = _mm512_dpbusd_epi32(s10, q1, d0);
                s11 = _mm512_dpbusd_epi32(s11, q1, d1);
                s12 = _mm512_dpbusd_epi32(s12, q1, d2);
                s20 = _mm512_dpbusd_epi32(s20, q2, d0);
                s21 = _mm512_dpbusd_epi32(s21, q2, d1);
                s22 = _mm512_dpbusd_epi32(s22, q2, d2);
                s30 = _mm512_dpbusd_epi32(s30, q3, d0);
                s31 = _mm512_dpbusd_epi32(s31, q3, d1);
                s32 = _mm512_dpbusd_epi32(s32, q3, d2);
            }
            // Pillow's ss, shifted and clipped to 0..255 as clip8 does, 16 samples a register.
            const auto finish = [zero](__m512i a0, __m512i a1, __m512i a2) {
                const __m512i ss = _mm512_add_epi32(_mm512_add_epi32(a0, _mm512_slli_epi32(a1, 8)),
                                                    _mm512_slli_epi32(a2, 16));
                return _mm512_cvtusepi32_epi8(_mm512_max_epi32(_mm512_srai_epi32(ss, kPrecisionBits), zero));
            };
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), finish(s00, s01, s02));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 16), finish(s10, s11, s12));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 32), finish(s20, s21, s22));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 48), finish(s30, s31, s32));
        }
        for (; i + 32 <= samples; i += 32) {
            const __m256i round = _mm256_set1_epi32(1 << (kPrecisionBits - 1));
            __m256i s00 = round, s01 = _mm256_setzero_si256(), s02 = s01;  // samples 0-7
            __m256i s10 = round, s11 = s01, s12 = s01;                      // 8-15
            __m256i s20 = round, s21 = s01, s22 = s01;                      // 16-23
            __m256i s30 = round, s31 = s01, s32 = s01;                      // 24-31
            const std::uint8_t* p = base + 4 * i;
            for (int q = 0; q < nb; ++q, p += block_bytes) {
                const __m256i q0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
                const __m256i q1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
                const __m256i q2 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 64));
                const __m256i q3 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 96));
                const std::int32_t* wq = wd + q * 3;
                const __m256i d0 = _mm256_set1_epi32(wq[0]), d1 = _mm256_set1_epi32(wq[1]),
                              d2 = _mm256_set1_epi32(wq[2]);
                s00 = _mm256_dpbusd_epi32(s00, q0, d0);
                s01 = _mm256_dpbusd_epi32(s01, q0, d1);
                s02 = _mm256_dpbusd_epi32(s02, q0, d2);
                s10 = _mm256_dpbusd_epi32(s10, q1, d0);
                s11 = _mm256_dpbusd_epi32(s11, q1, d1);
                s12 = _mm256_dpbusd_epi32(s12, q1, d2);
                s20 = _mm256_dpbusd_epi32(s20, q2, d0);
                s21 = _mm256_dpbusd_epi32(s21, q2, d1);
                s22 = _mm256_dpbusd_epi32(s22, q2, d2);
                s30 = _mm256_dpbusd_epi32(s30, q3, d0);
                s31 = _mm256_dpbusd_epi32(s31, q3, d1);
                s32 = _mm256_dpbusd_epi32(s32, q3, d2);
            }
            const __m256i v0 = _mm256_srai_epi32(combine_digits(s00, s01, s02), kPrecisionBits);
            const __m256i v1 = _mm256_srai_epi32(combine_digits(s10, s11, s12), kPrecisionBits);
            const __m256i v2 = _mm256_srai_epi32(combine_digits(s20, s21, s22), kPrecisionBits);
            const __m256i v3 = _mm256_srai_epi32(combine_digits(s30, s31, s32), kPrecisionBits);
            // packs and packus leave 4-sample groups in the order 0 2 4 6 | 1 3 5 7.
            const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(v0, v1), _mm256_packs_epi32(v2, v3));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), _mm256_permutevar8x32_epi32(bytes, order));
        }
        // The last samples (fewer than 32): Pillow's sum tap by tap.
        const std::int64_t rel = first[yy] - first_row;
        const std::int32_t* wk = k + yy * ksize;
        for (; i < samples; ++i) {
            std::int32_t acc = 1 << (kPrecisionBits - 1);
            for (int y = 0; y < count[yy]; ++y) {
                const std::int64_t row = rel + y;
                acc += static_cast<std::int32_t>(src[(row / 4) * block_bytes + 4 * i + row % 4]) * wk[y];
            }
            out[i] = clip8_fixed(acc);
        }
    }
}

// Interleaves `rows` rows of `row_bytes` bytes into blocks of four (the layout
// vertical_u8_blocks reads: per byte position, the four rows' bytes together), the
// rows past the last repeated from it. For the vertical-first order of a resize,
// where no horizontal pass comes first to write that layout.
static void interleave_row_blocks(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                  std::int64_t row_bytes, std::uint8_t* dst) {
    for (std::int64_t r = 0; r < rows; r += 4) {
        const unsigned char* a = src + r * src_stride;
        const unsigned char* b = r + 1 < rows ? a + src_stride : a;
        const unsigned char* c = r + 2 < rows ? a + 2 * src_stride : b;
        const unsigned char* d = r + 3 < rows ? a + 3 * src_stride : c;
        std::uint8_t* out = dst + r * row_bytes;
        std::int64_t i = 0;
        for (; i + 32 <= row_bytes; i += 32) {
            const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
            const __m256i vb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
            const __m256i vc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + i));
            const __m256i vd = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + i));
            const __m256i ab_lo = _mm256_unpacklo_epi8(va, vb), ab_hi = _mm256_unpackhi_epi8(va, vb);
            const __m256i cd_lo = _mm256_unpacklo_epi8(vc, vd), cd_hi = _mm256_unpackhi_epi8(vc, vd);
            // Bytes 0-3 | 16-19, 4-7 | 20-23, 8-11 | 24-27, 12-15 | 28-31 of the four rows.
            const __m256i q0 = _mm256_unpacklo_epi16(ab_lo, cd_lo), q1 = _mm256_unpackhi_epi16(ab_lo, cd_lo);
            const __m256i q2 = _mm256_unpacklo_epi16(ab_hi, cd_hi), q3 = _mm256_unpackhi_epi16(ab_hi, cd_hi);
            __m256i* o = reinterpret_cast<__m256i*>(out + 4 * i);
            _mm256_storeu_si256(o, _mm256_permute2x128_si256(q0, q1, 0x20));
            _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(q2, q3, 0x20));
            _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(q0, q1, 0x31));
            _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(q2, q3, 0x31));
        }
        for (; i < row_bytes; ++i) {
            out[4 * i] = a[i];
            out[4 * i + 1] = b[i];
            out[4 * i + 2] = c[i];
            out[4 * i + 3] = d[i];
        }
    }
}

void interleave_row_blocks_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                 std::int64_t row_bytes, std::uint8_t* dst) {
    interleave_row_blocks(src, src_stride, rows, row_bytes, dst);
}

void horizontal_u8_digits_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                                std::int64_t in_width, int channels, int pixel_bytes, const int* first,
                                std::int64_t out_width, const std::int8_t* digits, int groups, const int* used,
                                std::uint8_t* rowbuf, std::uint8_t* stage, bool interleaved, bool wide,
                                std::uint8_t* dst) {
#define PYIMGAUG_DIGITS(C, P, I) \
    (wide ? horizontal_u8_digits<C, P, I, true> : horizontal_u8_digits<C, P, I, false>)(                               \
        src, src_stride, rows, in_width, first, out_width, digits, groups, used, rowbuf, stage, dst)
    if (channels == 3 && pixel_bytes == 3)
        interleaved ? PYIMGAUG_DIGITS(3, 3, true) : PYIMGAUG_DIGITS(3, 3, false);
    else if (channels == 3 && pixel_bytes == 4)
        interleaved ? PYIMGAUG_DIGITS(3, 4, true) : PYIMGAUG_DIGITS(3, 4, false);
    else if (channels == 4 && pixel_bytes == 4)
        interleaved ? PYIMGAUG_DIGITS(4, 4, true) : PYIMGAUG_DIGITS(4, 4, false);
#undef PYIMGAUG_DIGITS
}

void vertical_u8_blocks_entry(const std::uint8_t* src, std::int64_t samples, const int* start, const int* nblocks,
                              const std::int32_t* block_digits, int blocks, const int* first, const int* count,
                              const std::int32_t* k, int ksize, std::int64_t first_row, std::int64_t out_height,
                              bool wide, std::uint8_t* dst) {
    vertical_u8_blocks(src, samples, start, nblocks, block_digits, blocks, first, count, k, ksize, first_row,
                       out_height, wide, dst);
}
#endif  // PYIMGAUG_USE_VNNI

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

// Entry points used by the dispatcher in resize.cpp. `split` (the madd weight
// table) is null when some weight does not split into int16 parts; the AVX2 copy
// then runs the portable loops, which are exact for any weight.
void horizontal_u8_dispatch(const unsigned char* src, std::int64_t src_stride, std::int64_t rows,
                            std::int64_t in_width, int channels, int pixel_bytes, const int* first,
                            std::int64_t out_width, const std::int32_t* wexp, int groups, const std::int16_t* split,
                            int split_groups, const int* split_used, std::uint8_t* rowbuf, std::uint8_t* stage,
                            std::uint8_t* dst) {
#ifdef __AVX2__
    if (split != nullptr) {
        if (channels == 3 && pixel_bytes == 4) {
            horizontal_u8_avx2_split<3, 4>(src, src_stride, rows, in_width, first, out_width, split, split_groups, split_used, rowbuf, stage, dst);
            return;
        }
        if (pixel_bytes != channels) return;  // the caller packs such pixels (resize.cpp)
        switch (channels) {
            case 1: horizontal_u8_avx2_split_c1(src, src_stride, rows, in_width, first, out_width, split, split_groups, split_used, rowbuf, dst); return;
            case 3: horizontal_u8_avx2_split<3>(src, src_stride, rows, in_width, first, out_width, split, split_groups, split_used, rowbuf, stage, dst); return;
            case 4: horizontal_u8_avx2_split<4>(src, src_stride, rows, in_width, first, out_width, split, split_groups, split_used, rowbuf, stage, dst); return;
            default: return;
        }
    }
#else
    (void)split;
    (void)split_groups;
    (void)split_used;
    (void)stage;
#endif
    if (pixel_bytes != channels) return;  // the caller packs such pixels (resize.cpp)
    switch (channels) {
        case 1: horizontal_u8<1>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        case 3: horizontal_u8<3>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        case 4: horizontal_u8<4>(src, src_stride, rows, in_width, first, out_width, wexp, groups, rowbuf, dst); break;
        default: break;
    }
}

void vertical_u8_entry(const unsigned char* src, std::int64_t src_stride, std::int64_t samples, const int* first,
                       const int* count, const std::int32_t* k, int ksize, std::int64_t out_height,
                       std::int64_t first_row, bool splits, std::int32_t* acc, std::uint8_t* dst) {
#ifdef __AVX2__
    if (splits) {
        vertical_u8_avx2_split(src, src_stride, samples, first, count, k, ksize, out_height, first_row, dst);
        return;
    }
#else
    (void)splits;
#endif
    vertical_u8(src, src_stride, samples, first, count, k, ksize, out_height, first_row, acc, dst);
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
