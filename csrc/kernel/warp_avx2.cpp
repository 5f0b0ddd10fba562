// The warp loops compiled for AVX2 (see isa.hpp); only called when the CPU has it.
#define PYIMGAUG_ISA avx2
#include "kernel/warp_impl.hpp"
