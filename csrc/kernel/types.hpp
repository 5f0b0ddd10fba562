// Plain data shared by every stage of the kernel. Nothing here knows about Python.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pyimgaug {

enum class DType : int { U8 = 0, U16 = 1, F32 = 2, F64 = 3 };

// Border modes, with scipy.ndimage's meaning for each name.
enum class FillMode : int { Constant = 0, Nearest = 1, Reflect = 2, Wrap = 3 };

// Pillow's resampling filters (the numbering is ours, the maths is Pillow's).
enum class Filter : int { Nearest = 0, Box = 1, Bilinear = 2, Hamming = 3, Bicubic = 4, Lanczos = 5 };

// The rules of Image.resize that changed between Pillow releases, one value per
// distinct rule set, named after the first release that has it (see resize.cpp and
// pyimgaug/pillow_compat.py, which picks one from the installed Pillow).
//   Pillow9_1:  horizontal pass first; uint16 (which Pillow cannot resize before 11.0)
//               saturated to 0..65535 after each pass.
//   Pillow11_0: as 9.1, but uint16 as Pillow 11.0-12.2 stores I;16 samples: the two
//               bytes clipped separately, so a sum above 65535 keeps its low byte.
//   Pillow12_2: vertical pass first when the height is more than 100 times the width
//               and shrinks; uint16 as 11.0.
//   Pillow12_3: as 12.2, with uint16 saturated.
//   Pillow13_0: vertical pass first when the height shrinks by more than twice as
//               many pixels as the width; uint16 saturated.
enum class ResizeBehaviour : int { Pillow9_1 = 0, Pillow11_0 = 1, Pillow12_2 = 2, Pillow12_3 = 3, Pillow13_0 = 4 };
constexpr int kResizeBehaviourCount = 5;

inline std::size_t dtype_size(DType t) {
    switch (t) {
        case DType::U8: return 1;
        case DType::U16: return 2;
        case DType::F32: return 4;
        case DType::F64: return 8;
    }
    return 0;
}

// One input image: `height` rows of `width` pixels of `channels` interleaved
// samples. Rows are `row_stride` bytes apart (a crop or a flipped view of a larger
// array needs no copy). Pixels are `pixel_stride` bytes apart: channels x sample
// size when packed, more for a view of some channels of wider pixels (the RGB of
// an RGBX decode, see pack_pixels in batch.cpp for who reads those).
struct ImageView {
    const unsigned char* data = nullptr;
    std::int64_t height = 0;
    std::int64_t width = 0;
    std::int64_t row_stride = 0;    // bytes, may be negative
    std::int64_t pixel_stride = 0;  // bytes, >= channels x sample size
};

// Everything one batch call needs. The output is a C-contiguous
// (N, out_height, out_width, channels) array of `out_dtype`.
struct BatchSpec {
    DType in_dtype = DType::U8;
    int channels = 1;
    std::vector<ImageView> images;

    // Stage 1: Pillow-style resize of every image to (resize_height, resize_width).
    bool resize = false;
    std::int64_t resize_height = 0, resize_width = 0;
    Filter filter = Filter::Lanczos;
    ResizeBehaviour resize_behaviour = ResizeBehaviour::Pillow13_0;

    // Stage 2: inverse affine warp; matrices holds N row-major 2x3 matrices mapping
    // output (row, col) to input (row, col).
    bool warp = false;
    const double* matrices = nullptr;
    int order = 1;
    FillMode mode = FillMode::Nearest;
    double cval = 0.0;

    // Stage 3: out = value * scale + offset, converted to out_dtype.
    std::int64_t out_height = 0, out_width = 0;
    double scale = 1.0, offset = 0.0;
    DType out_dtype = DType::F32;
    unsigned char* out = nullptr;

    int num_threads = 1;
};

// Per-image outcome; the kernel never throws across a thread boundary.
enum class Status : int { Ok = 0, OutOfMemory = 1, InvalidArgument = 2 };

}  // namespace pyimgaug
