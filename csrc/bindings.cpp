// The only file that knows about Python. It converts and checks arguments while
// holding the GIL, then releases it for the whole batch (no Python object is
// created, copied or destroyed while it is released), then reports failures.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "decode/png_unfilter.hpp"
#include "kernel/batch.hpp"
#include "kernel/coeffs.hpp"
#include "kernel/isa.hpp"
#include "kernel/parallel.hpp"

namespace py = pybind11;
using namespace pyimgaug;

namespace {

DType dtype_of(const py::array& a, const char* what, bool output) {
    // Compare dtypes by value: an unpickled array's dtype is equal to, but not the
    // same object as, NumPy's canonical one.
    const py::dtype dt = a.dtype();
    if (dt.equal(py::dtype::of<std::uint8_t>())) return DType::U8;
    if (dt.equal(py::dtype::of<std::uint16_t>()) && !output) return DType::U16;
    if (dt.equal(py::dtype::of<float>())) return DType::F32;
    if (dt.equal(py::dtype::of<double>())) return DType::F64;
    throw py::type_error(std::string(what) + ": unsupported dtype " + std::string(py::str(dt)) +
                         (output ? "; expected float32, float64 or uint8" : "; expected uint8, uint16, float32 or float64"));
}

std::vector<Status> run(const BatchSpec& spec) {
    py::gil_scoped_release release;
    return run_batch(spec);
}

py::array transform_batch(const py::list& images, const py::object& matrices_obj, py::array out,
                          const py::object& resize_to, int filter, int order, int mode, double cval, double scale,
                          double offset, int num_threads, int resize_behaviour) {
    BatchSpec spec;
    const std::size_t n = images.size();
    // Keep the arrays referenced for the duration of the call.
    std::vector<py::array> keep;
    keep.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        py::object o = images[i];
        if (!py::isinstance<py::array>(o)) throw py::type_error("images[" + std::to_string(i) + "] is not a numpy array");
        keep.push_back(py::reinterpret_borrow<py::array>(o));
    }
    for (std::size_t i = 0; i < n; ++i) {
        const py::array& a = keep[i];
        const std::string name = "images[" + std::to_string(i) + "]";
        if (a.ndim() != 3) throw std::invalid_argument(name + ": expected a (H, W, C) array");
        const DType dt = dtype_of(a, name.c_str(), false);
        const int c = static_cast<int>(a.shape(2));
        if (i == 0) {
            spec.in_dtype = dt;
            spec.channels = c;
        } else if (dt != spec.in_dtype || c != spec.channels) {
            throw std::invalid_argument(name + ": every image must have the dtype and channel count of images[0]");
        }
        if (c != 1 && c != 3 && c != 4) throw std::invalid_argument(name + ": channels must be 1, 3 or 4");
        if (a.shape(0) < 1 || a.shape(1) < 1) throw std::invalid_argument(name + ": height and width must be >= 1");
        const auto item = static_cast<py::ssize_t>(dtype_size(dt));
        // Strides of axes of length 1 are never used (NumPy leaves them arbitrary).
        // Samples of a pixel are contiguous; pixels may be further apart than their
        // samples (the first channels of wider pixels), never closer or backwards.
        if (c > 1 && a.strides(2) != item) throw std::invalid_argument(name + ": a pixel's samples must be contiguous");
        const py::ssize_t pixel_stride = a.shape(1) > 1 ? a.strides(1) : item * c;
        if (pixel_stride < item * c || pixel_stride % item != 0 || pixel_stride > (1LL << 20))
            throw std::invalid_argument(name + ": pixels must be at least a pixel apart, in whole samples, within a row");
        if (a.shape(0) > (1LL << 31) || a.shape(1) > (1LL << 31))
            throw std::invalid_argument(name + ": image too large");
        // Samples must be aligned to their size: an unaligned typed load is undefined.
        if (reinterpret_cast<std::uintptr_t>(a.data()) % static_cast<std::uintptr_t>(item) != 0 ||
            (a.shape(0) > 1 && a.strides(0) % item != 0))
            throw std::invalid_argument(name + ": samples must be aligned to their size");
        ImageView v;
        v.data = static_cast<const unsigned char*>(a.data());
        v.height = a.shape(0);
        v.width = a.shape(1);
        v.row_stride = a.strides(0);
        v.pixel_stride = pixel_stride;
        spec.images.push_back(v);
    }

