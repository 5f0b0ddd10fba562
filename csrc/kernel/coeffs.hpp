// Resampling coefficient tables, computed exactly as Pillow's Resample.c does, so
// that a uint8 resize is bit-identical to Pillow's Image.resize.
#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "types.hpp"

namespace pyimgaug {

// Fixed-point precision of Pillow's 8-bit path: 32 bits minus 8 for the sample
// minus 2 for the sign and for the overshoot of negative lobes.
constexpr int kPrecisionBits = 32 - 8 - 2;

// The AVX-512 VNNI loops' layouts of one axis table (resize.cpp builds them, on first
// use, once per table: a table from the memo brings them along).
struct HorizontalDigits {  // 3 and 4 channels; words empty when some weight does not split
    std::vector<std::uint32_t> words;  // per output, 3 words per 4 taps (byte t of word e: digit e of tap t)
    const std::int8_t* bytes() const { return reinterpret_cast<const std::int8_t*>(words.data()); }
    int groups = 0;                   // groups of 4 taps reserved per output
    std::vector<int> used;            // groups holding a tap, per output
};
// The AVX2 loops' layout: each weight split into int16 high and low parts
// (resize.cpp, build_horizontal_split); weights empty when some weight does not split.
struct HorizontalSplit {
    std::vector<std::int16_t> weights;  // per output, `groups` units
    int groups = 0;                     // units reserved per output (the widest window)
    std::vector<int> used;              // units holding a nonzero weight, per output
};
struct VerticalBlocks {  // digits empty when some weight does not split
    std::vector<std::int32_t> digits;  // per output row, `blocks` x 3 words
    std::vector<int> start, count;     // per output row: first block, blocks used
    int blocks = 0;
};

// One axis of a resize: output sample i reads `ksize` taps starting at input
// index bounds[2i] (only the first bounds[2i+1] of them have non-zero weight).
struct AxisCoeffs {
    std::int64_t out_size = 0;
    int ksize = 0;                       // row length of the tables below
    std::vector<int> first;              // first input index per output sample
    std::vector<int> count;              // number of taps per output sample
    std::vector<double> weights;         // out_size * ksize, normalised to sum 1 (empty: fixed only)
    std::vector<std::int32_t> fixed;     // the same in Pillow's 8-bit fixed point
    std::int64_t rows_recomputed = 0;    // fixed only: outputs whose fast weights were not proven
    // Derived layouts, built by the first thread that needs them, then read-only.
    mutable std::once_flag horizontal_digits_once, vertical_blocks_once;
    mutable HorizontalDigits horizontal_digits;
    mutable VerticalBlocks vertical_blocks;
    mutable std::once_flag split_once[2], all_split_once;  // [0]: 1 channel, [1]: 3 and 4
    mutable HorizontalSplit split[2];
    mutable bool all_split = false;  // every weight splits into int16 parts
};

// Builds the table for resizing an axis of `in_size` samples to `out_size`
// (filter support widened by the downscale factor, weights normalised), for every
// filter but Nearest. Returns false if the table would be absurdly large.
// `fixed_only` (the 8-bit path): only `fixed` is needed, and for Lanczos and
// Hamming it comes from weights computed without libm's sin(), each output proven
// to round to Pillow's fixed point or else computed again the exact way
// (coeffs.cpp, fill_axis_fixed_fast); `weights` is then left empty.
bool build_axis_coeffs(std::int64_t in_size, std::int64_t out_size, Filter filter, AxisCoeffs& out,
                       bool fixed_only = false);

// build_axis_coeffs through a process-wide memo: a training loop resizes the same
// few sizes again and again (datasets repeat their sizes, epochs repeat their
// files), and the filters' sin() calls are a good part of a resize's cost. Tables
// are immutable and shared; null when the table would be absurdly large. Bounded
// in bytes (an evicted table lives on while a plan holds it); thread-safe.
std::shared_ptr<const AxisCoeffs> cached_axis_coeffs(std::int64_t in_size, std::int64_t out_size, Filter filter,
                                                     bool fixed_only);

// Empties the memo (for benchmarks that time the first call of a size).
void clear_axis_coeffs_cache();

// Pillow's nearest-neighbour resize index table: output i reads input table[i].
void build_nearest_table(std::int64_t in_size, std::int64_t out_size, std::vector<std::int64_t>& table);

}  // namespace pyimgaug
