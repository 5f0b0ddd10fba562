#include "kernel/warp.hpp"

#include "kernel/isa.hpp"
#include "kernel/warp_entries.hpp"

#define PYIMGAUG_ISA baseline
#include "kernel/warp_impl.hpp"
#undef PYIMGAUG_ISA

namespace pyimgaug {

void warp_image(const ImageView& src, DType in_dtype, int channels, const WarpParams& p, WarpScratch& scratch,
                unsigned char* dst) {
    const bool avx2 = cpu_has_avx2();
    const std::int64_t samples = p.out_width * channels;
    scratch.row.resize(static_cast<std::size_t>(samples));
    // 8-bit images to float32 (the training-loop case) have a vectorised path that
    // writes the output directly; it returns false for anything it does not cover.
    if (in_dtype == DType::U8 && p.out_dtype == DType::F32) {
        scratch.taps.resize(static_cast<std::size_t>(warp_row_taps_bytes(p.out_width)));
        auto fast = PYIMGAUG_PICK(avx2, warp_image_fast);
        if (fast(src.data, src.row_stride, src.height, src.width, channels, p.matrix, p.order, p.mode, p.cval,
                 p.scale, p.offset, p.out_height, p.out_width, reinterpret_cast<float*>(dst), scratch.row.data(),
                 scratch.taps.data()))
            return;
    }
    auto warp_row = PYIMGAUG_PICK(avx2, warp_row_entry);
    auto store_row = PYIMGAUG_PICK(avx2, store_row_entry);
    const std::int64_t row_bytes = samples * static_cast<std::int64_t>(dtype_size(p.out_dtype));
    for (std::int64_t r = 0; r < p.out_height; ++r) {
        warp_row(src.data, src.row_stride, src.height, src.width, in_dtype, channels, p.matrix, p.order, r,
                 p.out_width, p.mode, p.cval, scratch.row.data());
        store_row(scratch.row.data(), samples, p.scale, p.offset, p.out_dtype, dst + r * row_bytes);
    }
}

void convert_image(const ImageView& src, DType in_dtype, int channels, const WarpParams& p, WarpScratch& scratch,
                   unsigned char* dst) {
    const std::int64_t samples = p.out_width * channels;
    scratch.row.resize(static_cast<std::size_t>(samples));
    auto store_row = PYIMGAUG_PICK(cpu_has_avx2(), store_row_entry);
    const std::int64_t row_bytes = samples * static_cast<std::int64_t>(dtype_size(p.out_dtype));
    double* row = scratch.row.data();
    for (std::int64_t r = 0; r < p.out_height; ++r) {
        const unsigned char* in = src.data + r * src.row_stride;
        switch (in_dtype) {
            case DType::U8:
                for (std::int64_t i = 0; i < samples; ++i) row[i] = in[i];
                break;
            case DType::U16:
                for (std::int64_t i = 0; i < samples; ++i) row[i] = reinterpret_cast<const std::uint16_t*>(in)[i];
                break;
            case DType::F32:
                for (std::int64_t i = 0; i < samples; ++i) row[i] = reinterpret_cast<const float*>(in)[i];
                break;
            case DType::F64:
                for (std::int64_t i = 0; i < samples; ++i) row[i] = reinterpret_cast<const double*>(in)[i];
                break;
        }
        store_row(row, samples, p.scale, p.offset, p.out_dtype, dst + r * row_bytes);
    }
}

}  // namespace pyimgaug
