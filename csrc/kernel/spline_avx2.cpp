// The spline prefilter and warp loops compiled for AVX2 (see isa.hpp); only called when the CPU has it.
#define PYIMGAUG_ISA avx2
#include "kernel/spline_filter_impl.hpp"
#include "kernel/spline_impl.hpp"
