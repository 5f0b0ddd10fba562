#include "kernel/batch.hpp"

#include <new>

#include "kernel/parallel.hpp"
#include "kernel/pixels.hpp"
#include "kernel/resize.hpp"
#include "kernel/spline.hpp"
#include "kernel/warp.hpp"

namespace pyimgaug {
namespace {

// Scratch memory one thread reuses for all the images it processes.
struct ThreadState {
    ResizePlan plan;
    ResizeScratch resize;
    WarpScratch warp;
    SplineScratch spline;
    std::vector<unsigned char> resized;  // stage-1 output, input to stage 2
    std::vector<unsigned char> packed;   // the input's pixels packed, for a warp without resize
};

Status process_image(const BatchSpec& spec, std::int64_t i, ThreadState& st) {
    ImageView src = spec.images[static_cast<std::size_t>(i)];
    if (src.data == nullptr || src.height < 1 || src.width < 1) return Status::InvalidArgument;
    const std::size_t sample = dtype_size(spec.in_dtype);
    if (src.pixel_stride < spec.channels * static_cast<std::int64_t>(sample) ||
        src.pixel_stride % static_cast<std::int64_t>(sample) != 0)
        return Status::InvalidArgument;

    // A resize with nothing after it, into the same integer type with scale 1 and
    // offset 0, is written straight to the output: the store would map every integer
    // sample to itself (x * 1 + 0 rounds to x, within range), so it is skipped.
    const bool resize_is_output = spec.resize && !spec.warp && spec.in_dtype == spec.out_dtype &&
                                  (spec.in_dtype == DType::U8 || spec.in_dtype == DType::U16) &&
                                  spec.scale == 1.0 && spec.offset == 0.0 &&
                                  spec.resize_height == spec.out_height && spec.resize_width == spec.out_width;
    if (spec.resize) {
        // Pillow has no float64 images, so there is no resize to reproduce for them.
        if (spec.in_dtype == DType::F64) return Status::InvalidArgument;
        if (!prepare_resize(st.plan, src.height, src.width, spec.resize_height, spec.resize_width, spec.filter,
                            spec.channels, spec.resize_behaviour, spec.in_dtype == DType::U8))
            return Status::OutOfMemory;
        const std::size_t bytes = static_cast<std::size_t>(spec.resize_height) *
                                  static_cast<std::size_t>(spec.resize_width) *
                                  static_cast<std::size_t>(spec.channels) * sample;
        if (resize_is_output) {
            resize_image(src, spec.in_dtype, spec.channels, st.plan, st.resize,
                         spec.out + i * static_cast<std::int64_t>(bytes));
            return Status::Ok;
        }
        st.resized.resize(bytes);
        resize_image(src, spec.in_dtype, spec.channels, st.plan, st.resize, st.resized.data());
        src.data = st.resized.data();
        src.height = spec.resize_height;
        src.width = spec.resize_width;
        src.row_stride = spec.resize_width * spec.channels * static_cast<std::int64_t>(sample);
        src.pixel_stride = spec.channels * static_cast<std::int64_t>(sample);
    } else if (!pixels_packed(src, spec.channels, sample)) {
        // The warp loops read packed pixels (the resize reads strided ones itself).
        src = pack_pixels(src, spec.channels, sample, st.packed);
    }

    WarpParams p;
    p.order = spec.order;
    p.mode = spec.mode;
    p.cval = spec.cval;
    p.scale = spec.scale;
    p.offset = spec.offset;
    p.out_height = spec.out_height;
    p.out_width = spec.out_width;
    p.out_dtype = spec.out_dtype;
    const std::int64_t image_bytes =
        spec.out_height * spec.out_width * spec.channels * static_cast<std::int64_t>(dtype_size(spec.out_dtype));
    unsigned char* dst = spec.out + i * image_bytes;

    if (spec.warp && spec.order >= 2) {
        p.matrix = spec.matrices + 6 * i;
        return spline_warp_image(src, spec.in_dtype, spec.channels, p, st.spline, dst);
    } else if (spec.warp) {
        p.matrix = spec.matrices + 6 * i;
        warp_image(src, spec.in_dtype, spec.channels, p, st.warp, dst);
    } else {
        // Without a warp the stage-1 image is the output; sizes were checked by the caller.
        if (src.height != spec.out_height || src.width != spec.out_width) return Status::InvalidArgument;
        convert_image(src, spec.in_dtype, spec.channels, p, st.warp, dst);
    }
    return Status::Ok;
}

}  // namespace

std::vector<Status> run_batch(const BatchSpec& spec) {
    const std::int64_t n = static_cast<std::int64_t>(spec.images.size());
    std::vector<Status> status(static_cast<std::size_t>(n), Status::Ok);
    if (spec.channels < 1 || spec.channels > 4 || spec.out == nullptr && n > 0 || (spec.warp && !spec.matrices) ||
        spec.out_height < 1 || spec.out_width < 1 || spec.order < 0 || spec.order > 5) {
        for (auto& s : status) s = Status::InvalidArgument;
        return status;
    }
    parallel_for_each<ThreadState>(n, spec.num_threads, [&](std::int64_t i, ThreadState& st) {
        try {
            status[static_cast<std::size_t>(i)] = process_image(spec, i, st);
        } catch (const std::bad_alloc&) {
            status[static_cast<std::size_t>(i)] = Status::OutOfMemory;
        } catch (...) {
            status[static_cast<std::size_t>(i)] = Status::InvalidArgument;
        }
    });
    return status;
}

}  // namespace pyimgaug
