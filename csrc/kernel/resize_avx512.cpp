// The resize loops compiled for AVX-512 VNNI on 256-bit registers (see isa.hpp):
// the AVX2 code, with each 16-bit multiply-add and its accumulation fused into one
// VPDPWSSD. Only called when the CPU has AVX-512 F, BW, VL and VNNI.
#define PYIMGAUG_ISA avx512
#define PYIMGAUG_USE_VNNI 1
#include "kernel/resize_impl.hpp"
