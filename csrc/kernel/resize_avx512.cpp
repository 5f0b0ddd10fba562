// The resize loops compiled for AVX-512 VNNI (see isa.hpp): the AVX2 code, with each
// 16-bit multiply-add and its accumulation fused into one VPDPWSSD, plus the 8-bit
// digit loops (on 512-bit registers where cpu_prefers_512bit()). Only called when the
// CPU has AVX-512 F, BW, VL and VNNI.
#define PYIMGAUG_ISA avx512
#define PYIMGAUG_USE_VNNI 1
#include "kernel/resize_impl.hpp"