    // Output: exactly (N, h, w, C), C-contiguous, writable, of a supported dtype.
    if (out.ndim() != 4) throw std::invalid_argument("out: expected a 4-D array");
    if (!(out.flags() & py::array::c_style)) throw std::invalid_argument("out: must be C-contiguous");
    if (!out.writeable()) throw std::invalid_argument("out: must be writable");
    spec.out_dtype = dtype_of(out, "out", true);
    if (reinterpret_cast<std::uintptr_t>(out.data()) % dtype_size(spec.out_dtype) != 0)
        throw std::invalid_argument("out: must be aligned to its dtype");
    if (static_cast<std::size_t>(out.shape(0)) != n || (n > 0 && out.shape(3) != spec.channels))
        throw std::invalid_argument("out: shape does not match the batch");
    spec.out_height = out.shape(1);
    spec.out_width = out.shape(2);
    if (spec.out_height < 1 || spec.out_width < 1) throw std::invalid_argument("out: height and width must be >= 1");
    spec.out = static_cast<unsigned char*>(out.mutable_data());

    if (!resize_to.is_none()) {
        auto size = resize_to.cast<std::pair<std::int64_t, std::int64_t>>();
        if (size.first < 1 || size.second < 1 || size.first > (1LL << 31) || size.second > (1LL << 31))
            throw std::invalid_argument("resize_to: sizes must be between 1 and 2**31");
        spec.resize = true;
        spec.resize_height = size.first;
        spec.resize_width = size.second;
    }
    if (filter < 0 || filter > 5) throw std::invalid_argument("resample: unknown filter");
    spec.filter = static_cast<Filter>(filter);
    if (resize_behaviour < 0 || resize_behaviour >= kResizeBehaviourCount)
        throw std::invalid_argument("resize_behaviour: unknown behaviour");
    spec.resize_behaviour = static_cast<ResizeBehaviour>(resize_behaviour);
    if (order < 0 || order > 5) throw std::invalid_argument("order: must be between 0 and 5");
    spec.order = order;
    if (mode < 0 || mode > 3) throw std::invalid_argument("fill_mode: unknown mode");
    spec.mode = static_cast<FillMode>(mode);
    if (!std::isfinite(cval) || !std::isfinite(scale) || !std::isfinite(offset))
        throw std::invalid_argument("cval, scale and offset must be finite");
    spec.cval = cval;
    spec.scale = scale;
    spec.offset = offset;

    py::array_t<double> matrices;
    if (!matrices_obj.is_none()) {
        matrices = py::reinterpret_borrow<py::array_t<double>>(matrices_obj);
        if (!py::isinstance<py::array_t<double>>(matrices_obj) || matrices.ndim() != 3 ||
            static_cast<std::size_t>(matrices.shape(0)) != n || matrices.shape(1) != 2 || matrices.shape(2) != 3 ||
            !(matrices.flags() & py::array::c_style))
            throw std::invalid_argument("matrices: expected a C-contiguous float64 array of shape (N, 2, 3)");
        const double* m = matrices.data();
        for (std::size_t i = 0; i < 6 * n; ++i)
            if (!std::isfinite(m[i])) throw std::invalid_argument("matrices: values must be finite");
        spec.warp = true;
        spec.matrices = m;
    } else {
        const std::int64_t h = spec.resize ? spec.resize_height : (n ? spec.images[0].height : spec.out_height);
        const std::int64_t w = spec.resize ? spec.resize_width : (n ? spec.images[0].width : spec.out_width);
        for (const auto& v : spec.images) {
            const std::int64_t ih = spec.resize ? h : v.height, iw = spec.resize ? w : v.width;
            if (ih != spec.out_height || iw != spec.out_width)
                throw std::invalid_argument("output_size: without matrices every (resized) image must have the output size");
        }
    }
    spec.num_threads = num_threads > 0 ? num_threads : default_num_threads();

    const std::vector<Status> status = run(spec);
    for (std::size_t i = 0; i < status.size(); ++i) {
        if (status[i] == Status::OutOfMemory)
            throw std::bad_alloc();
        if (status[i] != Status::Ok)
            throw std::invalid_argument("images[" + std::to_string(i) + "]: the kernel rejected this image");
    }
    return out;
}

