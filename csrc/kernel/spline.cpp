#include "kernel/spline.hpp"

#include "kernel/isa.hpp"
#include "kernel/spline_entries.hpp"
#include "kernel/spline_filter.hpp"
#include "kernel/warp_entries.hpp"

#define PYIMGAUG_ISA baseline
#include "kernel/spline_filter_impl.hpp"
#include "kernel/spline_impl.hpp"
#undef PYIMGAUG_ISA

namespace pyimgaug {

Status spline_warp_image(const ImageView& src, DType in_dtype, int channels, const WarpParams& p,
                         SplineScratch& scratch, unsigned char* dst) {
    if (p.order < 2 || p.order > 5 || channels < 1 || channels > 4) return Status::InvalidArgument;
    std::int64_t rows = 0, cols = 0, count = 0;
    if (!spline::coefficient_shape(src.height, src.width, channels, p.mode, rows, cols, count))
        return Status::OutOfMemory;
    // One spare double: the 3-channel loop loads four doubles at the last pixel.
    scratch.coeffs.resize(static_cast<std::size_t>(count) + 1);
    scratch.coeffs[static_cast<std::size_t>(count)] = 0.0;
    const bool avx2 = cpu_has_avx2();
    scratch.lines.resize(static_cast<std::size_t>(spline::filter_scratch_doubles(cols, channels)));
    PYIMGAUG_PICK(avx2, prefilter_entry)(src.data, src.row_stride, src.height, src.width, in_dtype, channels, p.order,
                                         p.mode, scratch.coeffs.data(), scratch.lines.data());

    auto row_fn = PYIMGAUG_PICK(avx2, spline_row_entry);
    auto store_row = PYIMGAUG_PICK(avx2, store_row_entry);
    const std::int64_t samples = p.out_width * channels;
    scratch.row.resize(static_cast<std::size_t>(samples));
    scratch.taps.resize(static_cast<std::size_t>(spline_row_taps(p.out_width)));
    scratch.weights.resize(static_cast<std::size_t>(spline_row_doubles(p.out_width)));
    const std::int64_t row_bytes = samples * static_cast<std::int64_t>(dtype_size(p.out_dtype));
    const int npad = spline::prepad_of(p.mode);
    for (std::int64_t r = 0; r < p.out_height; ++r) {
        row_fn(scratch.coeffs.data(), rows, cols, channels, p.order, npad, p.matrix, r, p.out_width, p.mode, p.cval,
               scratch.taps.data(), scratch.weights.data(), scratch.row.data());
        store_row(scratch.row.data(), samples, p.scale, p.offset, p.out_dtype, dst + r * row_bytes);
    }
    return Status::Ok;
}

}  // namespace pyimgaug
