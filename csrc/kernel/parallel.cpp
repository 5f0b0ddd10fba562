#include "kernel/parallel.hpp"

#include <cstdlib>

#if !defined(_WIN32)
#include <pthread.h>
#endif
#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <intrin.h>
#endif

#include "kernel/isa.hpp"

namespace pyimgaug {
namespace {

std::atomic<bool> g_forked_child{false};

#if !defined(_WIN32)
void mark_forked_child() { g_forked_child.store(true); }

struct ForkWatcher {
    ForkWatcher() { pthread_atfork(nullptr, nullptr, mark_forked_child); }
};
const ForkWatcher g_fork_watcher;
#endif  // Windows has no fork(): its processes start fresh, so OpenMP stays usable.

}  // namespace

bool has_openmp() {
#ifdef PYIMGAUG_HAVE_OPENMP
    return true;
#else
    return false;
#endif
}

namespace {
std::atomic<bool> g_openmp_pool{true};
}  // namespace

void set_openmp_pool(bool enabled) { g_openmp_pool.store(enabled); }

bool openmp_pool_enabled() { return has_openmp() && g_openmp_pool.load(); }

bool openmp_usable() { return has_openmp() && g_openmp_pool.load() && !g_forked_child.load(); }

int max_useful_threads() {
    static const int n = [] {
        const unsigned hw = std::thread::hardware_concurrency();
        return hw > 0 ? static_cast<int>(hw) : 1;
    }();
    return n;
}

int default_num_threads() {
    if (g_forked_child.load()) return 1;
#ifdef PYIMGAUG_HAVE_OPENMP
    const int n = omp_get_max_threads();
    return n > 0 ? n : 1;
#else
    const unsigned n = std::thread::hardware_concurrency();
    return n > 0 ? static_cast<int>(n) : 1;
#endif
}

#ifdef PYIMGAUG_BUILT_AVX2
namespace {

// PYIMGAUG_DISABLE_AVX2=1 forces the baseline loops, so tests can check both
// copies against the references on one machine.
bool avx2_disabled_by_environment() {
    const char* v = std::getenv("PYIMGAUG_DISABLE_AVX2");
    return v && v[0] == '1';
}

}  // namespace
#endif

bool cpu_has_avx2() {
#if defined(PYIMGAUG_BUILT_AVX2) && (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                            !avx2_disabled_by_environment();
    return has;
#elif defined(PYIMGAUG_BUILT_AVX2) && defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    // MSVC has no __builtin_cpu_supports: CPUID leaf 1 (FMA, OSXSAVE, AVX), leaf 7
    // (AVX2), and XGETBV to check that the OS saves the YMM registers.
    static const bool has = [] {
        int r[4];
        __cpuid(r, 0);
        if (r[0] < 7) return false;
        __cpuid(r, 1);
        const bool fma = (r[2] >> 12) & 1, osxsave = (r[2] >> 27) & 1, avx = (r[2] >> 28) & 1;
        if (!(fma && osxsave && avx)) return false;
        if ((_xgetbv(0) & 0x6) != 0x6) return false;
        __cpuidex(r, 7, 0);
        const bool avx2 = (r[1] >> 5) & 1;
        return avx2 && !avx2_disabled_by_environment();
    }();
    return has;
#else
    return false;
#endif
}

bool cpu_has_avx512_vnni() {
#if defined(PYIMGAUG_BUILT_AVX512)
    static const bool has = [] {
        if (!cpu_has_avx2()) return false;
        const char* v = std::getenv("PYIMGAUG_DISABLE_AVX512");
        if (v && v[0] == '1') return false;
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        // libgcc's and compiler-rt's checks include XGETBV: the OS saves the AVX-512 state.
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni");
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
        // CPUID leaf 7: EBX bits 16 (F), 30 (BW), 31 (VL); ECX bit 11 (VNNI). XGETBV:
        // the OS saves the opmask, ZMM-high and YMM state (bits 1, 2, 5, 6, 7).
        int r[4];
        __cpuidex(r, 7, 0);
        const unsigned ebx = static_cast<unsigned>(r[1]), ecx = static_cast<unsigned>(r[2]);
        const bool isa = ((ebx >> 16) & 1) && ((ebx >> 30) & 1) && ((ebx >> 31) & 1) && ((ecx >> 11) & 1);
        return isa && (_xgetbv(0) & 0xE6) == 0xE6;
#else
        return false;
#endif
    }();
    return has;
#else
    return false;
#endif
}

bool cpu_prefers_512bit() {
#if defined(PYIMGAUG_BUILT_AVX512)
    static const bool prefers = [] {
        if (!cpu_has_avx512_vnni()) return false;
        const char* v = std::getenv("PYIMGAUG_AVX512_NARROW");
        if (v && v[0] == '1') return false;
        // AMD's AVX-512 (Zen 4 on) runs 512-bit instructions at full clock speed. Intel's
        // CPUs with VNNI include Cascade Lake, where 512-bit multiplies lower the core's
        // clock for milliseconds, slowing the JPEG decoding that shares the core: they
        // keep the 256-bit loops.
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
        return __builtin_cpu_is("amd") != 0;
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
        int r[4];
        __cpuid(r, 0);  // vendor: EBX EDX ECX = "AuthenticAMD"
        return r[1] == 0x68747541 && r[3] == 0x69746e65 && r[2] == 0x444d4163;
#else
        return false;
#endif
    }();
    return prefers;
#else
    return false;
#endif
}

}  // namespace pyimgaug