// The PNG decoder's C++ step (pyimgaug/pipeline/png.py checks the file): `raw`
// is the inflated image data, `out` a C-contiguous uint8 (height, width,
// out_channels) array. Sizes are re-checked here so that no row is read or
// written out of bounds, whatever the caller passes. False: an unknown filter.
bool png_unfilter_into(const py::buffer& raw, std::int64_t height, std::int64_t width, int in_channels,
                       py::array out) {
    const py::buffer_info in = raw.request();
    if (in.itemsize != 1 || in.ndim != 1 || (in.strides.size() == 1 && in.strides[0] != 1))
        throw std::invalid_argument("raw: expected a contiguous bytes-like object");
    if (height < 1 || width < 1 || (in_channels != 1 && in_channels != 3 && in_channels != 4))
        throw std::invalid_argument("png_unfilter: bad image size or channel count");
    if (width > (std::int64_t(1) << 31) / in_channels || height > (std::int64_t(1) << 40) / (width * in_channels + 1))
        throw std::invalid_argument("png_unfilter: image too large");
    if (in.size != height * (1 + width * in_channels))
        throw std::invalid_argument("raw: expected " + std::to_string(height * (1 + width * in_channels)) +
                                    " bytes; got " + std::to_string(in.size));
    if (!out.dtype().equal(py::dtype::of<std::uint8_t>()) || out.ndim() != 3 || out.shape(0) != height ||
        out.shape(1) != width || !(out.flags() & py::array::c_style) || !out.writeable())
        throw std::invalid_argument("out: expected a writable C-contiguous uint8 (height, width, channels) array");
    const int out_channels = static_cast<int>(out.shape(2));
    const bool pair_ok = in_channels == out_channels || (in_channels == 1 && out_channels >= 3) ||
                         (in_channels == 3 && out_channels == 4) || (in_channels == 4 && out_channels == 3);
    if (!pair_ok) throw std::invalid_argument("out: unsupported channel conversion");
    const auto* src = static_cast<const std::uint8_t*>(in.ptr);
    auto* dst = static_cast<std::uint8_t*>(out.mutable_data());
    py::gil_scoped_release release;
    return png_unfilter(src, height, width, in_channels, out_channels, dst);
}

// One axis's coefficient table, built afresh (not from the memo), for tests that
// compare the fast 8-bit tables with the exact ones: (first, count, fixed as an
// out_size x ksize int32 array, outputs recomputed the exact way).
py::tuple resize_coefficients(std::int64_t in_size, std::int64_t out_size, int filter, bool fixed_only) {
    if (in_size < 1 || out_size < 1 || in_size > (1 << 20) || out_size > (1 << 20) || filter < 1 || filter > 5)
        throw std::invalid_argument("resize_coefficients: bad size or filter");
    AxisCoeffs t;
    bool ok;
    {
        py::gil_scoped_release release;
        ok = build_axis_coeffs(in_size, out_size, static_cast<Filter>(filter), t, fixed_only);
    }
    if (!ok) throw std::invalid_argument("resize_coefficients: table too large");
    py::array_t<std::int32_t> fixed({static_cast<py::ssize_t>(out_size), static_cast<py::ssize_t>(t.ksize)});
    std::copy(t.fixed.begin(), t.fixed.end(), fixed.mutable_data());
    return py::make_tuple(py::cast(t.first), py::cast(t.count), fixed, t.rows_recomputed);
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "pyimgaug's native batch kernel; use pyimgaug.transform_batch, which validates arguments.";
    m.def("transform_batch", &transform_batch, py::arg("images"), py::arg("matrices"), py::arg("out"),
          py::arg("resize_to"), py::arg("filter"), py::arg("order"), py::arg("mode"), py::arg("cval"),
          py::arg("scale"), py::arg("offset"), py::arg("num_threads"), py::arg("resize_behaviour"));
    m.def("default_num_threads", &default_num_threads,
          "Threads used when num_threads is None: OpenMP's default (OMP_NUM_THREADS), 1 in a forked child.");
    m.def("cpu_has_avx2", &cpu_has_avx2, "Whether the AVX2 loops are built and used on this CPU.");
    m.def("_clear_resize_coefficient_cache", &clear_axis_coeffs_cache,
          "Empties the memo of resize coefficient tables (benchmarks time first calls with it).");
    m.def("cpu_has_avx512_vnni", &cpu_has_avx512_vnni,
          "Whether the AVX-512 VNNI copy of the resize loops is built and used on this CPU.");
    m.def("cpu_prefers_512bit", &cpu_prefers_512bit,
          "Whether the AVX-512 VNNI resize loops use 512-bit registers on this CPU (else 256-bit).");
    m.def("_set_openmp_pool", &set_openmp_pool, py::arg("enabled"),
          "Whether parallel loops use OpenMP's thread pool (otherwise threads started per call).");
    m.def("_openmp_pool_enabled", &openmp_pool_enabled,
          "Whether parallel loops use OpenMP's thread pool.");
    m.def("png_unfilter_into", &png_unfilter_into, py::arg("raw"), py::arg("height"), py::arg("width"),
          py::arg("in_channels"), py::arg("out"),
          "Reverses the row filters of an inflated 8-bit PNG into out; False on an unknown filter type.");
    m.def("_resize_coefficients", &resize_coefficients, py::arg("in_size"), py::arg("out_size"), py::arg("filter"),
          py::arg("fixed_only"),
          "(first, count, fixed, outputs recomputed) of one axis's resize table, built without the memo.");
    m.attr("_has_openmp") = py::bool_(has_openmp());
}
