// Stage 1: Pillow-compatible resize of one image.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "kernel/coeffs.hpp"
#include "kernel/types.hpp"

namespace pyimgaug {

// Coefficients for one (input size -> output size, filter) geometry. Built once
// and reused for every image of that size in the batch.
struct ResizePlan {
    std::int64_t in_height = -1, in_width = -1, out_height = 0, out_width = 0;
    Filter filter = Filter::Lanczos;
    bool fixed_only = false;  // the tables hold fixed-point weights only (8-bit images)
    // The coefficient tables (filters other than Nearest), shared with the memo.
    std::shared_ptr<const AxisCoeffs> horizontal_table, vertical_table;
    const AxisCoeffs& horizontal() const { return *horizontal_table; }
    const AxisCoeffs& vertical() const { return *vertical_table; }
    std::vector<std::int64_t> nearest_x, nearest_y;  // Nearest only
    // Expanded, zero-padded fixed-point horizontal weights for the portable loop
    // (empty when the AVX2 loops run, see hsplit):
    // for output x, taps are grouped 8 at a time and each weight is repeated per channel.
    std::vector<std::int32_t> horizontal_expanded;
    int horizontal_groups = 0;  // groups of 8 taps per output sample
    // The AVX2 loops' weights, each split into int16 high and low parts for exact
    // 16-bit multiply-adds (layout in resize_impl.hpp), in groups of 4 taps (3 and 4
    // channels) or 16 taps (1 channel), kept with the table. Null when some weight
    // does not split (or the VNNI loops run).
    const HorizontalSplit* hsplit = nullptr;
    bool vertical_splits = false;  // every vertical weight splits into int16 parts
    // The AVX-512 VNNI loops' weights, each split into three signed bytes,
    // k = d2 * 2^16 + d1 * 2^8 + d0, for VPDPBUSD's u8 x s8 dot products of four
    // (layouts in resize_impl.hpp), kept with the tables (so with the memo). Null
    // when that copy does not run or some weight does not split. Vertical: the
    // windows widened to blocks of four rows (counted from the first row read),
    // which the vertical loop reads interleaved.
    const HorizontalDigits* hdigits = nullptr;
    const VerticalBlocks* vblocks = nullptr;
    int channels = 0;
    ResizeBehaviour behaviour = ResizeBehaviour::Pillow13_0;  // pass order and uint16 store
};

// Prepares `plan` for the geometry; returns false for sizes too large to tabulate.
// `fixed_only`: the images are 8-bit, whose loops read only the fixed-point
// weights (see build_axis_coeffs); 16-bit and float images need the doubles.
bool prepare_resize(ResizePlan& plan, std::int64_t in_height, std::int64_t in_width, std::int64_t out_height,
                    std::int64_t out_width, Filter filter, int channels, ResizeBehaviour behaviour, bool fixed_only);

// Whether `behaviour`'s Pillow runs the vertical pass before the horizontal one for
// this geometry (only meaningful when both passes are needed).
bool vertical_pass_first(ResizeBehaviour behaviour, std::int64_t in_height, std::int64_t in_width,
                         std::int64_t out_height, std::int64_t out_width);

// Per-thread scratch memory for a resize; grows, never shrinks, within one call.
struct ResizeScratch {
    std::vector<unsigned char> intermediate;  // horizontal pass result
    std::vector<std::uint8_t> blocks;         // source rows interleaved in fours (vertical pass first)
    std::vector<unsigned char> row;           // one zero-padded input row
    std::vector<std::uint8_t> stage;          // the AVX2 horizontal loops' output pixels, 16 bytes each
    std::vector<double> accum;                // vertical pass accumulators (16-bit, float)
    std::vector<std::int32_t> accum_fixed;    // vertical pass accumulators (8-bit)
    std::vector<unsigned char> packed;        // the input's pixels packed, when they are not
};

// Resizes `src` (dtype, channels) into `dst`, a contiguous out_height x out_width x
// channels buffer of the same dtype. Integer results are rounded and clipped as Pillow does.
void resize_image(const ImageView& src, DType dtype, int channels, const ResizePlan& plan, ResizeScratch& scratch,
                  unsigned char* dst);

}  // namespace pyimgaug
