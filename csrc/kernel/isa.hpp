// Runtime instruction-set dispatch. Hot loops live in *_impl.hpp headers that are
// compiled twice: once for the baseline x86-64 (or any other architecture) and
// once with -mavx2 in a separate translation unit. Each copy sits in its own
// namespace (PYIMGAUG_ISA) so the linker can never mix them up, and the AVX2
// copy is only called after the CPU has said it supports AVX2.
#pragma once

namespace pyimgaug {

// True when the AVX2 copies of the hot loops were built and this CPU runs them.
bool cpu_has_avx2();

// True when the AVX-512 VNNI copy of the resize loops was built and this CPU (and
// its OS) runs it; implies cpu_has_avx2().
bool cpu_has_avx512_vnni();

// True when the AVX-512 VNNI resize loops run on 512-bit registers: the CPU has them
// at no cost in clock speed (AMD), and PYIMGAUG_AVX512_NARROW=1 is not set. They run
// on 256-bit registers otherwise.
bool cpu_prefers_512bit();

}  // namespace pyimgaug

// Picks the AVX2 copy of a hot loop when it exists and `use_avx2` is true.
#ifdef PYIMGAUG_BUILT_AVX2
#define PYIMGAUG_PICK(use_avx2, fn) ((use_avx2) ? ::pyimgaug::avx2::fn : ::pyimgaug::baseline::fn)
#else
#define PYIMGAUG_PICK(use_avx2, fn) ((void)(use_avx2), ::pyimgaug::baseline::fn)
#endif
